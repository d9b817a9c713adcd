"""Hostile input, parser by parser: every family answers 4xx as problem+json, never 500.

JSON bodies (nesting, encodings, lax types), query strings, path parameters, the
If-Match and Idempotency-Key headers, multipart uploads, the receipt's code, and the
request head itself (the last against the server the production way, since the bound
lives in the HTTP protocol, not in the app).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest
from litestar import Litestar
from litestar.exceptions import ValidationException
from litestar.testing import AsyncTestClient

import service.app
from schemas.base import Input
from service.adapters.http_server import MAX_HEAD_BYTES
from service.api.bodies import MAX_NESTING, decode, too_deep
from service.errors import MalformedBody
from service.security.keys import Keys
from tests.factory import API, Api
from tests.live import running_service, service_env

NESTED = b'{"username":' + b"[" * 1000 + b"]" * 1000 + b',"password":"x"}'


def _field(problem: dict[str, Any]) -> str:
    return str(problem["errors"][0]["field"])


# ---------------------------------------------------------------------------------- JSON


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (NESTED, "body"),
        (b'{"username":"\xff\xfe","password":"x"}', "body"),  # invalid UTF-8 inside a string
        (b'{"username":"\xed\xa0\x80","password":"x"}', "body"),  # a lone surrogate, encoded
        (b'{"username":"a","password":', "body"),  # cut off
        (b'{"username":"a" "password":"b"}', "body"),
        (b"\xef\xbb\xbf{}", "body"),  # a byte-order mark is not JSON
        (b'{"username":1,"password":"x"}', "username"),
        (b'{"username":"a","password":"x","role":"admin"}', "role"),
        (b"[" * (MAX_NESTING + 1) + b"]" * (MAX_NESTING + 1), "body"),
    ],
)
async def test_a_body_that_cannot_be_read_answers_400_naming_it(
    anonymous: AsyncTestClient[Litestar], body: bytes, field: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = await anonymous.post(f"{API}/auth/login", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _field(response.json()) == field
    # No traceback, and nothing at ERROR: anyone can send these.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_deep_body_is_refused_on_every_json_endpoint_as_well(client: AsyncTestClient[Litestar]) -> None:
    for path in ("/cases", "/workers", "/staff", "/accounts"):
        response = await client.post(f"{API}{path}", content=NESTED, headers={"content-type": "application/json"})
        assert response.status_code == 400, (path, response.text)
        assert _field(response.json()) == "body"


def test_nesting_counts_brackets_but_not_those_inside_strings() -> None:
    assert not too_deep(b"[" * MAX_NESTING + b"]" * MAX_NESTING)
    assert too_deep(b"[" * (MAX_NESTING + 1) + b"]" * (MAX_NESTING + 1))
    assert not too_deep(b'{"a":"' + b"[" * 500 + b'"}')
    assert not too_deep(b'{"a":"x\\"' + b"[" * 500 + b'"}')  # an escaped quote does not end the string
    assert not too_deep(b"[" + b"[1]," * 500 + b"[1]]")  # many brackets, shallow
    with pytest.raises(MalformedBody):
        decode(b"[" * 100 + b"]" * 100, Any)


def _input_structs() -> list[type[Input]]:
    found: list[type[Input]] = []
    pending: list[type[Input]] = [Input]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.append(sub)
            pending.append(sub)
    return found


def _scalar(info: msgspec.inspect.Type) -> type | None:
    """bool or int, also when optional or unset-able."""
    if isinstance(info, msgspec.inspect.BoolType):
        return bool
    if isinstance(info, msgspec.inspect.IntType):
        return int
    if isinstance(info, msgspec.inspect.UnionType):
        kinds = {k for k in map(_scalar, info.types) if k is not None}
        return kinds.pop() if len(kinds) == 1 else None
    return None


WRONG: dict[type, list[Any]] = {bool: [0, 1, "true", "false"], int: ["5", 5.5, True, "0x10"]}


def test_every_boolean_and_integer_field_of_every_body_is_strict() -> None:
    """``1`` is not ``true`` and ``"5"`` is not ``5``, in every request body the API has."""
    assert service.app  # the app imports every request body's Struct
    checked = 0
    for struct in _input_structs():
        info = msgspec.inspect.type_info(struct)
        assert isinstance(info, msgspec.inspect.StructType)
        tag = {info.tag_field: info.tag} if info.tag_field else {}
        for field in info.fields:
            kind = _scalar(field.type)
            if kind is None:
                continue
            for value in WRONG[kind]:
                body = msgspec.json.encode({**tag, field.encode_name: value})
                with pytest.raises(ValidationException) as refused:
                    decode(body, struct)
                assert f"`$.{field.encode_name}`" in str(refused.value), (struct, field.name, value)
                checked += 1
    assert checked >= 10  # the published flag, the MFA switch, targets, limits ...


async def test_a_lax_boolean_is_refused_by_the_api_and_changes_nothing(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    before = await api.ok("GET", "/calendar/2027")
    for value in (0, 1, "false"):
        problem = await api.problem("PUT", "/calendar/2027", 400, json={"days": [], "note": "", "published": value})
        assert _field(problem) == "published"
    assert await api.ok("GET", "/calendar/2027") == before


# --------------------------------------------------------------------- query and path


@pytest.mark.parametrize(
    "query",
    [
        "limit=10000000000000000000000",
        "limit=1.5",
        "limit=%ff",
        "offset=-1",
        "status=%ff%fe",
        "status=resolved%00",
        "sort=case_no;drop",
        "worker_id=not-a-uuid",
        "district_code=" + "x" * 5000,
        "created_from=0.5",
        "created_to=1",
        "created_from=2026-13-01T00:00:00Z",
        "due_state=red",
        "&".join(["status=closed"] * 9),
    ],
)
async def test_a_bad_query_answers_400(client: AsyncTestClient[Litestar], query: str) -> None:
    response = await client.get(f"{API}/cases?{query}")
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"].startswith("query.")


async def test_every_integer_in_a_query_is_written_as_one(client: AsyncTestClient[Litestar]) -> None:
    """Every GET with an integer query parameter the document names, with that parameter
    written as ``20.0``: 400 naming it, before anything is read."""
    document = json.loads(service.app.openapi_document())
    refused: list[str] = []
    for path, item in document["paths"].items():
        operation = item.get("get")
        if operation is None or "{" in path:
            continue
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            types = [schema.get("type"), *(s.get("type") for s in schema.get("oneOf", []))]
            if parameter["in"] != "query" or "integer" not in types:
                continue
            response = await client.get(path, params={parameter["name"]: "20.0"})
            if response.status_code == 403:
                continue  # the administrator's guard answers first
            assert response.status_code == 400, (path, parameter["name"], response.text)
            assert _field(response.json()) == f"query.{parameter['name']}"
            refused.append(f"{path}?{parameter['name']}")
    assert len(refused) >= 15, refused
    # The framework's own OPTIONS answer reads no integer.
    preflight = await client.options(f"{API}/notifications", params={"limit": "20.0"})
    assert preflight.status_code == 204, preflight.text


@pytest.mark.parametrize("path", ["/cases/not-a-uuid", "/cases/%ff", "/cases/" + "1" * 5000, "/workers/%00"])
async def test_a_bad_path_parameter_is_not_found(client: AsyncTestClient[Litestar], path: str) -> None:
    response = await client.get(f"{API}{path}")
    assert response.status_code in (400, 404), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_metrics_period_refuses_years_outside_its_pattern(client: AsyncTestClient[Litestar]) -> None:
    for query in ("period=0000", "period=9999", "period=0000-Q1", "from=9999-12-30&to=9999-12-31", "from=0.5&to=1"):
        response = await client.get(f"{API}/metrics/items?{query}")
        assert response.status_code in (400, 422), (query, response.text)
        assert response.json()["errors"][0]["field"] in ("query.period", "query.from", "query.to")


# ------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    "if_match",
    ["garbage", '"' + "x" * 8000 + '"', "W/", '"*"', ", , ,", '"\u00e9"'.encode().decode("latin-1"), "*" * 100],
)
async def test_a_strange_if_match_answers_412_or_428(client: AsyncTestClient[Litestar], if_match: str) -> None:
    case = await Api(client).case()
    response = await client.patch(
        f"{API}/cases/{case['id']}", json={"title": "改"}, headers={b"If-Match": if_match.encode("latin-1")}
    )
    assert response.status_code in (412, 428), response.text
    assert (await Api(client).ok("GET", f"/cases/{case['id']}"))["version"] == case["version"]


@pytest.mark.parametrize("key", ["", "k" * 129, "key\x01", "\u00e9".encode().decode("latin-1")])
async def test_a_bad_idempotency_key_answers_400(client: AsyncTestClient[Litestar], key: str) -> None:
    api = Api(client)
    case = await api.case()
    body = {"worker_id": case["worker_id"], "item_id": case["item_id"], "title": "再来", "channel": "phone"}
    response = await client.post(f"{API}/cases", json=body, headers={b"Idempotency-Key": key.encode("latin-1")})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == "header.Idempotency-Key"


@pytest.mark.parametrize("code", ["", "x" * 100, "K7MX%00", "%ff", "K7MX 4QPA", "<script>"])
async def test_a_bad_receipt_code_answers_400_or_422(client: AsyncTestClient[Litestar], code: str) -> None:
    case = await Api(client).case()
    response = await client.get(f"{API}/cases/{case['id']}/receipt?code={code}")
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_strange_authorization_answers_401(anonymous: AsyncTestClient[Litestar]) -> None:
    for value in ("Bearer " + "x" * 10_000, "Bearer \u00e9".encode().decode("latin-1"), "Basic abc", "Bearer"):
        response = await anonymous.get(f"{API}/cases", headers={b"Authorization": value.encode("latin-1")})
        assert response.status_code == 401, response.text


# ------------------------------------------------------------------------- multipart


async def test_a_broken_multipart_upload_answers_4xx_and_stores_nothing(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    case = await api.case()
    url = f"{API}/cases/{case['id']}/attachments"
    attempts: list[dict[str, Any]] = [
        {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=x"}},
        {"content": b"", "headers": {"content-type": "multipart/form-data"}},
        {"files": {"visibility": (None, "public")}},  # no file
        {"files": {"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}, "data": {"visibility": "secret"}},
        {"content": b"--x\r\n" * 20_000, "headers": {"content-type": "multipart/form-data; boundary=x"}},
    ]
    for attempt in attempts:
        response = await client.post(url, **attempt)
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await api.ok("GET", f"/cases/{case['id']}/attachments") == []


# ----------------------------------------------------------------- the request head


def _send_head(url: str, head: bytes) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        with contextlib.suppress(OSError):  # the server may close before the whole head is sent
            conn.sendall(head)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _never_ending_header(url: str, megabytes: int) -> bytes:
    """A header that keeps coming, 16 KiB at a time, until the server hangs up."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Flood: ")
        chunk = b"a" * 16384
        with contextlib.suppress(OSError):
            for _ in range(megabytes * 64):
                conn.sendall(chunk)
        try:
            return conn.recv(65536)
        except OSError:
            return b""


async def test_the_request_head_is_bounded_and_answered_431(database_url: str, test_keys: Keys, tmp_path: Path) -> None:
    env = service_env(test_keys, database_url, tmp_path)
    async with running_service(env, tmp_path / "service.log") as service:
        ok = _send_head(
            service.url,
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Fine: " + b"a" * 16000 + b"\r\nConnection: close\r\n\r\n",
        )
        assert ok.startswith(b"HTTP/1.1 200"), ok[:200]
        big = _send_head(service.url, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8_000_000 + b"\r\n\r\n")
        assert big.startswith(b"HTTP/1.1 431"), big[:200]
        assert b"application/problem+json" in big
        long_url = _send_head(
            service.url, b"GET /health?" + b"q" * (MAX_HEAD_BYTES + 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        assert long_url.startswith(b"HTTP/1.1 431"), long_url[:200]
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(5000))
        assert _send_head(service.url, b"GET /health HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n").startswith(
            b"HTTP/1.1 431"
        )

        # Eight connections that each send a header without end hold the worker's memory
        # near where it was (it grew by 147 MiB before the bound, 16 MB each).
        before = _rss_kib(service.process.pid)
        started = time.monotonic()
        answers = await asyncio.gather(*(asyncio.to_thread(_never_ending_header, service.url, 16) for _ in range(8)))
        grew = _rss_kib(service.process.pid) - before
        assert all(a.startswith(b"HTTP/1.1 431") for a in answers), [a[:60] for a in answers]
        assert grew < 16 * 1024, f"the worker grew by {grew} KiB"
        assert time.monotonic() - started < 20
        after = await asyncio.to_thread(
            _send_head, service.url, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert after.startswith(b"HTTP/1.1 200")
