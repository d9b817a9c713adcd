from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from schemas.base import LINES, Code, Input, Output, Reason, Text, Title

Channel = Literal["phone", "website", "wechat", "platform", "in_person"]
StatusName = Literal[
    "submitted", "accepted", "in_progress", "awaiting_materials", "resolved", "closed", "rejected", "withdrawn"
]
CategoryName = Literal["open", "paused", "done", "terminated"]
DueStateName = Literal["on_track", "due_soon", "overdue", "paused"]
QueueName = Literal["overdue", "due_soon", "on_track", "paused", "new", "materials_answered", "open"]
Visibility = Literal["internal", "public"]
ActionName = Literal[
    "accept",
    "reject",
    "start",
    "request_materials",
    "receive_materials",
    "transfer",
    "resolve",
    "reopen",
    "close",
    "withdraw",
]


class CaseIn(Input, kw_only=True):
    worker_id: uuid.UUID
    item_id: uuid.UUID
    title: Title
    channel: Channel
    description: Text = ""
    department_code: Code | None = None
    """Defaults to the work-list item's lead department."""
    steward_id: uuid.UUID | None = None
    """Defaults to the worker's current steward."""


class CasePatch(Input, kw_only=True):
    """The fields that change without a move. Status, department and steward do not."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Text | msgspec.UnsetType = msgspec.UNSET
    channel: Channel | msgspec.UnsetType = msgspec.UNSET


class _Move(Input, tag_field="action", kw_only=True):
    note: Text | None = None
    visibility: Visibility = "internal"


class Accept(_Move, tag="accept", kw_only=True):
    pass


class Reject(_Move, tag="reject", kw_only=True):
    reason: Reason


class Start(_Move, tag="start", kw_only=True):
    pass


class RequestMaterials(_Move, tag="request_materials", kw_only=True):
    materials: Reason
    """What is missing, in words the worker understands."""


class ReceiveMaterials(_Move, tag="receive_materials", kw_only=True):
    pass


class Transfer(_Move, tag="transfer", kw_only=True):
    department_code: Code
    reason: Reason


class Resolve(_Move, tag="resolve", kw_only=True):
    outcome: Reason


class Reopen(_Move, tag="reopen", kw_only=True):
    reason: Reason


class Close(_Move, tag="close", kw_only=True):
    pass


class Withdraw(_Move, tag="withdraw", kw_only=True):
    reason: Reason


TransitionIn = (
    Accept | Reject | Start | RequestMaterials | ReceiveMaterials | Transfer | Resolve | Reopen | Close | Withdraw
)


class NoteIn(Input, kw_only=True):
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=LINES)]
    visibility: Visibility = "internal"


class EventOut(Output, kw_only=True):
    id: int
    at: datetime
    actor_id: uuid.UUID | None
    """The staff member who acted (None for administrators and the system)."""
    account_id: uuid.UUID | None
    """The account that acted."""
    action: str
    from_status: StatusName | None
    to_status: StatusName
    note: str | None
    visibility: Visibility
    details: dict[str, Any]


class DueInfo(Output, kw_only=True):
    due_at: datetime | None
    """When the promised time limit runs out; null before acceptance and while the clock is stopped."""
    state: DueStateName | None
    working_days_left: int | None
    """Negative once overdue; frozen while paused."""
    provisional: bool
    """True when the due date falls in a year whose official calendar is not yet published."""
    resolved_on_time: bool | None


class CaseSummary(Output, kw_only=True):
    id: uuid.UUID
    case_no: str
    worker_id: uuid.UUID
    item_id: uuid.UUID
    item_code: str
    title: str
    channel: Channel
    status: StatusName
    status_label: str
    category: CategoryName
    steward_id: uuid.UUID
    department_code: str
    district_code: str
    promised_working_days: int | None
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None
    resolved_at: datetime | None
    due: DueInfo
    materials_answered_at: datetime | None = None
    """When the worker answered the current request for materials (then confirm receipt).
    Optional so that responses stored for idempotent replay before it existed still load."""
    version: int


class CaseOut(CaseSummary):
    description: str
    started_at: datetime | None
    materials_requested_at: datetime | None
    closed_at: datetime | None
    rejected_at: datetime | None
    withdrawn_at: datetime | None
    awaited_materials: str | None
    outcome: str | None
    reject_reason: str | None
    withdraw_reason: str | None
    allowed_actions: list[ActionName]
    timeline: list[EventOut]


class CaseCreated(CaseOut, kw_only=True):
    query_code: str | None
    """The worker's query code (查询码), shown once: only its hash is kept. Null when an
    Idempotency-Key replays the first response; issue a new one then."""
    receipt_url: str | None


class CaseListItem(CaseSummary, kw_only=True):
    worker_name: str
    """The worker's name, so that a queue reads as people (staff see names; the worker's
    numbers stay masked and are shown on request, audited)."""


class CasePage(Output, kw_only=True):
    items: list[CaseListItem]
    total: int
    limit: int
    offset: int


class CaseQueues(Output, kw_only=True):
    """How many of the caller's cases wait in each work queue now. Each count but the last
    two is the total of ``GET /cases?queue=`` with the field's name."""

    overdue: int
    """The clock runs and the due time has come."""
    due_soon: int
    """The clock runs and the due time is near."""
    on_track: int
    """The clock runs with time left, not yet due soon."""
    paused: int
    """Waiting for the worker's materials: the clock is stopped."""
    new: int
    """Submitted and not yet accepted."""
    materials_answered: int
    """Waiting for materials that the worker has sent: confirm receipt to restart the clock."""
    open: int
    """Not finished: new, running and paused."""
    follow_ups_open: int
    """Follow-ups of poor ratings waiting for the caller's answer (``GET /follow-ups?state=open``); 0 for a
    role that answers none."""
    supervisions_open: int
    """Supervision notices open on the caller's cases (``GET /supervisions?status=open``); 0 for a role that
    reads none."""


class EventPage(Output, kw_only=True):
    items: list[EventOut]
    total: int
