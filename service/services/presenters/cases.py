"""Explicit conversion of table rows into API Structs (tables never leave the service layer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from schemas.cases import CaseListItem, CaseOut, CaseSummary, DueInfo, EventOut
from service.domain.calendar import WorkingCalendar
from service.domain.due import UNFINISHED, due_state_of
from service.domain.time_limit import (
    DueState,
    local_day,
    remaining_seconds,
    whole_working_days,
)
from service.domain.workflow import STATUS_LABELS_ZH, Status, allowed_actions, category_of
from service.models import Case, CaseEvent, CaseView

Shown = Case | CaseView
"""A case as a table object, or as the case read and the case list fetch it (``CaseView``):
the presenters read the same names of either."""


def due_info(case: Shown, calendar: WorkingCalendar, now: datetime) -> DueInfo:
    if case.accepted_at is None:
        return DueInfo(
            due_at=None, state=None, working_days_left=None, provisional=False, resolved_on_time=case.resolved_on_time
        )
    status = Status(case.status)
    state = due_state_of(status, case.due_at, case.due_soon_at, now)
    due_at = case.due_at
    days_left: int | None = None
    if state is DueState.PAUSED:
        due_at = None
        if case.clock_remaining_seconds is not None:
            days_left = whole_working_days(case.clock_remaining_seconds)
    elif state is not None and case.due_at is not None:
        days_left = whole_working_days(remaining_seconds(case.due_at, now, calendar))
    provisional = False
    if status in UNFINISHED:
        end = due_at if due_at is not None else now
        provisional = calendar.provisional_between(local_day(case.accepted_at), local_day(max(end, now)))
    return DueInfo(
        due_at=due_at,
        state=state.value if state else None,
        working_days_left=days_left,
        provisional=provisional,
        resolved_on_time=case.resolved_on_time,
    )


def _summary_fields(case: Shown, item_code: str, calendar: WorkingCalendar, now: datetime) -> dict[str, Any]:
    status = Status(case.status)
    return {
        "id": case.id,
        "case_no": case.case_no,
        "worker_id": case.worker_id,
        "item_id": case.item_id,
        "item_code": item_code,
        "title": case.title,
        "channel": case.channel,
        "status": status.value,
        "status_label": STATUS_LABELS_ZH[status],
        "category": category_of(status).value,
        "steward_id": case.steward_id,
        "department_code": case.department_code,
        "district_code": case.district_code,
        "promised_working_days": case.promised_working_days,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "accepted_at": case.accepted_at,
        "resolved_at": case.resolved_at,
        "due": due_info(case, calendar, now),
        "materials_answered_at": case.materials_answered_at,
        "version": case.version,
    }


def case_summary(case: Case, item_code: str, calendar: WorkingCalendar, now: datetime) -> CaseSummary:
    return CaseSummary(**_summary_fields(case, item_code, calendar, now))


def case_list_item(
    case: Shown, item_code: str, worker_name: str, calendar: WorkingCalendar, now: datetime
) -> CaseListItem:
    return CaseListItem(**_summary_fields(case, item_code, calendar, now), worker_name=worker_name)


def event_out(event: CaseEvent) -> EventOut:
    assert event.id is not None
    return EventOut(
        id=event.id,
        at=event.at,
        actor_id=event.actor_id,
        account_id=event.account_id,
        action=event.action,
        from_status=cast(Any, event.from_status),
        to_status=cast(Any, event.to_status),
        note=event.note,
        visibility=cast(Any, event.visibility),
        details=event.details,
    )


def case_out(
    case: Shown, item_code: str, timeline: list[EventOut], calendar: WorkingCalendar, now: datetime
) -> CaseOut:
    return CaseOut(
        **_summary_fields(case, item_code, calendar, now),
        description=case.description,
        started_at=case.started_at,
        materials_requested_at=case.materials_requested_at,
        closed_at=case.closed_at,
        rejected_at=case.rejected_at,
        withdrawn_at=case.withdrawn_at,
        awaited_materials=case.awaited_materials,
        outcome=case.outcome,
        reject_reason=case.reject_reason,
        withdraw_reason=case.withdraw_reason,
        allowed_actions=[a.value for a in allowed_actions(Status(case.status))],
        timeline=timeline,
    )
