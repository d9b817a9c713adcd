"""Keeping a case's stored due time in step with its history and the calendar."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import true
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.cases import EventOut
from service.domain.calendar import WorkingCalendar
from service.domain.time_limit import compute_deadline, status_changes
from service.models import Case
from service.repositories import cases as case_repo


async def refresh(session: AsyncSession, case: Case, calendar: WorkingCalendar) -> None:
    """Recompute due_at and due_soon_at from the event history (flushed beforehand)."""
    if case.promised_working_days is None:
        return
    apply_deadline(case, await case_repo.status_history(session, case.id), calendar)


def statuses_entered(timeline: Iterable[EventOut]) -> list[tuple[datetime, str]]:
    """Every status the case entered, in order, from its timeline as read: the lines that
    changed the status (notes and edits leave it as it was), as
    ``repositories/cases.status_history`` reads them from the table."""
    return [(line.at, line.to_status) for line in timeline if line.from_status != line.to_status]


def apply_deadline(case: Case, history: Sequence[tuple[datetime, str]], calendar: WorkingCalendar) -> None:
    """Set due_at, due_soon_at and the clock from ``history``: every status the case
    entered, in order (``repositories/cases.status_history`` and what is not yet flushed)."""
    if case.promised_working_days is None:
        return
    deadline = compute_deadline(case.promised_working_days, status_changes(history), calendar)
    if deadline is None:
        return
    if deadline.due_at is not None:
        case.due_at = deadline.due_at
        case.due_soon_at = deadline.due_soon_at
    case.clock_remaining_seconds = deadline.remaining_seconds


async def recompute_running(session: AsyncSession, calendar: WorkingCalendar) -> int:
    """Recompute every running case after a calendar change; returns how many."""
    ids = await case_repo.running_case_ids(session)
    for case_id in ids:
        case = await case_repo.get_case(session, case_id, true(), for_update=True)
        if case is not None:
            await refresh(session, case, calendar)
    await session.flush()
    return len(ids)
