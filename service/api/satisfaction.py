"""Satisfaction ratings on a case, and the steward's follow-up queue."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from schemas.satisfaction import FollowUpIn, RatingIn, RatingOut, RatingPage
from service.api.access import needs
from service.api.deps import Ctx, Db, Page
from service.domain.access import Permission
from service.services import satisfaction


class RatingController(Controller):
    path = "/cases/{case_id:uuid}/ratings"
    tags = ["satisfaction"]

    @post(
        "/",
        summary="Rate a resolved case (once per resolution; a steward rates on the worker's behalf)",
        status_code=HTTP_201_CREATED,
        opt=needs(Permission.CASES_RATE),
    )
    async def rate(self, db: Db, ctx: Ctx, case_id: FromPath[uuid.UUID], data: JSONBody[RatingIn]) -> RatingOut:
        return await satisfaction.rate(db, ctx, case_id, data)

    @get("/", summary="The case's ratings and their follow-ups", opt=needs(Permission.CASES_READ))
    async def ratings(self, db: Db, ctx: Ctx, case_id: FromPath[uuid.UUID]) -> list[RatingOut]:
        return await satisfaction.list_ratings(db, ctx, case_id)

    @post(
        "/{rating_id:int}/follow-up",
        summary="Answer the follow-up a poor rating opened (within 15 working days)",
        status_code=HTTP_200_OK,
        opt=needs(Permission.FOLLOW_UPS),
    )
    async def answer(
        self, db: Db, ctx: Ctx, case_id: FromPath[uuid.UUID], rating_id: FromPath[int], data: JSONBody[FollowUpIn]
    ) -> RatingOut:
        return await satisfaction.answer_follow_up(db, ctx, case_id, rating_id, data)


class FollowUpController(Controller):
    path = "/follow-ups"
    tags = ["satisfaction"]

    @get("/", summary="Follow-ups on cases within reach, the most urgent first", opt=needs(Permission.FOLLOW_UPS))
    async def follow_ups(
        self,
        db: Db,
        ctx: Ctx,
        paging: Page,
        which: Annotated[
            Literal["open", "overdue", "answered"] | None,
            QueryParameter(name="state", description="open (overdue included), overdue or answered"),
        ] = None,
    ) -> RatingPage:
        return await satisfaction.list_follow_ups(db, ctx, which, paging.limit, paging.offset)
