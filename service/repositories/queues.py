"""The work queues of ``domain/queues.py`` as SQL, and how many cases each holds for a caller.

The case list's ``queue`` filter (``repositories/cases.py``) and the counts below take
their conditions from ``in_queue``, so a queue's count is always the total of its list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from sqlalchemy import func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.queues import NEW, WAITING_FOR_MATERIALS, Queue, due_state_of
from service.models import Case
from service.repositories import due
from service.repositories.satisfaction import open_follow_ups
from service.repositories.supervision import open_notices

CASE = '"case"'
"""How a query on the case table itself names it."""


def in_queue(queue: Queue, alias: str = "c") -> str:
    """The cases in ``queue`` at ``:now`` (``domain/queues.py``)."""
    match queue:
        case Queue.OVERDUE | Queue.DUE_SOON | Queue.ON_TRACK | Queue.PAUSED:
            state = due_state_of(queue)
            assert state is not None
            return due.due_state_is(state, alias)
        case Queue.NEW:
            return due.status_in(NEW, alias)
        case Queue.MATERIALS_ANSWERED:
            return f"{due.status_in(WAITING_FOR_MATERIALS, alias)} AND {alias}.materials_answered_at IS NOT NULL"
        case Queue.OPEN:
            return due.unfinished(alias)
        case _:
            assert_never(queue)


@dataclass(frozen=True, slots=True)
class QueueCounts:
    cases: dict[Queue, int]
    """How many cases each queue holds."""
    follow_ups_open: int
    supervisions_open: int


async def count(
    session: AsyncSession, reach: Any, *, follow_ups: Any | None, supervisions: Any | None, now: datetime
) -> QueueCounts:
    """How many cases within ``reach`` each queue holds at ``now``, with the open follow-ups
    on the cases within ``follow_ups`` and the open supervision notices on the cases within
    ``supervisions`` (none when a reach is None: the caller may not read them), in one
    statement: an aggregate with a FILTER per queue and a subquery for each of the others."""
    counters: list[Any] = [func.count().filter(text(in_queue(q, CASE))).label(q.value) for q in Queue]
    counters.append((literal(0) if follow_ups is None else open_follow_ups(follow_ups)).label("follow_ups_open"))
    counters.append((literal(0) if supervisions is None else open_notices(supervisions)).label("supervisions_open"))
    # Every queue lies within the open one, whose condition carries the partial indexes.
    query = select(*counters).select_from(Case).where(reach, text(in_queue(Queue.OPEN, CASE)))
    row = (await session.execute(query, {"now": now})).one()
    return QueueCounts(
        cases={q: int(row._mapping[q.value]) for q in Queue},
        follow_ups_open=int(row.follow_ups_open),
        supervisions_open=int(row.supervisions_open),
    )
