"""Log lines as JSON, one object per line, each carrying the id of the request it belongs to.

The request id comes from ``X-Request-ID`` when a proxy sent a usable one, else it is
made here (``service/api/request_context.py``); it is returned in the same header and
added to every line logged while that request is served, by our code, Litestar,
SQLAlchemy or uvicorn, and to the access line. ``BANSHI_LOG_FORMAT=text`` gives plain lines for
people reading a terminal. Personal data is already redacted when a record is made
(``service/adapters/log_redaction.py``).

Every answered request writes one access line (``access``, logger ``banshi.access``):
uvicorn's own access log is silenced here, because the app knows more (how long the
answer took) and writes the line for less (see ``access``).
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TextIO
from urllib.parse import quote

import msgspec

from service.adapters.log_redaction import redact

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

_TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_UVICORN = ("uvicorn", "uvicorn.error")
ACCESS = logging.getLogger("banshi.access")
_ENCODE = msgspec.json.Encoder().encode


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class TextLines(logging.Formatter):
    """``BANSHI_LOG_FORMAT=text``: the plain line, followed by the record's own fields as
    ``name=value`` (the access line's ``status=200 duration_ms=3.1``), which JSON writes
    as keys of their own."""

    def __init__(self) -> None:
        super().__init__(_TEXT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if not isinstance(fields, Mapping) or not fields:
            return line
        added = " ".join(f"{name}={value}" for name, value in fields.items())
        # Fields go on the first line, before a traceback that format() may have appended.
        first, newline, rest = line.partition("\n")
        return f"{first} {added}{newline}{rest}"


class JsonLines(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, ``request_id``, and ``exc_info`` with the (already redacted) traceback.
    Written with msgspec: every request logs an access line, and the general-purpose
    JSON formatter this replaced was a tenth of a case read's CPU with the rest of logging."""

    def format(self, record: logging.LogRecord) -> str:
        entry = _entry(
            record.created, record.levelname, record.name, record.getMessage(), getattr(record, "request_id", None)
        )
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            entry.update(fields)
        if record.exc_info:
            entry["exc_info"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return _ENCODE(entry).decode()


def _entry(created: float, level: str, logger: str, message: str, request_id: object) -> dict[str, object]:
    return {
        "time": utc_millis(created),
        "level": level,
        "logger": logger,
        "message": message,
        "request_id": request_id,
    }


_second: tuple[float, str] = (-1.0, "")
"""The last whole second formatted, and its text: one tuple, so that a thread never
reads one second's number with another's text."""


def utc_millis(created: float) -> str:
    """``datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")``, the
    same text for the same float (rounded to the microsecond as ``datetime`` rounds, then
    cut to the millisecond as ``isoformat`` cuts), with the date and time of day written
    once per second: formatting them for every line was a quarter of the access line's
    instructions. Not for times before 1970 (log lines are written now)."""
    global _second
    fraction, whole = math.modf(created)
    micro = round(fraction * 1e6)
    if micro >= 1_000_000:
        whole += 1.0
        micro -= 1_000_000
    second = _second
    if second[0] != whole:
        second = _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{second[1]}.{micro // 1000:03d}+00:00"


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

    def write_line(self, line: str) -> None:
        """A line already formatted, as ``emit`` writes a record's."""
        with self.lock:  # type: ignore[union-attr]
            stream = self.stream
            stream.write(line + "\n")
            stream.flush()


_json_handler: _Handler | None = None
"""The handler ``configure`` set up for JSON lines, which ``access`` writes to directly."""


def configure(log_format: str = "json", level: int = logging.INFO, stream: TextIO | None = None) -> None:
    global _json_handler
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(handler)
    handler = _Handler(stream)
    handler.addFilter(RequestIdFilter())
    if log_format == "text":
        handler.setFormatter(TextLines())
    else:
        handler.setFormatter(JsonLines())
    root.addHandler(handler)
    _json_handler = handler if log_format != "text" else None
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
    # The app writes the access lines (``access``); uvicorn, finding no handler for its
    # own, writes none (it looks once per connection), whatever its ``--access-log`` says.
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers = []
    uvicorn_access.propagate = False


def access(
    client: tuple[str, int] | None,
    method: str,
    path: str,
    query: bytes,
    version: str,
    status: int,
    seconds: float | None,
) -> None:
    """The access line of an answered request, as uvicorn's read (``127.0.0.1:50412 -
    "GET /api/v1/cases/… HTTP/1.1" 200``, the path quoted as uvicorn quotes it, the query
    redacted as every log line is) with ``status`` and ``duration_ms`` (until the answer
    began) as fields of their own.

    Written straight to the JSON handler when it is the only one and nothing else listens
    to ``banshi.access``: a log record passed through ``logging`` cost 30 us to 50 us, a
    tenth of a case read, this way about 5 us (the README's "Operations", "Logs").
    Otherwise (text lines, a test capturing records) it is an ordinary record with the
    same message and fields (``tests/test_access_log.py``)."""
    if not ACCESS.isEnabledFor(logging.INFO):
        return
    target = quote(path)
    if query:
        target = f"{target}?{redact(query.decode('ascii', 'backslashreplace'))}"
    where = f"{client[0]}:{client[1]}" if client else "-"
    message = f'{where} - "{method} {target} HTTP/{version}" {status}'
    # Tenths of a millisecond rounded half up: ``round(x, 1)`` cost as much as the rest of the line's numbers.
    fields = {"status": status, "duration_ms": None if seconds is None else int(seconds * 10_000 + 0.5) / 10}
    handler = _json_handler
    root = logging.getLogger()
    if handler is None or ACCESS.handlers or root.handlers != [handler] or not ACCESS.propagate:
        ACCESS.info(message, extra={"fields": fields})
        return
    entry = _entry(time.time(), "INFO", ACCESS.name, message, REQUEST_ID.get())
    entry.update(fields)
    handler.write_line(_ENCODE(entry).decode())
