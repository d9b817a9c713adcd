"""Every error leaves as RFC 9457 problem+json; this is the one place that maps them."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from schemas.problem import FieldError, Problem
from service.errors import DomainError
from service.limits import LimitsUnavailable

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("banshi.errors")


def _response(problem: Problem, headers: dict[str, str] | None = None) -> Response[Problem]:
    return Response(problem, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def _type(code: str) -> str:
    return f"https://banshi.example/problems/{code}"


def domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    errors = [FieldError(field=exc.field, reason=getattr(exc, "reason", exc.detail))] if exc.field else None
    allowed = exc.extra.get("allowed_actions")
    headers: dict[str, str] = {}
    if "current_etag" in exc.extra:
        headers["ETag"] = exc.extra["current_etag"]
    if "retry_after" in exc.extra:
        headers["Retry-After"] = str(exc.extra["retry_after"])
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="banshi"'
    return _response(
        Problem(
            type=_type(exc.code),
            title=exc.title,
            status=exc.status,
            detail=exc.detail,
            errors=errors,
            allowed_actions=allowed,
        ),
        headers or None,
    )


def _field_of(item: dict[str, Any]) -> str:
    key = str(item.get("key") or "")
    source = getattr(item.get("source"), "value", item.get("source"))
    message = str(item.get("message", ""))
    # msgspec names the failing path as "... - at `$.field[0].x`".
    if "at `$." in message:
        key = message.rsplit("at `$.", 1)[1].rstrip("`")
    elif "`" in message and ("missing required field" in message or "unknown field" in message):
        name = message.split("`")[1]
        key = f"{key}.{name}" if key and key != "data" else name
    if source in ("query", "path", "header", "cookie") and key:
        return f"{source}.{key}"
    return key or "body"


_MISSING = re.compile(r"Missing required (query|path|header|cookie) parameter '([^']+)'")


def validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    items = exc.extra if isinstance(exc.extra, list) else []
    errors = [FieldError(field=_field_of(i), reason=str(i.get("message", "invalid"))) for i in items]
    if not errors and (missing := _MISSING.search(str(exc.detail))):
        source, name = missing.groups()
        errors = [FieldError(field=f"{source}.{name}", reason="is required")]
    return _response(
        Problem(
            type=_type("validation"),
            title="Invalid request",
            status=400,
            detail=errors[0].reason if errors else str(exc.detail),
            errors=errors or None,
        )
    )


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    title = "Not found" if isinstance(exc, NotFoundException) else "Request refused"
    return _response(
        Problem(type=_type(f"http_{exc.status_code}"), title=title, status=exc.status_code, detail=str(exc.detail)),
        dict(exc.headers) if exc.headers else None,
    )


def integrity_error(_: Request[Any, Any, Any], exc: IntegrityError) -> Response[Problem]:
    # A race that the service's own checks could not see (two creations of the same
    # worker at once): the database constraint decided, and nothing was written.
    constraint = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None) or "a constraint"
    return _response(
        Problem(
            type=_type("conflict"),
            title="Conflict",
            status=409,
            detail=f"the change conflicts with {constraint}; nothing was written",
        )
    )


def database_unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.warning("database unavailable: %s", type(exc).__name__)
    return _response(
        Problem(
            type=_type("unavailable"),
            title="Service unavailable",
            status=503,
            detail="the database is not reachable right now; try again shortly",
        ),
        {"Retry-After": "2"},
    )


def limits_unavailable(_: Request[Any, Any, Any], exc: LimitsUnavailable) -> Response[Problem]:
    log.warning("rate-limit store unavailable: %s", exc)
    return _response(
        Problem(
            type=_type("unavailable"),
            title="Service unavailable",
            status=503,
            detail="the lookup is unavailable right now; try again shortly",
        ),
        {"Retry-After": "30"},
    )


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _response(
        Problem(
            type=_type("internal"),
            title="Internal error",
            status=HTTP_500_INTERNAL_SERVER_ERROR,
            detail="an unexpected error occurred; it has been logged",
        )
    )


def db_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Problem]:
    if exc.connection_invalidated:
        return database_unavailable(request, exc)
    return unexpected_error(request, exc)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    IntegrityError: integrity_error,
    PoolTimeout: database_unavailable,
    LimitsUnavailable: limits_unavailable,
    OSError: database_unavailable,
    DBAPIError: db_error,
    Exception: unexpected_error,
}
