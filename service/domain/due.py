"""Where a case stands against its promised time limit: the rules every reader uses.

The case page, the case list, the officials' metrics and the operations gauges all judge
a case by the functions here. Queries apply the same rules in SQL: ``repositories/due.py``
and the derived columns of ``models/cases.py`` are built from the status sets below, and
``tests/test_due_rules.py`` holds the SQL verdicts equal to these functions for every
status on both sides of each boundary instant.

Two notions of "overdue" differ on purpose, so they have two names:

- the **due state** ``OVERDUE`` (超期, the red light) of a case whose clock runs and whose
  due time has come. A case waiting for the worker's materials shows ``PAUSED`` whatever
  its time, since nobody in the department can act on it. The case page and the case
  list's ``due_state`` filter use this.
- **past due** (逾期未办结): not finished, and the time limit has run out, whether the
  clock runs now or stopped after it ran out (paused for materials too late). The
  officials' figure ``overdue``, the overdue backlog and ``/metrics/cases?figure=overdue``
  count this, so that asking for materials cannot take a late case out of the figures.

Both are reached at the due instant itself: at ``now == due_at`` a case is overdue.
"""

from __future__ import annotations

from datetime import datetime

from service.domain.calendar import WorkingCalendar
from service.domain.time_limit import DueState, due_state, remaining_seconds, whole_working_days
from service.domain.workflow import Category, Status, category_of, clock_runs_in

CLOCK_RUNS: frozenset[Status] = frozenset(s for s in Status if clock_runs_in(s))
"""The statuses in which the time limit counts down."""
PAUSED: frozenset[Status] = frozenset(s for s in Status if category_of(s) is Category.PAUSED)
"""Waiting for the worker: the clock is stopped, and will run again."""
UNFINISHED: frozenset[Status] = frozenset(s for s in Status if category_of(s) in (Category.OPEN, Category.PAUSED))
"""Not yet resolved, rejected or withdrawn."""
RESOLVED: frozenset[Status] = frozenset(s for s in Status if category_of(s) is Category.DONE)
"""Resolved now, archived or not (the figure ``resolved``; a rating is given to these)."""


def in_order(statuses: frozenset[Status]) -> list[Status]:
    """The statuses of a set in the workflow's order (for SQL that reads the same each time)."""
    return [s for s in Status if s in statuses]


def due_state_of(
    status: Status, due_at: datetime | None, due_soon_at: datetime | None, now: datetime
) -> DueState | None:
    """The due state a case shows: ``PAUSED`` while it waits for materials, the traffic
    light of its running clock otherwise, and None when no clock runs (not accepted yet,
    or finished)."""
    if status in PAUSED:
        return DueState.PAUSED
    if status in CLOCK_RUNS and due_at is not None and due_soon_at is not None:
        return due_state(now, due_at, due_soon_at)
    return None


def overdue_since(status: Status, due_at: datetime | None, clock_remaining_seconds: float | None) -> datetime | None:
    """When the time limit runs (or ran) out: the due time of a case whose clock runs, or
    of one whose clock stopped with no time left. None when the clock stopped in time."""
    if status in CLOCK_RUNS or (clock_remaining_seconds is not None and clock_remaining_seconds < 0):
        return due_at
    return None


def past_due(status: Status, due_at: datetime | None, clock_remaining_seconds: float | None, now: datetime) -> bool:
    """Not finished, and its time limit has run out by ``now``."""
    since = overdue_since(status, due_at, clock_remaining_seconds)
    return status in UNFINISHED and since is not None and since <= now


def working_days_overdue(
    status: Status,
    due_at: datetime | None,
    clock_remaining_seconds: float | None,
    now: datetime,
    calendar: WorkingCalendar,
) -> int | None:
    """How many working days a past-due case is late, as a person counts them (part of a
    day counts as a day): the case page's ``working_days_left`` turned round. A running
    clock keeps counting; one stopped for materials after its time ran out keeps the
    lateness it had when it stopped. None when the case is not late."""
    if status in CLOCK_RUNS and due_at is not None and due_at <= now:
        return -whole_working_days(remaining_seconds(due_at, now, calendar))
    if status in UNFINISHED and clock_remaining_seconds is not None and clock_remaining_seconds < 0:
        return -whole_working_days(clock_remaining_seconds)
    return None
