"""Every allowed and every refused move, through the API, and the due time they leave."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import true

from service.config import Settings
from service.domain.workflow import TRANSITIONS, Action, Status, allowed_actions
from service.repositories import cases as case_repo
from tests.conftest import Clock
from tests.factory import API, MOVE_FIELDS, PATH_TO, Api, case_in
from tests.in_loop import lock_waiters, own_session, served

CST = ZoneInfo("Asia/Shanghai")
ALL_PAIRS = [(s, a) for s in Status for a in Action]


@pytest.mark.parametrize(("status", "action"), ALL_PAIRS, ids=[f"{s.value}-{a.value}" for s, a in ALL_PAIRS])
async def test_each_move_is_allowed_or_refused_by_the_table(
    client: AsyncTestClient[Litestar], status: Status, action: Action
) -> None:
    api = Api(client)
    case = await case_in(api, status.value)
    before = await api.ok("GET", f"/cases/{case['id']}")
    target = TRANSITIONS.get((status, action))
    fields = MOVE_FIELDS.get(action.value, {})
    if target is None:
        problem = await api.move(case, action.value, 409, **fields)
        assert problem["status"] == 409
        assert problem["allowed_actions"] == [a.value for a in allowed_actions(status)]
        after = await api.ok("GET", f"/cases/{case['id']}")
        assert after == before, "a refused move changed the case"
        return
    moved = await api.move(case, action.value, **fields)
    assert moved["status"] == target.value
    assert moved["version"] == case["version"] + 1
    last = moved["timeline"][-1]
    assert (last["action"], last["from_status"], last["to_status"]) == (action.value, status.value, target.value)
    assert len(moved["timeline"]) == len(before["timeline"]) + 1


async def test_moves_record_their_fields_and_stage_times(client: AsyncTestClient[Litestar], clock: Clock) -> None:
    api = Api(client)
    case = await api.case()
    accepted = await api.move(case, "accept", note="已受理", visibility="public")
    assert accepted["accepted_at"] is not None
    assert accepted["promised_working_days"] == 14
    assert accepted["timeline"][-1]["visibility"] == "public"
    assert accepted["timeline"][-1]["note"] == "已受理"
    paused = await api.move(accepted, "request_materials", materials="学历证明")
    assert paused["awaited_materials"] == "学历证明"
    assert paused["due"]["state"] == "paused"
    clock.advance(hours=1)
    resumed = await api.move(paused, "receive_materials")
    assert resumed["awaited_materials"] is None
    assert resumed["started_at"] is not None
    moved = await api.move(resumed, "transfer", department_code="health", reason="属卫健委")
    assert moved["department_code"] == "health"
    assert moved["timeline"][-1]["details"]["from_department"] == "housing"
    same = await api.move(moved, "transfer", 422, department_code="health", reason="again")
    assert same["errors"][0]["field"] == "department_code"
    resolved = await api.move(moved, "resolve", outcome="已安排住房")
    assert resolved["outcome"] == "已安排住房"
    assert resolved["due"]["resolved_on_time"] is True
    assert resolved["due"]["state"] is None


async def test_a_move_without_its_required_field_is_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    case = await api.case()
    problem = await api.move(case, "reject", 400)
    assert problem["errors"][0]["field"] == "reason"
    problem = await api.move(case, "fly", 400)
    assert problem["status"] == 400
    assert (await api.ok("GET", f"/cases/{case['id']}"))["status"] == "submitted"


async def test_reopen_only_within_the_window(client: AsyncTestClient[Litestar], clock: Clock) -> None:
    api = Api(client)
    resolved = await case_in(api, "resolved")
    clock.advance(days=3)
    reopened = await api.move(resolved, "reopen", reason="未落实")
    assert reopened["status"] == "in_progress"
    assert reopened["due"]["resolved_on_time"] is None
    resolved_again = await api.move(reopened, "resolve", outcome="已落实")
    clock.advance(days=30)
    problem = await api.move(resolved_again, "reopen", 409, reason="太迟了")
    assert "reopen" not in problem["allowed_actions"]
    assert problem["allowed_actions"] == ["close"]


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CST)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(CST)


async def test_due_time_across_spring_festival_and_a_make_up_saturday(
    client: AsyncTestClient[Litestar], clock: Clock
) -> None:
    # Accepted Tue 2026-02-10 10:00. Working days after it: Feb 11, 12, 13, 14 (make-up
    # Saturday) = 4, Spring Festival off from Sun 15 to Mon 23, then Feb 24, 25, 26, 27,
    # 28 (make-up Saturday) = 9, Mar 2, 3, 4, 5, 6 = 14 -> due Fri 6 March at 10:00.
    api = Api(client)
    case = await api.case()
    clock.set(cst(2026, 2, 10, 10))
    accepted = await api.move(case, "accept")
    assert at(accepted["due"]["due_at"]) == cst(2026, 3, 6, 10)
    assert accepted["due"]["working_days_left"] == 14
    assert accepted["due"]["state"] == "on_track"
    assert accepted["due"]["provisional"] is False


async def test_a_pause_moves_the_due_time_by_the_paused_working_days(
    client: AsyncTestClient[Litestar], clock: Clock
) -> None:
    # Accepted Mon 2026-09-21 09:00 (before National Day). Without a pause: Sep 22, 23,
    # 24 = 3 (25th is Mid-Autumn, off), Sep 28, 29, 30 = 6, Oct 1-7 off,
    # Oct 8, 9, 10 (make-up Saturday) = 9, Oct 12..16 = 14 -> due Fri 16 Oct 09:00.
    api = Api(client)
    case = await api.case()
    clock.set(cst(2026, 9, 21, 9))
    accepted = await api.move(case, "accept")
    assert at(accepted["due"]["due_at"]) == cst(2026, 10, 16, 9)
    # Paused from Wed 23 Sep 09:00 to Mon 28 Sep 09:00: working time lost is
    # Sep 23 09:00-24:00, Sep 24 (whole), Sep 28 00:00-09:00 = 2 working days.
    clock.set(cst(2026, 9, 23, 9))
    paused = await api.move(accepted, "request_materials", materials="户口簿")
    assert paused["due"]["due_at"] is None
    assert paused["due"]["state"] == "paused"
    assert paused["due"]["working_days_left"] == 12
    clock.set(cst(2026, 9, 28, 9))
    resumed = await api.move(paused, "receive_materials")
    assert at(resumed["due"]["due_at"]) == cst(2026, 10, 20, 9)
    assert resumed["due"]["working_days_left"] == 12
    # Listed by due state from the stored columns, consistently with the case view.
    clock.set(cst(2026, 10, 16, 10))
    page = await api.ok("GET", "/cases?due_state=due_soon")
    assert [c["id"] for c in page["items"]] == [case["id"]]
    assert page["items"][0]["due"]["state"] == "due_soon"
    clock.set(cst(2026, 10, 20, 9, 0, 1))
    page = await api.ok("GET", "/cases?due_state=overdue")
    assert [c["id"] for c in page["items"]] == [case["id"]]
    late = await api.ok("GET", f"/cases/{case['id']}")
    assert late["due"]["state"] == "overdue"
    assert late["due"]["working_days_left"] == -1
    resolved = await api.move(late, "resolve", outcome="已办结")
    assert resolved["due"]["resolved_on_time"] is False


async def test_a_due_date_in_an_unpublished_year_is_provisional(
    client: AsyncTestClient[Litestar], clock: Clock
) -> None:
    api = Api(client)
    case = await api.case()
    clock.set(cst(2026, 12, 28, 10))
    accepted = await api.move(case, "accept")
    assert at(accepted["due"]["due_at"]).year == 2027
    assert accepted["due"]["provisional"] is True


async def test_twenty_concurrent_moves_leave_one_winner(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock, database_url: str
) -> None:
    """Twenty moves with the same ETag really in flight at once: the test holds the case's
    row lock until several of them wait for it, then lets them all go."""
    api = Api(client)
    case = await api.case()
    etag = f'"{case["id"]}.{case["version"]}"'
    async with served(settings, clock) as http, own_session(database_url) as session:

        async def accept() -> int:
            response = await http.post(
                f"{API}/cases/{case['id']}/transitions", json={"action": "accept"}, headers={"If-Match": etag}
            )
            return response.status_code

        async with session.begin():
            await case_repo.get_case(session, uuid.UUID(case["id"]), true(), for_update=True)
            moves = [asyncio.create_task(accept()) for _ in range(20)]
            async with own_session(database_url) as watcher:
                await lock_waiters(watcher, at_least=3)
        codes = await asyncio.wait_for(asyncio.gather(*moves), timeout=30)
    assert sorted(codes) == [200] + [412] * 19
    final = await api.ok("GET", f"/cases/{case['id']}")
    assert final["status"] == "accepted"
    assert final["version"] == 2
    assert [e["action"] for e in final["timeline"]] == ["create", "accept"]


async def test_if_match_missing_or_stale(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    case = await api.case()
    url = f"{API}/cases/{case['id']}/transitions"
    missing = await client.post(url, json={"action": "accept"})
    assert missing.status_code == 428
    assert missing.headers["content-type"].startswith("application/problem+json")
    await api.move(case, "accept")
    stale = await client.post(url, json={"action": "start"}, headers={"If-Match": f'"{case["id"]}.1"'})
    assert stale.status_code == 412
    assert stale.headers["etag"] == f'"{case["id"]}.2"'
    final = await api.ok("GET", f"/cases/{case['id']}")
    assert final["status"] == "accepted"


def test_every_status_is_reachable_by_the_test_paths() -> None:
    assert set(PATH_TO) == {s.value for s in Status}
