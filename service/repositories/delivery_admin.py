"""Queries behind what the administrator manages about notices leaving the service (the
settings row, the texts' versions, the delivery log, webhook subscriptions) and behind
each person's channel choice."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import col

from service.domain.deliveries import Channel, DeliveryStatus
from service.domain.notices import Kind
from service.models.deliveries import Delivery, NoticePreference, NoticeSetting, NoticeTemplate, WebhookSubscription
from service.models.people import Staff


async def setting(session: AsyncSession, *, for_update: bool = False) -> NoticeSetting:
    row = await session.get(NoticeSetting, 1, with_for_update=for_update, populate_existing=for_update)
    if row is None:  # migration 0007 inserts it; this only guards a hand-emptied table
        row = NoticeSetting(id=1)
        session.add(row)
        await session.flush()
    return row


async def preference(
    session: AsyncSession, account_id: uuid.UUID, *, for_update: bool = False
) -> NoticePreference | None:
    return await session.get(NoticePreference, account_id, with_for_update=for_update, populate_existing=for_update)


async def staff_has_email(session: AsyncSession, staff_id: uuid.UUID) -> bool:
    query = select(col(Staff.id)).where(col(Staff.id) == staff_id, col(Staff.email).is_not(None))
    return (await session.scalar(query)) is not None


async def newest_texts(session: AsyncSession) -> Sequence[NoticeTemplate]:
    """Each kind's newest version (the one notices are written with), one row per kind."""
    query = (
        select(NoticeTemplate)
        .ext(distinct_on(col(NoticeTemplate.kind)))
        .order_by(col(NoticeTemplate.kind), col(NoticeTemplate.version).desc())
    )
    return (await session.execute(query)).scalars().all()


async def text_versions(session: AsyncSession, kind: Kind) -> Sequence[NoticeTemplate]:
    query = select(NoticeTemplate).where(col(NoticeTemplate.kind) == kind.value)
    return (await session.execute(query.order_by(col(NoticeTemplate.version).desc()))).scalars().all()


async def newest_version(session: AsyncSession, kind: Kind) -> int:
    """0 when the kind has only its built-in text. Two administrators saving at once both
    compute the same next number, and the unique (kind, version) index refuses the second."""
    query = select(func.max(col(NoticeTemplate.version))).where(col(NoticeTemplate.kind) == kind.value)
    return int(await session.scalar(query) or 0)


async def delivery_page(
    session: AsyncSession,
    *,
    status: DeliveryStatus | None,
    channel: Channel | None,
    subscription_id: uuid.UUID | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Delivery], int]:
    """Newest first. The sealed message is deferred: the log never reads it."""
    wanted: list[ColumnElement[bool]] = []
    if status is not None:
        wanted.append(col(Delivery.status) == status.value)
    if channel is not None:
        wanted.append(col(Delivery.channel) == channel.value)
    if subscription_id is not None:
        wanted.append(col(Delivery.subscription_id) == subscription_id)
    query = (
        select(Delivery)
        .options(defer(Delivery.payload_sealed, raiseload=True))  # type: ignore[arg-type]  # SQLModel types it as a value
        .where(*wanted)
        .order_by(col(Delivery.seq).desc())
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(query)).scalars().all()
    total = int(await session.scalar(select(func.count()).select_from(Delivery).where(*wanted)) or 0)
    return rows, total


async def subscriptions(session: AsyncSession, limit: int, offset: int) -> tuple[Sequence[WebhookSubscription], int]:
    query = (
        select(WebhookSubscription)
        .order_by(col(WebhookSubscription.created_at).desc(), col(WebhookSubscription.id))
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(query)).scalars().all()
    total = int(await session.scalar(select(func.count()).select_from(WebhookSubscription)) or 0)
    return rows, total
