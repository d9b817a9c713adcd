"""Science workers, staff (stewards and liaisons) and the history of steward assignments."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Identity, LargeBinary
from sqlmodel import Field, SQLModel

from service.models.base import in_check, timestamp, utcnow

STAFF_ROLES = ("steward", "liaison")
TALENT_CARDS = ("A", "B", "none")


class Staff(SQLModel, table=True):
    """A steward or a department liaison. Sign-in accounts attach to this row later."""

    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint(in_check("role", STAFF_ROLES), name="role"),
        CheckConstraint("role <> 'liaison' OR department_code IS NOT NULL", name="liaison_department"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=64)
    role: str = Field(max_length=16)
    department_code: str | None = Field(default=None, foreign_key="department.code", max_length=32)
    district_code: str | None = Field(default=None, foreign_key="district.code", max_length=32)
    work_phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    active: bool = True
    created_at: datetime = timestamp(default_factory=utcnow)
    updated_at: datetime = timestamp(default_factory=utcnow)


class Worker(SQLModel, table=True):
    """A science worker (科技工作者). ``steward_id`` is the one current steward.

    The national ID and mobile number are sealed (AES-256-GCM, key id inside the value,
    see ``service/security/pii.py``); the ``*_index`` columns hold keyed hashes for
    uniqueness and exact look-up. No column holds either number in plain text.
    """

    __tablename__ = "worker"
    __table_args__ = (CheckConstraint(in_check("talent_card", TALENT_CARDS), name="talent_card"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=64)
    national_id_sealed: bytes = Field(sa_type=LargeBinary)
    national_id_index: bytes = Field(sa_type=LargeBinary, unique=True)
    mobile_sealed: bytes = Field(sa_type=LargeBinary)
    mobile_index: bytes = Field(sa_type=LargeBinary, index=True)
    employer: str = Field(max_length=128)
    district_code: str = Field(foreign_key="district.code", max_length=32, index=True)
    talent_card: str = Field(default="none", max_length=8)
    field: str = Field(default="", max_length=64)
    steward_id: uuid.UUID = Field(foreign_key="staff.id", index=True)
    created_at: datetime = timestamp(default_factory=utcnow)
    updated_at: datetime = timestamp(default_factory=utcnow)


class StewardAssignment(SQLModel, table=True):
    """Every time a worker got a steward: who, when, why and by whom. Never updated."""

    __tablename__ = "steward_assignment"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    worker_id: uuid.UUID = Field(foreign_key="worker.id", index=True)
    steward_id: uuid.UUID = Field(foreign_key="staff.id")
    previous_steward_id: uuid.UUID | None = Field(default=None, foreign_key="staff.id")
    assigned_at: datetime = timestamp(default_factory=utcnow)
    assigned_by: uuid.UUID | None = Field(default=None, foreign_key="staff.id")
    reason: str = Field(max_length=500)
