"""What goes out beyond the inbox, decided when a notice is written (in its transaction),
and sending one delivery (in the delivery worker).

Deciding: each notice goes out on the channels ``domain/deliveries.channels_for`` gives,
and each event once to every webhook subscribed to its kind. What is sent is built now,
from the texts in use now, and sealed: a receipt carries the query code, which exists
in clear only while the case is being logged. A job is queued with each delivery in the
same transaction (``repositories/deliveries.queue_jobs``).

Sending: the delivery's row is locked for the whole send, so two workers never send one
delivery at once, and a delivery already sent is never sent again. A worker that dies
mid-send leaves the row unsent; its job is taken up again and the receiver gets the
same message id twice, which is how receivers know to drop the second.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.adapters.channels import DeliveryFailed
from service.adapters.outbound import Outbound
from service.adapters.sms import SmsMessage
from service.adapters.webhooks import EndpointGone, WebhookTarget, post_webhook
from service.domain.deliveries import (
    MAX_ATTEMPTS,
    Channel,
    DeliveryStatus,
    backoff_seconds,
    channels_for,
    default_choice,
    sms_not_before,
)
from service.domain.notices import Facts, Kind, Recipient, sms_parameters
from service.models import Case, CaseEvent
from service.models.deliveries import Delivery
from service.repositories import deliveries as repo
from service.security.kit import SecurityKit
from service.security.pii import PiiCipher
from service.services import audit


@dataclass(frozen=True, slots=True)
class Event:
    """What a notice tells of, once (a webhook is sent each event once, however many
    people are told of it): ``event:<timeline line id>``, ``<kind>:<case id>:<when>`` for
    a reminder, ``<kind>:<scope>:<day>`` for a digest. A notice's ``dedupe_key`` is this
    key and its recipient's."""

    key: str
    case_status: str | None = None
    department_code: str | None = None


def line_event(line: CaseEvent, case: Case) -> Event:
    """The event a timeline line is."""
    return Event(f"event:{line.id}", case_status=case.status, department_code=case.department_code)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A notice just written, with what its texts were built from (``facts`` is None for
    a digest, which tells of no one case)."""

    notice_id: uuid.UUID
    kind: Kind
    recipient: Recipient
    event: Event
    facts: Facts | None
    title: str
    body: str
    query_code: str | None = None


RECEIPT_CODE_LINE = "查询码：{query_code}（凭受理编号和查询码可随时查询办理进度，请妥善保存，本码仅告知一次）"


def sealing_context(delivery_id: uuid.UUID) -> str:
    return f"delivery:{delivery_id}:payload"


Outlook = repo.Outlook


async def outlook(session: AsyncSession, kinds: set[Kind]) -> repo.Outlook:
    return await repo.outlook(session, kinds)


async def plan(
    session: AsyncSession, pii: PiiCipher, now: datetime, outgoing: list[Outgoing], setting: repo.Outlook
) -> int:
    """Write the deliveries of the notices just written, and queue them. Returns how many.
    With no channel offered and no webhook subscribed, this reads and writes nothing."""
    if not outgoing:
        return 0
    rows: list[dict[str, Any]] = []
    if setting.email_offered or setting.sms_offered:
        rows += await _to_people(session, pii, now, outgoing, setting)
    if setting.subscriptions:
        rows += _webhooks(pii, now, outgoing, setting)
    return len(await repo.insert_and_queue(session, rows))


async def _to_people(
    session: AsyncSession, pii: PiiCipher, now: datetime, outgoing: list[Outgoing], setting: repo.Outlook
) -> list[dict[str, Any]]:
    chosen = await repo.choices(session, {o.recipient for o in outgoing})
    rows: list[dict[str, Any]] = []
    for o in outgoing:
        preference, has_email, has_mobile = chosen[o.recipient]
        choice = (
            (preference.email, preference.sms)
            if preference is not None
            else default_choice(is_worker=o.recipient.worker_id is not None)
        )
        for channel in channels_for(
            choice,
            has_email=has_email,
            has_mobile=has_mobile,
            email_offered=setting.email_offered,
            sms_offered=setting.sms_offered,
            sms_template=o.facts is not None and o.kind.value in setting.sms_templates,
        ):
            if channel is Channel.SMS and o.facts is not None:
                message: dict[str, Any] = {
                    "template_id": setting.sms_templates[o.kind.value],
                    "params": sms_parameters(o.kind, o.facts, query_code=o.query_code),
                }
                not_before = sms_not_before(now)
            else:
                body = o.body
                if o.query_code is not None:
                    body += "\n" + RECEIPT_CODE_LINE.format(query_code=o.query_code)
                message = {"subject": o.title, "body": body}
                not_before = now
            key = f"{o.notice_id}:{channel.value}"
            rows.append(_row(pii, now, uuid.uuid4(), key, str(o.notice_id), channel, o, message, not_before))
    return rows


def _webhooks(pii: PiiCipher, now: datetime, outgoing: list[Outgoing], setting: repo.Outlook) -> list[dict[str, Any]]:
    first: dict[tuple[str, Kind], Outgoing] = {}
    for o in outgoing:
        # A staff member's view of the facts where there is one (the webhook is for other
        # systems, not for the worker); a webhook names no person either way.
        if (o.event.key, o.kind) not in first or o.recipient.worker_id is None:
            first[(o.event.key, o.kind)] = o
    rows: list[dict[str, Any]] = []
    for subscription_id, event_types in setting.subscriptions:
        for (event_key, kind), o in first.items():
            if kind.value not in event_types:
                continue
            delivery_id = uuid.uuid4()
            message = {"type": kind.value, "timestamp": now.isoformat(), "data": _webhook_data(o)}
            key = f"webhook:{subscription_id}:{event_key}:{kind.value}"
            row = _row(pii, now, delivery_id, key, str(delivery_id), Channel.WEBHOOK, o, message, now)
            rows.append(row | {"subscription_id": subscription_id})
    return rows


def _webhook_data(o: Outgoing) -> dict[str, Any]:
    """What a webhook says: the case and where it stands, as staff see it; no person."""
    if o.facts is None:
        return {"title": o.title, "body": o.body}
    return {
        "case_no": o.facts.case_no,
        "item_title": o.facts.item_title,
        "status": o.event.case_status,
        "department_code": o.event.department_code,
        "due": o.facts.due,
        "reason": o.facts.reason,
    }


def _row(
    pii: PiiCipher,
    now: datetime,
    delivery_id: uuid.UUID,
    dedupe_key: str,
    message_id: str,
    channel: Channel,
    o: Outgoing,
    message: dict[str, Any],
    not_before: datetime,
) -> dict[str, Any]:
    return {
        "id": delivery_id,
        "dedupe_key": dedupe_key,
        "message_id": message_id,
        "channel": channel.value,
        "kind": o.kind.value,
        "notification_id": o.notice_id,
        "subscription_id": None,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "not_before": not_before,
        "payload_sealed": pii.seal(msgspec.json.encode(message).decode(), sealing_context(delivery_id)),
        "created_at": now,
        "updated_at": now,
    }


def next_attempt(now: datetime, attempts: int) -> datetime:
    return now + timedelta(seconds=backoff_seconds(attempts))


def parked_after(attempts: int, retryable: bool) -> bool:
    return not retryable or attempts >= MAX_ATTEMPTS


async def send_one(
    sessions: async_sessionmaker[AsyncSession],
    kit: SecurityKit,
    outbound: Outbound,
    delivery_id: uuid.UUID,
    clock: Callable[[], datetime],
) -> str:
    """Send one delivery, in one transaction that holds its row: returns ``sent``,
    ``failed`` (queued again after the backoff), ``parked``, ``later`` (not yet its time)
    or ``skipped`` (already sent or parked, or gone)."""
    async with sessions() as session, session.begin():
        delivery = await repo.locked_delivery(session, delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING.value:
            return "skipped"
        now = clock()
        if delivery.not_before > now:
            await repo.queue_jobs(session, [(delivery.id, delivery.not_before)])
            return "later"
        delivery.attempts += 1
        delivery.updated_at = now
        try:
            receipt = await _send(session, kit, outbound, delivery, now)
        except DeliveryFailed as failure:
            delivery.last_error = failure.reason
            if isinstance(failure, EndpointGone) and delivery.subscription_id is not None:
                await repo.disable_subscription(session, delivery.subscription_id, failure.reason, now)
            if parked_after(delivery.attempts, failure.retryable):
                delivery.status = DeliveryStatus.PARKED.value
                outcome = "parked"
            else:
                delivery.not_before = next_attempt(now, delivery.attempts)
                await repo.queue_jobs(session, [(delivery.id, delivery.not_before)])
                outcome = "failed"
            await audit.append(session, kit, None, "delivery.failed", now, **_audited(delivery, outcome))
            return outcome
        delivery.status = DeliveryStatus.SENT.value
        delivery.sent_at = now
        delivery.receipt = receipt[:100]
        delivery.last_error = None
        if delivery.channel != Channel.WEBHOOK.value:
            delivery.payload_sealed = None  # a person's message is kept no longer than it takes to send
        await audit.append(session, kit, None, "delivery.sent", now, **_audited(delivery, "success"))
        return "sent"


def _audited(delivery: Delivery, outcome: str) -> dict[str, Any]:
    """What the audit trail records of an external send: never the address or the text."""
    return {
        "target_type": "delivery",
        "target_id": delivery.id,
        "outcome": "success" if outcome == "success" else "failure",
        "details": {
            "channel": delivery.channel,
            "kind": delivery.kind,
            "message_id": delivery.message_id,
            "attempt": delivery.attempts,
            "result": outcome,
            **({"reason": delivery.last_error} if delivery.last_error else {}),
        },
    }


async def _send(session: AsyncSession, kit: SecurityKit, outbound: Outbound, delivery: Delivery, now: datetime) -> str:
    if delivery.payload_sealed is None:
        raise DeliveryFailed("the message was erased", retryable=False)
    message = msgspec.json.decode(kit.pii.open(delivery.payload_sealed, sealing_context(delivery.id)))
    match Channel(delivery.channel):
        case Channel.WEBHOOK:
            assert delivery.subscription_id is not None
            target = await _target(session, kit, delivery.subscription_id, now)
            status = await post_webhook(
                outbound.http,
                target,
                message_id=delivery.message_id,
                sent_at=now,
                payload=msgspec.json.encode(message),
            )
            return f"HTTP {status}"
        case Channel.EMAIL:
            address = await _address(session, kit, delivery, Channel.EMAIL)
            subject, body = message["subject"], message["body"]
            return await outbound.mail(to=address, subject=subject, body=body, message_id=delivery.message_id)
        case Channel.SMS:
            mobile = await _address(session, kit, delivery, Channel.SMS)
            params = tuple((str(name), str(value)) for name, value in message["params"])
            return await outbound.text(
                SmsMessage(
                    message_id=delivery.message_id,
                    mobile=mobile,
                    template_id=str(message["template_id"]),
                    params=params,
                )
            )
    raise AssertionError(delivery.channel)


async def _address(session: AsyncSession, kit: SecurityKit, delivery: Delivery, channel: Channel) -> str:
    """The person's address now (a mobile number changed since the notice is used): opened
    here, used for this send, and never logged."""
    assert delivery.notification_id is not None
    found = await repo.addresses_of(session, delivery.notification_id)
    if found is None:
        raise DeliveryFailed("the notice is gone", retryable=False)
    worker_id, _staff_id, _account_id, mobile_sealed, staff_email, own_email_sealed, pref_account = found
    if channel is Channel.SMS:
        if worker_id is None or mobile_sealed is None:
            raise DeliveryFailed("no mobile number to send to", retryable=False)
        return kit.pii.open(mobile_sealed, f"worker:{worker_id}:mobile")
    if own_email_sealed is not None and pref_account is not None:
        return kit.pii.open(own_email_sealed, email_context(pref_account))
    if staff_email:
        return str(staff_email)
    raise DeliveryFailed("no e-mail address to send to", retryable=False)


def email_context(account_id: uuid.UUID) -> str:
    return f"account:{account_id}:email"


async def _target(session: AsyncSession, kit: SecurityKit, subscription_id: uuid.UUID, now: datetime) -> WebhookTarget:
    subscription = await repo.subscription(session, subscription_id)
    if subscription is None or not subscription.active:
        raise DeliveryFailed("the webhook subscription is disabled", retryable=False)
    secrets = [kit.pii.open(subscription.secret_sealed, secret_context(subscription.id))]
    if (
        subscription.previous_secret_sealed is not None
        and subscription.previous_secret_until is not None
        and subscription.previous_secret_until > now
    ):
        secrets.append(
            kit.pii.open(subscription.previous_secret_sealed, secret_context(subscription.id, previous=True))
        )
    return WebhookTarget(url=subscription.url, secrets=tuple(secrets))


def secret_context(subscription_id: uuid.UUID, *, previous: bool = False) -> str:
    return f"webhook:{subscription_id}:{'previous-secret' if previous else 'secret'}"
