"""Query parameters whose text the API reads itself, strictly: days and instants.

Litestar converts query values leniently (a bare ``0.5`` became an instant 0.5 s after
1970), so these are declared as text, documented with their format, and parsed here:
anything but the ISO 8601 form the document names answers 400 naming the parameter.
"""

from __future__ import annotations

import re
from datetime import date, datetime

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
