"""Log records lose personal numbers and secrets without losing their shape."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from uvicorn.logging import AccessFormatter

from service.adapters import log_redaction
from service.adapters.logs import JsonLines

ID = "500103199001011234"


def record(msg: str, args: tuple[object, ...], name: str = "banshi.test", exc: bool = False) -> logging.LogRecord:
    log_redaction.install()
    exc_info = None
    if exc:
        try:
            raise ValueError(f"bad number {ID}")
        except ValueError as error:
            exc_info = (type(error), error, error.__traceback__)
    return logging.getLogRecordFactory()(name, logging.INFO, __file__, 1, msg, args, exc_info)


def test_uvicorn_access_lines_keep_their_arguments_and_lose_the_number() -> None:
    access = record('%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", "GET", f"/api/v1/workers?name={ID}", "1.1", 200))
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(access)
    assert ID not in line
    assert "500***********1234" in line and "200" in line


def test_a_number_inside_a_non_string_argument_is_masked() -> None:
    statement = record("[generated] %r", ((ID, "13812345678"),), name="sqlalchemy.engine.Engine")
    message = statement.getMessage()
    assert ID not in message and "13812345678" not in message
    assert "138****5678" in message


def test_tokens_passwords_and_exception_texts_are_removed() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJlLXZhbHVl"
    line = record("auth %s body %s", (f"Bearer {token}", '{"password": "Hunter-2-Hunter"}'), exc=True)
    assert token not in line.getMessage() and "Hunter-2-Hunter" not in line.getMessage()
    assert line.exc_text is not None and ID not in line.exc_text and "500***********1234" in line.exc_text


def test_json_lines_carry_the_redacted_traceback_and_a_utc_time() -> None:
    failed = record("request failed for %s", ("13812345678",), exc=True)
    failed.request_id = "req-12345678"
    line = JsonLines().format(failed)
    entry = json.loads(line)
    assert ID not in line and "13812345678" not in line
    assert "500***********1234" in entry["exc_info"] and "ValueError" in entry["exc_info"]
    assert entry["message"] == "request failed for 138****5678"
    assert entry["request_id"] == "req-12345678" and entry["level"] == "INFO" and entry["logger"] == "banshi.test"
    assert datetime.fromisoformat(entry["time"]).utcoffset() == timedelta(0)
