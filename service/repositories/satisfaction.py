"""Queries on satisfaction ratings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.models import Case, SatisfactionRating

FollowUpState = Literal["open", "overdue", "answered"]


async def ratings_of(session: AsyncSession, case_id: uuid.UUID) -> Sequence[SatisfactionRating]:
    query = select(SatisfactionRating).where(col(SatisfactionRating.case_id) == case_id)
    return (await session.scalars(query.order_by(col(SatisfactionRating.id)))).all()


async def get_rating(
    session: AsyncSession, case_id: uuid.UUID, rating_id: int, *, for_update: bool = False
) -> SatisfactionRating | None:
    query = select(SatisfactionRating).where(
        col(SatisfactionRating.id) == rating_id, col(SatisfactionRating.case_id) == case_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def earliest_open_follow_up(session: AsyncSession, case_id: uuid.UUID) -> datetime | None:
    """When the case's first unanswered follow-up is due (None when all are answered)."""
    return await session.scalar(
        select(func.min(col(SatisfactionRating.follow_up_due_at))).where(
            col(SatisfactionRating.case_id) == case_id,
            col(SatisfactionRating.follow_up_due_at).is_not(None),
            col(SatisfactionRating.follow_up_answered_at).is_(None),
        )
    )


def open_follow_ups(reach: Any) -> ScalarSelect[int]:
    """How many follow-ups wait for an answer (overdue ones too) on cases within ``reach``:
    the total of ``list_follow_ups`` with the state ``open``, as a subquery of a query that
    may itself read the case table (it correlates with nothing)."""
    return (
        select(func.count())
        .select_from(SatisfactionRating)
        .join(Case, col(Case.id) == col(SatisfactionRating.case_id))
        .where(
            reach,
            col(SatisfactionRating.follow_up_due_at).is_not(None),
            col(SatisfactionRating.follow_up_answered_at).is_(None),
        )
        .correlate(None)
        .scalar_subquery()
    )


async def list_follow_ups(
    session: AsyncSession, reach: Any, state: FollowUpState | None, now: datetime, limit: int, offset: int
) -> tuple[Sequence[tuple[SatisfactionRating, str]], int]:
    """Ratings that opened a follow-up, on cases within ``reach``, the most urgent first."""
    query: Any = (
        select(SatisfactionRating, col(Case.case_no))
        .join(Case, col(Case.id) == col(SatisfactionRating.case_id))
        .where(reach, col(SatisfactionRating.follow_up_due_at).is_not(None))
    )
    answered = col(SatisfactionRating.follow_up_answered_at)
    match state:
        case "open":
            query = query.where(answered.is_(None))
        case "overdue":
            query = query.where(answered.is_(None), col(SatisfactionRating.follow_up_due_at) <= now)
        case "answered":
            query = query.where(answered.is_not(None))
        case None:
            pass
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(col(SatisfactionRating.follow_up_due_at), col(SatisfactionRating.id)).limit(limit).offset(offset)
    )
    return [(rating, case_no) for rating, case_no in rows], total or 0
