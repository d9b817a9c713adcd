"""The dashboards' kept figures: an answer a few seconds old serves the same question, says
when it was counted, never crosses a caller's scope, and live figures can still be had,
within their own limit per account."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.config import Settings
from tests.api.test_metrics import ALL_2026, WL04, YUBEI, World, build, figures_of
from tests.conftest import Clock
from tests.factory import ADMIN_PASSWORD, API

KEEP_SECONDS = 600  # long enough that nothing expires while a test runs
LIVE_PER_MINUTE = 3


@pytest.fixture
async def keeping_client(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    kept = dataclasses.replace(settings, metrics_keep_seconds=KEEP_SECONDS, metrics_live_per_minute=LIVE_PER_MINUTE)
    async with AsyncTestClient(app=create_app(kept, clock=clock), base_url="http://testserver.local") as c:
        response = await c.post(f"{API}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert response.status_code == 200, response.text
        c.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield c


@pytest.fixture
async def world(keeping_client: AsyncTestClient[Litestar], clock: Clock) -> World:
    return await build(keeping_client, clock)


async def _one_more_case(world: World) -> None:
    steward = await world.api.steward("王专员")
    worker = await world.api.worker(steward["id"])
    await world.api.case(worker_id=worker["id"], item_id=(await world.api.item("WL-01"))["id"])


@pytest.mark.parametrize(
    "path",
    [
        "/metrics/items?period=2026",
        "/metrics/summary?period=2026",
        "/metrics/by/steward?period=2026",
        "/metrics/by/district?period=2026",
    ],
)
async def test_the_same_question_is_answered_from_the_kept_figures_with_their_time(world: World, path: str) -> None:
    official = await world.api.account("official")
    first = await official.send("GET", path)
    assert first.status_code == 200
    counted = first.json()
    assert counted["as_of"] == counted["generated_at"]
    assert first.headers["age"] == "0"
    assert counted["total"]["received"] == ALL_2026["received"]

    await _one_more_case(world)
    world.clock.advance(seconds=3)
    again = await official.send("GET", path)
    kept = again.json()
    assert kept["total"]["received"] == ALL_2026["received"]  # the case just made is not in them yet
    assert kept["as_of"] == counted["as_of"]
    assert kept["generated_at"] > counted["generated_at"]
    assert again.headers["age"] == "3"

    for live in ({"params": {"fresh": "true"}}, {"headers": {"Cache-Control": "no-cache"}}):
        fresh = await official.send("GET", path, **live)
        assert fresh.status_code == 200
        body = fresh.json()
        assert body["total"]["received"] == ALL_2026["received"] + 1
        assert body["as_of"] == body["generated_at"]
        assert fresh.headers["age"] == "0"
    # A live count is kept for the next asker like any other.
    assert (await official.ok("GET", path))["total"]["received"] == ALL_2026["received"] + 1


async def test_a_kept_city_wide_answer_never_reaches_a_district_official(world: World) -> None:
    city = await world.api.account("official")
    yubei = await world.api.account("official", district_code="yubei")
    jiangbei = await world.api.account("official", district_code="jiangbei")
    assert figures_of((await city.ok("GET", "/metrics/items?period=2026"))["total"]) == ALL_2026
    assert figures_of((await city.ok("GET", "/metrics/items?period=2026&district=jiangbei"))["total"]) == WL04
    city_summary = await city.ok("GET", "/metrics/summary?period=2026")

    own = await yubei.ok("GET", "/metrics/items?period=2026")
    assert own["scope"]["district_code"] == "yubei"
    assert figures_of(own["total"]) == YUBEI
    summary = await yubei.ok("GET", "/metrics/summary?period=2026")
    assert summary["scope"]["district_code"] == "yubei"
    assert summary["total"]["received"] == YUBEI["received"] != city_summary["total"]["received"]
    # The answer kept for the city-wide official's question about Jiangbei is not another district's to read.
    problem = await yubei.problem("GET", "/metrics/items?period=2026&district=jiangbei", 403)
    assert problem["errors"][0]["field"] == "query.district"
    await yubei.problem("GET", "/metrics/summary?period=2026&district=jiangbei", 403)

    # Jiangbei's official asked the question the city-wide official asked about Jiangbei:
    # the same cases, so the same kept answer serves (the same moment counted).
    asked = await city.ok("GET", "/metrics/items?period=2026&district=jiangbei")
    theirs = await jiangbei.ok("GET", "/metrics/items?period=2026")
    assert figures_of(theirs["total"]) == WL04
    assert theirs["as_of"] == asked["as_of"]
    assert theirs["scope"] == asked["scope"]


async def test_a_liaison_gets_their_departments_figures_not_the_kept_whole(world: World) -> None:
    city = await world.api.account("official")
    await city.ok("GET", "/metrics/items?period=2026")
    liaison, _ = await world.api.liaison_account("education")
    table = await liaison.ok("GET", "/metrics/items?period=2026")
    assert table["scope"]["department_code"] == "education"
    assert figures_of(table["total"]) == WL04


async def test_live_figures_are_limited_per_account(world: World) -> None:
    official = await world.api.account("official")
    other = await world.api.account("official")
    for _ in range(LIVE_PER_MINUTE):
        await official.ok("GET", "/metrics/items?period=2026&fresh=true")
    response = await official.send("GET", "/metrics/summary?period=2026", headers={"Cache-Control": "no-cache"})
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"].startswith("application/problem+json")
    # The kept figures still answer that account, and another account still gets live ones.
    await official.ok("GET", "/metrics/items?period=2026")
    await other.ok("GET", "/metrics/items?period=2026&fresh=true")


async def test_a_bad_fresh_value_is_refused(world: World) -> None:
    problem = await world.api.problem("GET", "/metrics/items?fresh=maybe", 400)
    assert "fresh" in str(problem)


async def test_each_breakdown_is_kept_under_its_own_grouping(world: World) -> None:
    """The same period and filters by steward and by district are two questions."""
    official = await world.api.account("official")
    stewards = await official.ok("GET", "/metrics/by/steward?period=2026")
    districts = await official.ok("GET", "/metrics/by/district?period=2026")
    departments = await official.ok("GET", "/metrics/by/department?period=2026")
    assert (stewards["by"], districts["by"], departments["by"]) == ("steward", "district", "department")
    assert {r["key"] for r in districts["rows"]} >= {"yubei", "jiangbei"}
    assert not {r["key"] for r in stewards["rows"]} & {r["key"] for r in districts["rows"]}
    assert stewards["total"] == districts["total"] == departments["total"]
