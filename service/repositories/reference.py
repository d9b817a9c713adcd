"""Queries on districts, departments and work-list items."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.models import Department, District, WorkListItem


async def list_districts(session: AsyncSession) -> Sequence[District]:
    return (await session.scalars(select(District).order_by(col(District.code)))).all()


async def list_departments(session: AsyncSession) -> Sequence[Department]:
    return (await session.scalars(select(Department).order_by(col(Department.code)))).all()


async def get_department(session: AsyncSession, code: str) -> Department | None:
    return await session.get(Department, code)


async def get_district(session: AsyncSession, code: str) -> District | None:
    return await session.get(District, code)


async def list_items(session: AsyncSession, year: int | None, active: bool | None) -> Sequence[WorkListItem]:
    query = select(WorkListItem).order_by(col(WorkListItem.year), col(WorkListItem.code))
    if year is not None:
        query = query.where(col(WorkListItem.year) == year)
    if active is not None:
        query = query.where(col(WorkListItem.active) == active)
    return (await session.scalars(query)).all()


async def get_item(session: AsyncSession, item_id: uuid.UUID, *, for_update: bool = False) -> WorkListItem | None:
    return await session.get(WorkListItem, item_id, with_for_update=for_update)
