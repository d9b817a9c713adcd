"""Cases, their event history, case-number counters and idempotency records."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from service.domain.due import CLOCK_RUNS, RESOLVED, UNFINISHED, in_order
from service.domain.supervision import TimelineAction as SupervisionAction
from service.domain.workflow import Action, Status
from service.models.base import in_check, timestamp, utcnow

CHANNELS = ("phone", "website", "wechat", "platform", "in_person")
VISIBILITIES = ("internal", "public")
EVENT_ACTIONS = (
    *[a.value for a in Action],
    "create",
    "note",
    "update",
    "rate",
    "follow_up",
    "answer_materials",
    "attach",
    "reissue_code",
    *[a.value for a in SupervisionAction],
    "import",
)

RECEIVED_ON = "((created_at AT TIME ZONE 'Asia/Shanghai'))::date"
"""The day the case was received, in China Standard Time: the key of every metrics period."""


def _status_in(values: frozenset[Status]) -> str:
    return in_check("status", [s.value for s in in_order(values)])


WORKING_DAYS_USED = (
    f"CASE WHEN {_status_in(RESOLVED)} AND promised_working_days IS NOT NULL "
    "AND clock_remaining_seconds IS NOT NULL "
    "THEN GREATEST(ceil((promised_working_days * 86400.0 - clock_remaining_seconds) / 86400.0 - 1e-6), 1)::integer END"
)
"""Working days from acceptance to resolution, pauses excluded; part of a day counts as a day,
so every resolution counts at least one (migration 0005)."""
OVERDUE_SINCE = f"CASE WHEN {_status_in(CLOCK_RUNS)} OR clock_remaining_seconds < 0 THEN due_at END"
"""``domain.due.overdue_since``: when the clock runs (or ran) out."""
_FINISHED_BY = {
    "resolved_at": RESOLVED,
    "rejected_at": frozenset({Status.REJECTED}),
    "withdrawn_at": frozenset({Status.WITHDRAWN}),
}
assert frozenset().union(*_FINISHED_BY.values()) == frozenset(Status) - UNFINISHED
FINISHED_AT = "CASE " + " ".join(f"WHEN {_status_in(v)} THEN {stamp}" for stamp, v in _FINISHED_BY.items()) + " END"
"""When a case left ``domain.due.UNFINISHED``; NULL while it is unfinished."""


class CaseView(NamedTuple):
    """What a case read or a page of the case list shows of a case: the columns of ``Case``
    that their rendering uses (``services/presenters/cases.py``), in this order, typed as
    ``Case`` types them. Made from the statement's row as a tuple (``CaseView._make``), not
    as a table object: building one and reading 30-odd instrumented attributes of it was a
    twentieth of the most frequent request. ``tests/test_models.py`` holds the names and
    types to ``Case``'s."""

    id: uuid.UUID
    case_no: str
    worker_id: uuid.UUID
    item_id: uuid.UUID
    title: str
    description: str
    channel: str
    steward_id: uuid.UUID
    department_code: str
    district_code: str
    status: str
    version: int
    promised_working_days: int | None
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None
    started_at: datetime | None
    materials_requested_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    rejected_at: datetime | None
    withdrawn_at: datetime | None
    due_at: datetime | None
    due_soon_at: datetime | None
    clock_remaining_seconds: float | None
    resolved_on_time: bool | None
    awaited_materials: str | None
    outcome: str | None
    reject_reason: str | None
    withdraw_reason: str | None
    materials_answered_at: datetime | None


class Case(SQLModel, table=True):
    """A service request (办件). Stage timestamps make metrics cheap; ``due_at`` and
    ``due_soon_at`` are recomputed from the event history at every move."""

    __tablename__ = "case"
    __table_args__ = (
        CheckConstraint(in_check("status", [s.value for s in Status]), name="status"),
        CheckConstraint(in_check("channel", CHANNELS), name="channel"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_case_department_status", "department_code", "status"),
        Index("ix_case_status_due_at", "status", "due_at"),
        Index("ix_case_received_on", "received_on"),
        Index("ix_case_unfinished_received_on", "received_on", postgresql_where=text("finished_at IS NULL")),
        Index("ix_case_overdue_since", "overdue_since", postgresql_where=text("overdue_since IS NOT NULL")),
        Index("ix_case_resolved_at", "resolved_at", postgresql_where=text("resolved_at IS NOT NULL")),
        Index("ix_case_late_finished_at", "finished_at", postgresql_where=text("overdue_since IS NOT NULL")),
        Index("ix_case_follow_up_received_on", "received_on", postgresql_where=text("follow_up_due_at IS NOT NULL")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_no: str = Field(max_length=24, unique=True)
    worker_id: uuid.UUID = Field(foreign_key="worker.id", index=True)
    item_id: uuid.UUID = Field(foreign_key="work_list_item.id", index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    channel: str = Field(max_length=16)
    steward_id: uuid.UUID = Field(foreign_key="staff.id", index=True)
    department_code: str = Field(foreign_key="department.code", max_length=32)
    district_code: str = Field(foreign_key="district.code", max_length=32, index=True)
    status: str = Field(default=Status.SUBMITTED.value, max_length=24)
    version: int = 1
    promised_working_days: int | None = None
    created_by: uuid.UUID | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = timestamp(default_factory=utcnow, index=True)
    updated_at: datetime = timestamp(default_factory=utcnow)
    accepted_at: datetime | None = timestamp(default=None, nullable=True)
    started_at: datetime | None = timestamp(default=None, nullable=True)
    materials_requested_at: datetime | None = timestamp(default=None, nullable=True)
    resolved_at: datetime | None = timestamp(default=None, nullable=True)
    closed_at: datetime | None = timestamp(default=None, nullable=True)
    rejected_at: datetime | None = timestamp(default=None, nullable=True)
    withdrawn_at: datetime | None = timestamp(default=None, nullable=True)
    due_at: datetime | None = timestamp(default=None, nullable=True)
    due_soon_at: datetime | None = timestamp(default=None, nullable=True)
    clock_remaining_seconds: float | None = None
    resolved_on_time: bool | None = None
    awaited_materials: str | None = Field(default=None, max_length=2000)
    outcome: str | None = Field(default=None, max_length=2000)
    reject_reason: str | None = Field(default=None, max_length=2000)
    withdraw_reason: str | None = Field(default=None, max_length=2000)
    resolutions: int = 0
    """How many times the case has been resolved (a reopen and a second resolution make 2)."""
    rating: str | None = Field(default=None, max_length=24)
    """The satisfaction level given for the current resolution, if any."""
    follow_up_due_at: datetime | None = timestamp(default=None, nullable=True)
    """Set while a poor rating waits for the steward's answer."""
    materials_answered_at: datetime | None = timestamp(default=None, nullable=True)
    """When the worker answered the current request for materials; cleared when the
    steward confirms receipt or asks again."""
    query_code_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    """Keyed hash of the query code (查询码); the code itself is never stored."""
    import_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True, unique=True))
    """For a case brought in from a ledger: the hash of its worker, item, day received and
    ledger number or title (``domain/ledger.case_key``), so the same row comes in once."""

    # Derived columns the database computes for the metrics (see docs in README, "Metrics").
    received_on: date | None = Field(
        default=None, sa_column=Column(Date, Computed(RECEIVED_ON, persisted=True), nullable=True)
    )
    working_days_used: int | None = Field(
        default=None, sa_column=Column(Integer, Computed(WORKING_DAYS_USED, persisted=True), nullable=True)
    )
    overdue_since: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), Computed(OVERDUE_SINCE, persisted=True), nullable=True)
    )
    finished_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), Computed(FINISHED_AT, persisted=True), nullable=True)
    )


class CaseEvent(SQLModel, table=True):
    """One line of a case's timeline. Written in the same transaction as the change."""

    __tablename__ = "case_event"
    __table_args__ = (
        CheckConstraint(in_check("visibility", VISIBILITIES), name="visibility"),
        CheckConstraint(in_check("action", EVENT_ACTIONS), name="action"),
        Index("ix_case_event_case_id_id", "case_id", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    case_id: uuid.UUID = Field(foreign_key="case.id")
    at: datetime = timestamp(default_factory=utcnow)
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="staff.id")
    """The staff member who acted, when the account belongs to one."""
    account_id: uuid.UUID | None = Field(default=None, foreign_key="account.id")
    """The signed-in account that acted (None for rows written before accounts existed)."""
    action: str = Field(max_length=32)
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str = Field(max_length=24)
    note: str | None = Field(default=None, max_length=4000)
    visibility: str = Field(default="internal", max_length=8)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)


class CaseNumberCounter(SQLModel, table=True):
    """The last daily sequence handed out; bumped in the case-creation transaction."""

    __tablename__ = "case_number_counter"

    day: date = Field(primary_key=True)
    last_value: int = 0


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a case creation sent with an ``Idempotency-Key``. Keys
    belong to the account that sent them: two accounts cannot collide or replay each
    other's responses."""

    __tablename__ = "idempotency_record"

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    key: str = Field(primary_key=True, max_length=128)
    request_hash: str = Field(max_length=64)
    case_id: uuid.UUID = Field(foreign_key="case.id")
    response: dict[str, Any] = Field(sa_type=JSONB)
    created_at: datetime = timestamp(default_factory=utcnow)
