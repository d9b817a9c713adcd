"""JSON request bodies as the API reads them: within a nesting limit, valid UTF-8, and
typed as strictly as the OpenAPI document says (``1`` is not ``true``, ``"5"`` is not ``5``).

Litestar decodes a JSON body into plain Python values first and converts them to the
handler's type afterwards, leniently. Decoded untyped, a body nested a thousand levels
deep exhausts the interpreter's recursion limit, and invalid UTF-8 inside a string raises
``UnicodeDecodeError``: both used to answer 500. Here the body is checked for its nesting
first, then decoded straight into the handler's type with msgspec in strict mode, and
every failure becomes a 400 that names the body or the field.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.types import Empty

from service.errors import MalformedBody

MAX_NESTING = 32
"""Arrays and objects inside each other, at most. The deepest body the API takes is 3."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def too_deep(body: bytes, limit: int = MAX_NESTING) -> bool:
    """Whether arrays and objects nest more than ``limit`` deep. Brackets inside strings
    do not count. Nearly every body has fewer brackets in all than the limit, and is
    passed on two counts made in C."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(_STEP[b] for b in brackets), default=0) > limit


def decode(body: bytes, target: Any) -> Any:
    """The body decoded into ``target`` (a type, or ``Any`` for plain values), strictly."""
    if too_deep(body):
        raise MalformedBody(f"is nested more than {MAX_NESTING} levels deep")
    try:
        return msgspec.json.decode(body, type=target, strict=True)
    except msgspec.ValidationError as error:
        # The same shape as Litestar's own refusals, so that api/problems.py names the field.
        raise ValidationException(
            str(error), extra=[{"message": str(error), "key": "data", "source": "body"}]
        ) from None
    except UnicodeDecodeError:
        raise MalformedBody("is not valid UTF-8") from None
    except msgspec.DecodeError as error:
        raise MalformedBody(f"is not valid JSON ({error})") from None
    except RecursionError:  # a guard behind the guard: too_deep refuses these first
        raise MalformedBody(f"is nested more than {MAX_NESTING} levels deep") from None


class ApiRequest(Request[Any, Any, Any]):
    """The request class of the app: its JSON body is read by ``decode``."""

    async def json(self) -> Any:
        if self._json is Empty:
            cached = self._connection_state.json
            if cached is not Empty:
                self._json = cached
            else:
                field = self.route_handler.parsed_data_field
                target = Any if field is None else field.annotation
                self._json = self._connection_state.json = decode(await self.body() or b"null", target)
        return self._json
