"""Reference rows (districts, departments, work-list items) into the API's Structs."""

from __future__ import annotations

from typing import Any, cast

from schemas.reference import DepartmentOut, DistrictOut, WorkListItemOut
from service.models import Department, District, WorkListItem


def district_out(row: District) -> DistrictOut:
    return DistrictOut(code=row.code, name_zh=row.name_zh, name_en=row.name_en, kind=cast(Any, row.kind))


def department_out(row: Department) -> DepartmentOut:
    return DepartmentOut(code=row.code, name_zh=row.name_zh, name_en=row.name_en, active=row.active)


def item_out(row: WorkListItem) -> WorkListItemOut:
    return WorkListItemOut(
        id=row.id,
        year=row.year,
        code=row.code,
        category=row.category,
        title_zh=row.title_zh,
        title_en=row.title_en,
        lead_department_code=row.lead_department_code,
        promised_working_days=row.promised_working_days,
        annual_target=row.annual_target,
        target_unit=row.target_unit,
        active=row.active,
        updated_at=row.updated_at,
    )
