"""Monthly tallies behind the officials' metrics, kept current by a trigger on ``case``.

Each case counts once, in the month it was received (Asia/Shanghai), under its
current status: a move takes it out of one counter and puts it into another in the
same transaction as the move (see migration 0003 and ``repositories/tally.py``).
Nothing here is a cache: a row is exactly the sum of its cases at every commit.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Field, SQLModel


class Counters(SQLModel):
    received: int = 0
    accepted: int = 0
    submitted: int = 0
    in_progress: int = 0
    awaiting_materials: int = 0
    resolved: int = 0
    closed: int = 0
    rejected: int = 0
    withdrawn: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    rated: int = 0
    very_satisfied: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    very_dissatisfied: int = 0
    follow_ups_open: int = 0


class CaseTally(Counters, table=True):
    """Per received month, work-list item, district and department."""

    __tablename__ = "case_tally"

    month: date = Field(primary_key=True)
    item_id: uuid.UUID = Field(primary_key=True)
    district_code: str = Field(primary_key=True, max_length=32)
    department_code: str = Field(primary_key=True, max_length=32)


class StewardTally(Counters, table=True):
    """Per received month, steward and district."""

    __tablename__ = "steward_tally"

    month: date = Field(primary_key=True)
    steward_id: uuid.UUID = Field(primary_key=True)
    district_code: str = Field(primary_key=True, max_length=32)


class DurationTally(SQLModel, table=True):
    """How many resolved cases took each whole number of working days, acceptance to resolution."""

    __tablename__ = "duration_tally"

    month: date = Field(primary_key=True)
    item_id: uuid.UUID = Field(primary_key=True)
    district_code: str = Field(primary_key=True, max_length=32)
    department_code: str = Field(primary_key=True, max_length=32)
    working_days: int = Field(primary_key=True)
    cases: int = 0
