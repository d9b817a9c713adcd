"""Queries on attachments. Reach goes through the case the file belongs to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.models import Attachment, Case


async def attachments_of(session: AsyncSession, case_id: uuid.UUID, visibility: str | None) -> Sequence[Attachment]:
    query = select(Attachment).where(col(Attachment.case_id) == case_id)
    if visibility is not None:
        query = query.where(col(Attachment.visibility) == visibility)
    return (await session.scalars(query.order_by(col(Attachment.uploaded_at), col(Attachment.id)))).all()


async def reached_attachment(
    session: AsyncSession, attachment_id: uuid.UUID, reach: Any, visibility: str | None
) -> tuple[Attachment, Case] | None:
    query = (
        select(Attachment, Case)
        .join(Case, col(Case.id) == col(Attachment.case_id))
        .where(col(Attachment.id) == attachment_id, reach)
    )
    if visibility is not None:
        query = query.where(col(Attachment.visibility) == visibility)
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def unanswered_uploads(
    session: AsyncSession, case_id: uuid.UUID, account_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> Sequence[Attachment]:
    """Of ``ids``, the files this account uploaded to this case and sent with no answer yet."""
    query = select(Attachment).where(
        col(Attachment.id).in_(ids),
        col(Attachment.case_id) == case_id,
        col(Attachment.uploaded_by) == account_id,
        col(Attachment.answer_event_id).is_(None),
    )
    return (await session.scalars(query.with_for_update())).all()


async def link_to_answer(session: AsyncSession, ids: Sequence[uuid.UUID], event_id: int) -> None:
    await session.execute(update(Attachment).where(col(Attachment.id).in_(ids)).values(answer_event_id=event_id))
