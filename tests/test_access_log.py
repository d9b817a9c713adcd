"""The access line: one per answered request, the same whether it is written straight to
the JSON handler or passed through ``logging`` as a record."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from service.adapters import log_redaction, logs
from service.adapters.logs import REQUEST_ID

MOBILE = "13812345678"


@contextmanager
def json_logs(*, alone: bool) -> Iterator[io.StringIO]:
    """JSON lines into a buffer; ``alone``: the only handler on the root logger (the way
    the service runs), else beside one more (as a test runner's capturing handler is)."""
    log_redaction.install()
    root = logging.getLogger()
    kept = root.handlers[:]
    level = root.level
    lines = io.StringIO()
    logs.configure("json", stream=lines)
    ours = [h for h in root.handlers if h not in kept]
    root.handlers = ours if alone else [*ours, logging.NullHandler()]
    token = REQUEST_ID.set("req-access-0001")
    try:
        yield lines
    finally:
        REQUEST_ID.reset(token)
        root.handlers = kept
        root.setLevel(level)


def access_line(*, alone: bool, **overrides: Any) -> dict[str, Any]:
    call: dict[str, Any] = {
        "client": ("10.1.2.3", 50412),
        "method": "GET",
        "path": "/api/v1/lookup",
        "query": f"case_no=BS-20990101-000001-1&code=2222-2222&mobile={MOBILE}".encode(),
        "version": "1.1",
        "status": 404,
        "seconds": 0.01234,
    }
    call.update(overrides)
    with json_logs(alone=alone) as lines:
        logs.access(**call)
    written = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert len(written) == 1, written
    entry: dict[str, Any] = written[0]
    return entry


def test_the_line_written_straight_is_the_line_a_record_gives() -> None:
    straight = access_line(alone=True)
    recorded = access_line(alone=False)
    assert straight.pop("time")[:10] == recorded.pop("time")[:10]
    assert straight == recorded
    assert straight["logger"] == "banshi.access" and straight["level"] == "INFO"
    assert straight["request_id"] == "req-access-0001"
    assert straight["status"] == 404 and straight["duration_ms"] == 12.3
    message = straight["message"]
    assert message.startswith('10.1.2.3:50412 - "GET /api/v1/lookup?case_no=BS-20990101-000001-1&code=')
    assert message.endswith(' HTTP/1.1" 404')


def test_the_query_loses_codes_and_numbers_and_the_path_is_quoted() -> None:
    for alone in (True, False):
        entry = access_line(alone=alone, path='/api/v1/cases/x"\n', query=f"q={MOBILE}&code=2222-2222".encode())
        assert "2222-2222" not in entry["message"] and MOBILE not in entry["message"], entry
        assert "138****5678" in entry["message"]
        assert "/api/v1/cases/x%22%0A?" in entry["message"], entry


def test_an_unrouted_request_and_a_missing_client_still_give_a_line() -> None:
    entry = access_line(alone=True, client=None, query=b"", status=405, seconds=None)
    assert entry["message"] == '- - "GET /api/v1/lookup HTTP/1.1" 405'
    assert entry["duration_ms"] is None


def test_no_line_below_the_level_or_when_turned_off_by_the_logger() -> None:
    with json_logs(alone=True) as lines:
        logging.getLogger().setLevel(logging.WARNING)
        logs.access(("10.1.2.3", 1), "GET", "/health", b"", "1.1", 200, 0.001)
    assert lines.getvalue() == ""


def test_line_times_are_what_datetime_writes() -> None:
    """``utc_millis`` writes the date and time of day once per second; the text must be
    ``datetime``'s for every float, the microsecond rounding at a second's edge included."""
    import random
    from datetime import UTC, datetime

    rng = random.Random(2026)
    created = [rng.uniform(0, 4_102_444_800) for _ in range(20_000)]
    created += [1_764_547_200 + i / 7 for i in range(3_000)]  # many lines within each second
    created += [1.9999996, 2.0000004, 1_764_547_200.9999995, 1_764_547_200.9994999, 0.0]
    for value in created:
        assert logs.utc_millis(value) == datetime.fromtimestamp(value, UTC).isoformat(timespec="milliseconds"), value


def test_the_duration_is_in_tenths_of_a_millisecond() -> None:
    assert access_line(alone=True, seconds=0.01234)["duration_ms"] == 12.3
    assert access_line(alone=True, seconds=0.01236)["duration_ms"] == 12.4
    assert access_line(alone=True, seconds=0.01249)["duration_ms"] == 12.5
    assert access_line(alone=True, seconds=0.0)["duration_ms"] == 0.0


def test_a_text_line_shows_the_status_and_duration() -> None:
    log_redaction.install()
    root = logging.getLogger()
    kept, level = root.handlers[:], root.level
    lines = io.StringIO()
    logs.configure("text", stream=lines)
    root.handlers = [h for h in root.handlers if h not in kept]
    try:
        logs.access(("10.1.2.3", 50412), "GET", "/api/v1/cases/x", b"", "1.1", 200, 0.0031)
    finally:
        root.handlers = kept
        root.setLevel(level)
    (line,) = lines.getvalue().splitlines()
    assert line.endswith(
        'banshi.access [None] 10.1.2.3:50412 - "GET /api/v1/cases/x HTTP/1.1" 200 status=200 duration_ms=3.1'
    )
