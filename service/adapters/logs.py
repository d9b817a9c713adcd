"""Log lines as JSON, one object per line, each carrying the id of the request it belongs to.

The request id comes from ``X-Request-ID`` when a proxy sent a usable one, else it is
made here (``service/api/request_context.py``); it is returned in the same header and
added to every line logged while that request is served, by our code, Litestar,
SQLAlchemy or uvicorn's access log. ``BANSHI_LOG_FORMAT=text`` gives plain lines for
people reading a terminal. Personal data is already redacted when a record is made
(``service/adapters/log_redaction.py``).
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

import msgspec

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

_TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, ``request_id``, and ``exc_info`` with the (already redacted) traceback.
    Written with msgspec: every request logs an access line, and the general-purpose
    JSON formatter this replaced was a tenth of a case read's CPU with the rest of logging."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["exc_info"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return msgspec.json.encode(entry).decode()


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Ours, so that configuring twice (one app per test) adds no second handler. Without
    a stream of its own it writes to whatever ``sys.stderr`` is when a line is written, so
    lines logged at exit, after a test runner has put stderr back, still have somewhere to go."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._own = stream

    @property
    def stream(self) -> TextIO:
        return self._own or sys.stderr

    @stream.setter
    def stream(self, value: TextIO | None) -> None:
        self._own = value


def configure(log_format: str = "json", level: int = logging.INFO, stream: TextIO | None = None) -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(handler)
    handler = _Handler(stream)
    handler.addFilter(RequestIdFilter())
    if log_format == "text":
        handler.setFormatter(logging.Formatter(_TEXT))
    else:
        handler.setFormatter(JsonLines())
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request's URL at INFO; a text-message provider's URL carries the
    # mobile number and the template's values, and a webhook's may carry a token.
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
    # uvicorn's own handlers would print its lines a second time, without the request id.
    # A logger uvicorn left without handlers and not propagating (``--no-access-log``)
    # stays silent.
    for name in _UVICORN:
        logger = logging.getLogger(name)
        if logger.handlers:
            logger.handlers = []
            logger.propagate = True
