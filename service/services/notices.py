"""Telling people of a change: the notices of one timeline line, written in the caller's
transaction (a transactional outbox). Who is told what is ``domain/notices.py``."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.access import Role
from service.domain.notices import Audience, Facts, notices_for, render
from service.domain.workflow import Status
from service.models import Case, CaseEvent
from service.repositories import notifications as repo
from service.services.context import Context

_STAFF_REASONS = frozenset({"transfer", "reopen", "withdraw"})
"""Lines whose recorded reason staff are told and the worker is not (``domain/visibility.py``)."""

Recipient = tuple[uuid.UUID | None, uuid.UUID | None]
"""(worker id, staff id): exactly one is set."""


async def tell(session: AsyncSession, ctx: Context, case: Case, line: CaseEvent, *, poor_rating: bool = False) -> int:
    """Record who is told of ``line`` (flushed, so it has its id). Nobody is told of their
    own act, and nobody twice of one line. Returns how many notices were written."""
    notices = notices_for(line.action, by_worker=ctx.caller.role is Role.WORKER, poor_rating=poor_rating)
    if not notices:
        return 0
    assert line.id is not None, "flush the timeline line first"
    facts = await repo.notice_facts(session, case.item_id, case.department_code)
    item_title, item_days, department_name, liaisons = facts
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
    recorded = (line.details or {}).get("reason") if line.action in _STAFF_REASONS else None
    told_staff = dataclasses.replace(shown, reason=recorded) if recorded is not None else shown
    rows: list[dict[str, Any]] = []
    told: set[Recipient] = set()
    for notice in notices:
        title, body = render(notice.kind, shown if notice.audience is Audience.WORKER else told_staff)
        for recipient in _recipients(case, notice.audience, liaisons):
            if recipient in told or _is_caller(ctx, recipient):
                continue
            told.add(recipient)
            worker_id, staff_id = recipient
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "dedupe_key": f"event:{line.id}:{worker_id or staff_id}",
                    "kind": notice.kind.value,
                    "worker_id": worker_id,
                    "staff_id": staff_id,
                    "case_id": case.id,
                    "event_id": line.id,
                    "title": title,
                    "body": body,
                    "created_at": ctx.now,
                }
            )
    return await repo.insert_new(session, rows)


def _recipients(case: Case, audience: Audience, liaisons: list[uuid.UUID]) -> list[Recipient]:
    match audience:
        case Audience.WORKER:
            return [(case.worker_id, None)]
        case Audience.STEWARD:
            return [(None, case.steward_id)]
        case Audience.DEPARTMENT:
            return [(None, staff_id) for staff_id in liaisons]
    raise AssertionError(audience)


def _is_caller(ctx: Context, recipient: Recipient) -> bool:
    worker_id, staff_id = recipient
    caller = ctx.caller
    return (worker_id is not None and worker_id == caller.worker_id) or (
        staff_id is not None and staff_id == caller.staff_id
    )
