"""Satisfaction ratings: once per resolution, by the worker or by the steward on their
behalf; a rating of 不满意 or worse opens a follow-up the steward answers within 15
working days. Each write is one transaction, under the case's row lock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from schemas import satisfaction as api
from service.domain.access import Role
from service.domain.satisfaction import (
    FOLLOW_UP_WORKING_DAYS,
    LEVEL_LABELS_ZH,
    RATEABLE,
    Level,
    may_rate,
    needs_follow_up,
)
from service.domain.time_limit import DAY, add_working_seconds
from service.domain.visibility import PUBLIC
from service.domain.workflow import Status
from service.errors import Conflict, NotFound
from service.models import SatisfactionRating
from service.repositories import satisfaction as repo
from service.repositories.reach import cases_reached
from service.services import audit, notices
from service.services.calendar import load_calendar
from service.services.context import Context
from service.services.reach import reached_case
from service.services.timeline import remark


def rating_out(rating: SatisfactionRating, case_no: str, now: datetime) -> api.RatingOut:
    state: Literal["none", "open", "overdue", "answered"]
    if rating.follow_up_due_at is None:
        state = "none"
    elif rating.follow_up_answered_at is not None:
        state = "answered"
    else:
        state = "overdue" if now >= rating.follow_up_due_at else "open"
    assert rating.id is not None
    return api.RatingOut(
        id=rating.id,
        case_id=rating.case_id,
        case_no=case_no,
        resolution=rating.resolution,
        level=rating.level,  # type: ignore[arg-type]
        level_zh=LEVEL_LABELS_ZH[Level(rating.level)],
        comment=rating.comment,
        rated_at=rating.rated_at,
        on_behalf=rating.on_behalf,
        follow_up_due_at=rating.follow_up_due_at,
        follow_up_state=state,
        follow_up_answer=rating.follow_up_answer,
        follow_up_answered_at=rating.follow_up_answered_at,
    )


async def rate(session: AsyncSession, ctx: Context, case_id: uuid.UUID, data: api.RatingIn) -> api.RatingOut:
    now = ctx.now
    level = Level(data.level)
    async with session.begin():
        case = await reached_case(session, ctx, case_id, for_update=True)
        if Status(case.status) not in RATEABLE:
            raise Conflict("only a resolved case can be rated", field="status")
        if not may_rate(Status(case.status), case.rating):
            raise Conflict("this resolution of the case has been rated already", field="level")
        follow_up_due = None
        if needs_follow_up(level):
            calendar = await load_calendar(session)
            follow_up_due = add_working_seconds(now, FOLLOW_UP_WORKING_DAYS * DAY, calendar).astimezone(UTC)
        rating = SatisfactionRating(
            case_id=case.id,
            resolution=max(case.resolutions, 1),
            level=level.value,
            comment=data.comment,
            rated_at=now,
            rated_by=ctx.caller.account_id,
            on_behalf=ctx.caller.role is not Role.WORKER,
            follow_up_due_at=follow_up_due,
        )
        session.add(rating)
        case.rating = level.value
        if follow_up_due is not None and (case.follow_up_due_at is None or follow_up_due < case.follow_up_due_at):
            case.follow_up_due_at = follow_up_due
        line = remark(
            ctx,
            case,
            "rate",
            note=data.comment,
            visibility=PUBLIC,
            details={"level": level.value, "on_behalf": rating.on_behalf},
        )
        session.add(line)
        await session.flush()
        await notices.tell(session, ctx, case, line, poor_rating=follow_up_due is not None)
        await audit.record(
            ctx,
            session,
            "case.rate",
            target_type="case",
            target_id=case.id,
            details={"level": level.value, "on_behalf": rating.on_behalf},
        )
        return rating_out(rating, case.case_no, now)


async def answer_follow_up(
    session: AsyncSession, ctx: Context, case_id: uuid.UUID, rating_id: int, data: api.FollowUpIn
) -> api.RatingOut:
    now = ctx.now
    async with session.begin():
        case = await reached_case(session, ctx, case_id, for_update=True)
        rating = await repo.get_rating(session, case.id, rating_id, for_update=True)
        if rating is None:
            raise NotFound("rating", rating_id)
        if rating.follow_up_due_at is None:
            raise Conflict("this rating did not open a follow-up", field="rating_id")
        if rating.follow_up_answered_at is not None:
            raise Conflict("this follow-up has been answered already", field="rating_id")
        rating.follow_up_answer = data.answer
        rating.follow_up_answered_at = now
        rating.follow_up_answered_by = ctx.caller.account_id
        await session.flush()
        case.follow_up_due_at = await repo.earliest_open_follow_up(session, case.id)
        line = remark(
            ctx,
            case,
            "follow_up",
            note=data.answer,
            visibility=PUBLIC,
            details={"rating_id": rating_id, "on_time": now <= rating.follow_up_due_at},
        )
        session.add(line)
        await session.flush()
        await notices.tell(session, ctx, case, line)
        await audit.record(
            ctx, session, "case.follow_up", target_type="case", target_id=case.id, details={"rating_id": rating_id}
        )
        return rating_out(rating, case.case_no, now)


async def list_ratings(session: AsyncSession, ctx: Context, case_id: uuid.UUID) -> list[api.RatingOut]:
    async with session.begin():
        case = await reached_case(session, ctx, case_id)
        return [rating_out(r, case.case_no, ctx.now) for r in await repo.ratings_of(session, case.id)]


async def list_follow_ups(
    session: AsyncSession, ctx: Context, state: repo.FollowUpState | None, limit: int, offset: int
) -> api.RatingPage:
    async with session.begin():
        rows, total = await repo.list_follow_ups(session, cases_reached(ctx.caller), state, ctx.now, limit, offset)
        return api.RatingPage(
            items=[rating_out(r, case_no, ctx.now) for r, case_no in rows], total=total, limit=limit, offset=offset
        )
