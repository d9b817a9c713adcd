"""Sign-in accounts, their sessions, sign-in throttling and the security settings."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, LargeBinary, SmallInteger
from sqlmodel import Field, SQLModel

from service.domain.access import Role, SessionScope
from service.models.base import in_check, timestamp, utcnow

ROLES = tuple(r.value for r in Role)
SCOPES = tuple(s.value for s in SessionScope)


class Account(SQLModel, table=True):
    """One person's sign-in. One account, one role; a steward or liaison account is tied
    to its staff row, a worker account to its worker, an official may be tied to a district."""

    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint(in_check("role", ROLES), name="role"),
        CheckConstraint("(role IN ('steward', 'liaison')) = (staff_id IS NOT NULL)", name="staff_link"),
        CheckConstraint("(role = 'worker') = (worker_id IS NOT NULL)", name="worker_link"),
        CheckConstraint("role = 'official' OR district_code IS NULL", name="official_district"),
        CheckConstraint("failed_logins >= 0", name="failed_logins"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    staff_id: uuid.UUID | None = Field(default=None, foreign_key="staff.id", unique=True)
    worker_id: uuid.UUID | None = Field(default=None, foreign_key="worker.id", unique=True)
    district_code: str | None = Field(default=None, foreign_key="district.code", max_length=32)
    active: bool = True
    must_change_password: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = timestamp(default=None, nullable=True)
    totp_secret: bytes | None = Field(default=None, sa_type=LargeBinary)
    """Sealed like personal data; set at enrolment, in use once ``totp_enabled``."""
    totp_enabled: bool = False
    totp_last_step: int | None = Field(default=None, sa_type=BigInteger)
    password_changed_at: datetime = timestamp(default_factory=utcnow)
    last_login_at: datetime | None = timestamp(default=None, nullable=True)
    created_at: datetime = timestamp(default_factory=utcnow)
    updated_at: datetime = timestamp(default_factory=utcnow)


class AuthSession(SQLModel, table=True):
    """A signed-in session, named by the token. Revoked rows stay for the record."""

    __tablename__ = "auth_session"
    __table_args__ = (CheckConstraint(in_check("scope", SCOPES), name="scope"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    account_id: uuid.UUID = Field(foreign_key="account.id", index=True)
    scope: str = Field(max_length=16)
    created_at: datetime = timestamp()
    last_seen_at: datetime = timestamp()
    expires_at: datetime = timestamp()
    revoked_at: datetime | None = timestamp(default=None, nullable=True)
    client_addr: str = Field(max_length=64)


class LoginThrottle(SQLModel, table=True):
    """Sign-in attempts per client address in fixed five-minute windows."""

    __tablename__ = "login_throttle"
    __table_args__ = (Index("ix_login_throttle_window_start", "window_start"),)

    client_addr: str = Field(primary_key=True, max_length=64)
    window_start: datetime = timestamp(primary_key=True)
    attempts: int = 0


class SecuritySetting(SQLModel, table=True):
    """The security officer's settings: one row."""

    __tablename__ = "security_setting"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(default=1, sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    privileged_mfa_required: bool = False
    """Admin, security and audit accounts must sign in with a second factor."""
    updated_at: datetime = timestamp(default_factory=utcnow)
    updated_by: uuid.UUID | None = Field(default=None, foreign_key="account.id")
