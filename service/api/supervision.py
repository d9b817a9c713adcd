"""Supervision notices (督办): officials and administrators issue them on late cases, the
handling side replies; rules in ``service/domain/supervision.py``."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from schemas.base import ONE_LINE
from schemas.supervision import (
    SupervisionIn,
    SupervisionOut,
    SupervisionPage,
    SupervisionReplyIn,
    SupervisionStatusName,
)
from service.api.access import needs
from service.api.deps import Ctx, Db, Page
from service.domain.access import Permission
from service.domain.supervision import SupervisionStatus
from service.services import supervision


class SupervisionController(Controller):
    path = "/supervisions"
    tags = ["supervision"]

    @post(
        "/",
        summary="Issue a supervision notice (督办) on an overdue or due-soon case",
        description="The case is named by its number; one out of the caller's scope (a district official's "
        "district) answers 404, one that is finished, neither overdue nor due soon, or already waiting for a "
        "reply to another notice answers 409.",
        status_code=HTTP_201_CREATED,
        opt=needs(Permission.SUPERVISE),
    )
    async def issue(self, db: Db, ctx: Ctx, data: JSONBody[SupervisionIn]) -> SupervisionOut:
        return await supervision.issue(db, ctx, data)

    @get("/", summary="The supervision notices within reach, newest first", opt=needs(Permission.SUPERVISION_READ))
    async def list_all(
        self,
        db: Db,
        ctx: Ctx,
        paging: Page,
        status: Annotated[
            SupervisionStatusName | None, QueryParameter(description="open, replied or unanswered.")
        ] = None,
        case_no: Annotated[
            str | None, QueryParameter(description="One case's notices.", min_length=1, max_length=32, pattern=ONE_LINE)
        ] = None,
    ) -> SupervisionPage:
        wanted = None if status is None else SupervisionStatus(status)
        return await supervision.list_reached(db, ctx, wanted, case_no, paging.limit, paging.offset)

    @get("/{supervision_id:uuid}", summary="One supervision notice", opt=needs(Permission.SUPERVISION_READ))
    async def read(self, db: Db, ctx: Ctx, supervision_id: FromPath[uuid.UUID]) -> SupervisionOut:
        return await supervision.read(db, ctx, supervision_id)

    @post(
        "/{supervision_id:uuid}/reply",
        summary="Reply to a supervision notice (the case's steward or a liaison of its department)",
        status_code=HTTP_200_OK,
        opt=needs(Permission.REPLY_SUPERVISION),
    )
    async def reply(
        self, db: Db, ctx: Ctx, supervision_id: FromPath[uuid.UUID], data: JSONBody[SupervisionReplyIn]
    ) -> SupervisionOut:
        return await supervision.reply(db, ctx, supervision_id, data)
