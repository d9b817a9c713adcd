"""``PlainJson`` answers exactly what Litestar's ``Response`` answers for the same content,
and leaves every case it does not cover to Litestar."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

import msgspec
import pytest
from litestar import Response
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import Cookie
from litestar.response.base import ASGIResponse

from service.api.plain_json import PlainJson


class Shown(msgspec.Struct):
    id: uuid.UUID
    at: datetime
    title: str
    tags: list[str]
    details: dict[str, Any] | None = None


CONTENT = Shown(
    id=uuid.UUID("0193a3c2-5b2e-7c3d-9a8b-123456789abc"),
    at=datetime(2026, 3, 2, 2, 0, 0, 123456, tzinfo=UTC),
    title='子女入学 "quoted" \\ and \u2028',
    tags=["a", "b"],
    details={"n": 1, "nested": [1.5, None, True]},
)
ROUTE: dict[str, Any] = {
    "background": None,
    "cookies": [],
    "headers": {},
    "media_type": "",
    "status_code": 200,
    "type_encoders": None,
}
"""What Litestar's response handler passes for a plain JSON route (``normalize_headers``
drops headers marked documentation only)."""


async def sent(response: ASGIResponse) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        messages.append(dict(message))

    await response(cast(Any, {"type": "http"}), cast(Any, receive), send)
    return messages


def both(own: dict[str, str], route: dict[str, Any]) -> tuple[ASGIResponse, ASGIResponse]:
    """The answer to a handler's content with its own headers ``own``, given the route's ``route``."""
    request = cast(Any, None)  # neither reads the request
    ours = PlainJson(CONTENT, headers=own).to_asgi_response(None, request, **{**ROUTE, **route})
    theirs = Response(CONTENT, headers=own).to_asgi_response(None, request, **{**ROUTE, **route})
    return ours, theirs


@pytest.mark.parametrize(
    ("own", "route"),
    [
        ({}, {}),
        ({"ETag": '"0193a3c2.3"'}, {}),
        ({"ETag": '"x.1"', "X-Other": "v"}, {}),
        ({"ETag": '"x.1"'}, {"type_encoders": {uuid.UUID: lambda u: u.hex}}),
        ({"ETag": '"x.1"'}, {"media_type": "application/json"}),
    ],
)
async def test_the_answer_is_litestars_to_the_byte(own: dict[str, str], route: dict[str, Any]) -> None:
    ours, theirs = both(own, route)
    assert type(ours) is not ASGIResponse  # the plain path was taken
    ours_sent, theirs_sent = await sent(ours), await sent(theirs)
    assert ours_sent == theirs_sent
    start = ours_sent[0]
    assert start["status"] == 200
    assert (b"content-type", b"application/json") in start["headers"]
    assert msgspec.json.decode(ours_sent[1]["body"], type=Shown) == CONTENT


@pytest.mark.parametrize(
    "route",
    [
        {"cookies": [Cookie(key="k", value="v")]},
        {"headers": {"X-Layer": "1"}},
        {"is_head_response": True},
        {"media_type": "application/vnd.other+json"},
        {"background": BackgroundTask(lambda: None)},
    ],
)
async def test_anything_else_is_left_to_litestar(route: dict[str, Any]) -> None:
    request = cast(Any, None)
    if route.get("is_head_response"):
        content: Any = None
        ours = PlainJson(content).to_asgi_response(None, request, **{**ROUTE, **route})
        theirs = Response(content).to_asgi_response(None, request, **{**ROUTE, **route})
    else:
        ours, theirs = both({"ETag": '"x.1"'}, route)
    assert type(ours) is ASGIResponse
    assert await sent(ours) == await sent(theirs)
