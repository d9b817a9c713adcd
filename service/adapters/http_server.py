"""uvicorn's HTTP protocol with a bound on the request head (request line and headers).

uvicorn puts no limit on headers with httptools, its fast parser: an 8 MB header was
answered 200, and a header that never ends was buffered without end (eight connections
each sending 16 MB took a worker from 141 to 288 MiB). The service is published
directly (compose has no proxy in front of it), so the server itself refuses a head
larger than ``MAX_HEAD_BYTES`` with 431 and closes the connection, having held at most
that much of it plus one read.

The bound counts what arrives while a request's head is being parsed, so a body, however
large, is not counted. ``banshi serve`` runs uvicorn with this protocol class.
"""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_HEAD_BYTES = 32 * 1024
"""The request line and every header together, as nginx's default large header buffers
allow (4 x 8 KiB); a bearer token and the usual browser headers take under 4 KiB."""

_BODY = json.dumps(
    {
        "type": "/problems/header_too_large",
        "title": "Request header fields too large",
        "status": 431,
        "detail": f"the request line and headers may take at most {MAX_HEAD_BYTES // 1024} KiB",
    }
).encode()


class _HeadTooLarge(Exception):
    """Raised from a parser callback: httptools stops and hands it on as a parser error."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Two counts guard the bound: the request line and headers the parser has delivered
    (a head that arrives in one read), and the bytes received while a head is still
    unfinished (a header that never ends, which the parser buffers without delivering)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False
        self._received = 0
        self._parsed = 0
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._in_head and not self._refused:
            self._received += len(data)
            if self._received > MAX_HEAD_BYTES:
                self._refuse()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._received = self._parsed = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and the line break
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers every parser error 400; the one raised by ``_count`` is ours.
        if self._parsed > MAX_HEAD_BYTES:
            self._refuse()
        else:
            super().send_400_response(msg)

    def _count(self, size: int) -> None:
        self._parsed += size
        if self._parsed > MAX_HEAD_BYTES:
            raise _HeadTooLarge

    def _refuse(self) -> None:
        self._refused = True
        self.logger.warning("Request head over %d bytes refused with 431.", MAX_HEAD_BYTES)
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[431],
                    b"content-type: application/problem+json\r\n",
                    b"content-length: " + str(len(_BODY)).encode() + b"\r\n",
                    b"connection: close\r\n\r\n",
                    _BODY,
                ]
            )
        )
        self.transport.close()
