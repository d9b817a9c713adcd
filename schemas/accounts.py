from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from schemas.auth import Password, RoleName
from schemas.base import Code, Input, Output

NewUsername = Annotated[str, msgspec.Meta(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class AccountIn(Input, kw_only=True):
    username: NewUsername
    role: RoleName
    password: Password
    """An initial password; the holder must change it at first sign-in."""
    staff_id: uuid.UUID | None = None
    """Required for steward and liaison accounts: their staff record, of the same role."""
    worker_id: uuid.UUID | None = None
    """Required for worker accounts."""
    district_code: Code | None = None
    """Officials only: limits their figures to one district."""


class AccountPatch(Input, kw_only=True):
    role: RoleName | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    staff_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    worker_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    district_code: Code | msgspec.UnsetType | None = msgspec.UNSET


class AccountOut(Output, kw_only=True):
    id: uuid.UUID
    username: str
    role: RoleName
    staff_id: uuid.UUID | None
    worker_id: uuid.UUID | None
    district_code: str | None
    active: bool
    must_change_password: bool
    totp_enabled: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AccountPage(Output, kw_only=True):
    items: list[AccountOut]
    total: int
    limit: int
    offset: int


class PasswordResetIn(Input, kw_only=True):
    password: Password
    """A temporary password; the holder must change it at next sign-in."""


class SecuritySettingsIn(Input, kw_only=True):
    privileged_mfa_required: bool
    """Admin, security and audit accounts must sign in with a one-time code."""


class SecuritySettingsOut(Output, kw_only=True):
    privileged_mfa_required: bool
    updated_at: datetime
    updated_by: uuid.UUID | None
