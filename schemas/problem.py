from __future__ import annotations

from schemas.base import Output


class FieldError(Output, kw_only=True):
    field: str
    reason: str


class Problem(Output, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details."""

    type: str
    """A path on this service, ``/problems/<code>``, whose page says what the problem means."""
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    allowed_actions: list[str] | None = None
