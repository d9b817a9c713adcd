"""Telling people of a change: the notices of one timeline line, written in the caller's
transaction (a transactional outbox). Who is told what is ``domain/notices.py``."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.access import Role
from service.domain.notices import Audience, Facts, Kind, Recipient, notices_for, recipient_of, render
from service.domain.supervision import supervisors_of
from service.domain.time_limit import CST
from service.domain.workflow import Status
from service.models import Case, CaseEvent
from service.repositories import notifications as repo
from service.security.pii import PiiCipher
from service.services import deliveries
from service.services.context import Context

_STAFF_REASONS = {
    "transfer": "reason",
    "reopen": "reason",
    "withdraw": "reason",
    "supervise": "reason",
    "reply_supervision": "reply",
}
"""Lines whose recorded reason (under this key of the line's details) staff are told and
the worker is not (``domain/visibility.py``): a supervision notice's 事由, its reply."""


NoticeFacts = repo.NoticeFacts
"""What the notices of a line are written from (``repositories/notifications.notice_facts``)."""


def kinds_told(ctx: Context, action: str, *, poor_rating: bool = False) -> set[Kind]:
    """The kinds of notice a line of ``action`` by the caller gives (empty: nobody is told)."""
    return {n.kind for n in notices_for(action, by_worker=ctx.caller.role is Role.WORKER, poor_rating=poor_rating)}


async def tell(
    session: AsyncSession,
    ctx: Context,
    case: Case,
    line: CaseEvent,
    *,
    poor_rating: bool = False,
) -> int:
    """Record who is told of ``line`` (written already, so it has its id), and what goes
    out to them beyond the inbox (``services/deliveries.py``): ``plan``, then write.
    Returns how many notices were written."""
    planned = await plan(session, ctx, case, line, poor_rating=poor_rating)
    if planned is None:
        return 0
    return await planned.batch.write(session, ctx.kit.pii, planned.outlook)


@dataclass(frozen=True, slots=True)
class Planned:
    batch: Batch
    outlook: deliveries.Outlook


async def plan(
    session: AsyncSession,
    ctx: Context,
    case: Case,
    line: CaseEvent,
    *,
    poor_rating: bool = False,
    query_code: str | None = None,
    read_ahead: NoticeFacts | None = None,
) -> Planned | None:
    """Who is told of ``line`` and what, not yet written (``tell`` writes it; a use case
    that writes the notices in a statement of its own gives ``Batch.rows`` to it and then
    calls ``Batch.sent``). Nobody is told of their own act, and nobody twice of one line.
    ``query_code`` is given when the case is logged: the worker's receipt by text message
    or e-mail carries it, and it exists in clear only now. ``read_ahead``: the facts
    already read for this line in this transaction (a new case's, with its references:
    ``repositories/cases.new_case_references``)."""
    notices = notices_for(line.action, by_worker=ctx.caller.role is Role.WORKER, poor_rating=poor_rating)
    if not notices:
        return None
    assert line.id is not None, "write the timeline line first, or give it its id"
    kinds = {notice.kind for notice in notices}
    found = read_ahead or await repo.notice_facts(session, case.item_id, case.department_code, kinds)
    item_title, item_days, department_name, liaisons, outlook = found
    # What the worker's view shows; staff are also told the reason a line records.
    shown = Facts(
        case_no=case.case_no,
        item_title=item_title or "—",
        promised_working_days=case.promised_working_days or item_days,
        department_name=department_name or case.department_code,
        materials=case.awaited_materials if Status(case.status) is Status.AWAITING_MATERIALS else None,
        outcome=case.outcome,
        reason=case.reject_reason if line.action == "reject" else None,
    )
    details = line.details or {}
    recorded = details.get(_STAFF_REASONS[line.action]) if line.action in _STAFF_REASONS else None
    told_staff = dataclasses.replace(shown, reason=recorded) if recorded is not None else shown
    if "reply_due_at" in details:  # a supervision notice: the deadline its reply is due by
        due = datetime.fromisoformat(str(details["reply_due_at"])).astimezone(CST).strftime("%Y-%m-%d %H:%M")
        told_staff = dataclasses.replace(told_staff, due=due)
    event = deliveries.line_event(line, case)
    batch = Batch(ctx.now)
    told: set[Recipient] = set()
    for notice in notices:
        seen = shown if notice.audience is Audience.WORKER else told_staff
        title, body = render(notice.kind, seen, outlook.texts)
        for recipient in await recipients(session, case, line, notice.audience, liaisons):
            if recipient in told or _is_caller(ctx, recipient):
                continue
            told.add(recipient)
            batch.add(
                notice.kind,
                recipient,
                event,
                title,
                body,
                facts=seen,
                case_id=case.id,
                event_id=line.id,
                query_code=query_code if notice.kind is Kind.CASE_LOGGED else None,
            )
    return Planned(batch, outlook)


@dataclass
class Batch:
    """Notices written together (one line's, one pass's batch) and what goes out of them.
    Each is written once: its ``dedupe_key`` is the event's key and the recipient's, so a
    second writer of the same notice (an overlapping pass, a retried line) writes nothing
    and sends nothing."""

    now: datetime
    rows: list[dict[str, Any]] = field(default_factory=list)
    outgoing: list[deliveries.Outgoing] = field(default_factory=list)

    def add(
        self,
        kind: Kind,
        recipient: Recipient,
        event: deliveries.Event,
        title: str,
        body: str,
        *,
        facts: Facts | None = None,
        case_id: uuid.UUID | None = None,
        event_id: int | None = None,
        threshold_at: datetime | None = None,
        query_code: str | None = None,
    ) -> None:
        notice_id = uuid.uuid4()
        self.rows.append(
            {
                "id": notice_id,
                "dedupe_key": f"{event.key}:{recipient.key}",
                "kind": kind.value,
                "worker_id": recipient.worker_id,
                "staff_id": recipient.staff_id,
                "account_id": recipient.account_id,
                "case_id": case_id,
                "event_id": event_id,
                "threshold_at": threshold_at,
                "title": title,
                "body": body,
                "created_at": self.now,
            }
        )
        self.outgoing.append(deliveries.Outgoing(notice_id, kind, recipient, event, facts, title, body, query_code))

    async def write(self, session: AsyncSession, pii: PiiCipher, outlook: deliveries.Outlook) -> int:
        """Write the notices that are new, and plan what goes out of them; returns how many."""
        written = await repo.insert_new(session, self.rows)
        return await self.sent(session, pii, outlook, written)

    async def sent(
        self, session: AsyncSession, pii: PiiCipher, outlook: deliveries.Outlook, written: set[uuid.UUID]
    ) -> int:
        """Plan what goes out of the notices of ``rows`` that were ``written`` (by ``write``
        or by a statement of the caller's); returns how many were written."""
        await deliveries.plan(session, pii, self.now, [o for o in self.outgoing if o.notice_id in written], outlook)
        return len(written)


async def recipients(
    session: AsyncSession, case: Case, line: CaseEvent, audience: Audience, liaisons: list[uuid.UUID]
) -> list[Recipient]:
    """The people ``audience`` means for ``line`` on ``case`` now (``liaisons``: the
    department's, read with the notice's facts). Also what the reminder pass tells of a
    supervision notice it escalates (``services/supervision.py``), which has no caller."""
    match audience:
        case Audience.WORKER:
            return [Recipient(worker_id=case.worker_id)]
        case Audience.STEWARD:
            return [Recipient(staff_id=case.steward_id)]
        case Audience.DEPARTMENT:
            return [Recipient(staff_id=staff_id) for staff_id in liaisons]
        case Audience.SUPERVISORS:
            watching = supervisors_of(line.details or {})
            city = await repo.city_officials(session) if watching.city else []
            return [Recipient(account_id=account_id) for account_id in [watching.issued_by, *city]]
    raise AssertionError(audience)


def _is_caller(ctx: Context, recipient: Recipient) -> bool:
    return recipient == recipient_of(ctx.caller)
