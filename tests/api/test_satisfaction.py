"""Satisfaction ratings (好差评): once per resolution, follow-ups for poor ones, and their effect on the figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Clock
from tests.factory import MOVE_FIELDS, Api, case_in

CST = ZoneInfo("Asia/Shanghai")


async def _resolved_case_of_own_worker(admin: Api) -> tuple[Api, Api, dict[str, Any]]:
    steward, staff = await admin.steward_account()
    worker = await admin.worker(staff["id"])
    worker_api = await admin.account("worker", worker_id=worker["id"])
    case = await admin.case(worker_id=worker["id"])
    for action in ("accept", "start", "resolve"):
        case = await admin.move(case, action, **MOVE_FIELDS.get(action, {}))
    return steward, worker_api, case


async def test_the_worker_rates_their_resolved_case_once(client: AsyncTestClient[Litestar]) -> None:
    admin = Api(client)
    steward, worker, case = await _resolved_case_of_own_worker(admin)
    rating = await worker.ok(
        "POST", f"/cases/{case['id']}/ratings", 201, json={"level": "very_satisfied", "comment": "办得快"}
    )
    assert (rating["level"], rating["level_zh"], rating["on_behalf"]) == ("very_satisfied", "非常满意", False)
    assert (rating["resolution"], rating["follow_up_state"], rating["follow_up_due_at"]) == (1, "none", None)
    problem = await steward.problem("POST", f"/cases/{case['id']}/ratings", 409, json={"level": "satisfied"})
    assert problem["errors"][0]["field"] == "level"
    assert [r["id"] for r in await steward.ok("GET", f"/cases/{case['id']}/ratings")] == [rating["id"]]
    events = (await steward.ok("GET", f"/cases/{case['id']}/events"))["items"]
    assert events[-1]["action"] == "rate" and events[-1]["visibility"] == "public"
    # The worker sees it in their own view of the case.
    mine = await worker.ok("GET", f"/my/cases/{case['id']}")
    assert (mine["rating"], mine["can_rate"], mine["timeline"][-1]["action"]) == ("very_satisfied", False, "rate")


async def test_a_steward_rates_on_the_workers_behalf(client: AsyncTestClient[Litestar]) -> None:
    steward, _, case = await _resolved_case_of_own_worker(Api(client))
    rating = await steward.ok("POST", f"/cases/{case['id']}/ratings", 201, json={"level": "basically_satisfied"})
    assert rating["on_behalf"] is True


async def test_only_a_resolved_case_is_rated(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    for status in ("submitted", "in_progress", "awaiting_materials", "rejected", "withdrawn"):
        case = await case_in(api, status)
        problem = await api.problem("POST", f"/cases/{case['id']}/ratings", 409, json={"level": "satisfied"})
        assert problem["errors"][0]["field"] == "status"
    closed = await case_in(api, "closed")
    await api.ok("POST", f"/cases/{closed['id']}/ratings", 201, json={"level": "satisfied"})


async def test_bad_ratings_are_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    case = await case_in(api, "resolved")
    for body in ({"level": "meh"}, {"level": "satisfied", "comment": "x" * 501}, {"level": "satisfied", "stars": 5}):
        await api.problem("POST", f"/cases/{case['id']}/ratings", 400, json=body)
    assert await api.ok("GET", f"/cases/{case['id']}/ratings") == []


async def test_a_reopened_case_is_rated_again_for_its_second_resolution(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    case = await case_in(api, "resolved")
    await api.ok("POST", f"/cases/{case['id']}/ratings", 201, json={"level": "dissatisfied"})
    case = await api.ok("GET", f"/cases/{case['id']}")
    case = await api.move(case, "reopen", **MOVE_FIELDS["reopen"])
    case = await api.move(case, "resolve", **MOVE_FIELDS["resolve"])
    second = await api.ok("POST", f"/cases/{case['id']}/ratings", 201, json={"level": "satisfied"})
    assert second["resolution"] == 2
    table = await api.ok("GET", "/metrics/items")
    assert (table["total"]["rated"], table["total"]["satisfied"], table["total"]["dissatisfied"]) == (1, 1, 0)
    # The first rating's follow-up is still open until the steward answers it.
    assert table["total"]["follow_ups_open"] == 1


async def test_a_poor_rating_opens_a_follow_up_due_in_15_working_days(
    client: AsyncTestClient[Litestar], clock: Clock
) -> None:
    admin = Api(client)
    steward, worker, case = await _resolved_case_of_own_worker(admin)
    clock.set(datetime(2026, 9, 18, 10, 0, tzinfo=CST))  # a Friday; 09-20 is a worked Sunday, 09-25 and 10-01..07 off
    rating = await worker.ok("POST", f"/cases/{case['id']}/ratings", 201, json={"level": "very_dissatisfied"})
    # 15 working days of 24 h: 09-18 from 10:00 (14 h), Sunday 09-20 (worked), 09-21..24, 09-28..30,
    # 10-08..09, Saturday 10-10 (worked), 10-12..14, and 10 h of 10-15.
    assert rating["follow_up_due_at"] == "2026-10-15T02:00:00Z"
    assert rating["follow_up_state"] == "open"
    queue = await steward.ok("GET", "/follow-ups?state=open")
    assert [r["id"] for r in queue["items"]] == [rating["id"]]
    assert (await admin.ok("GET", "/metrics/items?period=2026"))["total"]["follow_ups_open"] == 1

    clock.set(datetime(2026, 10, 15, 10, 0, tzinfo=CST))
    assert (await steward.ok("GET", "/follow-ups?state=overdue"))["total"] == 1
    assert (await admin.ok("GET", "/metrics/items?period=2026"))["total"]["follow_ups_overdue"] == 1
    await worker.problem(
        "POST", f"/cases/{case['id']}/ratings/{rating['id']}/follow-up", 403, json={"answer": "自己答复"}
    )
    answered = await steward.ok(
        "POST", f"/cases/{case['id']}/ratings/{rating['id']}/follow-up", json={"answer": "已上门回访，重新协调住房"}
    )
    assert answered["follow_up_state"] == "answered"
    assert answered["follow_up_answer"] == "已上门回访，重新协调住房"
    await steward.problem(
        "POST", f"/cases/{case['id']}/ratings/{rating['id']}/follow-up", 409, json={"answer": "再次答复"}
    )
    total = (await admin.ok("GET", "/metrics/items?period=2026"))["total"]
    assert (total["follow_ups_open"], total["follow_ups_overdue"], total["very_dissatisfied"]) == (0, 0, 1)
    assert (await steward.ok("GET", "/follow-ups?state=answered"))["total"] == 1
    # The worker sees the answer on the public timeline.
    timeline = (await worker.ok("GET", f"/my/cases/{case['id']}"))["timeline"]
    assert timeline[-1]["action"] == "follow_up" and timeline[-1]["note"] == "已上门回访，重新协调住房"


async def test_a_satisfied_rating_has_no_follow_up_to_answer(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    case = await case_in(api, "resolved")
    rating = await api.ok("POST", f"/cases/{case['id']}/ratings", 201, json={"level": "satisfied"})
    await api.problem("POST", f"/cases/{case['id']}/ratings/{rating['id']}/follow-up", 409, json={"answer": "无"})
    await api.problem("POST", f"/cases/{case['id']}/ratings/999999/follow-up", 404, json={"answer": "无"})
