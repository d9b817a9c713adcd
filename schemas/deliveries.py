"""Notices beyond the inbox: each person's channel choice, and what the administrator
manages (the channels offered, the texts, the delivery log, webhook subscriptions)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schemas.base import LINES, ONE_LINE, Input, Output
from schemas.notifications import NoticeKind
from schemas.people import Email

ChannelName = Literal["email", "sms", "webhook"]
DeliveryStatusName = Literal["pending", "sent", "parked"]
KindName = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
"""A notice kind as a map's key (checked by the service, which names the key it refuses)."""
TemplateId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
"""The id a text-message provider gave a registered template."""
NoticeTitle = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=ONE_LINE)]
NoticeBody = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=LINES)]
SubscriptionName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=ONE_LINE)]
WebhookUrl = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=ONE_LINE)]
EventTypes = Annotated[list[NoticeKind], msgspec.Meta(min_length=1, max_length=64)]


# One's own channels.


class Offered(Output, kw_only=True):
    email: bool
    sms: bool


class PreferencesOut(Output, kw_only=True):
    email: bool
    """Notices are sent by e-mail too (where e-mail is offered and an address is known)."""
    sms: bool
    """Notices are sent by text message too (workers only: their record has the mobile number)."""
    email_address: str | None
    """The person's own address, masked (``w***@example.com``); null when none is kept."""
    chosen: bool
    """False: the person never chose, and these are the defaults for their role."""
    offered: Offered
    """The channels the administrator offers; a choice outside them is refused."""
    updated_at: datetime | None


class PreferencesIn(Input, kw_only=True):
    email: bool
    sms: bool
    email_address: Email | msgspec.UnsetType | None = msgspec.UNSET
    """Left out: the address kept is kept. Null: it is removed. Never the masked form."""


# The administrator's settings.


class NoticeSettingsIn(Input, kw_only=True):
    email_offered: bool
    sms_offered: bool
    sms_templates: Annotated[dict[KindName, TemplateId], msgspec.Meta(max_length=64)] = msgspec.field(
        default_factory=dict
    )
    """Notice kind (``case.logged``) -> the provider's template id. Digests, which tell of
    many cases at once, are never sent by text message."""


class NoticeSettingsOut(Output, kw_only=True):
    email_offered: bool
    sms_offered: bool
    sms_templates: dict[str, str]
    updated_at: datetime
    updated_by: uuid.UUID | None


# Texts.


class NoticeTextIn(Input, kw_only=True):
    title: NoticeTitle
    body: NoticeBody
    """``{name}`` placeholders from ``placeholders`` of the list of texts."""


class NoticeTextOut(Output, kw_only=True):
    kind: NoticeKind
    version: int
    """0: the text the service ships with; 1 and up: an administrator's versions."""
    title: str
    body: str
    created_at: datetime | None
    created_by: uuid.UUID | None


class NoticeTextList(Output, kw_only=True):
    items: list[NoticeTextOut]
    """The text in use for each kind that has an editable text (digests have none)."""
    placeholders: list[str]
    """The facts a text may name, as ``{case_no}``."""


class NoticeTextVersions(Output, kw_only=True):
    kind: NoticeKind
    in_use: int
    """The version notices are written with now (the newest)."""
    items: list[NoticeTextOut]
    """Newest first, ending with version 0."""


# The delivery log.


class DeliveryOut(Output, kw_only=True):
    """One (notice, channel) or (event, webhook) on its way out. Never the message or an
    address."""

    id: uuid.UUID
    message_id: str
    """What the receiver sees, the same on every attempt and replay."""
    channel: ChannelName
    kind: NoticeKind
    status: DeliveryStatusName
    attempts: int
    last_error: str | None
    receipt: str | None
    created_at: datetime
    sent_at: datetime | None
    not_before: datetime
    notification_id: uuid.UUID | None
    subscription_id: uuid.UUID | None


class DeliveryPage(Output, kw_only=True):
    items: list[DeliveryOut]
    total: int
    limit: int
    offset: int


class DeliverySummary(Output, kw_only=True):
    pending: int
    sent: int
    parked: int


# Webhook subscriptions.


class SubscriptionIn(Input, kw_only=True):
    name: SubscriptionName
    url: WebhookUrl
    """An http:// or https:// address; redirects are not followed."""
    event_types: EventTypes
    active: bool = True


class SubscriptionPatch(Input, kw_only=True):
    name: SubscriptionName | msgspec.UnsetType = msgspec.UNSET
    url: WebhookUrl | msgspec.UnsetType = msgspec.UNSET
    event_types: EventTypes | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class SubscriptionOut(Output, kw_only=True):
    id: uuid.UUID
    name: str
    url: str
    event_types: list[NoticeKind]
    active: bool
    disabled_reason: str | None
    """Why it is off: switched off by an administrator, or the receiver answered 410 Gone."""
    previous_secret_until: datetime | None
    """After a rotation, the old secret signs too until then."""
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionOut, kw_only=True):
    secret: str
    """``whsec_…``: shown this once; give it to the receiver to check signatures with."""


class SubscriptionPage(Output, kw_only=True):
    items: list[SubscriptionOut]
    total: int
    limit: int
    offset: int
