"""A JSON answer built with the least work, for the case read: the most frequent request.

Litestar turns a handler's ``Response`` into an ``ASGIResponse`` in a general way: it
merges the headers and cookies of every layer, picks a serializer, and adds each header
to a header object one by one. For the case read that was 55 thousand of about 1.3
million instructions (``bench/read_instructions.py``). ``PlainJson`` is a ``Response``
(a handler still returns ``Response[X]`` and the OpenAPI document still shows ``X``)
that, when nothing else is to be added (no cookies, no background task, no header from
a layer, not a HEAD request, JSON), encodes its content as Litestar does (``encode_json``
with the route's type encoders) and hands Litestar an ``ASGIResponse`` with the header
list already made: the handler's headers, then ``content-type`` and ``content-length``,
in Litestar's order and spelling. Anything else is left to Litestar's own
``to_asgi_response``. ``tests/api/test_cases.py`` holds a case read's answer to the
answer Litestar builds for the same content.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from litestar import Response
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import MediaType
from litestar.response.base import ASGIResponse
from litestar.serialization import encode_json, get_serializer
from litestar.status_codes import HTTP_200_OK

if TYPE_CHECKING:
    from collections.abc import Iterable

    from litestar import Litestar, Request
    from litestar.background_tasks import BackgroundTask, BackgroundTasks
    from litestar.datastructures import Cookie
    from litestar.types import TypeEncodersMap

T = TypeVar("T")

_JSON = MediaType.JSON.value


class PlainJson(Response[T]):
    def to_asgi_response(
        self,
        app: Litestar | None,
        request: Request[Any, Any, Any],
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        encoded_headers: Iterable[tuple[bytes, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        media_type: MediaType | str | None = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> ASGIResponse:
        plain = (
            app is None
            and background is None
            and self.background is None
            and not cookies
            and not self.cookies
            and encoded_headers is None
            and not headers
            and not is_head_response
            and self.media_type is None
            and (media_type or _JSON) == _JSON  # as Litestar reads it: none given is JSON
            and not self.response_type_encoders
        )
        if not plain:
            return super().to_asgi_response(
                app,
                request,
                background=background,
                cookies=cookies,
                encoded_headers=encoded_headers,
                headers=headers,
                is_head_response=is_head_response,
                media_type=media_type,
                status_code=status_code,
                type_encoders=type_encoders,
            )
        body = encode_json(self.content, get_serializer(type_encoders))
        raw = [(name.lower().encode("latin-1"), str(value).encode("latin-1")) for name, value in self.headers.items()]
        raw.append((b"content-type", b"application/json"))
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
        return _Ready(self.status_code or status_code or HTTP_200_OK, raw, body)


class _Ready(ASGIResponse):
    """An ``ASGIResponse`` whose header list is made already: the same attributes, set
    without the general constructor's work; sending is ``ASGIResponse``'s own."""

    __slots__ = ()

    def __init__(self, status_code: int, raw: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.headers = MutableScopeHeaders({"headers": raw})
        self.background = None
        self.body = body
        self.content_length = len(body)
        self._encoded_cookies = ()
        self.encoding = "utf-8"
        self.is_head_response = False
        self.status_code = status_code
