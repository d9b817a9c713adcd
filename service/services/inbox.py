"""The signed-in person's notices: read them, count the unread, mark them read.

A worker's inbox holds the notices to their worker record, a steward's or liaison's
those to their staff record, and any other account's (officials, administrators,
security and audit officers) those to the account itself: officials' digests and
supervision notices (督办)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from schemas import notifications as api
from service.domain.notices import Recipient, recipient_of
from service.errors import NotFound
from service.models import Notification
from service.repositories import notifications as repo
from service.services.context import Context


def _out(notice: Notification, case_no: str | None) -> api.NotificationOut:
    return api.NotificationOut(
        id=notice.id,
        kind=notice.kind,  # type: ignore[arg-type]
        title=notice.title,
        body=notice.body,
        case_id=notice.case_id,
        case_no=case_no,
        created_at=notice.created_at,
        read_at=notice.read_at,
    )


def _who(ctx: Context) -> Recipient:
    return recipient_of(ctx.caller)


async def list_mine(
    session: AsyncSession, ctx: Context, unread_only: bool, limit: int, offset: int
) -> api.NotificationPage:
    who = _who(ctx)
    async with session.begin():
        rows, total, unread = await repo.inbox(session, who, unread_only=unread_only, limit=limit, offset=offset)
        return api.NotificationPage(
            items=[_out(n, no) for n, no in rows], total=total, unread=unread, limit=limit, offset=offset
        )


async def unread(session: AsyncSession, ctx: Context) -> api.UnreadCount:
    who = _who(ctx)
    async with session.begin():
        return api.UnreadCount(unread=await repo.unread_count(session, who))


async def mark_read(session: AsyncSession, ctx: Context, notice_id: uuid.UUID) -> api.NotificationOut:
    who = _who(ctx)
    async with session.begin():
        found = await repo.mark_read(session, who, notice_id, ctx.now)
        if found is None:
            raise NotFound("notification", notice_id)
        return _out(*found)


async def mark_all_read(session: AsyncSession, ctx: Context) -> api.MarkedRead:
    who = _who(ctx)
    async with session.begin():
        return api.MarkedRead(marked=await repo.mark_all_read(session, who, ctx.now))
