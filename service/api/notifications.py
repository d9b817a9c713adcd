"""The signed-in person's inbox of notices."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK

from schemas.notifications import MarkedRead, NotificationOut, NotificationPage, UnreadCount
from service.api.access import needs
from service.api.deps import Ctx, Db, Page
from service.domain.access import Permission
from service.services import inbox


class NotificationController(Controller):
    path = "/notifications"
    tags = ["notifications"]

    @get("/", summary="My notices, newest first", opt=needs(Permission.NOTIFICATIONS))
    async def mine(
        self,
        db: Db,
        ctx: Ctx,
        paging: Page,
        unread: Annotated[bool, QueryParameter(name="unread", description="Only those not read yet.")] = False,
    ) -> NotificationPage:
        return await inbox.list_mine(db, ctx, unread, paging.limit, paging.offset)

    @get("/unread-count", summary="How many of my notices are unread", opt=needs(Permission.NOTIFICATIONS))
    async def unread_count(self, db: Db, ctx: Ctx) -> UnreadCount:
        return await inbox.unread(db, ctx)

    @post(
        "/{notice_id:uuid}/read",
        summary="Mark one of my notices read",
        status_code=HTTP_200_OK,
        opt=needs(Permission.NOTIFICATIONS),
    )
    async def read(self, db: Db, ctx: Ctx, notice_id: FromPath[uuid.UUID]) -> NotificationOut:
        return await inbox.mark_read(db, ctx, notice_id)

    @post("/read-all", summary="Mark all my notices read", status_code=HTTP_200_OK, opt=needs(Permission.NOTIFICATIONS))
    async def read_all(self, db: Db, ctx: Ctx) -> MarkedRead:
        return await inbox.mark_all_read(db, ctx)
