"""The rules of ``domain/due.py`` as SQL conditions on a case row.

Every query that asks whether a case's clock runs, what its due state is or whether it
is past due takes its condition from here; each is built from the domain's status sets
and compares with the time in the bind parameter ``:now``. ``alias`` is how the query
names the case table (``c``, or ``"case"`` in a query on the table itself).
"""

from __future__ import annotations

from datetime import datetime
from typing import assert_never

from sqlalchemy import TextClause, text

from service.domain.due import CLOCK_RUNS, PAUSED, RESOLVED, in_order
from service.domain.time_limit import DueState
from service.domain.workflow import Status
from service.models.base import in_check


def status_in(values: frozenset[Status], alias: str = "c") -> str:
    return in_check(f"{alias}.status", [s.value for s in in_order(values)])


def clock_runs(alias: str = "c") -> str:
    return status_in(CLOCK_RUNS, alias)


def resolved(alias: str = "c") -> str:
    return status_in(RESOLVED, alias)


def unfinished(alias: str = "c") -> str:
    """Not finished (``UNFINISHED``): the derived ``finished_at`` column of
    ``models/cases.py`` is set exactly for the other statuses, and carries the indexes."""
    return f"{alias}.finished_at IS NULL"


def due_state_is(state: DueState, alias: str = "c") -> str:
    """The cases that show ``state`` at ``:now`` (``domain.due.due_state_of``)."""
    match state:
        case DueState.PAUSED:
            return status_in(PAUSED, alias)
        case DueState.OVERDUE:
            return f"{clock_runs(alias)} AND {alias}.due_at <= :now"
        case DueState.DUE_SOON:
            return f"{clock_runs(alias)} AND {alias}.due_soon_at <= :now AND {alias}.due_at > :now"
        case DueState.ON_TRACK:
            return f"{clock_runs(alias)} AND {alias}.due_soon_at > :now"
        case _:
            assert_never(state)


def ran_out(alias: str = "c") -> str:
    """The cases whose time limit has run out by ``:now``, finished since or not."""
    return f"{alias}.overdue_since <= :now"


def past_due(alias: str = "c") -> str:
    """The cases past due at ``:now`` (``domain.due.past_due``), through the derived
    ``overdue_since`` column and its partial index."""
    return f"{unfinished(alias)} AND {ran_out(alias)}"


def clause(condition: str, now: datetime) -> TextClause:
    """A condition of this module for a Core query on the case table, with ``:now`` bound."""
    built = text(condition)
    return built.bindparams(now=now) if ":now" in condition else built
