"""Notices on their way out: one delivery per notice and channel (or event and webhook
subscription), the webhook subscriptions, each person's channel choices, and the
administrators' versions of the notice texts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Identity, Index, LargeBinary, SmallInteger, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from service.domain.deliveries import Channel, DeliveryStatus
from service.domain.notices import Kind
from service.models.base import in_check, timestamp, utcnow


class Delivery(SQLModel, table=True):
    __tablename__ = "delivery"
    __table_args__ = (
        CheckConstraint(in_check("channel", [c.value for c in Channel]), name="channel"),
        CheckConstraint(in_check("status", [s.value for s in DeliveryStatus]), name="status"),
        CheckConstraint("(channel = 'webhook') = (subscription_id IS NOT NULL)", name="webhook_has_subscription"),
        Index("ix_delivery_status_seq", "status", "seq"),
        Index("ix_delivery_subscription_id_seq", "subscription_id", "seq"),
        Index("ix_delivery_notification_id", "notification_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False, unique=True))
    dedupe_key: str = Field(max_length=200, unique=True)
    """``<notice id>:<channel>`` for a person, ``webhook:<subscription>:<event>`` for a
    webhook: one thing goes out once per person and channel, and once per subscription."""
    message_id: str = Field(max_length=64)
    """The id the receiver sees (the notice's id for e-mail and text messages, the
    delivery's own for a webhook), the same on every attempt and every replay."""
    channel: str = Field(max_length=16)
    kind: str = Field(max_length=40)
    notification_id: uuid.UUID | None = Field(default=None, foreign_key="notification.id")
    subscription_id: uuid.UUID | None = Field(default=None, foreign_key="webhook_subscription.id")
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=16)
    attempts: int = 0
    not_before: datetime = timestamp(default_factory=utcnow)
    """When it may be sent (a text message written at night waits for the morning)."""
    payload_sealed: bytes | None = Field(default=None, sa_type=LargeBinary)
    """What is sent, built when the notice was written and sealed (a receipt carries the
    query code, which exists in clear only then). A person's message is erased once sent;
    a webhook's is kept for replay and carries no personal data."""
    last_error: str | None = Field(default=None, max_length=500)
    """Why the last attempt failed: a provider's code or an HTTP status, never an address."""
    receipt: str | None = Field(default=None, max_length=100)
    """The receiver's id for what it took (a provider's message id, an SMTP reply)."""
    created_at: datetime = timestamp(default_factory=utcnow)
    updated_at: datetime = timestamp(default_factory=utcnow)
    sent_at: datetime | None = timestamp(nullable=True, default=None)


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscription"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100)
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(sa_column=Column(ARRAY(String(40)), nullable=False))
    secret_sealed: bytes = Field(sa_type=LargeBinary)
    previous_secret_sealed: bytes | None = Field(default=None, sa_type=LargeBinary)
    """During a rotation the old secret signs too, until ``previous_secret_until``."""
    previous_secret_until: datetime | None = timestamp(nullable=True, default=None)
    active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp(default_factory=utcnow)
    updated_at: datetime = timestamp(default_factory=utcnow)


class NoticePreference(SQLModel, table=True):
    """A person's choice of channels. No row: the defaults of ``domain/deliveries``."""

    __tablename__ = "notice_preference"

    account_id: uuid.UUID = Field(foreign_key="account.id", primary_key=True)
    email: bool = False
    sms: bool = False
    email_address_sealed: bytes | None = Field(default=None, sa_type=LargeBinary)
    """An address of the person's own, where their record has none (workers, officials)."""
    updated_at: datetime = timestamp(default_factory=utcnow)


class NoticeTemplate(SQLModel, table=True):
    """An administrator's version of one kind's title and body. The newest version is the
    one used; with none, the text in ``domain/notices.TEXTS`` is (version 0)."""

    __tablename__ = "notice_template"
    __table_args__ = (
        CheckConstraint(in_check("kind", [k.value for k in Kind]), name="kind"),
        Index("ix_notice_template_kind_version", "kind", "version", unique=True),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    kind: str = Field(max_length=40)
    version: int
    title: str = Field(max_length=200)
    body: str = Field(max_length=2000)
    created_at: datetime = timestamp(default_factory=utcnow)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="account.id")


class NoticeSetting(SQLModel, table=True):
    """What the administrator allows: the channels the deployment offers beyond the
    inbox, and the text-message templates registered with the provider (a kind with no
    registered template is never sent by text message). One row."""

    __tablename__ = "notice_setting"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(default=1, sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    email_offered: bool = False
    sms_offered: bool = False
    sms_templates: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    """Kind -> the template id the provider gave when the template was registered."""
    updated_at: datetime = timestamp(default_factory=utcnow)
    updated_by: uuid.UUID | None = Field(default=None, foreign_key="account.id")
