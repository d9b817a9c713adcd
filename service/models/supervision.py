"""Supervision notices (督办) on cases: the rules are ``domain/supervision.py``."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Computed, Date, Index, text
from sqlmodel import Field, SQLModel

from service.domain.supervision import MAX_REPLY_WORKING_DAYS, MIN_REPLY_WORKING_DAYS, Level, SupervisionStatus
from service.models.base import in_check, timestamp, utcnow

ISSUED_ON = "((issued_at AT TIME ZONE 'Asia/Shanghai'))::date"
"""The day a notice was issued, in China Standard Time: the key of the metrics period."""


class Supervision(SQLModel, table=True):
    """One notice on one case, from its issue to its reply. ``level`` and ``reply_due_at``
    are the current ones: an escalation raises the level and sets a new deadline, and
    keeps when it did so in ``escalated_at``."""

    __tablename__ = "supervision"
    __table_args__ = (
        CheckConstraint(in_check("level", [v.value for v in Level]), name="level"),
        CheckConstraint(in_check("status", [v.value for v in SupervisionStatus]), name="status"),
        CheckConstraint(
            f"reply_working_days BETWEEN {MIN_REPLY_WORKING_DAYS} AND {MAX_REPLY_WORKING_DAYS}",
            name="reply_working_days",
        ),
        # A reply is the four facts together, and exactly the replied notices have one.
        CheckConstraint(
            "(status = 'replied') = (replied_at IS NOT NULL) "
            "AND num_nonnulls(replied_at, replied_by, reply, replied_on_time) IN (0, 4)",
            name="replied",
        ),
        CheckConstraint("escalated_at IS NULL OR level = 'city'", name="escalated"),
        CheckConstraint(
            "(unanswered_at IS NULL OR level = 'city') AND (status <> 'unanswered' OR unanswered_at IS NOT NULL)",
            name="unanswered",
        ),
        # One notice waiting for a reply per case; answered ones are history.
        Index(
            "ix_supervision_case_id_awaiting_reply",
            "case_id",
            unique=True,
            postgresql_where=text("replied_at IS NULL"),
        ),
        Index("ix_supervision_case_id_issued_at", "case_id", "issued_at"),
        # What the reminder pass looks for: open notices whose deadline has passed.
        Index("ix_supervision_open_reply_due_at", "reply_due_at", postgresql_where=text("status = 'open'")),
        Index("ix_supervision_issued_on", "issued_on"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id")
    level: str = Field(max_length=8)
    status: str = Field(default=SupervisionStatus.OPEN.value, max_length=12)
    issued_by: uuid.UUID = Field(foreign_key="account.id")
    issued_at: datetime = timestamp(default_factory=utcnow)
    reason: str = Field(max_length=2000)
    reply_working_days: int
    reply_due_at: datetime = timestamp()
    replied_at: datetime | None = timestamp(default=None, nullable=True)
    replied_by: uuid.UUID | None = Field(default=None, foreign_key="account.id")
    reply: str | None = Field(default=None, max_length=2000)
    replied_on_time: bool | None = None
    escalated_at: datetime | None = timestamp(default=None, nullable=True)
    unanswered_at: datetime | None = timestamp(default=None, nullable=True)
    """When a city-level notice's deadline passed unanswered (kept after a late reply)."""
    issued_on: date | None = Field(
        default=None, sa_column=Column(Date, Computed(ISSUED_ON, persisted=True), nullable=True)
    )
