"""What the science worker sees: the public lookup and the worker's own cases.

These shapes carry the public timeline only and never a staff member's internal
note, another worker's data or a staff record's internal fields.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from schemas.base import Input, Output, Reason, Text, Title
from schemas.cases import DueStateName, StatusName, Visibility

SYMBOLS = r"^[A-Za-z0-9-]+$"
"""Letters, digits and hyphens: what case numbers and query codes are made of."""
QueryCode = Annotated[
    str, msgspec.Meta(min_length=4, max_length=16, pattern=SYMBOLS, description="The query code, e.g. K7MX-4QPA")
]
CaseNo = Annotated[str, msgspec.Meta(min_length=1, max_length=24, pattern=SYMBOLS)]


class PublicEvent(Output, kw_only=True):
    """A line of the worker's timeline: the date, what happened and a public note."""

    at: datetime
    action: str
    label: str
    """What happened, in Chinese (受理, 办结, ...)."""
    status: StatusName
    status_label: str
    note: str | None


class PublicDue(Output, kw_only=True):
    due_at: datetime | None
    """When the promised time limit runs out (null before acceptance and while paused)."""
    state: DueStateName | None
    state_label: str | None
    """按期办理中 / 即将到期 / 已超期 / 暂停计时 (等待补正材料)."""
    working_days_left: int | None
    promised_working_days: int
    resolved_on_time: bool | None


class LookupOut(Output, kw_only=True):
    case_no: str
    item_code: str
    item_title: str
    status: StatusName
    status_label: str
    received_at: datetime
    due: PublicDue
    awaited_materials: str | None
    """What the worker is asked to provide, while the case waits for it."""
    worker_name_masked: str
    """张*明: enough for the worker to recognise the case, nothing for anyone else."""
    timeline: list[PublicEvent]


class StewardContact(Output, kw_only=True):
    name: str
    work_phone: str | None
    email: str | None


class AttachmentOut(Output, kw_only=True):
    id: uuid.UUID
    case_id: uuid.UUID
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    visibility: Visibility
    uploaded_at: datetime
    uploaded_by_worker: bool
    answered: bool
    """Sent with the worker's answer to a request for materials."""
    download_url: str


class OwnCaseSummary(Output, kw_only=True):
    id: uuid.UUID
    case_no: str
    item_code: str
    item_title: str
    title: str
    status: StatusName
    status_label: str
    received_at: datetime
    updated_at: datetime
    due: PublicDue
    awaiting_me: bool
    """The case waits for the worker's materials and the worker has not answered yet."""


class OwnCasePage(Output, kw_only=True):
    items: list[OwnCaseSummary]
    total: int
    limit: int
    offset: int


class OwnCaseOut(OwnCaseSummary, kw_only=True):
    description: str
    awaited_materials: str | None
    materials_answered_at: datetime | None
    outcome: str | None
    reject_reason: str | None
    withdraw_reason: str | None
    steward: StewardContact
    timeline: list[PublicEvent]
    attachments: list[AttachmentOut]
    rating: str | None
    """The satisfaction level given to the current resolution, if any."""
    can_withdraw: bool
    can_answer_materials: bool
    can_rate: bool


class OwnCaseCreated(OwnCaseOut, kw_only=True):
    query_code: str
    """Shown this once: only its hash is kept. Print the receipt now."""
    receipt_url: str


class CaseRequestIn(Input, kw_only=True):
    """A new request from the worker; it lands as submitted in the steward's queue."""

    item_id: uuid.UUID
    title: Title
    description: Text = ""


class MaterialsAnswerIn(Input, kw_only=True):
    note: Reason
    """What the worker sends, in their words."""
    attachment_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)
    """Files uploaded to the case beforehand (``POST /cases/{id}/attachments``)."""


class WithdrawIn(Input, kw_only=True):
    reason: Reason


class QueryCodeOut(Output, kw_only=True):
    case_id: uuid.UUID
    case_no: str
    query_code: str
    """Shown this once; any earlier code stops working."""
    receipt_url: str
