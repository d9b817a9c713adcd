from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.reference import DepartmentOut, DistrictOut, WorkListItemOut, WorkListItemPatch
from service.services import reference


class ReferenceController(Controller):
    tags = ["reference"]

    @get("/districts", summary="The 38 districts and counties and 3 functional zones")
    async def districts(self, db: AsyncSession) -> list[DistrictOut]:
        return await reference.list_districts(db)

    @get("/departments", summary="Municipal departments")
    async def departments(self, db: AsyncSession) -> list[DepartmentOut]:
        return await reference.list_departments(db)

    @get("/work-list-items", summary="Items of the work list, by year")
    async def items(
        self,
        db: AsyncSession,
        year: Annotated[int | None, Parameter(ge=2000, le=2100)] = None,
        active: bool | None = None,
    ) -> list[WorkListItemOut]:
        return await reference.list_items(db, year, active)

    @get("/work-list-items/{item_id:uuid}", summary="One work-list item")
    async def item(self, db: AsyncSession, item_id: uuid.UUID) -> WorkListItemOut:
        return await reference.read_item(db, item_id)

    @patch("/work-list-items/{item_id:uuid}", summary="Edit a work-list item (administrators)")
    async def edit_item(self, db: AsyncSession, item_id: uuid.UUID, data: WorkListItemPatch) -> WorkListItemOut:
        return await reference.update_item(db, item_id, data)
