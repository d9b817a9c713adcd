"""Base Structs and constrained string types shared by every API shape."""

from __future__ import annotations

from typing import Annotated

import msgspec


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request body. Unknown fields are refused, so a caller cannot slip in a field
    it may not set (status, case number, timestamps) and have it silently ignored."""


class Output(msgspec.Struct, kw_only=True):
    """A response body."""


ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
"""No control characters at all: names, titles, filters."""
LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""Free text: tabs and line breaks, no other control character (PostgreSQL cannot
store NUL, and the others only ever arrive by mistake or with ill intent)."""

CODE = r"^[a-z0-9][a-z0-9_-]*$"
"""A district, department or other reference code."""
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=CODE)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=ONE_LINE)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=ONE_LINE)]
Text = Annotated[str, msgspec.Meta(max_length=4000, pattern=LINES)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=LINES)]
ShortText = Annotated[str, msgspec.Meta(max_length=500, pattern=LINES)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=ONE_LINE)]
"""A short single-line value: a query filter, a kind of record."""
