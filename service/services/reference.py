"""Reference data: loading the shipped lists and an administrator's edits of work-list items."""

from __future__ import annotations

import csv
import uuid
from importlib import resources
from typing import Any

import msgspec
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.reference import DepartmentOut, DistrictOut, WorkListItemOut, WorkListItemPatch
from service.errors import Invalid, NotFound
from service.models import Department, District, WorkListItem
from service.models.base import utcnow
from service.repositories import reference as reference_repo
from service.services import audit
from service.services.context import Context
from service.services.presenters.reference import department_out, district_out, item_out

WORK_LIST_FILES = {2026: "work_list_2026.csv"}


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("service.reference_data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


async def load_reference(session: AsyncSession) -> dict[str, int]:
    """Insert the shipped districts, departments and work lists that are missing.

    Rows already present are left alone: an administrator may have edited them,
    and running this again (every start of the embedded server does) must not
    undo that.
    """
    counts: dict[str, int] = {}
    async with session.begin():
        districts = [
            {"code": r["code"], "name_zh": r["name_zh"], "name_en": r["name_en"], "kind": r["kind"]}
            for r in _rows("districts.csv")
        ]
        counts["districts"] = await _insert_missing(session, District, districts, ["code"])
        departments = [
            {"code": r["code"], "name_zh": r["name_zh"], "name_en": r["name_en"], "active": True}
            for r in _rows("departments.csv")
        ]
        counts["departments"] = await _insert_missing(session, Department, departments, ["code"])
        items: list[dict[str, Any]] = []
        for year, name in WORK_LIST_FILES.items():
            for r in _rows(name):
                items.append(
                    {
                        "id": uuid.uuid5(uuid.NAMESPACE_URL, f"banshi:work-list:{year}:{r['code']}"),
                        "year": year,
                        "code": r["code"],
                        "category": r["category"],
                        "title_zh": r["title_zh"],
                        "title_en": r["title_en"],
                        "lead_department_code": r["lead_department"],
                        "promised_working_days": int(r["promised_working_days"] or 14),
                        "annual_target": int(r["annual_target"]) if r["annual_target"] else None,
                        "target_unit": r["target_unit"] or None,
                        "active": True,
                        "updated_at": utcnow(),
                    }
                )
        counts["work_list_items"] = await _insert_missing(session, WorkListItem, items, ["year", "code"])
    return counts


async def _insert_missing(session: AsyncSession, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> int:
    statement = insert(table).values(rows).on_conflict_do_nothing(index_elements=keys)
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def list_districts(session: AsyncSession) -> list[DistrictOut]:
    async with session.begin():
        return [district_out(r) for r in await reference_repo.list_districts(session)]


async def list_departments(session: AsyncSession) -> list[DepartmentOut]:
    async with session.begin():
        return [department_out(r) for r in await reference_repo.list_departments(session)]


async def list_items(session: AsyncSession, year: int | None, active: bool | None) -> list[WorkListItemOut]:
    async with session.begin():
        return [item_out(r) for r in await reference_repo.list_items(session, year, active)]


async def read_item(session: AsyncSession, item_id: uuid.UUID) -> WorkListItemOut:
    async with session.begin():
        item = await reference_repo.get_item(session, item_id)
        if item is None:
            raise NotFound("work-list item", item_id)
        return item_out(item)


async def update_item(
    session: AsyncSession, ctx: Context, item_id: uuid.UUID, data: WorkListItemPatch
) -> WorkListItemOut:
    """Edits apply to cases accepted from now on; accepted cases keep the promised
    days they were accepted with."""
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    async with session.begin():
        item = await reference_repo.get_item(session, item_id, for_update=True)
        if item is None:
            raise NotFound("work-list item", item_id)
        code = changes.get("lead_department_code")
        if code is not None and await reference_repo.get_department(session, code) is None:
            raise Invalid("lead_department_code", "no such department")
        recorded = {k: {"from": getattr(item, k), "to": v} for k, v in changes.items() if getattr(item, k) != v}
        for name, value in changes.items():
            setattr(item, name, value)
        item.updated_at = ctx.now
        await session.flush()
        if recorded:
            await audit.record(
                ctx,
                session,
                "item.update",
                target_type="work_list_item",
                target_id=item.id,
                details={"changes": recorded},
            )
        return item_out(item)
