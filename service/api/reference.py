from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from schemas.reference import DepartmentOut, DistrictOut, WorkListItemOut, WorkListItemPatch
from service.api.access import needs
from service.api.deps import Ctx, Db
from service.domain.access import Permission
from service.services import reference


class ReferenceController(Controller):
    tags = ["reference"]

    @get(
        "/districts",
        summary="The 38 districts and counties and 3 functional zones",
        opt=needs(Permission.REFERENCE_READ),
    )
    async def districts(self, db: Db) -> list[DistrictOut]:
        return await reference.list_districts(db)

    @get("/departments", summary="Municipal departments", opt=needs(Permission.REFERENCE_READ))
    async def departments(self, db: Db) -> list[DepartmentOut]:
        return await reference.list_departments(db)

    @get("/work-list-items", summary="Items of the work list, by year", opt=needs(Permission.REFERENCE_READ))
    async def items(
        self,
        db: Db,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
        active: FromQuery[bool | None] = None,
    ) -> list[WorkListItemOut]:
        return await reference.list_items(db, year, active)

    @get("/work-list-items/{item_id:uuid}", summary="One work-list item", opt=needs(Permission.REFERENCE_READ))
    async def item(self, db: Db, item_id: FromPath[uuid.UUID]) -> WorkListItemOut:
        return await reference.read_item(db, item_id)

    @patch(
        "/work-list-items/{item_id:uuid}",
        summary="Edit a work-list item (administrators)",
        opt=needs(Permission.REFERENCE_WRITE),
    )
    async def edit_item(
        self, db: Db, ctx: Ctx, item_id: FromPath[uuid.UUID], data: JSONBody[WorkListItemPatch]
    ) -> WorkListItemOut:
        return await reference.update_item(db, ctx, item_id, data)
