"""Rows into the worker's shapes: the public timeline, the due date in words, attachments.

Everything a worker or the public lookup receives passes through here, so what may
leave (see ``service/domain/visibility.py``) is decided in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from schemas.worker_side import AttachmentOut, PublicDue, PublicEvent
from service.domain.calendar import WorkingCalendar
from service.domain.visibility import EVENT_LABELS_ZH, note_shown_to_worker, shown_to_worker
from service.domain.workflow import STATUS_LABELS_ZH, Status
from service.models import Attachment, Case, CaseEvent
from service.services.presenters.cases import due_info

DUE_LABELS_ZH = {
    "on_track": "按期办理中",
    "due_soon": "即将到期",
    "overdue": "已超期",
    "paused": "暂停计时（等待补正材料）",
}


def public_timeline(events: Sequence[CaseEvent]) -> list[PublicEvent]:
    return [
        PublicEvent(
            at=e.at,
            action=e.action,
            label=EVENT_LABELS_ZH.get(e.action, e.action),
            status=cast(Any, e.to_status),
            status_label=STATUS_LABELS_ZH[Status(e.to_status)],
            note=e.note if note_shown_to_worker(e.visibility) else None,
        )
        for e in events
        if shown_to_worker(e.action, e.from_status, e.to_status, e.visibility)
    ]


def public_due(case: Case, promised_working_days: int, calendar: WorkingCalendar, now: datetime) -> PublicDue:
    info = due_info(case, calendar, now)
    return PublicDue(
        due_at=info.due_at,
        state=info.state,
        state_label=DUE_LABELS_ZH[info.state] if info.state else None,
        working_days_left=info.working_days_left,
        promised_working_days=case.promised_working_days or promised_working_days,
        resolved_on_time=info.resolved_on_time,
    )


def attachment_out(row: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=row.id,
        case_id=row.case_id,
        filename=row.filename,
        media_type=row.media_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        visibility=cast(Any, row.visibility),
        uploaded_at=row.uploaded_at,
        uploaded_by_worker=row.uploaded_by_worker,
        answered=row.answer_event_id is not None,
        download_url=f"/api/v1/attachments/{row.id}/content",
    )
