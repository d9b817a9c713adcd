"""Reference data: districts, departments and the yearly work list."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.base import in_check, timestamp, utcnow

DISTRICT_KINDS = ("district", "county", "autonomous_county", "zone")


class District(SQLModel, table=True):
    __tablename__ = "district"
    __table_args__ = (CheckConstraint(in_check("kind", DISTRICT_KINDS), name="kind"),)

    code: str = Field(primary_key=True, max_length=32)
    name_zh: str = Field(max_length=64)
    name_en: str = Field(max_length=128)
    kind: str = Field(max_length=32)


class Department(SQLModel, table=True):
    __tablename__ = "department"

    code: str = Field(primary_key=True, max_length=32)
    name_zh: str = Field(max_length=64)
    name_en: str = Field(max_length=128)
    active: bool = True


class WorkListItem(SQLModel, table=True):
    """One item of a year's work list. Each year has its own rows, so 2027's list can
    differ without rewriting the history of cases logged against 2026's."""

    __tablename__ = "work_list_item"
    __table_args__ = (
        UniqueConstraint("year", "code", name="uq_work_list_item_year_code"),
        CheckConstraint("promised_working_days BETWEEN 1 AND 365", name="promised_working_days"),
        CheckConstraint("annual_target IS NULL OR annual_target >= 0", name="annual_target"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    year: int = Field(index=True)
    code: str = Field(max_length=16)
    category: str = Field(max_length=32)
    title_zh: str = Field(max_length=128)
    title_en: str = Field(max_length=256)
    lead_department_code: str = Field(foreign_key="department.code", max_length=32)
    promised_working_days: int = 14
    annual_target: int | None = None
    target_unit: str | None = Field(default=None, max_length=64)
    active: bool = True
    updated_at: datetime = timestamp(default_factory=utcnow)
