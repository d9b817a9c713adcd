"""Query parameters whose text the API reads itself, strictly: days, instants and whole
numbers.

Litestar converts query values leniently (a bare ``0.5`` became an instant 0.5 s after
1970, ``limit=20.0`` a limit of 20), so days and instants are declared as text,
documented with their format, and parsed here, and every integer in a query is checked
to be written as one before the handler runs (``whole_numbers_only``): anything else
answers 400 naming the parameter.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from litestar import Litestar, Request
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler

from service.errors import Malformed

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:?[0-9]{2})"
)


DAY = {"format": "date"}
"""``schema_extra`` of a query parameter holding a day, ``2026-03-01`` (at most 10 characters)."""
INSTANT = {"format": "date-time"}
"""``schema_extra`` of one holding an instant with its offset (at most 40 characters)."""


def day(name: str, raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        if _DAY.fullmatch(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise Malformed(f"query.{name}", "must be a day such as 2026-03-01")


def instant(name: str, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        if _INSTANT.fullmatch(raw):
            return datetime.fromisoformat(raw)
    except ValueError:
        pass
    raise Malformed(f"query.{name}", "must be an instant with its offset, such as 2026-03-01T09:00:00+08:00")


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,18}")


def integer_queries(app: Litestar) -> dict[int, frozenset[str]]:
    """Per route handler (by id: the app holds its handlers as long as it lives), the query
    names it and its dependencies (the page's ``limit`` and ``offset``) read as integers.
    Made once when the app is built, kept in ``app.state``."""
    found: dict[int, frozenset[str]] = {}
    for methods in app.route_handler_method_map.values():
        for handler in methods.values():
            if isinstance(handler, HTTPRouteHandler):
                found[id(handler)] = _integer_names(handler)
    return found


def _integer_names(handler: HTTPRouteHandler) -> frozenset[str]:
    signatures = [handler.parsed_fn_signature]
    used = handler.parsed_fn_signature.parameters
    signatures += [
        p.parsed_fn_signature
        for name, p in handler.resolve_dependencies().items()
        if name in used and isinstance(p, Provide)  # what is in scope, only where the handler asks for it
    ]
    names: set[str] = set()
    for signature in signatures:
        for name, definition in signature.parameters.items():
            wanted = definition.inner_types if definition.is_optional else (definition,)
            if any(t.annotation is int for t in wanted):
                names.add(getattr(definition.kwarg_definition, "query", None) or name)
    return frozenset(names)


async def whole_numbers_only(request: Request[Any, Any, Any]) -> None:
    """``before_request`` of the app: an integer in the query is written as one. The
    framework's lax conversion would take ``limit=20.0`` or ``year=2026.0`` as 20 and 2026;
    the API answers 400 naming the parameter, as it does for a lax boolean in a body.

    A coroutine although it awaits nothing: Litestar runs a plain function given as
    ``before_request`` in a worker thread, a hand-off that cost every request more than
    this check (seen in a profile of the case list under load)."""
    # The raw query first: building the parsed parameters of a request without one cost more than the check.
    if not request.scope.get("query_string") or not request.query_params:
        return
    names = request.app.state.integer_queries.get(id(request.scope.get("route_handler")), frozenset())
    for key in request.query_params:
        if key in names and not all(_WHOLE_NUMBER.fullmatch(v) for v in request.query_params.getall(key)):
            raise Malformed(f"query.{key}", "must be a whole number such as 20")
