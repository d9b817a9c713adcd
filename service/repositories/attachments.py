"""Queries on attachments. Reach goes through the case the file belongs to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.domain.visibility import FILES_SHOWN_TO_WORKER
from service.models import Attachment, Case


def _shown_to_worker() -> Any:
    return col(Attachment.visibility).in_(sorted(FILES_SHOWN_TO_WORKER))


async def attachments_of(session: AsyncSession, case_id: uuid.UUID, *, worker_view: bool) -> Sequence[Attachment]:
    """The case's files; with ``worker_view`` only those a worker sees (``domain/visibility.py``)."""
    query = select(Attachment).where(col(Attachment.case_id) == case_id)
    if worker_view:
        query = query.where(_shown_to_worker())
    return (await session.scalars(query.order_by(col(Attachment.uploaded_at), col(Attachment.id)))).all()


async def reached_attachment(
    session: AsyncSession, attachment_id: uuid.UUID, reach: Any, *, worker_view: bool
) -> tuple[Attachment, Case] | None:
    query = (
        select(Attachment, Case)
        .join(Case, col(Case.id) == col(Attachment.case_id))
        .where(col(Attachment.id) == attachment_id, reach)
    )
    if worker_view:
        query = query.where(_shown_to_worker())
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
