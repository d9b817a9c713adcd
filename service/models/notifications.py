"""Notices to people (the in-app inbox, and the outbox the channels deliver from).

A row is written in the same transaction as the change it tells of, so a change that
is rolled back tells nobody and one that is committed is never forgotten. Its ``id`` is
the message's stable id for every channel; ``dedupe_key`` makes telling one person of
one thing twice impossible, whoever writes it and however often.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Identity, Index, text
from sqlmodel import Field, SQLModel

from service.domain.notices import Kind
from service.models.base import in_check, timestamp, utcnow


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(in_check("kind", [k.value for k in Kind]), name="kind"),
        CheckConstraint("num_nonnulls(worker_id, staff_id, account_id) = 1", name="one_recipient"),
        Index(
            "ix_notification_worker_id_seq",
            "worker_id",
            "seq",
            postgresql_where=text("worker_id IS NOT NULL"),
        ),
        Index(
            "ix_notification_staff_id_seq",
            "staff_id",
            "seq",
            postgresql_where=text("staff_id IS NOT NULL"),
        ),
        Index(
            "ix_notification_account_id_seq",
            "account_id",
            "seq",
            postgresql_where=text("account_id IS NOT NULL"),
        ),
        Index("ix_notification_case_id_kind", "case_id", "kind"),
        # The unread count a page asks for on every navigation reads only the unread.
        Index(
            "ix_notification_staff_id_unread",
            "staff_id",
            postgresql_where=text("read_at IS NULL AND staff_id IS NOT NULL"),
        ),
        Index(
            "ix_notification_account_id_unread",
            "account_id",
            postgresql_where=text("read_at IS NULL AND account_id IS NOT NULL"),
        ),
        Index(
            "ix_notification_worker_id_unread",
            "worker_id",
            postgresql_where=text("read_at IS NULL AND worker_id IS NOT NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False, unique=True))
    """The order notices were written in (the inbox lists the newest first)."""
    dedupe_key: str = Field(max_length=200, unique=True)
    """One person, one thing: ``event:<line id>:<recipient>`` for a notice of a timeline
    line, ``<kind>:<case id>:<due time>:<recipient>`` for a reminder."""
    kind: str = Field(max_length=40)
    worker_id: uuid.UUID | None = Field(default=None, foreign_key="worker.id")
    staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff.id")
    account_id: uuid.UUID | None = Field(default=None, foreign_key="account.id")
    """For people who are only an account (officials, administrators): their digests."""
    case_id: uuid.UUID | None = Field(default=None, foreign_key="case.id")
    event_id: int | None = Field(default=None, sa_column=Column(BigInteger, ForeignKey("case_event.id"), nullable=True))
    threshold_at: datetime | None = timestamp(nullable=True, default=None)
    """For a reminder: the due time it was given for (a case whose due time moves, after a
    pause for materials, is reminded again for the new one)."""
    title: str = Field(max_length=200)
    body: str = Field(max_length=2000)
    created_at: datetime = timestamp(default_factory=utcnow)
    read_at: datetime | None = timestamp(nullable=True, default=None)
