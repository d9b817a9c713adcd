"""New cases that wait for the day's number while another creation holds it are logged
together, in one transaction, in the order they came (``services/logbook``); a case that
cannot be written fails alone and leaves no gap in the numbers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import Settings
from service.services.logbook import waiting
from tests.conftest import Clock
from tests.factory import API, Api
from tests.in_loop import _waiting_for_locks, lock_waiter, lock_waiters, own_session, served_app


async def _until(condition: Callable[[], bool], within: float = 10) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the state of another task's queue, nothing to wait on
            await asyncio.sleep(0.01)


def _day(case_no: str) -> date:
    return date(int(case_no[3:7]), int(case_no[7:9]), int(case_no[9:11]))


def _sequence(case_no: str) -> int:
    return int(case_no[12:18])


async def _terminate(session: AsyncSession, pid: int) -> None:
    async with session.begin():
        await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def _hold_the_number(session: AsyncSession, day: date) -> None:
    await session.execute(text("SELECT 1 FROM case_number_counter WHERE day = :day FOR UPDATE"), {"day": day})


async def test_cases_waiting_for_the_number_are_logged_in_one_transaction(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock, database_url: str
) -> None:
    api = Api(client)
    template = await api.case()  # today's counter row exists from here
    body: dict[str, Any] = {"worker_id": template["worker_id"], "item_id": template["item_id"], "channel": "phone"}
    before = {n: REGISTRY.get_sample_value(f"banshi_cases_logged_together_{n}") or 0 for n in ("count", "sum")}
    async with served_app(settings, clock) as (http, app), own_session(database_url) as session:

        async def create(title: str, key: str | None = None) -> httpx.Response:
            headers = {"Idempotency-Key": key} if key else {}
            return await http.post(f"{API}/cases", json={**body, "title": title}, headers=headers)

        async with session.begin():
            await _hold_the_number(session, _day(template["case_no"]))
            first = asyncio.create_task(create("第一件"))
            async with own_session(database_url) as watcher:
                await lock_waiters(watcher, at_least=1)  # the first case's transaction waits for the number
            rest = [asyncio.create_task(create(f"第{n}件", key=f"k-{n}" if n % 2 else None)) for n in range(2, 7)]
            await _until(lambda: waiting(app.state.engine.sync_engine) == 5)
        responses = await asyncio.wait_for(asyncio.gather(first, *rest), timeout=30)
    assert [r.status_code for r in responses] == [201] * 6, [r.text for r in responses]
    created = [r.json() for r in responses]
    # The first case's number, then the others' in the order they became ready, without gaps.
    base = _sequence(template["case_no"])
    assert _sequence(created[0]["case_no"]) == base + 1
    assert sorted(_sequence(c["case_no"]) for c in created) == [base + n for n in range(1, 7)]
    assert [c["title"] for c in created] == ["第一件", *(f"第{n}件" for n in range(2, 7))]
    ids = [c["id"] for c in created]
    async with own_session(database_url) as check, check.begin():
        transactions = await check.scalar(
            text('SELECT count(DISTINCT xmin::text) FROM "case" WHERE id = ANY(CAST(:ids AS uuid[]))'), {"ids": ids}
        )
        audited = (
            await check.execute(
                text(
                    "SELECT target_id, details->>'case_no', chain, chain_seq FROM audit_event "
                    "WHERE action = 'case.create' AND target_id = ANY(:ids) ORDER BY chain_seq"
                ),
                {"ids": ids},
            )
        ).all()
    assert transactions == 2  # the first alone, the five that waited behind it together
    after = {n: REGISTRY.get_sample_value(f"banshi_cases_logged_together_{n}") or 0 for n in ("count", "sum")}
    assert (after["count"] - before["count"], after["sum"] - before["sum"]) == (2, 6)
    assert {row[0]: row[1] for row in audited} == {c["id"]: c["case_no"] for c in created}
    together = [row for row in audited if row[0] in ids[1:]]
    assert len({row[2] for row in together}) == 1  # one chain, the rows one after the other on it
    assert [row[3] for row in together] == list(range(together[0][3], together[0][3] + 5))
    verified = await api.ok("POST", "/audit/verify")
    assert verified["intact"] is True, verified
    for case in created:  # each case reads back whole: its number, its first line, its due date
        read = await api.ok("GET", f"/cases/{case['id']}")
        assert read["case_no"] == case["case_no"]
        assert [e["action"] for e in read["timeline"]] == ["create"]
        assert read["due"] == case["due"]
    for n in (3, 5):  # a retry with a key gets the answer kept in the shared transaction
        replayed = await client.post(
            f"{API}/cases", json={**body, "title": f"第{n}件"}, headers={"Idempotency-Key": f"k-{n}"}
        )
        assert replayed.status_code == 201
        assert replayed.headers.get("idempotent-replayed") == "true"
        assert replayed.json()["case_no"] == created[n - 1]["case_no"]


async def test_a_case_that_cannot_be_written_fails_alone_and_leaves_no_gap(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock, database_url: str
) -> None:
    api = Api(client)
    template = await api.case()
    steward = await api.steward("刘管家")
    doomed = await api.worker(steward["id"], name="将被删除")
    body: dict[str, Any] = {"item_id": template["item_id"], "channel": "phone"}
    async with served_app(settings, clock) as (http, app), own_session(database_url) as session:

        async def create(worker_id: str, title: str) -> httpx.Response:
            return await http.post(f"{API}/cases", json={**body, "worker_id": worker_id, "title": title})

        async with session.begin():
            await _hold_the_number(session, _day(template["case_no"]))
            first = asyncio.create_task(create(template["worker_id"], "先到"))
            async with own_session(database_url) as watcher:
                await lock_waiters(watcher, at_least=1)
            rest = [
                asyncio.create_task(create(template["worker_id"], "甲")),
                asyncio.create_task(create(doomed["id"], "乙")),
                asyncio.create_task(create(template["worker_id"], "丙")),
            ]
            await _until(lambda: waiting(app.state.engine.sync_engine) == 3)
            # Checked and built by its request, the case's worker goes before it is written.
            async with own_session(database_url) as other, other.begin():
                for table, column in (("steward_assignment", "worker_id"), ("worker", "id")):
                    await other.execute(
                        text(f"DELETE FROM {table} WHERE {column} = CAST(:id AS uuid)"),
                        {"id": doomed["id"]},
                    )
        responses = await asyncio.wait_for(asyncio.gather(first, *rest), timeout=30)
    codes = [r.status_code for r in responses]
    assert codes[:2] == [201, 201] and codes[3] == 201, [r.text for r in responses]
    assert codes[2] == 409, responses[2].text
    assert responses[2].headers["content-type"].startswith("application/problem+json")
    numbers = [_sequence(responses[i].json()["case_no"]) for i in (0, 1, 3)]
    assert numbers[0] == _sequence(template["case_no"]) + 1
    assert sorted(numbers) == [_sequence(template["case_no"]) + n for n in (1, 2, 3)]  # the failed one's given back
    async with own_session(database_url) as check, check.begin():
        written = await check.scalar(text("""SELECT count(*) FROM "case" WHERE title = '乙'"""))
    assert written == 0


async def test_a_lost_connection_answers_every_case_of_its_transaction_and_tries_none_again(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock, database_url: str
) -> None:
    """The connection of a transaction logging several cases is lost (it might have been
    during the commit): each of its cases is answered 503 with nothing written, none is
    tried again alone (which could log twice what a lost commit wrote), and the next
    creation is logged as usual."""
    api = Api(client)
    template = await api.case()
    body: dict[str, Any] = {"worker_id": template["worker_id"], "item_id": template["item_id"], "channel": "phone"}
    async with served_app(settings, clock) as (http, app), own_session(database_url) as session:

        async def create(title: str) -> httpx.Response:
            return await http.post(f"{API}/cases", json={**body, "title": title})

        async with session.begin():
            await _hold_the_number(session, _day(template["case_no"]))
            first = asyncio.create_task(create("断一"))
            async with own_session(database_url) as watcher:
                alone = await lock_waiter(watcher)
                rest = [asyncio.create_task(create(f"断{n}")) for n in ("二", "三", "四")]
                await _until(lambda: waiting(app.state.engine.sync_engine) == 3)
                await _terminate(watcher, alone)
                await asyncio.wait_for(first, timeout=30)  # the case alone: answered, and the three go on
                together = await _waiting_for_locks(watcher, 1, 10)
                await _terminate(watcher, together[0])
        responses = await asyncio.wait_for(asyncio.gather(first, *rest), timeout=30)
        assert [r.status_code for r in responses] == [503] * 4, [r.text for r in responses]
        assert all(r.headers.get("retry-after") for r in responses)
        again = await create("断后再来")
        assert again.status_code == 201, again.text
    async with own_session(database_url) as check, check.begin():
        written = await check.scalar(text("""SELECT count(*) FROM "case" WHERE title LIKE '断_'"""))
    assert written == 0
    assert _sequence(again.json()["case_no"]) == _sequence(template["case_no"]) + 1  # no gap either
