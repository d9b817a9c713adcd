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
import weakref
from datetime import date, datetime
from typing import Any

from litestar import Request
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
_INTEGER_QUERIES: weakref.WeakKeyDictionary[HTTPRouteHandler, frozenset[str]] = weakref.WeakKeyDictionary()


def _integer_names(handler: HTTPRouteHandler) -> frozenset[str]:
    """The query names an integer is read from, in the handler's signature and in those of
    its dependencies (the page's ``limit`` and ``offset``)."""
    found = _INTEGER_QUERIES.get(handler)
    if found is None:
        signatures = [handler.parsed_fn_signature]
        signatures += [p.parsed_fn_signature for p in handler.resolve_dependencies().values() if isinstance(p, Provide)]
        names: set[str] = set()
        for signature in signatures:
            for name, definition in signature.parameters.items():
                wanted = definition.inner_types if definition.is_optional else (definition,)
                if any(t.annotation is int for t in wanted):
                    kwarg = definition.kwarg_definition
                    names.add(getattr(kwarg, "query", None) or name)
        found = _INTEGER_QUERIES[handler] = frozenset(names)
    return found


def whole_numbers_only(request: Request[Any, Any, Any]) -> None:
    """``before_request`` of the app: an integer in the query is written as one. The
    framework's lax conversion would take ``limit=20.0`` or ``year=2026.0`` as 20 and 2026;
    the API answers 400 naming the parameter, as it does for a lax boolean in a body."""
    handler = request.scope.get("route_handler")
    if not isinstance(handler, HTTPRouteHandler) or not request.query_params:
        return
    names = _integer_names(handler)
    for key in request.query_params:
        if key in names and not all(_WHOLE_NUMBER.fullmatch(v) for v in request.query_params.getall(key)):
            raise Malformed(f"query.{key}", "must be a whole number such as 20")
