"""Lines on a case's timeline, written by the caller of the request, at its time."""

from __future__ import annotations

from typing import Any

from service.models import Case, CaseEvent
from service.services.context import Context


def timeline_event(
    ctx: Context,
    case: Case,
    action: str,
    *,
    from_status: str | None,
    to_status: str,
    note: str | None = None,
    visibility: str = "internal",
    details: dict[str, Any] | None = None,
) -> CaseEvent:
    return CaseEvent(
        case_id=case.id,
        at=ctx.now,
        actor_id=ctx.caller.staff_id,
        account_id=ctx.caller.account_id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        visibility=visibility,
        details=details or {},
    )


def remark(
    ctx: Context,
    case: Case,
    action: str,
    *,
    note: str | None = None,
    visibility: str = "internal",
    details: dict[str, Any] | None = None,
) -> CaseEvent:
    """A line that leaves the status as it is: an edit, a note, a rating, a follow-up answer."""
    return timeline_event(
        ctx,
        case,
        action,
        from_status=case.status,
        to_status=case.status,
        note=note,
        visibility=visibility,
        details=details,
    )
