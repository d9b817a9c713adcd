"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 that checks every request
the way a receiver using the Standard Webhooks library would (``Webhook(secret).verify``),
so a test proves the service's messages verify with that library, not with our own idea
of the scheme.

It answers 204 to a request that verifies against any of its secrets and 401 to one that
does not, and keeps both: ``received`` and ``refused``. ``respond_next`` scripts the next
answers (503 for a retry, 410 for an endpoint that is gone, a 3xx for a redirect) before
any checking, and ``attempts`` lists every request with the status it got.

It serves from a thread of its own, so it works the same under a synchronous test, an
async one (``async with``; its HTTP is never on the test's event loop) and for a service
under test running in another process, which only needs ``url``. ``wait_for`` and
``await_received`` wait for messages that a background sender delivers in its own time.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tests.fakes.loopback import LoopbackServer

MAX_BODY = 1 << 20
"""Larger bodies are answered 413 without being read."""


@dataclass(frozen=True, slots=True)
class Received:
    """A message that verified: its ``webhook-id``, its body parsed as JSON, and the
    request's headers (names in lower case)."""

    message_id: str
    payload: Any
    headers: Mapping[str, str] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Refused:
    """A request that did not verify, and what the library said about it."""

    message_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Attempt:
    """Any request, with the status it was answered with."""

    message_id: str | None
    status: int


@dataclass(slots=True)
class _Script:
    status: int
    remaining: int
    headers: dict[str, str]


class WebhookReceiver(LoopbackServer):
    """``with WebhookReceiver(secret) as receiver:`` (or ``async with``) serves at
    ``receiver.url`` until the block ends. Give it every secret it should accept; during
    a rotation a real receiver knows one of the sender's two."""

    _thread_name = "webhook-receiver"

    def __init__(self, *secrets: str) -> None:
        if not secrets:
            raise ValueError("a receiver needs at least one secret to verify with")
        self._verifiers = tuple(Webhook(secret) for secret in secrets)
        self._changed = threading.Condition()
        self._received: list[Received] = []
        self._refused: list[Refused] = []
        self._attempts: list[Attempt] = []
        self._scripts: list[_Script] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"{self.origin}/hooks"

    @property
    def received(self) -> tuple[Received, ...]:
        with self._changed:
            return tuple(self._received)

    @property
    def refused(self) -> tuple[Refused, ...]:
        with self._changed:
            return tuple(self._refused)

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        with self._changed:
            return tuple(self._attempts)

    def respond_next(self, status: int, count: int = 1, *, headers: Mapping[str, str] | None = None) -> None:
        """Answer the next ``count`` requests with ``status`` (and ``headers``) without
        checking them. A 3xx gets a ``location`` of the receiver's own URL unless one is
        given, so a sender that followed it would show up as a second attempt."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._changed:
            self._scripts.append(_Script(status, count, {k.lower(): v for k, v in (headers or {}).items()}))

    def wait_for(self, count: int, timeout: float = 5.0) -> tuple[Received, ...]:
        """Block until ``count`` messages have verified; AssertionError after ``timeout``."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._received) >= count, timeout):
                raise AssertionError(
                    f"expected {count} verified messages within {timeout}s; "
                    f"got {len(self._received)}, refused {len(self._refused)}: {self._refused!r}"
                )
            return tuple(self._received)

    async def await_received(self, count: int, timeout: float = 5.0) -> tuple[Received, ...]:  # noqa: ASYNC109
        """``wait_for`` without blocking the event loop."""
        return await asyncio.to_thread(self.wait_for, count, timeout)

    def _new_server(self) -> ThreadingHTTPServer:
        return ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))

    def _answer(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        """The status and headers for one request; called from the server's threads."""
        message_id = headers.get("webhook-id")
        with self._changed:
            if self._scripts:
                script = self._scripts[0]
                script.remaining -= 1
                if script.remaining == 0:
                    self._scripts.pop(0)
                extra = dict(script.headers)
                if 300 <= script.status < 400:
                    extra.setdefault("location", self.url)
                self._attempts.append(Attempt(message_id, script.status))
                self._changed.notify_all()
                return script.status, extra
        status, outcome = self._verify(message_id, headers, body)
        with self._changed:
            if isinstance(outcome, Received):
                self._received.append(outcome)
            else:
                self._refused.append(outcome)
            self._attempts.append(Attempt(message_id, status))
            self._changed.notify_all()
        return status, {}

    def _verify(self, message_id: str | None, headers: dict[str, str], body: bytes) -> tuple[int, Received | Refused]:
        reasons = []
        for verifier in self._verifiers:
            try:
                verifier.verify(body, headers, json_parse=False)
            except WebhookVerificationError as error:
                reasons.append(str(error))
                continue
            assert message_id is not None  # verify insists on the header
            try:
                payload = json.loads(body)
            except ValueError:
                return 400, Refused(message_id, "signed, but the body is not JSON")
            return 204, Received(message_id, payload, headers)
        return 401, Refused(message_id, "; ".join(dict.fromkeys(reasons)))


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("content-length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                self._reply(413 if length > MAX_BODY else 400, {})
                return
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            self._reply(*receiver._answer(headers, body))

        def _reply(self, status: int, headers: Mapping[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: what a test needs is in ``attempts``."""

    return Handler
