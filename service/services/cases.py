"""Case use cases. Each write is one transaction, committed here, under a row lock."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas import cases as api
from service.db import bound_engine, factory_engine
from service.domain.access import Permission, Role, may_move
from service.domain.calendar import WorkingCalendar
from service.domain.filters import CaseFilter, CaseOrder
from service.domain.queues import Queue
from service.domain.time_limit import DAY, working_seconds
from service.domain.visibility import PUBLIC
from service.domain.workflow import Action, Status, allowed_actions, target_of
from service.errors import (
    Forbidden,
    IdempotencyMismatch,
    IllegalTransition,
    Invalid,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from service.models import Case, CaseEvent, Worker
from service.models.base import fresh
from service.repositories import cases as case_repo
from service.repositories import people as people_repo
from service.repositories import queues as queue_repo
from service.repositories import reference as reference_repo
from service.repositories.cases import FirstAnswer
from service.repositories.reach import cases_reached
from service.repositories.supervision import supervisions_reached
from service.services import audit, deadlines, notices, query_codes
from service.services.calendar import calendar_for_reading, calendar_stamped, kept_calendar
from service.services.context import Context
from service.services.logbook import KeepAnswer, Logged, Ready, logbook_of
from service.services.presenters.cases import case_list_item, case_out, event_out
from service.services.query_codes import receipt_url
from service.services.reach import reached_case, reached_worker
from service.services.timeline import remark, timeline_event


@dataclass(frozen=True, slots=True)
class Created:
    case: api.CaseCreated
    etag: str
    replayed: bool


def etag_of(case: Case | api.CaseOut) -> str:
    return f'"{case.id}.{case.version}"'


def _check_if_match(case: Case, if_match: str | None) -> None:
    if if_match is None:
        raise PreconditionRequired("send If-Match with the case's current ETag", field="If-Match")
    candidates = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" not in candidates and etag_of(case) not in candidates:
        raise PreconditionFailed(
            "the case has changed since you read it; fetch it again", field="If-Match", current_etag=etag_of(case)
        )


async def read_case(
    sessions: async_sessionmaker[AsyncSession], ctx: Context, case_id: uuid.UUID
) -> tuple[api.CaseOut, str]:
    """The case with its whole timeline (only staff read this record: ``domain/visibility.py``).
    The repository reads it in one statement on a connection from the sessions' pool,
    outside a transaction; the calendar kept in the process serves its due dates, read in
    a session and transaction of its own when it is stale. No session is made otherwise:
    for the most frequent request, building one cost a twentieth of the read."""
    engine = factory_engine(sessions)
    found = await case_repo.read_case(engine, case_id, ctx.caller)
    if found is None:
        raise NotFound("case", case_id)
    calendar = kept_calendar(engine)
    if calendar is None:
        async with sessions() as session, session.begin():
            calendar = await calendar_for_reading(session)
    timeline = msgspec.json.decode(found.timeline, type=list[api.EventOut])
    rendered = case_out(found.case, found.item_code, timeline, calendar, ctx.now)
    return rendered, etag_of(rendered)


async def list_cases(
    session: AsyncSession, ctx: Context, where: CaseFilter, order: CaseOrder, limit: int, offset: int
) -> api.CasePage:
    """A page of the cases within reach. The page and its total are one statement run
    outside a transaction (``case_repo.list_page``); naming a worker out of reach answers
    404 first, as reading it would; the calendar kept in the process serves the due dates."""
    if where.worker_id is not None:
        async with session.begin():
            await reached_worker(session, ctx, where.worker_id)
    rows, total = await case_repo.list_page(
        session, where, ctx.caller, now=ctx.now, order=order, limit=limit, offset=offset
    )
    calendar = kept_calendar(bound_engine(session))
    if calendar is None:
        async with session.begin():
            calendar = await calendar_for_reading(session)
    return api.CasePage(
        items=[case_list_item(case, code, name, calendar, ctx.now) for case, code, name in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


async def count_queues(session: AsyncSession, ctx: Context) -> api.CaseQueues:
    """How many of the caller's cases wait in each work queue (``domain/queues.py``), with
    the follow-ups they answer and the supervision notices open on their cases."""
    caller = ctx.caller
    async with session.begin():
        counted = await queue_repo.count(
            session,
            cases_reached(caller),
            follow_ups=cases_reached(caller) if caller.can(Permission.FOLLOW_UPS) else None,
            supervisions=supervisions_reached(caller) if caller.can(Permission.SUPERVISION_READ) else None,
            now=ctx.now,
        )
    queue = counted.cases
    return api.CaseQueues(
        overdue=queue[Queue.OVERDUE],
        due_soon=queue[Queue.DUE_SOON],
        on_track=queue[Queue.ON_TRACK],
        paused=queue[Queue.PAUSED],
        new=queue[Queue.NEW],
        materials_answered=queue[Queue.MATERIALS_ANSWERED],
        open=queue[Queue.OPEN],
        follow_ups_open=counted.follow_ups_open,
        supervisions_open=counted.supervisions_open,
    )


_item_codes: dict[uuid.UUID, str] = {}
"""Work-list item codes by item id, kept by each process as it reads them: an item's code
never changes once the item exists (no API changes it, and loading the reference data
only adds the items that are missing), so each write's answer need not read it again."""


async def _item_code(session: AsyncSession, item_id: uuid.UUID) -> str:
    code = _item_codes.get(item_id)
    if code is None:
        code = await case_repo.item_code_of(session, item_id)
        if code:
            _item_codes[item_id] = code
    return code


async def _render(session: AsyncSession, ctx: Context, case: Case, calendar: WorkingCalendar) -> api.CaseOut:
    code = await _item_code(session, case.item_id)
    events = await case_repo.events_of(session, case.id)
    return case_out(case, code, [event_out(e) for e in events], calendar, ctx.now)


def _request_hash(data: api.CaseIn) -> str:
    return hashlib.sha256(msgspec.json.encode(data)).hexdigest()


async def create_case(session: AsyncSession, ctx: Context, data: api.CaseIn, idempotency_key: str | None) -> Created:
    """Read and check what the case refers to and build it (one transaction, which writes
    nothing), then have it logged with the day's next number (``services/logbook``)."""
    caller = ctx.caller
    if data.steward_id is not None and caller.role is not Role.ADMIN and data.steward_id != caller.staff_id:
        raise Invalid("steward_id", "only an administrator hands a new case to another steward")
    request_hash = _request_hash(data)
    async with session.begin():
        if idempotency_key is not None:
            first = await case_repo.first_answers(session, [(caller.account_id, idempotency_key)])
            if first:
                return _replayed(next(iter(first.values())), request_hash)
        worker = await people_repo.worker_for_new_case(session, data.worker_id, caller)
        if worker is None:
            raise Invalid("worker_id", "no such worker")
        calendar = await calendar_for_reading(session)

        def answer(logged: Logged) -> api.CaseOut:
            # A new case's timeline is its first line, and its item was read to log it.
            return case_out(logged.case, logged.item_code, [event_out(logged.line)], calendar, ctx.now)

        keep = None if idempotency_key is None else KeepAnswer(idempotency_key, request_hash, answer)
        new = NewCase(
            item_id=data.item_id,
            title=data.title,
            description=data.description,
            channel=data.channel,
            department_code=data.department_code,
            steward_id=data.steward_id,
        )
        ready = await ready_case(session, ctx, worker, new, keep=keep)
    outcome = await logbook_of(session).log(ready)
    if isinstance(outcome, FirstAnswer):  # the same key, logged by another request meanwhile
        return _replayed(outcome, request_hash)
    case, code = outcome.case, outcome.query_code
    rendered = outcome.answer or answer(outcome)
    created = api.CaseCreated(
        **msgspec.structs.asdict(rendered), query_code=code, receipt_url=receipt_url(f"/cases/{case.id}", code)
    )
    return Created(created, etag_of(case), replayed=False)


def _replayed(first: FirstAnswer, request_hash: str) -> Created:
    if first.request_hash != request_hash:
        raise IdempotencyMismatch("this Idempotency-Key was first used with a different body", field="Idempotency-Key")
    kept = msgspec.convert(first.response, api.CaseOut)
    replay = api.CaseCreated(**msgspec.structs.asdict(kept), query_code=None, receipt_url=None)
    return Created(replay, etag_of(kept), replayed=True)


@dataclass(frozen=True, slots=True)
class NewCase:
    item_id: uuid.UUID
    title: str
    description: str
    channel: str
    department_code: str | None = None
    steward_id: uuid.UUID | None = None


async def ready_case(
    session: AsyncSession, ctx: Context, worker: Worker, new: NewCase, *, keep: KeepAnswer | None = None
) -> Ready:
    """A new case for ``worker``, read, checked and built inside the caller's transaction,
    writing nothing: what it refers to (the item, the department, the steward and what its
    notices say, in one statement, with the id of its first line), the case, its query code
    and its first line. ``services/logbook`` then gives it its number and writes it."""
    steward_id = new.steward_id or worker.steward_id
    kinds = notices.kinds_told(ctx, "create")
    found = await case_repo.new_case_references(session, new.item_id, new.department_code or None, steward_id, kinds)
    if found is None:
        raise Invalid("item_id", "no such work-list item")
    item, department_code = found.item, found.department_code
    if not item.active:
        raise Invalid("item_id", "the work-list item is not active")
    if not found.department_exists:
        raise Invalid("department_code", "no such department")
    if not found.steward_active:
        raise Invalid("steward_id", "no such active steward")
    case = fresh(
        Case,
        case_no="",  # the number, once taken (``case_repo.log_cases``)
        worker_id=worker.id,
        item_id=item.id,
        title=new.title,
        description=new.description,
        channel=new.channel,
        steward_id=steward_id,
        department_code=department_code,
        district_code=worker.district_code,
        created_by=ctx.caller.staff_id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    code = query_codes.issue(ctx.kit, case)  # bound to the case's id, not its number
    line = timeline_event(
        ctx,
        case,
        "create",
        from_status=None,
        to_status=Status.SUBMITTED.value,
        visibility=PUBLIC,
        details={"channel": new.channel},
    )
    line.id = found.line_id
    return Ready(ctx=ctx, case=case, line=line, query_code=code, item=item, told=found.facts, keep=keep)


async def update_case(
    session: AsyncSession, ctx: Context, case_id: uuid.UUID, data: api.CasePatch, if_match: str | None
) -> tuple[api.CaseOut, str]:
    now = ctx.now
    async with session.begin():
        case = await reached_case(session, ctx, case_id, for_update=True)
        _check_if_match(case, if_match)
        changes: dict[str, Any] = {}
        for name in ("title", "description", "channel"):
            value = getattr(data, name)
            if value is not msgspec.UNSET and value != getattr(case, name):
                changes[name] = {"from": getattr(case, name), "to": value}
                setattr(case, name, value)
        if changes:
            case.version += 1
            case.updated_at = now
            session.add(remark(ctx, case, "update", details={"changes": changes}))
            await session.flush()
            await audit.record(
                ctx, session, "case.update", target_type="case", target_id=case.id, details={"fields": sorted(changes)}
            )
        return await _render(session, ctx, case, await calendar_for_reading(session)), etag_of(case)


async def add_note(session: AsyncSession, ctx: Context, case_id: uuid.UUID, data: api.NoteIn) -> api.EventOut:
    """A note joins the timeline without changing the case, so it does not need If-Match
    and does not make another steward's pending move stale."""
    async with session.begin():
        case = await reached_case(session, ctx, case_id, for_update=True)
        event = remark(ctx, case, "note", note=data.note, visibility=data.visibility)
        session.add(event)
        await session.flush()
        await audit.record(
            ctx, session, "case.note", target_type="case", target_id=case.id, details={"visibility": data.visibility}
        )
        return event_out(event)


async def list_events(session: AsyncSession, ctx: Context, case_id: uuid.UUID, visibility: str | None) -> api.EventPage:
    """The timeline, or its internal or public lines only (a filter for staff, who see both)."""
    async with session.begin():
        await reached_case(session, ctx, case_id)
        events = [event_out(e) for e in await case_repo.events_of(session, case_id, visibility)]
        return api.EventPage(items=events, total=len(events))


@dataclass(frozen=True, slots=True)
class MoveRules:
    reopen_window_days: int


async def move_case(
    session: AsyncSession,
    ctx: Context,
    case_id: uuid.UUID,
    move: api.TransitionIn,
    if_match: str | None,
    rules: MoveRules,
) -> tuple[api.CaseOut, str]:
    action = action_of(move)
    async with session.begin():
        found = await case_repo.lock_case(session, case_id, ctx.caller)
        if found is None:
            raise NotFound("case", case_id)
        case = found.case
        if not may_move(ctx.caller.role, action):
            raise Forbidden(f"the {ctx.caller.role.value} role may not {action.value} a case", field="action")
        _check_if_match(case, if_match)
        timeline = msgspec.json.decode(found.timeline, type=list[api.EventOut])
        calendar = await calendar_stamped(session, found.calendar_stamp)
        line = await apply_move(session, ctx, case, move, rules, timeline, calendar)
        timeline.append(event_out(line))
        return case_out(case, found.item_code, timeline, calendar, ctx.now), etag_of(case)


def action_of(move: api.TransitionIn) -> Action:
    return Action(type(move).__struct_config__.tag)  # type: ignore[arg-type]


async def apply_move(
    session: AsyncSession,
    ctx: Context,
    case: Case,
    move: api.TransitionIn,
    rules: MoveRules,
    timeline: list[api.EventOut],
    calendar: WorkingCalendar,
) -> CaseEvent:
    """Move a case locked by ``case_repo.lock_case`` (``timeline``: its lines as read with
    it; ``calendar``: as the database holds it now) through the workflow table inside the
    caller's transaction: stage fields, the timeline line, the deadline and the audit
    record. Whether the caller may make this move at all is decided before. Returns the
    new line."""
    action = action_of(move)
    now = ctx.now
    source = Status(case.status)
    target = target_of(source, action)
    if target is None:
        allowed = [a.value for a in allowed_actions(source)]
        raise IllegalTransition(f"a case that is {source.value} cannot {action.value}", allowed)
    details = await _apply(session, case, move, now, calendar, rules)
    # The statuses the case entered so far, and this move's: the deadline is set before
    # the one statement that writes the case and the line, so the case row is updated
    # once (and its tallies' trigger runs once).
    history = deadlines.statuses_entered(timeline)
    case.status = target.value
    case.version += 1
    case.updated_at = now
    line = timeline_event(
        ctx,
        case,
        action.value,
        from_status=source.value,
        to_status=target.value,
        note=move.note,
        visibility=move.visibility,
        details=details,
    )
    if source is not target:
        history.append((now, target.value))
    deadlines.apply_deadline(case, history, calendar)
    await case_repo.save_move(session, case, line)
    await notices.tell(session, ctx, case, line)
    await audit.record(
        ctx,
        session,
        "case.move",
        target_type="case",
        target_id=case.id,
        details={"action": action.value, "from": source.value, "to": target.value},
    )
    return line


async def _apply(
    session: AsyncSession,
    case: Case,
    move: api.TransitionIn,
    now: datetime,
    calendar: WorkingCalendar,
    rules: MoveRules,
) -> dict[str, Any]:
    """Stage timestamps and the move's own fields; returns what the event records."""
    match move:
        case api.Accept():
            item = await reference_repo.get_item(session, case.item_id)
            assert item is not None  # guaranteed by the foreign key
            case.accepted_at = now
            case.promised_working_days = item.promised_working_days
            return {"promised_working_days": item.promised_working_days}
        case api.Reject(reason=reason):
            case.rejected_at = now
            case.reject_reason = reason
            return {"reason": reason}
        case api.Start():
            case.started_at = now
            return {}
        case api.RequestMaterials(materials=materials):
            case.materials_requested_at = now
            case.awaited_materials = materials
            case.materials_answered_at = None
            return {"materials": materials}
        case api.ReceiveMaterials():
            if case.started_at is None:
                case.started_at = now
            received = case.awaited_materials
            case.awaited_materials = None
            case.materials_answered_at = None
            return {"materials": received}
        case api.Transfer(department_code=code, reason=reason):
            if await reference_repo.get_department(session, code) is None:
                raise Invalid("department_code", "no such department")
            if code == case.department_code:
                raise Invalid("department_code", "the case is already with this department")
            previous = case.department_code
            case.department_code = code
            return {"from_department": previous, "to_department": code, "reason": reason}
        case api.Resolve(outcome=outcome):
            case.resolved_at = now
            case.resolutions += 1
            case.outcome = outcome
            case.resolved_on_time = case.due_at is None or now <= case.due_at
            return {"outcome": outcome, "on_time": case.resolved_on_time}
        case api.Reopen(reason=reason):
            assert case.resolved_at is not None
            elapsed = working_seconds(case.resolved_at, now, calendar)
            if elapsed > rules.reopen_window_days * DAY:
                raise IllegalTransition(
                    f"the case can be reopened only within {rules.reopen_window_days} working days of resolution",
                    [a.value for a in allowed_actions(Status.RESOLVED) if a is not Action.REOPEN],
                )
            case.resolved_on_time = None
            case.outcome = None
            case.rating = None  # the next resolution is rated afresh; the rating stays in its history
            return {"reason": reason}
        case api.Close():
            case.closed_at = now
            return {}
        case api.Withdraw(reason=reason):
            case.withdrawn_at = now
            case.withdraw_reason = reason
            return {"reason": reason}
    raise AssertionError(f"unhandled move {move!r}")
