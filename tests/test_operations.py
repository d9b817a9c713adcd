"""What operations rely on: readiness, the request id in headers and log lines, security
headers on every answer, and cross-origin calls only from configured origins."""

from __future__ import annotations

import dataclasses
import io
import json
import re

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from service import logs
from service.app import create_app
from service.config import Settings, async_url
from service.migrate import head_revision
from tests.conftest import Clock
from tests.factory import API, Api


async def test_ready_means_the_database_answers_at_the_migration_head(
    anonymous: AsyncTestClient[Litestar], settings: Settings
) -> None:
    ready = await anonymous.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ready",
        "database": "ok",
        "migrations": "at_head",
        "revision": head_revision(),
        "expected": head_revision(),
    }
    engine = create_async_engine(async_url(settings.database_url or ""))
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    finally:
        await engine.dispose()
    behind = await anonymous.get("/ready")
    assert behind.status_code == 503
    assert behind.headers["retry-after"] == "5"
    assert (behind.json()["migrations"], behind.json()["revision"]) == ("behind", "0003")
    assert (await anonymous.get("/health")).status_code == 200  # alive all the same


async def test_ready_answers_503_when_the_database_is_unreachable(settings: Settings, clock: Clock) -> None:
    nowhere = dataclasses.replace(settings, database_url="postgresql://postgres@127.0.0.1:1/none")
    async with AsyncTestClient(app=create_app(nowhere, clock=clock)) as client:
        response = await client.get("/ready")
        assert response.status_code == 503
        assert response.json()["database"] == "unreachable"
        assert (await client.get("/health")).status_code == 200


async def test_every_answer_carries_a_request_id_and_the_security_headers(
    anonymous: AsyncTestClient[Litestar],
) -> None:
    made = await anonymous.get(f"{API}/lookup")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    passed = await anonymous.get("/health", headers={"X-Request-ID": "lb-7f3a9c21-0001"})
    assert passed.headers["x-request-id"] == "lb-7f3a9c21-0001"
    hostile = await anonymous.get("/health", headers={"X-Request-ID": 'x" onmouseover=1 ' + "a" * 80})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])
    for response in (made, passed, await anonymous.get("/no/such/route"), await anonymous.get("/")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "x-request-id" in response.headers
    assert made.headers["cache-control"] == "no-store"
    assert made.headers["content-security-policy"].startswith("default-src 'none'")
    # A handler's own caching and the pages' own policy stay theirs.
    page = await anonymous.get("/")
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_log_lines_of_a_request_carry_its_id(settings: Settings, clock: Clock) -> None:
    strict = dataclasses.replace(settings, lookup_lock_threshold=1)
    app = create_app(strict, clock=clock)
    lines = io.StringIO()
    logs.configure("json", stream=lines)
    try:
        async with AsyncTestClient(app=app) as client:
            response = await client.get(
                f"{API}/lookup", params={"case_no": "BS-20990101-000001-1", "code": "2222-2222"}
            )
            assert response.status_code == 404
    finally:
        logs.configure(settings.log_format)
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    warned = [r for r in records if r["logger"] == "banshi.lookup"]
    assert len(warned) == 1, records
    assert warned[0]["request_id"] == response.headers["x-request-id"]
    assert warned[0]["level"] == "WARNING"
    assert {"time", "message"} <= set(warned[0])


async def test_cross_origin_calls_only_from_configured_origins(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock
) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    response = await client.options(f"{API}/cases", headers=preflight)
    assert "access-control-allow-origin" not in response.headers
    allowed = dataclasses.replace(settings, cors_origins=("https://portal.cq.gov.cn",))
    async with AsyncTestClient(app=create_app(allowed, clock=clock)) as other:
        good = await other.options(
            f"{API}/cases", headers={"Origin": "https://portal.cq.gov.cn", "Access-Control-Request-Method": "GET"}
        )
        assert good.headers["access-control-allow-origin"] == "https://portal.cq.gov.cn"
        bad = await other.options(f"{API}/cases", headers=preflight)
        assert bad.headers.get("access-control-allow-origin") != "https://evil.example"
        assert (await Api(other).send("GET", "/lookup", headers={"Origin": "https://evil.example"})).headers.get(
            "access-control-allow-origin"
        ) is None
