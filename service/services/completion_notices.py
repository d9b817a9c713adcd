"""The completion notice (办结通知书): what a worker is told, in print, once their case is
resolved. Staff and the worker read it signed in; the public lookup reaches it with the
case number and query code (``services/lookup.py``), with the worker's name masked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.due import RESOLVED
from service.domain.masking import mask_name
from service.domain.satisfaction import FOLLOW_UP_WORKING_DAYS
from service.domain.time_limit import DAY, add_working_seconds
from service.domain.workflow import Action, Status, target_of
from service.errors import Conflict
from service.models import Case
from service.repositories import people as people_repo
from service.repositories import reference as reference_repo
from service.services.calendar import calendar_for_reading
from service.services.context import Context
from service.services.reach import reached_case


class NotResolved(Conflict):
    def __init__(self) -> None:
        super().__init__("the case is not resolved", field="status")


@dataclass(frozen=True, slots=True)
class CompletionNotice:
    case_no: str
    worker_name: str
    """In full for a signed-in reader; masked (张*明) when reached by query code."""
    item_code: str
    item_title: str
    title: str
    received_at: datetime
    accepted_at: datetime | None
    resolved_at: datetime
    resolutions: int
    """1 for a first resolution; more after a reopen (the notice shows the latest)."""
    outcome: str
    department_name: str
    steward_name: str
    promised_working_days: int | None
    working_days_used: int | None
    on_time: bool | None
    reopen_until: datetime | None
    """The last moment the steward may reopen the case; None once it is archived."""
    follow_up_working_days: int


async def completion_notice(
    session: AsyncSession, ctx: Context, case_id: uuid.UUID, reopen_window_days: int
) -> CompletionNotice:
    """The notice of a case the caller reaches (staff, or the worker their own)."""
    async with session.begin():
        case = await reached_case(session, ctx, case_id)
        return await notice_of(session, case, reopen_window_days, masked=False)


async def notice_of(session: AsyncSession, case: Case, reopen_window_days: int, *, masked: bool) -> CompletionNotice:
    """The notice of the case's current resolution; 409 while it is not resolved. The case
    row holds the latest resolution: a reopen clears the outcome, a new one sets it."""
    status = Status(case.status)
    if status not in RESOLVED or case.resolved_at is None:
        raise NotResolved()
    item = await reference_repo.get_item(session, case.item_id)
    worker = await people_repo.get_worker(session, case.worker_id)
    steward = await people_repo.get_staff(session, case.steward_id)
    department = await reference_repo.get_department(session, case.department_code)
    # Foreign keys guarantee all four.
    assert item is not None
    assert worker is not None
    assert steward is not None
    assert department is not None
    reopen_until = None
    if target_of(status, Action.REOPEN) is not None:
        calendar = await calendar_for_reading(session)
        reopen_until = add_working_seconds(case.resolved_at, reopen_window_days * DAY, calendar)
    return CompletionNotice(
        case_no=case.case_no,
        worker_name=mask_name(worker.name) if masked else worker.name,
        item_code=item.code,
        item_title=item.title_zh,
        title=case.title,
        received_at=case.created_at,
        accepted_at=case.accepted_at,
        resolved_at=case.resolved_at,
        resolutions=case.resolutions,
        outcome=case.outcome or "",
        department_name=department.name_zh,
        steward_name=steward.name,
        promised_working_days=case.promised_working_days,
        working_days_used=case.working_days_used,
        on_time=case.resolved_on_time,
        reopen_until=reopen_until,
        follow_up_working_days=FOLLOW_UP_WORKING_DAYS,
    )
