"""Reference data (districts, departments, the work list) and the working-day calendar."""

from __future__ import annotations

import csv
import uuid
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Clock
from tests.factory import Api

CST = ZoneInfo("Asia/Shanghai")


def _shipped(name: str) -> list[dict[str, str]]:
    text = resources.files("service.reference_data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _fields(problem: dict[str, Any]) -> list[str]:
    return [e["field"] for e in problem.get("errors") or []]


def _by_date(calendar: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["date"]: d for d in calendar["days"]}


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# Reference data


async def test_the_41_districts_are_listed(client: AsyncTestClient[Litestar]) -> None:
    districts = await Api(client).ok("GET", "/districts")
    assert len(districts) == 41
    codes = {d["code"] for d in districts}
    assert len(codes) == 41
    assert {"yuzhong", "yubei", "wanzhou"} <= codes
    assert {d["kind"] for d in districts} <= {"district", "county", "autonomous_county", "zone"}
    assert all(d["name_zh"] and d["name_en"] for d in districts)


async def test_the_departments_are_listed(client: AsyncTestClient[Litestar]) -> None:
    departments = await Api(client).ok("GET", "/departments")
    assert {d["code"] for d in departments} == {r["code"] for r in _shipped("departments.csv")}
    assert len(departments) == 14
    housing = next(d for d in departments if d["code"] == "housing")
    assert housing["name_zh"] == "市住房城乡建委"
    assert housing["active"] is True


async def test_the_2026_work_list_has_20_items_of_14_days(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    items = await api.ok("GET", "/work-list-items?year=2026")
    assert len(items) == 20
    assert {i["code"] for i in items} == {f"WL-{n:02d}" for n in range(1, 21)}
    assert all(i["promised_working_days"] == 14 for i in items)
    assert all(i["year"] == 2026 and i["active"] for i in items)
    assert await api.ok("GET", "/work-list-items?year=2027") == []
    one = await api.ok("GET", f"/work-list-items/{items[0]['id']}")
    assert one == items[0]


async def test_unknown_work_list_item_is_404(client: AsyncTestClient[Litestar]) -> None:
    await Api(client).problem("GET", f"/work-list-items/{uuid.uuid4()}", 404)


async def test_a_work_list_item_is_edited(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    item = await api.item("WL-04")
    accepted = await api.move(await api.case(item_id=item["id"]), "accept")
    assert accepted["promised_working_days"] == 14

    patched = await api.ok(
        "PATCH",
        f"/work-list-items/{item['id']}",
        json={"title_zh": "子女入学保障", "promised_working_days": 10, "lead_department_code": "cast"},
    )
    assert patched["title_zh"] == "子女入学保障"
    assert patched["promised_working_days"] == 10
    assert patched["lead_department_code"] == "cast"
    assert patched["code"] == item["code"]
    assert patched["title_en"] == item["title_en"]
    assert await api.ok("GET", f"/work-list-items/{item['id']}") == patched
    listed = await api.item("WL-04")
    assert listed == patched

    # Cases accepted from now on get the new promise; the accepted one keeps its own.
    later = await api.move(await api.case(item_id=item["id"]), "accept")
    assert later["promised_working_days"] == 10
    assert later["department_code"] == "cast"
    assert (await api.ok("GET", f"/cases/{accepted['id']}"))["promised_working_days"] == 14


async def test_editing_a_work_list_item_with_an_unknown_department_is_refused(
    client: AsyncTestClient[Litestar],
) -> None:
    api = Api(client)
    item = await api.item("WL-02")
    problem = await api.problem(
        "PATCH",
        f"/work-list-items/{item['id']}",
        422,
        json={"title_zh": "不应保存", "lead_department_code": "no-such-dept"},
    )
    assert _fields(problem) == ["lead_department_code"]
    assert await api.item("WL-02") == item


async def test_a_work_list_items_identity_cannot_be_edited(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    item = await api.item("WL-03")
    await api.problem("PATCH", f"/work-list-items/{item['id']}", 400, json={"code": "WL-99"})
    await api.problem("PATCH", f"/work-list-items/{item['id']}", 400, json={"promised_working_days": 0})
    assert await api.item("WL-03") == item


async def test_an_annual_target_past_ten_million_is_refused_by_name(client: AsyncTestClient[Litestar]) -> None:
    """Larger than the database column holds (2**31) once answered 500; now 400 for anything
    past ten million, with nothing changed."""
    api = Api(client)
    item = await api.item("WL-04")
    for target in (10_000_001, 2**31, 10**30):
        problem = await api.problem("PATCH", f"/work-list-items/{item['id']}", 400, json={"annual_target": target})
        assert problem["errors"][0]["field"] == "annual_target", problem
    assert await api.item("WL-04") == item
    patched = await api.ok("PATCH", f"/work-list-items/{item['id']}", json={"annual_target": 10_000_000})
    assert patched["annual_target"] == 10_000_000


# The calendar


async def test_2026_is_published_by_the_library(client: AsyncTestClient[Litestar]) -> None:
    calendar = await Api(client).ok("GET", "/calendar/2026")
    assert calendar["year"] == 2026
    assert calendar["provisional"] is False
    assert calendar["published_by_admin"] is False
    days = _by_date(calendar)
    assert days["2026-02-28"]["kind"] == "workday"  # a Saturday worked for the Spring Festival
    assert days["2026-02-28"]["source"] == "library"
    assert days["2026-10-01"]["kind"] == "holiday"
    assert days["2026-10-01"]["source"] == "library"
    assert days["2026-10-01"]["name"]
    assert "2026-06-02" not in days  # an ordinary Tuesday
    assert "2026-06-06" not in days  # an ordinary Saturday
    assert 240 <= calendar["working_days"] <= 252


async def test_2027_is_provisional_until_an_administrator_publishes_it(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    before = await api.ok("GET", "/calendar/2027")
    assert before["provisional"] is True
    assert before["published_by_admin"] is False

    first = await api.ok(
        "PUT",
        "/calendar/2027",
        json={
            "published": True,
            "note": "国务院办公厅通知",
            "days": [
                {"date": "2027-03-03", "kind": "holiday", "name": "试行假日"},
                {"date": "2027-03-06", "kind": "workday"},
            ],
        },
    )
    assert first["provisional"] is False
    assert first["published_by_admin"] is True
    assert first["note"] == "国务院办公厅通知"
    days = _by_date(first)
    assert (days["2027-03-03"]["kind"], days["2027-03-03"]["source"]) == ("holiday", "override")
    assert (days["2027-03-06"]["kind"], days["2027-03-06"]["source"]) == ("workday", "override")
    assert first["working_days"] == before["working_days"]  # one day off, one day worked
    assert await api.ok("GET", "/calendar/2027") == first

    # A second PUT replaces the overrides; it does not add to them.
    second = await api.ok(
        "PUT", "/calendar/2027", json={"published": True, "days": [{"date": "2027-04-07", "kind": "holiday"}]}
    )
    days = _by_date(second)
    assert (days["2027-04-07"]["kind"], days["2027-04-07"]["source"]) == ("holiday", "override")
    assert "2027-03-03" not in days
    assert "2027-03-06" not in days
    assert second["working_days"] == before["working_days"] - 1
    assert second["note"] == ""
    assert await api.ok("GET", "/calendar/2027") == second

    # Unpublishing makes the year provisional again.
    third = await api.ok("PUT", "/calendar/2027", json={"published": False, "days": []})
    assert third["provisional"] is True
    assert third["published_by_admin"] is False
    assert third["working_days"] == before["working_days"]


async def test_a_second_put_may_repeat_a_date_of_the_first(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    await api.ok("PUT", "/calendar/2027", json={"published": True, "days": [{"date": "2027-03-03", "kind": "holiday"}]})
    again = await api.ok(
        "PUT",
        "/calendar/2027",
        json={
            "published": True,
            "days": [{"date": "2027-03-03", "kind": "holiday"}, {"date": "2027-03-04", "kind": "holiday"}],
        },
    )
    days = _by_date(again)
    assert {d for d, v in days.items() if v["source"] == "override"} == {"2027-03-03", "2027-03-04"}


async def test_an_override_day_keeps_its_name(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    calendar = await api.ok(
        "PUT",
        "/calendar/2027",
        json={"published": True, "days": [{"date": "2027-03-03", "kind": "holiday", "name": "试行假日"}]},
    )
    assert _by_date(calendar)["2027-03-03"]["name"] == "试行假日"


async def test_an_override_name_too_long_for_the_database_is_refused_not_a_server_error(
    client: AsyncTestClient[Litestar],
) -> None:
    api = Api(client)
    problem = await api.problem(
        "PUT",
        "/calendar/2027",
        400,
        json={"published": True, "days": [{"date": "2027-03-03", "kind": "holiday", "name": "假" * 65}]},
    )
    assert any("name" in field for field in _fields(problem)), problem
    assert (await api.ok("GET", "/calendar/2027"))["provisional"] is True


async def test_a_day_outside_the_year_is_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    before = await api.ok("GET", "/calendar/2027")
    problem = await api.problem(
        "PUT",
        "/calendar/2027",
        422,
        json={"published": True, "days": [{"date": "2028-03-03", "kind": "holiday"}]},
    )
    assert _fields(problem) == ["days[0].date"]
    assert await api.ok("GET", "/calendar/2027") == before


async def test_a_date_given_twice_is_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    before = await api.ok("GET", "/calendar/2027")
    problem = await api.problem(
        "PUT",
        "/calendar/2027",
        422,
        json={
            "published": True,
            "days": [{"date": "2027-03-03", "kind": "holiday"}, {"date": "2027-03-03", "kind": "workday"}],
        },
    )
    assert _fields(problem) == ["days[1].date"]
    assert await api.ok("GET", "/calendar/2027") == before


async def test_a_year_out_of_range_is_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    problem = await api.problem("GET", "/calendar/1999", 400)
    assert any("year" in field for field in _fields(problem)), problem
    await api.problem("PUT", "/calendar/1999", 400, json={"published": True, "days": []})
    await api.problem("GET", "/calendar/2101", 400)
    await api.problem(
        "PUT", "/calendar/2027", 400, json={"published": True, "days": [{"date": "2027-03-03", "kind": "maybe"}]}
    )


async def test_a_running_cases_due_time_follows_a_new_holiday(client: AsyncTestClient[Litestar], clock: Clock) -> None:
    api = Api(client)
    # Monday 2026-03-09 10:00 in Chongqing; no holiday or make-up day in March 2026.
    clock.set(datetime(2026, 3, 9, 2, 0, tzinfo=UTC))
    accepted = await api.move(await api.case(), "accept")
    waiting = await api.case()
    due = _instant(accepted["due"]["due_at"])
    assert due == datetime(2026, 3, 27, 10, 0, tzinfo=CST)  # 14 working days later, a Friday
    assert accepted["due"]["provisional"] is False

    clock.set(datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    await api.ok("PUT", "/calendar/2026", json={"published": True, "days": [{"date": "2026-03-18", "kind": "holiday"}]})
    moved = await api.ok("GET", f"/cases/{accepted['id']}")
    # One working day later: over the weekend to Monday.
    assert _instant(moved["due"]["due_at"]) == datetime(2026, 3, 30, 10, 0, tzinfo=CST)
    assert (await api.ok("GET", f"/cases/{waiting['id']}"))["due"]["due_at"] is None

    listed = await api.ok("GET", f"/cases?worker_id={accepted['worker_id']}")
    assert _instant(listed["items"][0]["due"]["due_at"]) == datetime(2026, 3, 30, 10, 0, tzinfo=CST)

    # Taking the holiday away again puts the due time back.
    await api.ok("PUT", "/calendar/2026", json={"published": True, "days": []})
    back = await api.ok("GET", f"/cases/{accepted['id']}")
    assert _instant(back["due"]["due_at"]) == due
