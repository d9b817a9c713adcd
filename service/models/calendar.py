"""Administrator overrides of the working-day calendar."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from service.models.base import in_check, timestamp, utcnow


class CalendarYear(SQLModel, table=True):
    """A year whose schedule an administrator has entered (and whether it is final)."""

    __tablename__ = "calendar_year"

    year: int = Field(primary_key=True)
    published: bool = False
    note: str = Field(default="", max_length=500)
    updated_at: datetime = timestamp(default_factory=utcnow)
    updated_by: uuid.UUID | None = Field(default=None, foreign_key="account.id")


class CalendarDay(SQLModel, table=True):
    """A day that differs from the library's calendar: an extra holiday or make-up workday."""

    __tablename__ = "calendar_day"
    __table_args__ = (
        CheckConstraint(in_check("kind", ("holiday", "workday")), name="kind"),
        CheckConstraint("EXTRACT(YEAR FROM day) = year", name="day_in_year"),
    )

    day: date = Field(primary_key=True)
    year: int = Field(foreign_key="calendar_year.year", index=True)
    kind: str = Field(max_length=8)
    name: str = Field(default="", max_length=64)
