"""Tallies behind the officials' metrics, kept current by a trigger on ``case``.

Cohort tallies count each case once per span ("month" and "year", ``start`` the first
day) in which it was *received* (Asia/Shanghai), under its current status: a move takes
it out of one counter and puts it into another, in the same transaction as the move.
The flow tally counts events per ISO week and per month of the day they happen
(received, resolved, a clock running out, a late case finishing). Nothing here is a
cache: every row is exactly the sum of its cases at every commit. See migration 0003
and ``repositories/metrics.py``.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Field, SQLModel

PARTITIONED = {"postgresql_partition_by": "LIST (span)"}
"""Every tally is partitioned by span (``<table>_month``, ``<table>_year``, ``flow_tally_week``),
so that the few rows of a year lie together; the partitions are made in the migration."""


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


class Span(SQLModel):
    span: str = Field(primary_key=True, max_length=8)
    """month or year (cohorts); week or month (flows)."""
    start: date = Field(primary_key=True)


class CaseTally(Counters, Span, table=True):
    """Per span received in, work-list item, district and department."""

    __tablename__ = "case_tally"
    __table_args__ = PARTITIONED

    item_id: uuid.UUID = Field(primary_key=True)
    district_code: str = Field(primary_key=True, max_length=32)
    department_code: str = Field(primary_key=True, max_length=32)


class StewardTally(Counters, Span, table=True):
    """Per span received in, steward and district."""

    __tablename__ = "steward_tally"
    __table_args__ = PARTITIONED

    steward_id: uuid.UUID = Field(primary_key=True)
    district_code: str = Field(primary_key=True, max_length=32)


class DurationTally(Span, table=True):
    """How many resolved cases took each whole number of working days, acceptance to resolution,
    per item and district (the department apart, in ``DepartmentDurationTally``: fewer rows to sum)."""

    __tablename__ = "duration_tally"
    __table_args__ = PARTITIONED

    item_id: uuid.UUID = Field(primary_key=True)
    district_code: str = Field(primary_key=True, max_length=32)
    working_days: int = Field(primary_key=True)
    cases: int = 0


class DepartmentDurationTally(Span, table=True):
    __tablename__ = "department_duration_tally"
    __table_args__ = PARTITIONED

    department_code: str = Field(primary_key=True, max_length=32)
    item_id: uuid.UUID = Field(primary_key=True)
    working_days: int = Field(primary_key=True)
    cases: int = 0


class StewardDurationTally(Span, table=True):
    __tablename__ = "steward_duration_tally"
    __table_args__ = PARTITIONED

    steward_id: uuid.UUID = Field(primary_key=True)
    district_code: str = Field(primary_key=True, max_length=32)
    working_days: int = Field(primary_key=True)
    cases: int = 0


class FlowTally(Span, table=True):
    """Events per ISO week or month of the local day they happened on."""

    __tablename__ = "flow_tally"
    __table_args__ = PARTITIONED

    item_id: uuid.UUID = Field(primary_key=True)
    district_code: str = Field(primary_key=True, max_length=32)
    department_code: str = Field(primary_key=True, max_length=32)
    received: int = 0
    resolved: int = 0
    overdue_started: int = 0
    overdue_ended: int = 0
