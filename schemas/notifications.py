"""The in-app inbox: notices to the signed-in person."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from schemas.base import Output

NoticeKind = Literal[
    "case.logged",
    "case.request_submitted",
    "case.routed_to_department",
    "case.accepted",
    "case.rejected",
    "case.materials_requested",
    "case.materials_answered",
    "case.transferred",
    "case.transferred_in",
    "case.resolved",
    "case.reopened",
    "case.withdrawn",
    "case.poor_rating",
    "case.follow_up_answered",
    "case.due_soon",
    "case.overdue",
    "case.unaccepted",
    "case.follow_up_due_soon",
    "case.supervised",
    "case.supervision_replied",
    "case.supervision_escalated",
    "official.daily_digest",
    "official.weekly_digest",
    "department.digest",
]


class NotificationOut(Output, kw_only=True):
    id: uuid.UUID
    """The message's stable id (the same on every channel)."""
    kind: NoticeKind
    title: str
    body: str
    case_id: uuid.UUID | None
    case_no: str | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Output, kw_only=True):
    items: list[NotificationOut]
    total: int
    """Notices matching the filter."""
    unread: int
    """Unread notices in the inbox, whatever the filter."""
    limit: int
    offset: int


class UnreadCount(Output, kw_only=True):
    unread: int


class MarkedRead(Output, kw_only=True):
    marked: int
    """How many notices this marked read (those read before are left as they were)."""
