"""Every error leaves as RFC 9457 problem+json; this is the one place that maps them.

The handlers write English; each one's answer is then given in the caller's language
(``api/problem_language.py``: Simplified Chinese when ``Accept-Language`` prefers it)."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from schemas.problem import FieldError, Problem
from service.adapters.limits import LimitsUnavailable
from service.adapters.read_replicas import ReadsUnavailable
from service.adapters.storage import StoreUnavailable
from service.api.problem_language import in_callers_language
from service.api.problem_pages import problem_type
from service.errors import DomainError, MalformedBody, sqlstate_of

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("banshi.errors")


def _response(problem: Problem, headers: dict[str, str] | None = None) -> Response[Problem]:
    return Response(problem, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def _type(code: str) -> str:
    return problem_type(code)


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
    if source == "header" and key:
        # The header as the caller sent it, not the parameter's name in the code.
        return "header." + "-".join(part.capitalize() for part in key.replace("_", "-").split("-"))
    if source in ("query", "path", "cookie") and key:
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


def _try_again_later(kind: str, detail: str, retry_after: int, title: str = "Service unavailable") -> Response[Problem]:
    """503 with ``Retry-After``: the request was not wrong, something it needs is not there now."""
    return _response(
        Problem(type=_type(kind), title=title, status=503, detail=detail), {"Retry-After": str(retry_after)}
    )


def database_unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.warning("database unavailable: %s", _described(exc))
    return _try_again_later("unavailable", "the database is not reachable right now; try again shortly", 2)


def transaction_contention(_: Request[Any, Any, Any], exc: DBAPIError) -> Response[Problem]:
    log.warning("transaction rolled back by the database: %s", _described(exc))
    return _try_again_later(
        "contention",
        "the change collided with another one made at the same moment and was rolled back; "
        "nothing was written; send it again",
        1,
        title="Try again",
    )


def statement_cancelled(_: Request[Any, Any, Any], exc: DBAPIError) -> Response[Problem]:
    log.warning("statement cancelled by the database: %s", _described(exc))
    return _try_again_later(
        "timeout",
        "the database did not finish in time and cancelled the request; nothing was written; try again shortly",
        2,
    )


def store_unavailable(_: Request[Any, Any, Any], exc: StoreUnavailable) -> Response[Problem]:
    log.warning("attachment store unavailable: %s", exc)
    return _try_again_later(
        "unavailable", "the attachment store is not available right now; nothing was written; try again shortly", 5
    )


def limits_unavailable(_: Request[Any, Any, Any], exc: LimitsUnavailable) -> Response[Problem]:
    log.warning("rate-limit store unavailable: %s", exc)
    return _try_again_later("unavailable", "the lookup is unavailable right now; try again shortly", 30)


def reads_unavailable(_: Request[Any, Any, Any], exc: ReadsUnavailable) -> Response[Problem]:
    # Logged when a replica is set aside (adapters/read_replicas.py), not on every request.
    return _try_again_later("unavailable", "the figures and lists are unavailable right now; try again shortly", 5)


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


CONTENTION_STATES = frozenset({"40001", "40P01", "55P03"})
"""serialization_failure, deadlock_detected, lock_not_available: PostgreSQL rolled the
transaction back and the same request, sent again, normally succeeds."""
CANCELLED_STATES = frozenset({"57014"})
"""query_canceled: ``statement_timeout`` ran out (a limit the operators may set on the
database or role) or an operator cancelled the statement. The transaction is rolled back;
the request was not wrong."""
UNREACHABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300", "25006"})
"""admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down),
too_many_connections and read_only_sql_transaction (a write sent to a primary that has
failed over to a standby, or to a database an operator made read-only); with every
connection_exception (class ``08``) they mean the database is restarting, gone, full or
not writable now, not that the request is wrong."""


def _described(exc: BaseException) -> str:
    """The error's class, the driver's class beneath it and the SQLSTATE, for the log:
    never its message, which for a failed statement carries the SQL and its parameters."""
    names = [type(exc).__name__]
    cause = getattr(exc, "orig", None) or exc.__cause__
    driver = getattr(cause, "__cause__", None) or cause
    if driver is not None and type(driver).__name__ not in names:
        names.append(type(driver).__name__)
    state = sqlstate_of(exc)
    return " from ".join(names) + (f", SQLSTATE {state}" if state else "")


def _connection_lost(exc: DBAPIError) -> bool:
    """The driver lost its connection: SQLAlchemy noticed (and dropped the connection from
    the pool), or asyncpg refused to use a closed one. asyncpg's other interface errors
    (a wrong parameter type, say) are bugs and stay 500."""
    if exc.connection_invalidated:
        return True
    return isinstance(exc, InterfaceError) and "closed" in str(exc.orig)


def db_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Problem]:
    """Errors the database or the driver raise, sorted by what the client should do.

    A lost or refused connection (the database restarting, crashing or out of
    connections) and a transaction PostgreSQL rolled back to break a deadlock, a
    serialization conflict or a lock timeout, and a statement the database cancelled
    (``statement_timeout``, or an operator), all answer 503 with ``Retry-After``: the
    request was not wrong and sending it again works. A contention failure wrote
    nothing (the use case's transaction is rolled back as the error leaves it); a
    connection lost during COMMIT may have written, which is why case creation takes an
    ``Idempotency-Key`` whose replay finds the case instead of making a second one.

    The service does not retry by itself. The unit to repeat is a whole use case (each
    one in ``services/`` opens and commits its own transaction on the request's session,
    and the bearer check reads on a session of its own first), so a retry here would
    have to re-run the handler, which has already consumed the body, and a retry inside
    the use cases would be the same wrapper around each of their several dozen
    transactions. A deadlock's victim retried at once also tends to meet the same lock
    again, while a client waits ``Retry-After`` first.

    Anything else is a bug: 500, logged with its stack trace, never shown."""
    state = sqlstate_of(exc)
    if state in CONTENTION_STATES:
        return transaction_contention(request, exc)
    if state in CANCELLED_STATES:
        return statement_cancelled(request, exc)
    if _connection_lost(exc) or (state is not None and (state.startswith("08") or state in UNREACHABLE_STATES)):
        return database_unavailable(request, exc)
    if exc.statement is None:
        # Refused while connecting, before any statement: the database does not accept
        # connections now (55000, being dropped or restored), does not exist (3D000) or
        # refuses the service's role (28xxx). Not the request's fault.
        return database_unavailable(request, exc)
    return unexpected_error(request, exc)


def undecodable_request(request: Request[Any, Any, Any], _: UnicodeDecodeError) -> Response[Problem]:
    """Bytes of the request that are not UTF-8 where text was expected. JSON bodies are
    checked before this (``api/bodies.py``); what gets here is a multipart form's fields,
    which Litestar's form parser decodes as UTF-8 (an import's ``kind``, an upload's
    ``visibility``): a 400, as for a JSON body."""
    return domain_error(request, MalformedBody("is not valid UTF-8"))


_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error,
    UnicodeDecodeError: undecodable_request,
    ValidationException: validation_error,
    HTTPException: http_error,
    IntegrityError: integrity_error,
    PoolTimeout: database_unavailable,
    LimitsUnavailable: limits_unavailable,
    StoreUnavailable: store_unavailable,
    ReadsUnavailable: reads_unavailable,
    # An OSError that gets this far is the database connection: asyncpg hands a refused or
    # broken connect on as it is. The attachment store wraps its own (StoreUnavailable).
    OSError: database_unavailable,
    DBAPIError: db_error,
    Exception: unexpected_error,
}
EXCEPTION_HANDLERS: dict[Any, Any] = {kind: in_callers_language(handler) for kind, handler in _HANDLERS.items()}
