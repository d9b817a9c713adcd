"""What operations rely on: readiness, the request id in headers and log lines, security
headers on every answer, and cross-origin calls only from configured origins."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from service.adapters import logs
from service.adapters.migrate import head_revision
from service.app import create_app
from service.config import Settings, async_url
from service.security.keys import Keys
from tests.conftest import Clock
from tests.factory import API, Api
from tests.live import running_service, service_env


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
        "read_replicas": [],  # none configured
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


def _samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_requests_by_route_and_status_and_the_open_cases(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar], clock: Clock
) -> None:
    api = Api(client)
    before = _samples((await anonymous.get("/metrics")).text)
    open_case = await api.case()
    late = await api.move(await api.case(), "accept")
    clock.advance(days=40)  # well past 14 working days
    for _ in range(3):
        await anonymous.get(f"{API}/lookup")  # 400: no parameters
    await anonymous.get("/api/v1/no/such/route/12345")
    for method in ("BREW", "WHEN", "PROPFIND"):  # any word is a method to a client
        await anonymous.request(method, f"{API}/cases")
    response = await anonymous.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    after = _samples(response.text)
    lookups = {"method": "GET", "route": "/api/v1/lookup", "status": "400"}
    assert (
        _value(after, "banshi_http_requests_total", **lookups) - _value(before, "banshi_http_requests_total", **lookups)
        == 3
    )
    created = {"method": "POST", "route": "/api/v1/cases", "status": "201"}
    assert (
        _value(after, "banshi_http_requests_total", **created) - _value(before, "banshi_http_requests_total", **created)
        == 2
    )
    odd = {"method": "GET", "route": "(unmatched)", "status": "404"}
    assert _value(after, "banshi_http_requests_total", **odd) > _value(before, "banshi_http_requests_total", **odd)
    assert not any("12345" in str(labels) for _, labels in after)
    methods = {dict(labels).get("method") for name, labels in after if name == "banshi_http_requests_total"}
    assert "OTHER" in methods
    assert not methods & {"BREW", "WHEN", "PROPFIND"}
    timed = {"method": "GET", "route": "/api/v1/lookup"}
    assert _value(after, "banshi_http_request_duration_seconds_count", **timed) >= 3
    # The case counts are read at the scrape, from the database (the clock of the
    # database is real time, so "overdue" uses the due time against now()).
    assert _value(after, "banshi_cases", state="open") == 2
    assert open_case["status"] == "submitted"
    assert late["due"]["due_at"] is not None
    assert _value(after, "banshi_db_pool_connections", state="size") >= 1


async def test_metrics_need_the_token_when_one_is_set(settings: Settings, clock: Clock) -> None:
    guarded = dataclasses.replace(settings, metrics_token="scrape-secret-2026")
    async with AsyncTestClient(app=create_app(guarded, clock=clock)) as client:
        refused = await client.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        allowed = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-2026"})
        assert allowed.status_code == 200
        assert "banshi_cases" in allowed.text


async def test_metrics_add_up_the_requests_of_every_worker_process(
    database_url: str, test_keys: Keys, tmp_path: Path
) -> None:
    counts = tmp_path / "prometheus"
    counts.mkdir()
    env = service_env(test_keys, database_url, tmp_path, PROMETHEUS_MULTIPROC_DIR=str(counts))
    async with (
        running_service(env, tmp_path / "service.log", workers=2) as service,
        httpx.AsyncClient(base_url=service.url, timeout=10) as http,
    ):
        base = service.url
        for _ in range(40):  # new connections, spread over both workers by the kernel
            async with httpx.AsyncClient(base_url=base, timeout=10) as once:
                assert (await once.get("/health")).status_code == 200
        samples = _samples((await http.get("/metrics")).text)
    health = {"method": "GET", "route": "/health", "status": "200"}
    assert _value(samples, "banshi_http_requests_total", **health) >= 40
    workers_seen = {p.name.split("_")[-1] for p in counts.glob("counter_*.db")}
    assert len(workers_seen) == 2, workers_seen


async def test_the_docs_can_be_switched_off(settings: Settings, clock: Clock) -> None:
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as on:
        assert (await on.get("/docs/openapi.json")).status_code == 200
    production = dataclasses.replace(settings, docs_enabled=False)
    async with AsyncTestClient(app=create_app(production, clock=clock)) as off:
        for path in ("/docs", "/docs/openapi.json", "/docs/swagger", "/docs/scalar", "/docs/redoc"):
            assert (await off.get(path)).status_code == 404, path
        assert (await off.get("/health")).status_code == 200


async def test_the_served_process_logs_json_lines_with_the_request_id(
    database_url: str, test_keys: Keys, tmp_path: Path
) -> None:
    """Under uvicorn, as deployed: the access line carries the id too, with the status and the time taken."""
    log = tmp_path / "service.log"
    env = service_env(test_keys, database_url, tmp_path, BANSHI_LOG_FORMAT="json")
    async with running_service(env, log, access_log=True) as service, httpx.AsyncClient(base_url=service.url) as http:
        sent = await http.get("/health", headers={"X-Request-ID": "probe-20261123-0001"})
        made = await http.get(f"{API}/lookup", params={"case_no": "BS-20990101-000001-1", "code": "2222-2222"})
    assert sent.headers["x-request-id"] == "probe-20261123-0001"
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert records, log.read_text()[-2000:]
    access = {r["request_id"]: r for r in records if r["logger"] == "banshi.access"}
    assert '"GET /health HTTP/1.1" 200' in access["probe-20261123-0001"]["message"]
    assert access["probe-20261123-0001"]["status"] == 200
    assert access["probe-20261123-0001"]["duration_ms"] >= 0
    assert access[made.headers["x-request-id"]]["message"].endswith('" 404')
    assert "2222-2222" not in log.read_text()  # the query code is redacted in the access line
    # One access line per request: uvicorn's own access log stays silent.
    assert not [r for r in records if r["logger"] == "uvicorn.access"]


async def test_a_body_over_the_limit_is_cut_off_with_413(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    before = (await api.ok("GET", "/cases"))["total"]
    template = await api.case()
    huge = {
        "worker_id": template["worker_id"],
        "item_id": template["item_id"],
        "title": "x",
        "channel": "phone",
        "description": "材" * 400_000,  # 1.2 MB of UTF-8
    }
    refused = await api.problem("POST", "/cases", 413, json=huge)
    assert refused["status"] == 413
    assert (await api.ok("GET", "/cases"))["total"] == before + 1  # only the template
