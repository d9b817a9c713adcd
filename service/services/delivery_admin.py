"""What the administrator manages about notices leaving the service: the channels offered
and the text-message templates registered with the provider, the texts notices are
written with, the delivery log with its retries and replays, and webhook subscriptions.

Every change is one transaction, audited in it. The audit trail records what changed,
never a secret, a message or a webhook's full URL (receivers often put a token in it):
only its host.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.deliveries import (
    DeliveryOut,
    DeliveryPage,
    DeliverySummary,
    NoticeSettingsIn,
    NoticeSettingsOut,
    NoticeTextIn,
    NoticeTextList,
    NoticeTextOut,
    NoticeTextVersions,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionPatch,
    SubscriptionWithSecret,
)
from service.adapters.webhooks import WebhookTarget, new_secret
from service.domain.deliveries import Channel, DeliveryStatus, sms_not_before
from service.domain.notices import DIGESTS, FACT_NAMES, TEXTS, Kind, check_text, placeholders
from service.errors import Conflict, Invalid, Malformed, NotFound
from service.models.deliveries import Delivery, NoticeSetting, NoticeTemplate, WebhookSubscription
from service.repositories import deliveries as deliveries_repo
from service.repositories import delivery_admin as repo
from service.services import audit
from service.services.context import Context
from service.services.deliveries import secret_context

TEMPLATE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""A provider's template id, checked whole (the schema's pattern lets a final newline by)."""
ROTATION_OVERLAP = timedelta(hours=24)
"""How long a replaced webhook secret still signs: a receiver switches without a message refused."""
EDITABLE: tuple[Kind, ...] = tuple(k for k in Kind if k in TEXTS)
"""Kinds with a text an administrator may replace (a digest's is built from many cases)."""
KIND_VALUES = frozenset(k.value for k in Kind)


# The channels offered.


def _settings_out(row: NoticeSetting) -> NoticeSettingsOut:
    return NoticeSettingsOut(
        email_offered=row.email_offered,
        sms_offered=row.sms_offered,
        sms_templates=dict(row.sms_templates),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


async def read_settings(session: AsyncSession) -> NoticeSettingsOut:
    async with session.begin():
        return _settings_out(await repo.setting(session))


async def update_settings(session: AsyncSession, ctx: Context, data: NoticeSettingsIn) -> NoticeSettingsOut:
    for kind, template_id in data.sms_templates.items():
        if kind not in KIND_VALUES:
            raise Invalid(f"sms_templates.{kind}", "no such kind of notice")
        if Kind(kind) in DIGESTS:
            raise Invalid(f"sms_templates.{kind}", "a digest tells of many cases and is never sent by text message")
        if not TEMPLATE_ID.fullmatch(template_id):
            raise Invalid(f"sms_templates.{kind}", "a template id is 1 to 64 of A-Z, a-z, 0-9, _ and -")
    wanted: dict[str, Any] = {
        "email_offered": data.email_offered,
        "sms_offered": data.sms_offered,
        "sms_templates": dict(sorted(data.sms_templates.items())),
    }
    async with session.begin():
        row = await repo.setting(session, for_update=True)
        changes = {k: {"from": getattr(row, k), "to": v} for k, v in wanted.items() if getattr(row, k) != v}
        for name, value in wanted.items():
            setattr(row, name, value)
        row.updated_at, row.updated_by = ctx.now, ctx.caller.account_id
        await audit.record(
            ctx,
            session,
            "notice_settings.update",
            target_type="notice_setting",
            target_id=1,
            details={"changes": changes},
        )
        await session.flush()
        return _settings_out(row)


# The texts.


def _text_out(row: NoticeTemplate) -> NoticeTextOut:
    return NoticeTextOut(
        kind=row.kind,  # type: ignore[arg-type]
        version=row.version,
        title=row.title,
        body=row.body,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def _built_in(kind: Kind) -> NoticeTextOut:
    title, body = TEXTS[kind]
    return NoticeTextOut(kind=kind.value, version=0, title=title, body=body, created_at=None, created_by=None)


def _editable(raw: str) -> Kind:
    """The kind a path names; one without an editable text is not there to edit."""
    kind = next((k for k in EDITABLE if k.value == raw), None)
    if kind is None:
        raise NotFound("notice text", raw)
    return kind


def _checked_text(kind: Kind, title: str, body: str) -> None:
    """Refuse a text whose placeholders notices cannot fill, naming the part."""
    for part, text in (("title", title), ("body", body)):
        try:
            placeholders(text)
        except ValueError as broken:
            raise Malformed(part, str(broken)) from None
    try:
        check_text(kind, title, body)
    except ValueError as unknown:
        part, _, reason = str(unknown).partition(": ")
        raise Malformed(part if part in ("title", "body") else "body", reason or str(unknown)) from None


async def list_texts(session: AsyncSession) -> NoticeTextList:
    async with session.begin():
        newest = {row.kind: row for row in await repo.newest_texts(session)}
    items = [_text_out(newest[k.value]) if k.value in newest else _built_in(k) for k in EDITABLE]
    return NoticeTextList(items=items, placeholders=sorted(FACT_NAMES))


async def text_versions(session: AsyncSession, raw_kind: str) -> NoticeTextVersions:
    kind = _editable(raw_kind)
    async with session.begin():
        rows = await repo.text_versions(session, kind)
    items = [*(_text_out(r) for r in rows), _built_in(kind)]
    return NoticeTextVersions(kind=kind.value, in_use=items[0].version, items=items)


async def save_text(session: AsyncSession, ctx: Context, raw_kind: str, data: NoticeTextIn) -> NoticeTextOut:
    """A new version, used by every notice written from now on. Going back is saving an
    older text again: versions are never removed, so what a notice said stays traceable."""
    kind = _editable(raw_kind)
    _checked_text(kind, data.title, data.body)
    async with session.begin():
        version = await repo.newest_version(session, kind) + 1
        row = NoticeTemplate(
            kind=kind.value,
            version=version,
            title=data.title,
            body=data.body,
            created_at=ctx.now,
            created_by=ctx.caller.account_id,
        )
        session.add(row)
        await session.flush()
        await audit.record(
            ctx,
            session,
            "notice_text.save",
            target_type="notice_text",
            target_id=kind.value,
            details={"version": version},
        )
        return _text_out(row)


# The delivery log.


def _delivery_out(row: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        message_id=row.message_id,
        channel=row.channel,  # type: ignore[arg-type]
        kind=row.kind,  # type: ignore[arg-type]
        status=row.status,  # type: ignore[arg-type]
        attempts=row.attempts,
        last_error=row.last_error,
        receipt=row.receipt,
        created_at=row.created_at,
        sent_at=row.sent_at,
        not_before=row.not_before,
        notification_id=row.notification_id,
        subscription_id=row.subscription_id,
    )


async def list_deliveries(
    session: AsyncSession,
    status: str | None,
    channel: str | None,
    limit: int,
    offset: int,
    subscription_id: uuid.UUID | None = None,
) -> DeliveryPage:
    async with session.begin():
        if subscription_id is not None and await deliveries_repo.subscription(session, subscription_id) is None:
            raise NotFound("webhook subscription", subscription_id)
        rows, total = await repo.delivery_page(
            session,
            status=None if status is None else DeliveryStatus(status),
            channel=None if channel is None else Channel(channel),
            subscription_id=subscription_id,
            limit=limit,
            offset=offset,
        )
        return DeliveryPage(items=[_delivery_out(r) for r in rows], total=total, limit=limit, offset=offset)


async def summary(session: AsyncSession) -> DeliverySummary:
    async with session.begin():
        counts = await deliveries_repo.counts(session)
    return DeliverySummary(**{status.value: counts.get(status.value, 0) for status in DeliveryStatus})


async def retry(session: AsyncSession, ctx: Context, delivery_id: uuid.UUID) -> DeliveryOut:
    """A parked delivery sent again from its first attempt, once its cause is mended (an
    address corrected, a receiver back up)."""
    async with session.begin():
        delivery = await _locked(session, delivery_id)
        if delivery.status != DeliveryStatus.PARKED.value:
            raise Conflict(f"the delivery is {delivery.status}; only a parked one is retried", field="status")
        return await _send_again(session, ctx, delivery, "delivery.retry")


async def replay(session: AsyncSession, ctx: Context, delivery_id: uuid.UUID) -> DeliveryOut:
    """A webhook message sent again as it was, with the same message id, for a receiver
    that lost it; the receiver drops it if it had it after all. A person's message is
    erased once sent, so only webhooks are replayed."""
    async with session.begin():
        delivery = await _locked(session, delivery_id)
        if delivery.channel != Channel.WEBHOOK.value:
            raise Conflict(
                "a message to a person is erased once sent; only webhook deliveries are replayed", field="channel"
            )
        if delivery.status != DeliveryStatus.SENT.value:
            raise Conflict(f"the delivery is {delivery.status}; only a sent one is replayed", field="status")
        return await _send_again(session, ctx, delivery, "delivery.replay")


async def _locked(session: AsyncSession, delivery_id: uuid.UUID) -> Delivery:
    delivery = await deliveries_repo.locked_delivery(session, delivery_id)
    if delivery is None:
        raise NotFound("delivery", delivery_id)
    return delivery


async def _send_again(session: AsyncSession, ctx: Context, delivery: Delivery, action: str) -> DeliveryOut:
    """Back to pending from attempt one, with its job queued in this transaction: the
    change and the job commit together or not at all."""
    if delivery.payload_sealed is None:
        raise Conflict("the message was erased; there is nothing to send again", field="status")
    if delivery.subscription_id is not None:
        subscription = await deliveries_repo.subscription(session, delivery.subscription_id)
        if subscription is None or not subscription.active:
            raise Conflict("the webhook subscription is switched off; switch it on first", field="subscription_id")
    attempts_before = delivery.attempts
    delivery.status = DeliveryStatus.PENDING.value
    delivery.attempts = 0
    # The quiet hours hold a text message an administrator sends again at night too.
    delivery.not_before = sms_not_before(ctx.now) if delivery.channel == Channel.SMS.value else ctx.now
    delivery.updated_at = ctx.now
    await deliveries_repo.queue_jobs(session, [(delivery.id, delivery.not_before)])
    details = {
        "channel": delivery.channel,
        "kind": delivery.kind,
        "message_id": delivery.message_id,
        "attempts_before": attempts_before,
    }
    await audit.record(ctx, session, action, target_type="delivery", target_id=delivery.id, details=details)
    return _delivery_out(delivery)


# Webhook subscriptions.


def _subscription_out(row: WebhookSubscription) -> SubscriptionOut:
    return SubscriptionOut(**_subscription_fields(row))


def _subscription_fields(row: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "url": row.url,
        "event_types": list(row.event_types),
        "active": row.active,
        "disabled_reason": row.disabled_reason,
        "previous_secret_until": row.previous_secret_until,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _checked_url(url: str) -> str:
    """Refused here as the sender would refuse it, so a subscription saved can be sent to."""
    try:
        WebhookTarget(url=url, secrets=(new_secret(),))
    except ValueError as wrong:
        raise Invalid("url", str(wrong)) from None
    return url


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


async def list_subscriptions(session: AsyncSession, limit: int, offset: int) -> SubscriptionPage:
    async with session.begin():
        rows, total = await repo.subscriptions(session, limit, offset)
        return SubscriptionPage(items=[_subscription_out(r) for r in rows], total=total, limit=limit, offset=offset)


async def read_subscription(session: AsyncSession, subscription_id: uuid.UUID) -> SubscriptionOut:
    async with session.begin():
        return _subscription_out(await _subscription(session, subscription_id, for_update=False))


async def _subscription(
    session: AsyncSession, subscription_id: uuid.UUID, *, for_update: bool = True
) -> WebhookSubscription:
    row = await deliveries_repo.subscription(session, subscription_id, for_update=for_update)
    if row is None:
        raise NotFound("webhook subscription", subscription_id)
    return row


async def create_subscription(session: AsyncSession, ctx: Context, data: SubscriptionIn) -> SubscriptionWithSecret:
    """The secret is made here and shown in this answer only; it is kept sealed."""
    url = _checked_url(data.url)
    secret = new_secret()
    subscription_id = uuid.uuid4()
    async with session.begin():
        row = WebhookSubscription(
            id=subscription_id,
            name=data.name,
            url=url,
            event_types=list(dict.fromkeys(data.event_types)),
            secret_sealed=ctx.kit.pii.seal(secret, secret_context(subscription_id)),
            active=data.active,
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        session.add(row)
        await session.flush()
        details = {"name": row.name, "host": _host(url), "event_types": row.event_types, "active": row.active}
        await audit.record(
            ctx,
            session,
            "webhook_subscription.create",
            target_type="webhook_subscription",
            target_id=row.id,
            details=details,
        )
        return SubscriptionWithSecret(**_subscription_fields(row), secret=secret)


async def update_subscription(
    session: AsyncSession, ctx: Context, subscription_id: uuid.UUID, data: SubscriptionPatch
) -> SubscriptionOut:
    wanted: dict[str, Any] = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    if "url" in wanted:
        _checked_url(wanted["url"])
    if "event_types" in wanted:
        wanted["event_types"] = list(dict.fromkeys(wanted["event_types"]))
    async with session.begin():
        row = await _subscription(session, subscription_id)
        changed = {k: v for k, v in wanted.items() if getattr(row, k) != v}
        recorded = {k: {"from": getattr(row, k), "to": v} for k, v in changed.items() if k != "url"}
        if "url" in changed:
            recorded["url"] = {"from_host": _host(row.url), "to_host": _host(changed["url"])}
        for name, value in changed.items():
            setattr(row, name, value)
        if "active" in changed:
            row.disabled_reason = None if row.active else "switched off by an administrator"
        if changed:
            row.updated_at = ctx.now
            await audit.record(
                ctx,
                session,
                "webhook_subscription.update",
                target_type="webhook_subscription",
                target_id=row.id,
                details={"changes": recorded},
            )
        await session.flush()
        return _subscription_out(row)


async def remove_subscription(session: AsyncSession, ctx: Context, subscription_id: uuid.UUID) -> None:
    """Switched off for good rather than deleted: its delivery log stays readable, and a
    notice being written at this moment never meets a subscription that vanished under it."""
    async with session.begin():
        row = await _subscription(session, subscription_id)
        row.active = False
        row.disabled_reason = "removed by an administrator"
        row.updated_at = ctx.now
        await audit.record(
            ctx, session, "webhook_subscription.remove", target_type="webhook_subscription", target_id=row.id
        )
        await session.flush()


async def rotate_secret(session: AsyncSession, ctx: Context, subscription_id: uuid.UUID) -> SubscriptionWithSecret:
    """A new secret, shown once; the one it replaces still signs for ``ROTATION_OVERLAP``,
    so the receiver can switch without a message refused. A second rotation inside that
    time drops the oldest."""
    async with session.begin():
        row = await _subscription(session, subscription_id)
        pii = ctx.kit.pii
        current = pii.open(row.secret_sealed, secret_context(row.id))
        secret = new_secret()
        row.previous_secret_sealed = pii.seal(current, secret_context(row.id, previous=True))
        row.previous_secret_until = ctx.now + ROTATION_OVERLAP
        row.secret_sealed = pii.seal(secret, secret_context(row.id))
        row.updated_at = ctx.now
        await audit.record(
            ctx,
            session,
            "webhook_subscription.rotate_secret",
            target_type="webhook_subscription",
            target_id=row.id,
            details={"previous_secret_until": row.previous_secret_until.isoformat()},
        )
        await session.flush()
        return SubscriptionWithSecret(**_subscription_fields(row), secret=secret)
