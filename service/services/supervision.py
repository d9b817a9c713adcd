"""Supervision notices (督办): issuing one, replying to it, reading them, and the escalation
of the unanswered ones that the reminder pass runs. The rules are ``domain/supervision.py``.

Each write is one transaction that locks the case's row first and the notice's after
(``repositories/supervision.py``), writes a timeline line and tells people of it in the
same transaction. Issuing and replying tell through ``services/notices.tell`` like every
other line; the reminder pass has no caller to tell as, so it writes the notices of an
escalation itself, to the same people ``tell`` would and with the same keys (one notice
per line and person), which is what makes two passes tell nobody twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from schemas import supervision as api
from service.domain.calendar import WorkingCalendar
from service.domain.case_number import normalise_case_number
from service.domain.notices import Facts, Recipient, notices_for, render
from service.domain.supervision import (
    AWAITING_REPLY,
    Level,
    SupervisionStatus,
    TimelineAction,
    escalation_of,
    level_of,
    line_details,
    may_reply,
    not_supervisable,
    replied_on_time,
    reply_days_problem,
    reply_due,
)
from service.domain.time_limit import CST
from service.domain.visibility import INTERNAL
from service.domain.workflow import Status
from service.errors import Conflict, Forbidden, Invalid, Malformed, NotFound
from service.models import Case, CaseEvent, Supervision
from service.repositories import notifications as notifications_repo
from service.repositories import supervision as repo
from service.repositories.supervision import Found, supervisions_reached
from service.security.pii import PiiCipher
from service.services import audit, deliveries, notices
from service.services.calendar import load_calendar
from service.services.context import Context
from service.services.timeline import remark

BATCH = 500
"""Notices escalated per statement by a pass (few are: one at most per case and deadline)."""


def _out(found: Found) -> api.SupervisionOut:
    s = found.supervision
    return api.SupervisionOut(
        id=s.id,
        case_id=s.case_id,
        case_no=found.case_no,
        district_code=found.district_code,
        department_code=found.department_code,
        level=s.level,  # type: ignore[arg-type]
        status=s.status,  # type: ignore[arg-type]
        issued_by=s.issued_by,
        issued_at=s.issued_at,
        reason=s.reason,
        reply_working_days=s.reply_working_days,
        reply_due_at=s.reply_due_at,
        replied_at=s.replied_at,
        replied_by=s.replied_by,
        reply=s.reply,
        replied_on_time=s.replied_on_time,
        escalated_at=s.escalated_at,
        unanswered_at=s.unanswered_at,
    )


def _found(supervision: Supervision, case: Case) -> Found:
    return Found(supervision, case.case_no, case.district_code, case.department_code)


async def issue(session: AsyncSession, ctx: Context, data: api.SupervisionIn) -> api.SupervisionOut:
    """Issue a notice on the case with ``data.case_no``, at the caller's level. A case out of
    the caller's scope answers 404; one that is not late or due soon, or already waits for a
    reply to another notice, 409."""
    case_no = normalise_case_number(data.case_no)
    if case_no is None:
        raise Malformed("case_no", "is not a case number such as BS-20260301-000001-7 (check its last digit)")
    if (problem := reply_days_problem(data.reply_working_days)) is not None:
        raise Invalid("reply_working_days", problem)
    now = ctx.now
    async with session.begin():
        case = await repo.case_by_number(session, case_no, supervisions_reached(ctx.caller))
        if case is None:
            raise NotFound("case", case_no)
        why = not_supervisable(Status(case.status), case.due_at, case.due_soon_at, case.clock_remaining_seconds, now)
        if why is not None:
            raise Conflict(f"{case_no}: {why}", field="case_no")
        waiting = await repo.awaiting_reply(session, case.id)
        if waiting is not None:
            raise Conflict(
                f"{case_no} already has a supervision notice waiting for a reply ({waiting.id})", field="case_no"
            )
        calendar = await load_calendar(session)
        level = level_of(ctx.caller)
        supervision = Supervision(
            case_id=case.id,
            level=level.value,
            issued_by=ctx.caller.account_id,
            issued_at=now,
            reason=data.reason,
            reply_working_days=data.reply_working_days,
            reply_due_at=reply_due(now, data.reply_working_days, calendar),
        )
        session.add(supervision)
        await session.flush()
        details = line_details(
            supervision.id,
            supervision.issued_by,
            level,
            reason=data.reason,
            reply_working_days=data.reply_working_days,
            reply_due_at=supervision.reply_due_at.isoformat(),
        )
        line = remark(ctx, case, TimelineAction.ISSUE.value, visibility=INTERNAL, details=details)
        session.add(line)
        await session.flush()
        await notices.tell(session, ctx, case, line)
        await audit.record(
            ctx,
            session,
            "supervision.issue",
            target_type="case",
            target_id=case.id,
            details={"supervision_id": str(supervision.id), "level": level.value},
        )
        return _out(_found(supervision, case))


async def reply(
    session: AsyncSession, ctx: Context, supervision_id: uuid.UUID, data: api.SupervisionReplyIn
) -> api.SupervisionOut:
    """Answer a notice: its case's steward or a liaison of the department handling it now.
    A notice recorded as unanswered still takes its (late) reply."""
    now = ctx.now
    async with session.begin():
        found = await repo.reached(session, supervision_id, supervisions_reached(ctx.caller))
        if found is None:
            raise NotFound("supervision", supervision_id)
        case = await repo.lock_case(session, found.supervision.case_id)
        supervision = await repo.lock(session, supervision_id)
        if not may_reply(ctx.caller, case.steward_id, case.department_code):
            raise Forbidden("only the case's steward or a liaison of the department handling it replies")
        if SupervisionStatus(supervision.status) not in AWAITING_REPLY:
            raise Conflict("the supervision notice has been replied to already", field="supervision_id")
        on_time = replied_on_time(now, supervision.reply_due_at, supervision.escalated_at)
        supervision.status = SupervisionStatus.REPLIED.value
        supervision.replied_at = now
        supervision.replied_by = ctx.caller.account_id
        supervision.reply = data.reply
        supervision.replied_on_time = on_time
        details = line_details(
            supervision.id, supervision.issued_by, Level(supervision.level), reply=data.reply, on_time=on_time
        )
        line = remark(ctx, case, TimelineAction.REPLY.value, visibility=INTERNAL, details=details)
        session.add(line)
        await session.flush()
        await notices.tell(session, ctx, case, line)
        await audit.record(
            ctx,
            session,
            "supervision.reply",
            target_type="case",
            target_id=case.id,
            details={"supervision_id": str(supervision.id), "on_time": on_time},
        )
        return _out(_found(supervision, case))


async def read(session: AsyncSession, ctx: Context, supervision_id: uuid.UUID) -> api.SupervisionOut:
    async with session.begin():
        found = await repo.reached(session, supervision_id, supervisions_reached(ctx.caller))
        if found is None:
            raise NotFound("supervision", supervision_id)
        return _out(found)


async def list_reached(
    session: AsyncSession,
    ctx: Context,
    status: SupervisionStatus | None,
    case_no: str | None,
    limit: int,
    offset: int,
) -> api.SupervisionPage:
    """The notices within the caller's reach, the newest first."""
    number = None
    if case_no is not None:
        number = normalise_case_number(case_no)
        if number is None:
            raise Malformed("query.case_no", "is not a case number such as BS-20260301-000001-7 (check its last digit)")
    async with session.begin():
        rows, total = await repo.list_reached(
            session, supervisions_reached(ctx.caller), status=status, case_no=number, limit=limit, offset=offset
        )
        return api.SupervisionPage(items=[_out(f) for f in rows], total=total, limit=limit, offset=offset)


async def escalate_unanswered(session: AsyncSession, pii: PiiCipher, now: datetime) -> int:
    """Act on every open notice whose reply deadline has passed by ``now``, inside the
    reminder pass's transaction: a district-level one rises to city level with a new
    deadline, and its supervisors (now the city officials too), the department's liaisons
    and the case's steward are told; a city-level one is recorded as unanswered. Returns how
    many notices were written. A notice acted on is no longer open past its deadline, so a
    second pass finds nothing to do."""
    told = 0
    calendar: WorkingCalendar | None = None
    while found := await repo.lock_past_deadline(session, now, BATCH):
        calendar = calendar or await load_calendar(session)
        for supervision, case in found:
            told += await _act_on(session, pii, now, calendar, supervision, case)
        if len(found) < BATCH:
            break
    return told


async def _act_on(
    session: AsyncSession,
    pii: PiiCipher,
    now: datetime,
    calendar: WorkingCalendar,
    supervision: Supervision,
    case: Case,
) -> int:
    missed = supervision.reply_due_at.isoformat()
    higher = escalation_of(Level(supervision.level))
    if higher is None:
        supervision.status = SupervisionStatus.UNANSWERED.value
        supervision.unanswered_at = now
        details = line_details(supervision.id, supervision.issued_by, Level.CITY, missed_reply_due_at=missed)
        session.add(_line_of_the_pass(case, TimelineAction.UNANSWERED, now, details))
        await session.flush()
        return 0
    supervision.level = higher.value
    supervision.escalated_at = now
    supervision.reply_due_at = reply_due(now, supervision.reply_working_days, calendar)
    details = line_details(
        supervision.id,
        supervision.issued_by,
        higher,
        missed_reply_due_at=missed,
        reply_due_at=supervision.reply_due_at.isoformat(),
    )
    line = _line_of_the_pass(case, TimelineAction.ESCALATE, now, details)
    session.add(line)
    await session.flush()
    return await _tell_escalation(session, pii, now, case, line, supervision)


def _line_of_the_pass(case: Case, action: TimelineAction, now: datetime, details: dict[str, Any]) -> CaseEvent:
    """A line nobody wrote: the reminder pass acted on the clock."""
    return CaseEvent(
        case_id=case.id,
        at=now,
        action=action.value,
        from_status=case.status,
        to_status=case.status,
        visibility=INTERNAL,
        details=details,
    )


async def _tell_escalation(
    session: AsyncSession, pii: PiiCipher, now: datetime, case: Case, line: CaseEvent, supervision: Supervision
) -> int:
    """The notices of an escalation line, as ``services/notices.tell`` writes those of a
    line (same people, same keys), with the new deadline told."""
    assert line.id is not None, "flush the timeline line first"
    wanted = notices_for(line.action, by_worker=False)
    found = await notifications_repo.notice_facts(
        session, case.item_id, case.department_code, {notice.kind for notice in wanted}
    )
    item_title, _, department_name, liaisons, outlook = found
    facts = Facts(
        case_no=case.case_no,
        item_title=item_title or "—",
        department_name=department_name or case.department_code,
        reason=supervision.reason,
        due=supervision.reply_due_at.astimezone(CST).strftime("%Y-%m-%d %H:%M"),
    )
    batch = notices.Batch(now)
    told: set[Recipient] = set()
    for notice in wanted:
        title, body = render(notice.kind, facts, outlook.texts)
        for recipient in await notices.recipients(session, case, line, notice.audience, liaisons):
            if recipient in told:
                continue
            told.add(recipient)
            batch.add(
                notice.kind,
                recipient,
                deliveries.line_event(line, case),
                title,
                body,
                facts=facts,
                case_id=case.id,
                event_id=line.id,
            )
    return await batch.write(session, pii, outlook)
