"""Keep personal numbers, passwords and tokens out of every log line, whoever logs it
(our code, Litestar, SQLAlchemy, uvicorn): records are redacted as they are created."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping
from typing import Any

from service.domain.masking import mask_mobile, mask_national_id

_NATIONAL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?1[3-9][0-9]{9}(?![0-9])")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_SECRET_FIELD = re.compile(
    r"""(?ix)(["']?(?:password|new_password|current_password|otp|code|secret|access_token)["']?\s*[:=]\s*)
        (?:"[^"]*"|'[^']*'|[^\s,;&}]+)"""
)


_KEYWORDS = ("eyj", "bearer", "password", "otp", "code", "secret", "access_token")
_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")


def _may_hold_secret(text: str) -> bool:
    """Every pattern above needs one of the keywords or eleven digits in a row: text
    with none is left as it is after two quick scans instead of five (a log line per
    request goes through here)."""
    lowered = text.lower()
    return any(word in lowered for word in _KEYWORDS) or _ELEVEN_DIGITS.search(text) is not None


def redact(text: str) -> str:
    if not _may_hold_secret(text):
        return text
    text = _JWT.sub("[token]", text)
    text = _BEARER.sub(r"\1[token]", text)
    text = _SECRET_FIELD.sub(r"\1[redacted]", text)
    text = _NATIONAL_ID.sub(lambda m: mask_national_id(m.group(0)), text)
    return _MOBILE.sub(lambda m: mask_mobile(m.group(0)[-11:]), text)


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place. String arguments are redacted one by one, which keeps
    the record's shape for formatters that read ``args`` (uvicorn's access log does);
    only when the formatted message would still carry a secret (a number inside a
    non-string argument) is it replaced by its redacted text and the arguments dropped."""
    message = _formatted(record)
    if message is None or redact(message) != message:  # most records carry nothing to hide
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        message = _formatted(record)
        if message is not None and (clean := redact(message)) != message:
            record.msg = clean
            record.args = None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    return record


def _formatted(record: logging.LogRecord) -> str | None:
    try:
        return record.getMessage()
    except Exception:  # a broken format string is the logger's problem, not ours
        return None


_installed = False


def install() -> None:
    """Wrap the log record factory once per process."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
