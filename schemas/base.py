"""Base Structs and constrained string types shared by every API shape."""

from __future__ import annotations

from typing import Annotated

import msgspec


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request body. Unknown fields are refused, so a caller cannot slip in a field
    it may not set (status, case number, timestamps) and have it silently ignored."""


class Output(msgspec.Struct, kw_only=True):
    """A response body."""


Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
ShortText = Annotated[str, msgspec.Meta(max_length=500)]
