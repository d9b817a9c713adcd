"""The science worker's own cases: read them, submit a request, answer a request for
materials, withdraw. Each write is one transaction; a worker reaches only their own
cases (``repositories/reach.py``) and sees the public timeline only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import cases as api
from schemas.worker_side import (
    CaseRequestIn,
    MaterialsAnswerIn,
    OwnCaseCreated,
    OwnCaseOut,
    OwnCasePage,
    OwnCaseSummary,
    StewardContact,
    WithdrawIn,
)
from service.domain.calendar import WorkingCalendar
from service.domain.due import RESOLVED
from service.domain.satisfaction import may_rate
from service.domain.visibility import PUBLIC
from service.domain.workflow import STATUS_LABELS_ZH, Action, Status, target_of
from service.errors import Conflict, IllegalTransition, Invalid, NotFound
from service.models import Attachment, Case, CaseEvent, Staff, WorkListItem
from service.repositories import attachments as attachment_repo
from service.repositories import cases as case_repo
from service.repositories import people as people_repo
from service.repositories import reference as reference_repo
from service.services import audit, notices
from service.services.calendar import calendar_for_reading, calendar_stamped
from service.services.cases import MoveRules, NewCase, apply_move, ready_case
from service.services.context import Context
from service.services.logbook import Logged, logbook_of
from service.services.presenters.worker_side import attachment_out, public_due, public_timeline
from service.services.query_codes import receipt_url
from service.services.reach import reached_case
from service.services.timeline import remark


def _summary_fields(case: Case, item: WorkListItem, calendar: WorkingCalendar, now: datetime) -> dict[str, object]:
    status = Status(case.status)
    return {
        "id": case.id,
        "case_no": case.case_no,
        "item_code": item.code,
        "item_title": item.title_zh,
        "title": case.title,
        "status": status.value,
        "status_label": STATUS_LABELS_ZH[status],
        "received_at": case.created_at,
        "updated_at": case.updated_at,
        "due": public_due(case, item.promised_working_days, calendar, now),
        "awaiting_me": status is Status.AWAITING_MATERIALS and case.materials_answered_at is None,
    }


async def list_own(session: AsyncSession, ctx: Context, limit: int, offset: int) -> OwnCasePage:
    async with session.begin():
        assert ctx.caller.worker_id is not None  # the worker role is tied to a worker
        rows, total = await case_repo.cases_of_worker(session, ctx.caller.worker_id, limit=limit, offset=offset)
        calendar = await calendar_for_reading(session)
        return OwnCasePage(
            items=[OwnCaseSummary(**_summary_fields(case, item, calendar, ctx.now)) for case, item in rows],  # type: ignore[arg-type]
            total=total,
            limit=limit,
            offset=offset,
        )


async def _render(session: AsyncSession, ctx: Context, case: Case) -> OwnCaseOut:
    item = await reference_repo.get_item(session, case.item_id)
    steward = await people_repo.get_staff(session, case.steward_id)
    assert item is not None  # foreign key
    assert steward is not None  # foreign key
    calendar = await calendar_for_reading(session)
    files = await attachment_repo.attachments_of(session, case.id, worker_view=True)
    events = await case_repo.events_of(session, case.id)
    return _shown(ctx, case, item, steward, calendar, events, files)


def _shown(
    ctx: Context,
    case: Case,
    item: WorkListItem,
    steward: Staff,
    calendar: WorkingCalendar,
    events: Sequence[CaseEvent],
    files: Sequence[Attachment],
) -> OwnCaseOut:
    status = Status(case.status)
    return OwnCaseOut(
        **_summary_fields(case, item, calendar, ctx.now),  # type: ignore[arg-type]
        description=case.description,
        awaited_materials=case.awaited_materials if status is Status.AWAITING_MATERIALS else None,
        materials_answered_at=case.materials_answered_at,
        outcome=case.outcome if status in RESOLVED else None,
        reject_reason=case.reject_reason,
        withdraw_reason=case.withdraw_reason,
        steward=StewardContact(name=steward.name, work_phone=steward.work_phone, email=steward.email),
        timeline=public_timeline(events),
        attachments=[attachment_out(f) for f in files],
        rating=case.rating,
        can_withdraw=target_of(status, Action.WITHDRAW) is not None,
        can_answer_materials=status is Status.AWAITING_MATERIALS,
        can_rate=may_rate(status, case.rating),
    )


async def read_own(session: AsyncSession, ctx: Context, case_id: uuid.UUID) -> OwnCaseOut:
    async with session.begin():
        return await _render(session, ctx, await reached_case(session, ctx, case_id))


async def submit(session: AsyncSession, ctx: Context, data: CaseRequestIn) -> OwnCaseCreated:
    """A request from the worker lands as submitted with their steward, for the work
    list item's lead department, like a case the steward logs for them."""
    assert ctx.caller.worker_id is not None
    async with session.begin():
        worker = await people_repo.get_worker(session, ctx.caller.worker_id)
        assert worker is not None  # the account's foreign key
        new = NewCase(item_id=data.item_id, title=data.title, description=data.description, channel="website")
        ready = await ready_case(session, ctx, worker, new)
        # What the answer shows besides the case, read now (its item was, by ready_case):
        # once the case is logged nothing is read again, so the answer cannot fail for a
        # case that is written.
        item = ready.item
        steward = await people_repo.get_staff(session, ready.case.steward_id)
        assert steward is not None  # checked by ready_case
        calendar = await calendar_for_reading(session)
    logged = await logbook_of(session).log(ready)
    assert isinstance(logged, Logged)  # sent without an Idempotency-Key
    case, code = logged.case, logged.query_code
    rendered = _shown(ctx, case, item, steward, calendar, [logged.line], [])
    return OwnCaseCreated(
        **{f: getattr(rendered, f) for f in rendered.__struct_fields__},
        query_code=code,
        receipt_url=receipt_url(f"/my/cases/{case.id}", code),
    )


async def answer_materials(
    session: AsyncSession, ctx: Context, case_id: uuid.UUID, data: MaterialsAnswerIn
) -> OwnCaseOut:
    """The worker's answer: a note and the files uploaded for it. The case stays paused
    until the steward confirms receipt (``receive_materials``), which restarts the clock."""
    async with session.begin():
        case = await reached_case(session, ctx, case_id, for_update=True)
        if case.status != Status.AWAITING_MATERIALS.value:
            raise Conflict("the case is not waiting for materials", field="status")
        ids = list(dict.fromkeys(data.attachment_ids))
        files = await attachment_repo.unanswered_uploads(session, case.id, ctx.caller.account_id, ids)
        if len(files) != len(ids):
            missing = sorted(str(i) for i in set(ids) - {f.id for f in files})
            raise Invalid(
                "attachment_ids", f"not files you uploaded to this case and not yet sent: {', '.join(missing)}"
            )
        case.materials_answered_at = ctx.now
        case.version += 1
        case.updated_at = ctx.now
        event = remark(
            ctx,
            case,
            "answer_materials",
            note=data.note,
            visibility=PUBLIC,
            details={"attachment_ids": [str(i) for i in ids]},
        )
        session.add(event)
        await session.flush()
        assert event.id is not None
        await attachment_repo.link_to_answer(session, ids, event.id)
        await notices.tell(session, ctx, case, event)
        await audit.record(
            ctx, session, "case.answer_materials", target_type="case", target_id=case.id, details={"files": len(ids)}
        )
        return await _render(session, ctx, case)


async def withdraw(
    session: AsyncSession, ctx: Context, case_id: uuid.UUID, data: WithdrawIn, rules: MoveRules
) -> OwnCaseOut:
    """The worker withdraws their own open request, through the same workflow table as
    every other move (a resolved, rejected or withdrawn case cannot be)."""
    async with session.begin():
        found = await case_repo.lock_case(session, case_id, ctx.caller)
        if found is None:
            raise NotFound("case", case_id)
        case = found.case
        if target_of(Status(case.status), Action.WITHDRAW) is None:
            raise IllegalTransition(f"a case that is {case.status} cannot be withdrawn", [])
        timeline = msgspec.json.decode(found.timeline, type=list[api.EventOut])
        withdrawal = api.Withdraw(reason=data.reason, note=data.reason, visibility=PUBLIC)
        calendar = await calendar_stamped(session, found.calendar_stamp)
        await apply_move(session, ctx, case, withdrawal, rules, timeline, calendar)
        return await _render(session, ctx, case)
