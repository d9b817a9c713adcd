"""Queries for the operators' views: the case gauges and the schema's revision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from service.domain.time_limit import DueState
from service.repositories import due


@dataclass(frozen=True, slots=True)
class CaseCounts:
    open: int
    """Not finished (``domain.due.UNFINISHED``)."""
    overdue: int
    """Showing the due state ``overdue``: the clock runs and the due time has come."""
    past_due: int
    """Not finished and out of time, paused ones included (the officials' "overdue")."""


_CASE_COUNTS = text(
    f"SELECT count(*), count(*) FILTER (WHERE {due.due_state_is(DueState.OVERDUE)}), "
    f"count(*) FILTER (WHERE {due.past_due()}) "
    f'FROM "case" c WHERE {due.unfinished()}'
)


async def case_counts(session: AsyncSession, now: datetime) -> CaseCounts:
    open_cases, overdue, past_due = (await session.execute(_CASE_COUNTS, {"now": now})).one()
    return CaseCounts(open=open_cases, overdue=overdue, past_due=past_due)


async def schema_revision(connection: AsyncConnection) -> str | None:
    revision = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    return None if revision is None else str(revision)
