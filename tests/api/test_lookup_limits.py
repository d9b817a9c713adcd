"""Lookup limits hold across service processes: the counters live in Redis.

Redis runs beside PostgreSQL on our machines and in compose; these tests use
``BANSHI_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``), each under a key
prefix of its own, and fail rather than skip when Redis does not answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from service.adapters.limits import Counters, LimitsUnavailable, LocalCounters, RedisCounters
from service.app import create_app
from service.config import Settings
from service.security.keys import Keys
from tests.conftest import Clock
from tests.factory import ADMIN_PASSWORD, API, Api, national_id
from tests.live import running_service, service_env

REDIS_URL = os.environ.get("BANSHI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"banshi-test-{uuid.uuid4().hex[:12]}:"
    client: Redis = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        pytest.fail(f"Redis does not answer at {REDIS_URL} ({exc}); start it or set BANSHI_TEST_REDIS_URL")
    try:
        yield prefix
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture(params=["redis", "local"])
async def counters(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[Counters]:
    store: Counters = RedisCounters(REDIS_URL, redis_prefix) if request.param == "redis" else LocalCounters()
    try:
        yield store
    finally:
        await store.close()


async def test_counters_count_in_a_window_and_lock_for_longer(counters: Counters) -> None:
    assert (await counters.peek("a")).hits == 0
    first = await counters.hit("a", 60)
    second = await counters.hit("a", 60)
    assert (first.hits, second.hits) == (1, 2)
    assert 55 <= second.seconds_left <= 60
    assert (await counters.peek("a")).hits == 2
    assert (await counters.hit("b", 60)).hits == 1  # keys are apart
    await counters.extend("a", 600)
    assert 595 <= (await counters.peek("a")).seconds_left <= 600
    await counters.clear("a")
    assert (await counters.peek("a")).hits == 0


async def test_a_window_ends_and_the_count_starts_again(counters: Counters) -> None:
    await counters.hit("short", 1)
    await counters.hit("short", 1)
    await asyncio.sleep(2.1)
    assert (await counters.peek("short")).hits == 0
    assert (await counters.hit("short", 1)).hits == 1


async def test_an_unreachable_redis_refuses_instead_of_counting_nothing() -> None:
    gone = RedisCounters("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(LimitsUnavailable):
            await gone.hit("x", 60)
    finally:
        await gone.close()


async def test_two_service_processes_share_the_lockout_and_the_address_limit(
    database_url: str, redis_prefix: str, tmp_path: Path, test_keys: Keys
) -> None:
    env = service_env(
        test_keys,
        database_url,
        tmp_path,
        BANSHI_REDIS_URL=REDIS_URL,
        BANSHI_REDIS_PREFIX=redis_prefix,
        BANSHI_LOOKUP_LOCK_THRESHOLD="3",
        BANSHI_LOOKUP_LIMIT_PER_ADDRESS="9",
    )
    async with (
        running_service(env, tmp_path / "one.log") as first,
        running_service(env, tmp_path / "two.log") as second,
    ):
        one, two = first.url, second.url
        async with httpx.AsyncClient(base_url=one + API, timeout=10) as admin:
            token = (await admin.post("/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})).json()
            admin.headers["Authorization"] = f"Bearer {token['access_token']}"
            staff = {"name": "王管家", "role": "steward", "district_code": "yubei"}
            steward = (await admin.post("/staff", json=staff)).json()
            person = {
                "name": "张明",
                "national_id": national_id(),
                "mobile": "13812345678",
                "employer": "重庆大学",
                "district_code": "yubei",
                "steward_id": steward["id"],
            }
            worker = (await admin.post("/workers", json=person)).json()
            items = (await admin.get("/work-list-items?year=2026")).json()
            item = next(i for i in items if i["code"] == "WL-01")
            body = {"worker_id": worker["id"], "item_id": item["id"], "title": "人才住房", "channel": "phone"}
            created = await admin.post("/cases", json=body)
        assert created.status_code == 201, created.text
        case_no, code = created.json()["case_no"], created.json()["query_code"]

        async with httpx.AsyncClient(timeout=10) as public:

            async def lookup(base: str, number: str, with_code: str) -> httpx.Response:
                return await public.get(f"{base}{API}/lookup", params={"case_no": number, "code": with_code})

            assert (await lookup(two, case_no, code)).status_code == 200
            # Three wrong codes spread over both processes lock the number in both.
            wrong = [(await lookup(base, case_no, "2222-2222")).status_code for base in (one, two, one)]
            assert wrong == [404, 404, 404]
            locked = [await lookup(base, case_no, code) for base in (two, one)]
            assert [r.status_code for r in locked] == [429, 429]
            assert all(int(r.headers["retry-after"]) > 0 for r in locked)
            # Nine lookups per address in all: six so far, three more, then both refuse.
            other = f"BS-20990101-{uuid.uuid4().int % 10_000:04d}"
            spent = [(await lookup(base, other, "3333-3333")).status_code for base in (one, two, one)]
            assert spent == [404, 404, 404]
            refused = [await lookup(base, other, "3333-3333") for base in (two, one)]
            assert [r.status_code for r in refused] == [429, 429]
            assert all("this address" in r.json()["detail"] for r in refused)


async def test_without_the_counter_store_the_lookup_refuses_and_a_new_code_is_still_issued(
    settings: Settings, clock: Clock
) -> None:
    """Redis down: the public lookup answers 503 rather than run without limits, and a
    steward's new code (committed before the lock is lifted) still reaches the steward."""
    dead = dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0")
    async with AsyncTestClient(app=create_app(dead, clock=clock)) as client:
        login = await client.post(f"{API}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        admin = Api(client, login.json()["access_token"])
        created = await admin.case()
        params = {"case_no": created["case_no"], "code": created["query_code"]}
        refused = await client.get(f"{API}/lookup", params=params)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "30"
        assert refused.headers["content-type"].startswith("application/problem+json")
        issued = await admin.ok("POST", f"/cases/{created['id']}/query-code", 201)
        assert issued["query_code"] != created["query_code"]
