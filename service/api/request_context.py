"""What every response carries: the request id, and headers that keep browsers careful.

A middleware on every route sets the request id before the handler runs (so log lines
carry it), notes when the request began, and cuts off a body that trickles in (each part
must arrive within ``BANSHI_BODY_TIMEOUT`` seconds, else 408: a slow client cannot hold a
worker's connection and memory for ever); the ``before_send`` hook puts the id and the
security headers on every response, also on those no route produced (404, 405), counts
routed requests for ``/metrics`` and writes the access line (``logs.access``). A
handler's own ``Cache-Control`` stays.
"""

from __future__ import annotations

import asyncio
import os
import re
import time

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from service.adapters import logs, telemetry
from service.adapters.logs import REQUEST_ID
from service.api.docs import POLICY as DOCS_POLICY

HEADER = "X-Request-ID"
_USABLE = re.compile(r"[A-Za-z0-9._:-]{8,64}")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
API_DEFAULTS = {"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"}
"""For API answers, unless the handler set its own (the pages set a policy of their own)."""


def _request_id(scope: Scope) -> str:
    state = scope.setdefault("state", {})
    if existing := state.get("request_id"):
        return str(existing)
    sent = MutableScopeHeaders(scope).get(HEADER.lower())
    request_id = sent if sent and _USABLE.fullmatch(sent) else os.urandom(16).hex()
    state["request_id"] = request_id
    return request_id


def request_context(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        scope.setdefault("state", {})["started"] = time.perf_counter()
        token = REQUEST_ID.set(_request_id(scope))
        timeout = scope["app"].state.settings.body_timeout_seconds
        body_done = False

        async def receive_in_time() -> ReceiveMessage:
            # Only the body is timed: once it is in, receive() waits for a disconnect
            # (while a long export streams, say) as long as it takes.
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout(timeout):
                    message = await receive()
            except TimeoutError:
                raise ClientException(
                    f"the request body did not arrive within {timeout:g} seconds", status_code=408
                ) from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        try:
            await app(scope, receive_in_time, send)
        finally:
            REQUEST_ID.reset(token)

    return middleware


_SECURITY = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
_SECURITY_NAMES = frozenset(name for name, _ in _SECURITY)
_API_DEFAULTS = [(name.lower().encode(), value.encode()) for name, value in API_DEFAULTS.items()]
_ID = HEADER.lower().encode()
_CSP = b"content-security-policy"
_DOCS_POLICY = DOCS_POLICY.encode()


async def response_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    state = scope.setdefault("state", {})
    # A request no route took (404, 405) never reached the middleware: counted under one
    # label, without a duration.
    route = scope.get("path_template") if "started" in state else None
    method = str(scope.get("method", "GET"))
    started = state.get("started")
    telemetry.observe(method, route, message["status"], started)
    if scope["app"].state.settings.access_log:
        logs.access(
            scope.get("client"),
            method,
            scope.get("root_path", "") + scope.get("path", ""),
            scope.get("query_string", b""),
            scope.get("http_version", "1.1"),
            message["status"],
            None if started is None else time.perf_counter() - started,
        )
    if "started" in state:
        engine = getattr(scope["app"].state, "engine", None)
        if engine is not None:
            telemetry.observe_pool(engine, at_most_every=1.0)
    # The raw header list, not MutableScopeHeaders: this runs on every response.
    headers = list(message.get("headers") or ())
    present = {name.lower() for name, _ in headers}
    if present & (_SECURITY_NAMES | {_ID}):
        headers = [(name, value) for name, value in headers if name.lower() not in _SECURITY_NAMES | {_ID}]
    headers.append((_ID, _request_id(scope).encode()))
    headers.extend(_SECURITY)
    path = scope.get("path", "")
    if path.startswith("/api/"):
        headers.extend((name, value) for name, value in _API_DEFAULTS if name not in present)
    elif path.startswith("/docs") and _CSP not in present:
        headers.append((_CSP, _DOCS_POLICY))
    message["headers"] = headers
