from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schemas.base import ONE_LINE, Input, Output

Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=ONE_LINE)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[^\x00]*$")]
OneTimeCode = Annotated[str, msgspec.Meta(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")]
RoleName = Literal["admin", "security", "auditor", "steward", "liaison", "worker", "official"]
ScopeName = Literal["full", "password_change", "mfa_enrolment"]


class LoginIn(Input, kw_only=True):
    username: Username
    password: Password
    otp: OneTimeCode | None = None
    """The current one-time code, for accounts with a second factor."""


class TokenOut(Output, kw_only=True):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int
    """Seconds the token stays valid if unused (idle timeout); each use extends it up
    to ``expires_at``."""
    expires_at: datetime
    """The absolute end of the session, used or not."""
    scope: ScopeName
    """``full``, or what must happen first: ``password_change`` or ``mfa_enrolment``."""


class MeOut(Output, kw_only=True):
    account_id: uuid.UUID
    username: str
    role: RoleName
    scope: ScopeName
    staff_id: uuid.UUID | None
    worker_id: uuid.UUID | None
    department_code: str | None
    district_code: str | None
    totp_enabled: bool
    permissions: list[str]
    """What this role may do (``domain/access.py``), so that a screen can hide what the
    API would refuse; the API still decides on every request."""


class PasswordChangeIn(Input, kw_only=True):
    current_password: Password
    new_password: Password


class TotpEnrolmentOut(Output, kw_only=True):
    secret: str
    """Base32 secret for the authenticator app; shown once."""
    otpauth_uri: str


class TotpConfirmIn(Input, kw_only=True):
    code: OneTimeCode
