"""Keep personal numbers, passwords and tokens out of every log line, whoever logs it
(our code, Litestar, SQLAlchemy, uvicorn): records are redacted as they are created."""

from __future__ import annotations

import logging
import re
import traceback
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


def redact(text: str) -> str:
    text = _JWT.sub("[token]", text)
    text = _BEARER.sub(r"\1[token]", text)
    text = _SECRET_FIELD.sub(r"\1[redacted]", text)
    text = _NATIONAL_ID.sub(lambda m: mask_national_id(m.group(0)), text)
    return _MOBILE.sub(lambda m: mask_mobile(m.group(0)[-11:]), text)


_installed = False


def install() -> None:
    """Wrap the log record factory once per process."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw text, redacted
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
