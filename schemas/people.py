from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schemas.base import LINES, ONE_LINE, Code, Input, Name, Output, ShortText

StaffRole = Literal["steward", "liaison"]
TalentCard = Literal["A", "B", "none"]
Employer = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=ONE_LINE)]
Field = Annotated[str, msgspec.Meta(max_length=64, pattern=ONE_LINE)]
Phone = Annotated[str, msgspec.Meta(max_length=32, pattern=ONE_LINE)]
NationalIdIn = Annotated[str, msgspec.Meta(min_length=18, max_length=18, pattern=ONE_LINE)]
Mobile = Annotated[str, msgspec.Meta(min_length=11, max_length=20, pattern=ONE_LINE)]
Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$")]


class StaffIn(Input, kw_only=True):
    name: Name
    role: StaffRole
    department_code: Code | None = None
    district_code: Code | None = None
    work_phone: Phone | None = None
    email: Email | None = None


class StaffPatch(Input, kw_only=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    department_code: Code | msgspec.UnsetType | None = msgspec.UNSET
    district_code: Code | msgspec.UnsetType | None = msgspec.UNSET
    work_phone: Phone | msgspec.UnsetType | None = msgspec.UNSET
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class StaffOut(Output, kw_only=True):
    id: uuid.UUID
    name: str
    role: StaffRole
    department_code: str | None
    district_code: str | None
    work_phone: str | None
    email: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


class StaffPage(Output, kw_only=True):
    items: list[StaffOut]
    total: int
    limit: int
    offset: int


class WorkerIn(Input, kw_only=True):
    name: Name
    national_id: NationalIdIn
    mobile: Mobile
    employer: Employer
    district_code: Code
    steward_id: uuid.UUID
    talent_card: TalentCard = "none"
    field: Field = ""


class WorkerPatch(Input, kw_only=True):
    """Personal details a steward may correct. The steward changes through its own
    endpoint so that every reassignment is recorded with a reason."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    mobile: Mobile | msgspec.UnsetType = msgspec.UNSET
    employer: Employer | msgspec.UnsetType = msgspec.UNSET
    district_code: Code | msgspec.UnsetType = msgspec.UNSET
    talent_card: TalentCard | msgspec.UnsetType = msgspec.UNSET
    field: Field | msgspec.UnsetType = msgspec.UNSET


class WorkerOut(Output, kw_only=True):
    id: uuid.UUID
    name: str
    national_id_masked: str
    """``500***********1234``; the full number only through the reveal endpoint."""
    mobile_masked: str
    """``138****5678``."""
    employer: str
    district_code: str
    talent_card: TalentCard
    field: str
    steward_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class WorkerPage(Output, kw_only=True):
    items: list[WorkerOut]
    total: int
    limit: int
    offset: int


class StewardAssignmentIn(Input, kw_only=True):
    steward_id: uuid.UUID
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=LINES)]


class StewardAssignmentOut(Output, kw_only=True):
    id: int
    worker_id: uuid.UUID
    steward_id: uuid.UUID
    previous_steward_id: uuid.UUID | None
    assigned_at: datetime
    assigned_by: uuid.UUID | None
    reason: ShortText


PersonalField = Literal["national_id", "mobile"]


class WorkerLookupIn(Input, kw_only=True):
    """Find a worker by exact national ID number (sent in the body, never in a URL,
    so that it stays out of access logs and browser history)."""

    national_id: NationalIdIn


class WorkerMobileIn(Input, kw_only=True):
    """Find workers by mobile number (sent in the body, never in a URL, so that it stays
    out of access logs and browser history). Typed as people type it, as when registering."""

    mobile: Mobile


class RevealIn(Input, kw_only=True):
    fields: Annotated[list[PersonalField], msgspec.Meta(min_length=1, max_length=2)]
    reason: Annotated[str, msgspec.Meta(min_length=4, max_length=500, pattern=LINES)]
    """Why the full value is needed; recorded in the audit trail."""


class RevealOut(Output, kw_only=True, omit_defaults=True):
    worker_id: uuid.UUID
    national_id: str | None = None
    mobile: str | None = None
