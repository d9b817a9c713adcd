"""Domain errors. Nothing below ``api/`` knows HTTP; ``api/problems.py`` maps these."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key} does not exist")


class Malformed(DomainError):
    """A value that is not of the form the API documents (a day, an instant, JSON)."""

    status = 400
    code = "malformed"
    title = "Malformed request"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.reason = reason


class MalformedBody(Malformed):
    """A request body that cannot be read at all: broken encoding, bad JSON, absurd nesting."""

    code = "malformed_body"
    title = "Unreadable request body"

    def __init__(self, reason: str) -> None:
        super().__init__("body", reason)


class Invalid(DomainError):
    """Well-formed input that breaks a rule of the domain."""

    status = 422
    code = "invalid"
    title = "Invalid input"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.reason = reason


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"
    title = "Move not allowed"

    def __init__(self, detail: str, allowed: Sequence[str]) -> None:
        super().__init__(detail, field="action", allowed_actions=list(allowed))


class PreconditionRequired(DomainError):
    status = 428
    code = "precondition_required"
    title = "If-Match required"


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition_failed"
    title = "Stale version"


class IdempotencyMismatch(DomainError):
    status = 422
    code = "idempotency_key_reused"
    title = "Idempotency key reused with a different request"


class Unauthenticated(DomainError):
    """No valid session. Deliberately vague about why, so it says nothing about which
    user names exist or which tokens were once valid."""

    status = 401
    code = "unauthenticated"
    title = "Sign-in required"


class SecondFactorRequired(Unauthenticated):
    code = "second_factor_required"
    title = "One-time code required"


class Forbidden(DomainError):
    """The caller's role may not use this operation at all (a record out of reach is
    NotFound instead)."""

    status = 403
    code = "forbidden"
    title = "Not allowed"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)


class TooLarge(DomainError):
    status = 413
    code = "too_large"
    title = "Too large"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.reason = reason


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE PostgreSQL answered with, from the driver's error that SQLAlchemy wraps
    (``DBAPIError.orig``) or from anywhere in its chain of causes."""
    seen: BaseException | None = exc
    for _ in range(8):  # the chain is short; the bound keeps a cyclic one harmless
        if seen is None:
            return None
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and state:
            return state
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return None
