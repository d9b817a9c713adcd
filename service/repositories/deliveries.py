"""Queries on deliveries: what each person chose, writing deliveries once and queueing
their jobs in the same transaction, taking one to send, and the administrators' views."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.domain.deliveries import QUEUE, TASK
from service.domain.notices import Kind, Recipient
from service.models.accounts import Account
from service.models.deliveries import Delivery, NoticePreference, WebhookSubscription
from service.models.notifications import Notification
from service.models.people import Staff, Worker


@dataclass(frozen=True, slots=True)
class Outlook:
    """What deciding deliveries needs besides the people: what the administrator offers,
    the texts in use and the webhooks subscribed, read in the statement that reads the
    rest of a notice's facts (``outlook_columns``)."""

    email_offered: bool = False
    sms_offered: bool = False
    sms_templates: dict[str, str] = field(default_factory=dict)
    texts: dict[Kind, tuple[str, str]] = field(default_factory=dict)
    subscriptions: list[tuple[uuid.UUID, list[str]]] = field(default_factory=list)

    @classmethod
    def from_columns(cls, values: Sequence[Any]) -> Outlook:
        offered, texts, subscriptions = values
        offered = offered or {}
        return cls(
            email_offered=bool(offered.get("email")),
            sms_offered=bool(offered.get("sms")),
            sms_templates=dict(offered.get("templates") or {}),
            texts={Kind(kind): (pair[0], pair[1]) for kind, pair in (texts or {}).items()},
            subscriptions=[(uuid.UUID(sid), list(types)) for sid, types in (subscriptions or [])],
        )


def outlook_columns(kinds: Iterable[Kind]) -> list[Any]:
    """Three scalar subqueries for ``Outlook.from_columns``, to add to another select."""
    wanted = [k.value for k in kinds]
    offered = text(
        "(SELECT jsonb_build_object('email', email_offered, 'sms', sms_offered, 'templates', sms_templates) "
        "FROM notice_setting WHERE id = 1)"
    )
    texts = text(
        "(SELECT jsonb_object_agg(kind, jsonb_build_array(title, body)) FROM ("
        "SELECT DISTINCT ON (kind) kind, title, body FROM notice_template "
        "WHERE kind = ANY(CAST(:outlook_kinds AS text[])) ORDER BY kind, version DESC) AS newest)"
    ).bindparams(outlook_kinds=wanted)
    subscriptions = text(
        "(SELECT jsonb_agg(jsonb_build_array(id, event_types)) FROM webhook_subscription "
        "WHERE active AND event_types && CAST(:outlook_kinds2 AS varchar[]))"
    ).bindparams(outlook_kinds2=wanted)
    return [offered, texts, subscriptions]


async def outlook(session: AsyncSession, kinds: Iterable[Kind]) -> Outlook:
    row = (await session.execute(select(*outlook_columns(kinds)))).one()
    return Outlook.from_columns(tuple(row))


async def choices(
    session: AsyncSession, recipients: Iterable[Recipient]
) -> dict[Recipient, tuple[NoticePreference | None, bool, bool]]:
    """For each person: their channel choice (None: they never made one), whether they
    have an e-mail address, and whether they have a mobile number. Two statements,
    however many people."""
    people = set(recipients)
    workers = [r.worker_id for r in people if r.worker_id is not None]
    staff = [r.staff_id for r in people if r.staff_id is not None]
    accounts = [r.account_id for r in people if r.account_id is not None]
    preferences = (
        await session.execute(
            select(col(Account.worker_id), col(Account.staff_id), col(Account.id), NoticePreference)
            .join(NoticePreference, col(NoticePreference.account_id) == col(Account.id))
            .where(
                col(Account.worker_id).in_(workers) | col(Account.staff_id).in_(staff) | col(Account.id).in_(accounts)
            )
        )
    ).all()
    chosen: dict[Recipient, NoticePreference | None] = {}
    for worker_id, staff_id, account_id, preference in preferences:
        if worker_id is not None:
            chosen[Recipient(worker_id=worker_id)] = preference
        elif staff_id is not None:
            chosen[Recipient(staff_id=staff_id)] = preference
        else:
            chosen[Recipient(account_id=account_id)] = preference
    staff_emails: set[uuid.UUID] = set()
    if staff:
        query = select(col(Staff.id)).where(col(Staff.id).in_(staff), col(Staff.email).is_not(None))
        staff_emails = set((await session.execute(query)).scalars().all())
    found: dict[Recipient, tuple[NoticePreference | None, bool, bool]] = {}
    for who in people:
        mine = chosen.get(who)
        own_email = mine is not None and mine.email_address_sealed is not None
        has_email = own_email or (who.staff_id in staff_emails)
        found[who] = (mine, has_email, who.worker_id is not None)  # a worker's record has a mobile
    return found


async def insert_and_queue(session: AsyncSession, rows: list[dict[str, Any]]) -> list[uuid.UUID]:
    """Write the deliveries whose ``dedupe_key`` is new, and queue a job for each, in the
    caller's transaction: a change rolled back queues nothing, a committed one is sent."""
    if not rows:
        return []
    statement = insert(Delivery).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
    written = (await session.execute(statement.returning(col(Delivery.id), col(Delivery.not_before)))).all()
    await queue_jobs(session, [(row[0], row[1]) for row in written])
    return [row[0] for row in written]


async def queue_jobs(session: AsyncSession, jobs: Sequence[tuple[uuid.UUID, datetime]]) -> None:
    """Queue one send per delivery, not before its time, through the queue's own SQL
    function (the one Procrastinate's ``defer`` calls), so the job is part of the caller's
    transaction. The jobs carry no Procrastinate lock: the delivery's row lock already
    keeps two sends of it apart (``locked_delivery``), and a lock per job makes every
    fetch of the queue check every waiting job's lock, which slows the queue as it grows."""
    if not jobs:
        return
    await session.execute(
        text(
            "SELECT procrastinate_defer_jobs_v1(array_agg(ROW(:queue, :task, 0, NULL, NULL, "
            "jsonb_build_object('delivery_id', d.id::text), d.not_before)::procrastinate_job_to_defer_v1)) "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:times AS timestamptz[])) AS d(id, not_before)"
        ),
        {"queue": QUEUE, "task": TASK, "ids": [j[0] for j in jobs], "times": [j[1] for j in jobs]},
    )


async def locked_delivery(session: AsyncSession, delivery_id: uuid.UUID) -> Delivery | None:
    """The delivery, locked until the transaction ends: a second sender, or an
    administrator's retry, waits for the one holding it."""
    query = select(Delivery).where(col(Delivery.id) == delivery_id).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def addresses_of(session: AsyncSession, notification_id: uuid.UUID) -> tuple[Any, ...] | None:
    """The notice's recipient columns and, in the same statement, their sealed mobile
    number, staff e-mail and own e-mail address (opened by the caller)."""
    query = (
        select(
            col(Notification.worker_id),
            col(Notification.staff_id),
            col(Notification.account_id),
            col(Worker.mobile_sealed),
            col(Staff.email),
            col(NoticePreference.email_address_sealed),
            col(NoticePreference.account_id),
        )
        .outerjoin(Worker, col(Worker.id) == col(Notification.worker_id))
        .outerjoin(Staff, col(Staff.id) == col(Notification.staff_id))
        .outerjoin(
            Account,
            (col(Account.worker_id) == col(Notification.worker_id))
            | (col(Account.staff_id) == col(Notification.staff_id))
            | (col(Account.id) == col(Notification.account_id)),
        )
        .outerjoin(NoticePreference, col(NoticePreference.account_id) == col(Account.id))
        .where(col(Notification.id) == notification_id)
        .limit(1)
    )
    found = (await session.execute(query)).first()
    return None if found is None else found._tuple()


async def counts(session: AsyncSession) -> dict[str, int]:
    query = select(col(Delivery.status), func.count()).group_by(col(Delivery.status))
    return {status: int(n) for status, n in (await session.execute(query)).all()}


async def subscription(
    session: AsyncSession, subscription_id: uuid.UUID, *, for_update: bool = False
) -> WebhookSubscription | None:
    return await session.get(
        WebhookSubscription, subscription_id, with_for_update=for_update, populate_existing=for_update
    )


async def disable_subscription(session: AsyncSession, subscription_id: uuid.UUID, reason: str, now: datetime) -> None:
    """A receiver that answers 410 Gone asks not to be sent to again."""
    found = await subscription(session, subscription_id, for_update=True)
    if found is not None:
        found.active = False
        found.disabled_reason = reason[:200]
        found.updated_at = now
