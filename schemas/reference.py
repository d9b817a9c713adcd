from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schemas.base import ONE_LINE, Code, Input, Output

DistrictKind = Literal["district", "county", "autonomous_county", "zone"]


class DistrictOut(Output, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    kind: DistrictKind


class DepartmentOut(Output, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    active: bool


class WorkListItemOut(Output, kw_only=True):
    id: uuid.UUID
    year: int
    code: str
    category: str
    title_zh: str
    title_en: str
    lead_department_code: str
    promised_working_days: int
    annual_target: int | None
    target_unit: str | None
    active: bool
    updated_at: datetime


TitleZh = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=ONE_LINE)]
TitleEn = Annotated[str, msgspec.Meta(min_length=1, max_length=256, pattern=ONE_LINE)]
CategoryText = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=ONE_LINE)]
TargetUnit = Annotated[str, msgspec.Meta(max_length=64, pattern=ONE_LINE)]


class WorkListItemPatch(Input, kw_only=True):
    """An administrator's edit of a work-list item. Code and year are its identity and stay."""

    title_zh: TitleZh | msgspec.UnsetType = msgspec.UNSET
    title_en: TitleEn | msgspec.UnsetType = msgspec.UNSET
    category: CategoryText | msgspec.UnsetType = msgspec.UNSET
    lead_department_code: Code | msgspec.UnsetType = msgspec.UNSET
    promised_working_days: Annotated[int, msgspec.Meta(ge=1, le=365)] | msgspec.UnsetType = msgspec.UNSET
    annual_target: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] | msgspec.UnsetType | None = msgspec.UNSET
    target_unit: TargetUnit | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
