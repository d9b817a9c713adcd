"""Officials' metrics against figures worked out by hand from a small fixed set of cases.

The cases (all times Asia/Shanghai; WL-01 in Yubei unless said; now = Tue 2026-06-02 10:00):

- C1 received 04-28, accepted Wed 04-29 10:00, resolved Mon 05-11 10:00. Working time:
  04-29 14 h + 04-30 24 h + 05-06..08 72 h + Sat 05-09 (a make-up working day) 24 h +
  05-11 10 h = 144 h = 6 working days (5 without the make-up day). On time. Rated 非常满意.
- C2 accepted 04-29 10:00, materials requested 04-30 10:00 (1 day used), received back
  05-06 10:00 (the pause does not count), resolved 05-08 22:00 (2.5 days more): 3.5 -> 4
  working days. On time. Rated 不满意 at 05-08 23:00: a follow-up due 15 working days
  later, 05-28 23:00, unanswered, so overdue now.
- C3 accepted 04-29 10:00: due 05-21 10:00 (14 working days, 05-09 counted, 05-01..05
  off). Resolved 05-22 10:00: late, 15 working days. Then archived.
- C4 accepted 04-29 10:00, started, still in progress: overdue since 05-21 10:00.
- C5 received 05-25, accepted 05-25 10:00, awaiting materials since 05-26 10:00: paused, not overdue.
- C6 received and accepted 05-14 10:00: due 06-03 10:00, one working day left now: due soon.
- C7 received 06-01, not accepted yet.
- C8 received 05-20, rejected.  C9 received 05-20, accepted, withdrawn 05-21.
- C10 WL-04 (education) in Jiangbei: received Mon 05-04 (a holiday), accepted Wed 05-06
  10:00, resolved 05-07 10:00: 1 working day, on time. Rated 满意.
- C11 received and accepted 2025-12-30 10:00, in progress ever since: due 2026-01-20 10:00
  (01-01..03 off, Sunday 01-04 worked), so outside 2026's table but in its overdue backlog.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from python_calamine import CalamineWorkbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from service.config import async_url
from tests.conftest import Clock
from tests.factory import MOVE_FIELDS, Api

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 2, 10, 0, tzinfo=CST)
STEWARD_PHONE = "023-67001234"
STEWARD_EMAIL = "jiangbei.steward@example.cn"


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CST)


class World:
    def __init__(self, api: Api, clock: Clock) -> None:
        self.api = api
        self.clock = clock
        self.cases: dict[str, dict[str, Any]] = {}

    async def new(self, name: str, when: datetime, worker: dict[str, Any], item: dict[str, Any]) -> None:
        self.clock.set(when)
        self.cases[name] = await self.api.case(worker_id=worker["id"], item_id=item["id"])

    async def move(self, name: str, when: datetime, action: str) -> None:
        self.clock.set(when)
        self.cases[name] = await self.api.move(self.cases[name], action, **MOVE_FIELDS.get(action, {}))

    async def rate(self, name: str, when: datetime, level: str) -> dict[str, Any]:
        self.clock.set(when)
        rating: dict[str, Any] = await self.api.ok(
            "POST", f"/cases/{self.cases[name]['id']}/ratings", 201, json={"level": level, "comment": "评价"}
        )
        return rating


async def build(client: AsyncTestClient[Litestar], clock: Clock) -> World:
    api = Api(client)
    world = World(api, clock)
    steward = await api.steward()
    yubei = await api.worker(steward["id"])
    north = await api.ok(
        "POST",
        "/staff",
        201,
        json={
            "name": "江北管家",
            "role": "steward",
            "district_code": "jiangbei",
            "work_phone": STEWARD_PHONE,
            "email": STEWARD_EMAIL,
        },
    )
    jiangbei = await api.worker(north["id"], district_code="jiangbei")
    wl01, wl04 = await api.item("WL-01"), await api.item("WL-04")

    await world.new("C11", at(12, 30, 9, year=2025), yubei, wl01)
    await world.move("C11", at(12, 30, year=2025), "accept")
    await world.move("C11", at(12, 30, 11, year=2025), "start")
    for name in ("C1", "C2", "C3", "C4"):
        await world.new(name, at(4, 28, 9), yubei, wl01)
        await world.move(name, at(4, 29), "accept")
        await world.move(name, at(4, 29, 10, 5) if name != "C2" else at(4, 29), "start")
    await world.move("C2", at(4, 30), "request_materials")
    await world.new("C10", at(5, 4, 9), jiangbei, wl04)
    await world.move("C2", at(5, 6), "receive_materials")
    await world.move("C10", at(5, 6), "accept")
    await world.move("C10", at(5, 6, 11), "start")
    await world.move("C10", at(5, 7), "resolve")
    await world.rate("C10", at(5, 7, 12), "satisfied")
    await world.move("C2", at(5, 8, 22), "resolve")
    await world.rate("C2", at(5, 8, 23), "dissatisfied")
    await world.move("C1", at(5, 11), "resolve")
    await world.rate("C1", at(5, 11, 12), "very_satisfied")
    await world.new("C6", at(5, 14, 9), yubei, wl01)
    await world.move("C6", at(5, 14), "accept")
    for name in ("C8", "C9"):
        await world.new(name, at(5, 20, 9), yubei, wl01)
    await world.move("C8", at(5, 20, 11), "reject")
    await world.move("C9", at(5, 20), "accept")
    await world.move("C9", at(5, 21), "withdraw")
    await world.move("C3", at(5, 22), "resolve")
    await world.move("C3", at(5, 22, 11), "close")
    await world.new("C5", at(5, 25, 9), yubei, wl01)
    await world.move("C5", at(5, 25), "accept")
    await world.move("C5", at(5, 26), "request_materials")
    await world.new("C7", at(6, 1, 9), yubei, wl01)
    clock.set(NOW)
    return world


ALL_2026 = {
    "received": 10,
    "accepted": 8,
    "submitted": 1,
    "in_progress": 2,
    "awaiting_materials": 1,
    "resolved": 4,
    "closed": 1,
    "rejected": 1,
    "withdrawn": 1,
    "open": 4,
    "overdue": 1,
    "due_soon": 1,
    "resolved_on_time": 3,
    "resolved_late": 1,
    "on_time_rate": 0.75,
    "median_working_days": 4,
    "p90_working_days": 15,
    "rated": 3,
    "very_satisfied": 1,
    "satisfied": 1,
    "basically_satisfied": 0,
    "dissatisfied": 1,
    "very_dissatisfied": 0,
    "satisfaction_rate": 0.6667,
    "follow_ups_open": 1,
    "follow_ups_overdue": 1,
}
# Yubei only, which is also WL-01 only: C10 leaves.
YUBEI = {
    **ALL_2026,
    "received": 9,
    "accepted": 7,
    "resolved": 3,
    "resolved_on_time": 2,
    "on_time_rate": 0.6667,
    "median_working_days": 6,
    "p90_working_days": 15,
    "rated": 2,
    "satisfied": 0,
    "satisfaction_rate": 0.5,
}
WL04 = {
    **dict.fromkeys(ALL_2026, 0),
    "received": 1,
    "accepted": 1,
    "resolved": 1,
    "resolved_on_time": 1,
    "on_time_rate": 1.0,
    "median_working_days": 1,
    "p90_working_days": 1,
    "rated": 1,
    "satisfied": 1,
    "satisfaction_rate": 1.0,
}


def figures_of(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in ALL_2026}


@pytest.fixture
async def world(client: AsyncTestClient[Litestar], clock: Clock) -> World:
    return await build(client, clock)


async def test_the_work_list_table_for_the_year(world: World) -> None:
    table = await world.api.ok("GET", "/metrics/items?period=2026")
    assert table["period"] == {"label": "2026", "first_day": "2026-01-01", "last_day": "2026-12-31"}
    assert len(table["rows"]) == 20
    rows = {row["code"]: row for row in table["rows"]}
    assert figures_of(table["total"]) == ALL_2026
    assert figures_of(rows["WL-01"]) == YUBEI
    assert figures_of(rows["WL-04"]) == WL04
    assert rows["WL-02"]["received"] == 0
    assert rows["WL-02"]["median_working_days"] is None and rows["WL-02"]["on_time_rate"] is None
    # WL-01 has an annual target of 10,826 housing units (套): 3 delivered.
    assert rows["WL-01"]["annual_target"] == 10826
    assert rows["WL-01"]["target_unit"] == "套"
    assert rows["WL-01"]["target_rate"] == round(3 / 10826, 4)
    assert rows["WL-01"]["title_zh"] == "人才住房保障"
    assert (rows["WL-01"]["lead_department_code"], rows["WL-01"]["lead_department_name_zh"]) == (
        "housing",
        "市住房城乡建委",
    )
    assert rows["WL-04"]["lead_department_name_zh"] == "市教委"


async def test_the_targets_count_in_chinese_units(world: World) -> None:
    rows = (await world.api.ok("GET", "/metrics/items?period=2026"))["rows"]
    units = {row["code"]: row["target_unit"] for row in rows if row["annual_target"] is not None}
    assert units == {
        "WL-01": "套",
        "WL-02": "套",
        "WL-07": "家",
        "WL-09": "个",
        "WL-10": "项",
        "WL-12": "项",
        "WL-17": "人",
    }


async def test_the_default_period_is_the_current_year(world: World) -> None:
    table = await world.api.ok("GET", "/metrics/items")
    assert table["period"]["label"] == "2026"
    assert figures_of(table["total"]) == ALL_2026


async def test_a_month_a_quarter_and_a_day_range_count_by_the_day_received(world: World) -> None:
    april = await world.api.ok("GET", "/metrics/items?period=2026-04")
    assert april["total"]["received"] == 4  # C1..C4
    assert april["total"]["resolved"] == 3 and april["total"]["overdue"] == 1
    q2 = await world.api.ok("GET", "/metrics/items?period=2026-Q2")
    assert figures_of(q2["total"]) == ALL_2026
    # 05-04 to 05-20: C10, C6, C8, C9 (loose days at both ends of the months)
    days = await world.api.ok("GET", "/metrics/items?from=2026-05-04&to=2026-05-20")
    assert days["period"] == {"label": "2026-05-04..2026-05-20", "first_day": "2026-05-04", "last_day": "2026-05-20"}
    total = days["total"]
    assert (total["received"], total["rejected"], total["withdrawn"], total["due_soon"]) == (4, 1, 1, 1)
    assert (total["resolved"], total["median_working_days"]) == (1, 1)
    # 2025 holds C11 only.
    last_year = await world.api.ok("GET", "/metrics/items?period=2025")
    assert (last_year["total"]["received"], last_year["total"]["overdue"]) == (1, 1)


async def test_a_district_filter_and_the_district_breakdown(world: World) -> None:
    yubei = await world.api.ok("GET", "/metrics/items?period=2026&district=yubei")
    assert figures_of(yubei["total"]) == YUBEI
    assert yubei["scope"]["district_code"] == "yubei"
    by_district = await world.api.ok("GET", "/metrics/by/district?period=2026")
    rows = {row["key"]: row for row in by_district["rows"]}
    assert len(rows) == 41
    assert figures_of(rows["yubei"]) == YUBEI
    assert figures_of(rows["jiangbei"]) == WL04
    assert rows["jiangbei"]["name_zh"] == "江北区"
    assert rows["wanzhou"]["received"] == 0
    assert figures_of(by_district["total"]) == ALL_2026


async def test_department_and_steward_breakdowns(world: World) -> None:
    by_department = await world.api.ok("GET", "/metrics/by/department?period=2026")
    rows = {row["key"]: row for row in by_department["rows"]}
    assert figures_of(rows["housing"]) == YUBEI
    assert figures_of(rows["education"]) == WL04
    assert rows["housing"]["name_zh"] == "市住房城乡建委"
    by_steward = await world.api.ok("GET", "/metrics/by/steward?period=2026")
    assert sorted((row["name_zh"], row["received"]) for row in by_steward["rows"]) == [("江北管家", 1), ("王管家", 9)]
    # An item filter on the steward breakdown is counted from the cases themselves.
    wl04 = await world.api.ok("GET", "/metrics/by/steward?period=2026&item=WL-04")
    assert [figures_of(row) for row in wl04["rows"]] == [WL04]


async def test_the_monthly_trend_and_its_overdue_backlog(world: World) -> None:
    trend = await world.api.ok("GET", "/metrics/trend?period=2026&interval=month")
    points = trend["points"]
    assert len(points) == 12
    assert [p["received"] for p in points] == [0, 0, 0, 4, 5, 1, 0, 0, 0, 0, 0, 0]
    assert [p["resolved"] for p in points] == [0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0]
    # C11 overdue from 01-20; C3 and C4 from 05-21, C3 finished 05-22; June is as of now.
    assert [p["overdue_backlog"] for p in points] == [1, 1, 1, 1, 2, 2, None, None, None, None, None, None]
    assert points[0]["first_day"] == "2026-01-01" and points[0]["last_day"] == "2026-01-31"


async def test_the_weekly_trend_adds_up(world: World) -> None:
    trend = await world.api.ok("GET", "/metrics/trend?period=2026-05&interval=week")
    points = trend["points"]
    assert points[0]["first_day"] == "2026-05-01" and points[0]["last_day"] == "2026-05-03"
    assert points[1]["first_day"] == "2026-05-04" and points[1]["last_day"] == "2026-05-10"
    assert sum(p["received"] for p in points) == 5
    by_week = {p["first_day"]: p for p in points}
    assert by_week["2026-05-04"]["resolved"] == 2  # C10 on 05-07, C2 on 05-08
    assert by_week["2026-05-18"]["overdue_backlog"] == 2  # C11 and C4 at Sunday 05-24's end


async def test_a_stewards_trend_is_counted_from_their_cases(world: World) -> None:
    """The flow tally has no steward: one steward's weeks and months come from the cases,
    and the stewards' trends add up to the whole."""
    stewards = (await world.api.ok("GET", "/metrics/by/steward?period=2026"))["rows"]
    whole = await world.api.ok("GET", "/metrics/trend?period=2026&interval=month")
    for interval in ("month", "week"):
        per_steward = [
            await world.api.ok("GET", f"/metrics/trend?period=2026&interval={interval}&steward={row['key']}")
            for row in stewards
        ]
        for row, trend in zip(stewards, per_steward, strict=True):
            assert sum(p["received"] for p in trend["points"]) == row["received"]
            assert trend["scope"]["steward_id"] == row["key"]
    months = [p["received"] for p in whole["points"]]
    monthly = [
        (await world.api.ok("GET", f"/metrics/trend?period=2026&interval=month&steward={row['key']}"))["points"]
        for row in stewards
    ]
    assert [sum(points[i]["received"] for points in monthly) for i in range(12)] == months
    assert [sum(points[i]["resolved"] for points in monthly) for i in range(12)] == [
        p["resolved"] for p in whole["points"]
    ]
    backlogs = [p["overdue_backlog"] for p in whole["points"]]
    assert [
        None if backlogs[i] is None else sum(points[i]["overdue_backlog"] for points in monthly) for i in range(12)
    ] == (backlogs)


async def test_the_city_summary(world: World) -> None:
    summary = await world.api.ok("GET", "/metrics/summary?period=2026")
    assert figures_of(summary["total"]) == ALL_2026
    assert summary["items_most_overdue"] == [{"code": "WL-01", "title_zh": "人才住房保障", "overdue": 1, "open": 4}]
    lowest = summary["districts_lowest_on_time"]
    assert [(d["code"], d["on_time_rate"], d["resolved"]) for d in lowest] == [
        ("yubei", 0.6667, 3),
        ("jiangbei", 1.0, 1),
    ]


async def test_the_city_summary_agrees_with_the_tables(world: World) -> None:
    """The summary counts less than the two tables it sums up; its figures must be theirs."""
    for query in ("period=2026", "from=2026-02-10&to=2026-09-20", "period=2026&district=yubei", "period=2026-03"):
        summary = await world.api.ok("GET", f"/metrics/summary?{query}")
        items = await world.api.ok("GET", f"/metrics/items?{query}")
        districts = await world.api.ok("GET", f"/metrics/by/district?{query}")
        assert summary["total"] == items["total"], query
        overdue = sorted((r for r in items["rows"] if r["overdue"] > 0), key=lambda r: (-r["overdue"], r["code"]))
        assert summary["items_most_overdue"] == [
            {"code": r["code"], "title_zh": r["title_zh"], "overdue": r["overdue"], "open": r["open"]}
            for r in overdue[:5]
        ], query
        rated = sorted(
            (r for r in districts["rows"] if r["on_time_rate"] is not None), key=lambda r: (r["on_time_rate"], r["key"])
        )
        assert summary["districts_lowest_on_time"] == [
            {"code": r["key"], "name_zh": r["name_zh"], "on_time_rate": r["on_time_rate"], "resolved": r["resolved"]}
            for r in rated[:5]
        ], query


async def test_the_cases_behind_a_figure(world: World) -> None:
    cases = world.cases
    for figure, expected in (
        ("overdue", ["C4"]),
        ("resolved_late", ["C3"]),
        ("due_soon", ["C6"]),
        ("follow_ups_overdue", ["C2"]),
        ("awaiting_materials", ["C5"]),
        ("resolved", ["C1", "C2", "C3", "C10"]),
    ):
        page = await world.api.ok("GET", f"/metrics/cases?period=2026&figure={figure}")
        assert sorted(c["case_no"] for c in page["items"]) == sorted(cases[n]["case_no"] for n in expected), figure
        assert page["total"] == len(expected)
    page = await world.api.ok("GET", "/metrics/cases?period=2026&figure=resolved&district=jiangbei")
    row = page["items"][0]
    assert row["case_no"] == cases["C10"]["case_no"]
    assert (row["working_days_used"], row["resolved_on_time"], row["rating"]) == (1, True, "satisfied")
    assert row["status_zh"] == "已办结"
    assert (row["item_code"], row["item_title_zh"]) == ("WL-04", "子女入学服务")
    assert (row["district_code"], row["district_name_zh"]) == ("jiangbei", "江北区")
    assert (row["department_code"], row["department_name_zh"]) == ("education", "市教委")
    assert row["steward_name"] == "江北管家"
    assert not {"worker_id", "worker", "name", "title", "national_id_masked", "mobile_masked"} & set(row)


async def test_every_figure_equals_the_count_of_its_cases(world: World) -> None:
    table = await world.api.ok("GET", "/metrics/items?period=2026")
    for figure, value in table["total"].items():
        if isinstance(value, int) and not figure.endswith(("working_days", "_rate")):
            page = await world.api.ok("GET", f"/metrics/cases?period=2026&figure={figure}&limit=1")
            assert page["total"] == value, figure


def _sheet(content: bytes) -> list[list[Any]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [list(row) for row in book.active.iter_rows(values_only=True)]


async def test_the_table_as_xlsx_matches_the_json_cell_by_cell(world: World) -> None:
    table = await world.api.ok("GET", "/metrics/items?period=2026")
    response = await world.api.send("GET", "/metrics/items/export?period=2026&format=xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "work-list-2026.xlsx" in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = rows[0]
    assert header[:5] == ["事项编号", "事项名称", "牵头部门编码", "牵头部门", "收件数"]
    from service.api.metric_columns import ITEMS

    assert len(rows) == 1 + 20 + 1  # header, 20 items, 合计
    for json_row, cells in zip([*table["rows"], {**table["total"], "code": "合计"}], rows[1:], strict=True):
        for column, cell in zip(ITEMS, cells, strict=True):
            assert cell == json_row.get(column.key), (column.key, cell, json_row.get(column.key))
    wl01_cells = dict(zip(header, next(r for r in rows if r[0] == "WL-01"), strict=True))
    assert (wl01_cells["事项名称"], wl01_cells["牵头部门编码"], wl01_cells["牵头部门"]) == (
        "人才住房保障",
        "housing",
        "市住房城乡建委",
    )
    assert (wl01_cells["年度目标"], wl01_cells["目标单位"]) == (10826, "套")
    # Numbers are numbers, rates carry a percentage format, widths fit the Chinese titles.
    wl01 = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "WL-01")
    rate_cell = wl01[[c.key for c in ITEMS].index("on_time_rate")]
    assert isinstance(rate_cell.value, float) and rate_cell.number_format == "0.00%"
    assert sheet.column_dimensions["B"].width >= 12


async def test_the_table_as_csv_opens_in_excel_and_matches(world: World) -> None:
    response = await world.api.send("GET", "/metrics/by/district/export?period=2026&format=csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["区县编码", "区县", "收件数"]
    yubei = next(r for r in rows if r[0] == "yubei")
    header = rows[0]
    assert yubei[1] == "渝北区"
    assert next(r for r in rows if r[0] == "jiangbei")[1] == "江北区"
    assert yubei[header.index("收件数")] == "9"
    assert yubei[header.index("按时办结率")] == "66.67%"
    assert rows[-1][0] == "合计" and rows[-1][header.index("收件数")] == "10"


async def test_the_case_list_export_is_masked_and_audited(world: World, database_url: str) -> None:
    response = await world.api.send("GET", "/metrics/cases/export?period=2026&figure=received&format=xlsx")
    assert response.status_code == 200
    rows = _sheet(response.content)
    assert rows[0][0] == "受理编号"
    assert sorted(r[0] for r in rows[1:]) == sorted(c["case_no"] for n, c in world.cases.items() if n != "C11")
    header = rows[0]
    c10 = dict(zip(header, next(r for r in rows if r[0] == world.cases["C10"]["case_no"]), strict=True))
    assert [(title, c10[title]) for title in header[1:9]] == [
        ("事项编号", "WL-04"),
        ("事项名称", "子女入学服务"),
        ("状态", "已办结"),
        ("区县编码", "jiangbei"),
        ("区县", "江北区"),
        ("承办部门编码", "education"),
        ("承办部门", "市教委"),
        ("科技专员编号", world.cases["C10"]["steward_id"]),
    ]
    assert c10["科技专员"] == "江北管家"
    text_of_sheet = repr(rows)
    assert "张明" not in text_of_sheet and "申请人才住房" not in text_of_sheet
    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.connect() as conn:
            audited = (
                await conn.execute(
                    text("SELECT target_id, details FROM audit_event WHERE action = 'metrics.export_cases'")
                )
            ).all()
    finally:
        await engine.dispose()
    assert [(t, d["format"], d["period"]) for t, d in audited] == [("received", "xlsx", "2026")]


async def audited_exports(database_url: str) -> list[dict[str, Any]]:
    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT details FROM audit_event WHERE action = 'metrics.export_cases' ORDER BY seq")
            )
            return [details for (details,) in rows.all()]
    finally:
        await engine.dispose()


async def test_the_case_list_xlsx_is_one_snapshot_and_reads_back_in_calamine(
    world: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.api.metric_columns import CASES
    from service.repositories import metrics as repo

    read_in: list[tuple[str, str]] = []
    stream = repo.stream_figure_cases

    async def spied(session: Any, *args: Any) -> Any:
        read_in.append(
            (
                await session.scalar(text("SHOW transaction_isolation")),
                await session.scalar(text("SHOW transaction_read_only")),
            )
        )
        async for row in stream(session, *args):
            yield row

    monkeypatch.setattr(repo, "stream_figure_cases", spied)
    response = await world.api.send("GET", "/metrics/cases/export?period=2026&figure=received&format=xlsx")
    assert response.status_code == 200
    assert "cases-received.xlsx" in response.headers["content-disposition"]
    assert read_in == [("repeatable read", "on")]
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert sheet[0] == [c.title_zh for c in CASES]
    assert len(sheet) == 1 + ALL_2026["received"]
    c10 = dict(zip(sheet[0], next(r for r in sheet if r[0] == world.cases["C10"]["case_no"]), strict=True))
    assert (c10["区县"], c10["承办部门"], c10["状态"]) == ("江北区", "市教委", "已办结")
    assert c10["收件日期"] == date(2026, 5, 4)
    assert c10["受理时间"] == datetime(2026, 5, 6, 10, 0)  # China Standard Time, as the officials read it
    assert (c10["是否按时办结"], c10["办结用时（工作日）"]) == (True, 1)
    assert [d["rows"] for d in await audited_exports(database_url)] == [ALL_2026["received"]]


async def test_a_case_list_longer_than_an_xlsx_sheet_is_refused_before_the_first_byte(
    world: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.services import metrics

    monkeypatch.setattr(metrics, "XLSX_ROWS", ALL_2026["received"] - 1)
    problem = await world.api.problem("GET", "/metrics/cases/export?period=2026&figure=received&format=xlsx", 422)
    assert problem["errors"][0]["field"] == "query.format", problem
    assert "format=csv" in problem["detail"]
    # A CSV has no such limit; only the export that went out is on the audit trail.
    response = await world.api.send("GET", "/metrics/cases/export?period=2026&figure=received&format=csv")
    assert response.status_code == 200
    assert len(response.content.decode("utf-8-sig").splitlines()) == 1 + ALL_2026["received"]
    assert [(d["format"], d["rows"]) for d in await audited_exports(database_url)] == [("csv", ALL_2026["received"])]


async def test_the_trend_exports(world: World) -> None:
    response = await world.api.send("GET", "/metrics/trend/export?period=2026&format=xlsx")
    rows = _sheet(response.content)
    assert rows[0] == ["起始日", "截止日", "收件数", "办结数", "期末超期积压"]
    assert [r[2] for r in rows[1:]] == [0, 0, 0, 4, 5, 1, 0, 0, 0, 0, 0, 0]
    assert rows[1][0] == datetime(2026, 1, 1)
    assert rows[7][4] is None


async def test_an_official_limited_to_a_district_sees_only_its_figures(world: World) -> None:
    official = await world.api.account("official", district_code="jiangbei")
    table = await official.ok("GET", "/metrics/items?period=2026")
    assert table["scope"]["district_code"] == "jiangbei"
    assert figures_of(table["total"]) == WL04
    by_district = await official.ok("GET", "/metrics/by/district?period=2026")
    assert [row["key"] for row in by_district["rows"]] == ["jiangbei"]
    page = await official.ok("GET", "/metrics/cases?period=2026&figure=received")
    assert [c["case_no"] for c in page["items"]] == [world.cases["C10"]["case_no"]]
    trend = await official.ok("GET", "/metrics/trend?period=2026")
    assert [p["overdue_backlog"] for p in trend["points"][:6]] == [0, 0, 0, 0, 0, 0]
    summary = await official.ok("GET", "/metrics/summary?period=2026")
    assert summary["items_most_overdue"] == []
    for path in (
        "/metrics/items?district=yubei",
        "/metrics/by/department?district=yubei",
        "/metrics/cases?figure=overdue&district=yubei",
        "/metrics/cases/export?figure=overdue&district=yubei&format=csv",
        "/metrics/trend?district=yubei",
    ):
        problem = await official.problem("GET", path, 403)
        assert problem["errors"][0]["field"] == "query.district", problem
    # A city-wide official sees everything.
    city = await world.api.account("official")
    assert figures_of((await city.ok("GET", "/metrics/items?period=2026"))["total"]) == ALL_2026


async def test_a_liaison_sees_the_figures_of_their_department(world: World) -> None:
    liaison, _ = await world.api.liaison_account("education")
    table = await liaison.ok("GET", "/metrics/items?period=2026")
    assert table["scope"]["department_code"] == "education"
    assert figures_of(table["total"]) == WL04
    await liaison.problem("GET", "/metrics/items?department=housing", 403)


async def test_every_metrics_reader_sees_the_stewards_names_but_may_not_list_staff(world: World) -> None:
    """Officials supervise the stewards' work: the metrics name them, to every role that
    reads the metrics, without the staff list (and its phone numbers) that staff.read gives."""
    official = await world.api.account("official")
    liaison, _ = await world.api.liaison_account("education")
    for reader in (official, liaison, world.api):
        by_steward = await reader.ok("GET", "/metrics/by/steward?period=2026")
        assert "江北管家" in [row["name_zh"] for row in by_steward["rows"]]
        page = await reader.ok("GET", "/metrics/cases?period=2026&figure=resolved&district=jiangbei")
        assert [row["steward_name"] for row in page["items"]] == ["江北管家"]
    await official.problem("GET", "/staff", 403)
    await liaison.ok("GET", "/staff")  # a liaison may list staff anyway, as before
    response = await official.send("GET", "/metrics/by/steward/export?period=2026&format=xlsx")
    assert response.status_code == 200
    rows = _sheet(response.content)
    assert rows[0][:3] == ["科技专员编号", "科技专员", "收件数"]
    named = {row[1]: row[2] for row in rows[1:]}
    assert named == {"王管家": 9, "江北管家": 1, None: 10}  # the 合计 row has no name
    assert rows[-1][0] == "合计"


async def test_no_metrics_response_carries_personal_data(world: World) -> None:
    bodies = []
    for path in (
        "/metrics/items?period=2026",
        "/metrics/by/district?period=2026",
        "/metrics/by/steward?period=2026",
        "/metrics/trend?period=2026&interval=week",
        "/metrics/summary?period=2026",
        "/metrics/cases?period=2026&figure=received&limit=200",
        "/metrics/cases/export?period=2026&figure=received&format=csv",
    ):
        response = await world.api.send("GET", path)
        assert response.status_code == 200, path
        bodies.append(response.content.decode("utf-8-sig"))
    everything = "\n".join(bodies)
    assert "张明" not in everything  # the workers' name
    # The stewards are named, by their name only.
    assert "王管家" in everything and "江北管家" in everything
    assert STEWARD_PHONE not in everything and STEWARD_EMAIL not in everything
    assert "67001234" not in everything
    assert "13812345678" not in everything
    assert not any(ch.isdigit() and len(tok) == 18 for tok in everything.split() for ch in tok[:1])


@pytest.mark.parametrize(
    ("query", "field", "status"),
    [
        ("period=2026-13", "query.period", 400),  # not of the documented form: months run 01 to 12
        ("period=last-year", "query.period", 400),  # not of the documented form at all
        ("period=0000", "query.period", 400),  # years run from 2000 to 2100, as the pattern says
        ("period=0000-Q1", "query.period", 400),
        ("period=9999", "query.period", 400),
        ("period=2101-01", "query.period", 400),
        ("from=9999-12-30&to=9999-12-31", "query.from", 422),
        ("from=2026-01-01&to=2101-01-01", "query.to", 422),
        ("from=yesterday&to=2026-02-01", "query.from", 400),
        ("from=2026-01-01&to=2026-02-30", "query.to", 400),
        ("from=20260101&to=2026-02-01", "query.from", 400),
        ("period=2026&from=2026-01-01&to=2026-02-01", "query.period", 422),
        ("from=2026-02-01", "query.to", 422),
        ("from=2026-03-01&to=2026-02-01", "query.to", 422),
        ("from=2020-01-01&to=2026-01-01", "query.period", 422),
        ("district=atlantis", "query.district", 422),
        ("department=nowhere", "query.department", 422),
        ("district=Yu%00bei", "query.district", 400),
    ],
)
async def test_bad_periods_and_filters_are_refused_with_the_field(
    client: AsyncTestClient[Litestar], query: str, field: str, status: int
) -> None:
    problem = await Api(client).problem("GET", f"/metrics/items?{query}", status)
    assert problem["errors"][0]["field"] == field, problem


async def test_unknown_items_figures_and_formats_are_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    assert (await api.problem("GET", "/metrics/by/district?item=WL-99", 422))["errors"][0]["field"] == "query.item"
    await api.problem("GET", "/metrics/cases?figure=happiness", 400)
    await api.problem("GET", "/metrics/items/export?format=pdf", 400)
    await api.problem("GET", "/metrics/by/worker", 400)


async def test_the_tallies_equal_the_counts_from_the_cases_after_every_kind_of_change(
    world: World, database_url: str
) -> None:
    """The trigger-kept tallies and the same counters computed from the cases agree, for
    every grouping and for periods of whole months, loose days and both."""
    from service.domain.metrics import parse_period
    from service.repositories.metrics import Scope, count

    api, cases = world.api, world.cases
    # Changes that move cases between tally rows: a transfer, a steward change, a reopen, a new rating.
    c4 = await api.ok("GET", f"/cases/{cases['C4']['id']}")
    await api.move(c4, "transfer", **MOVE_FIELDS["transfer"])
    c1 = await api.ok("GET", f"/cases/{cases['C1']['id']}")
    world.clock.set(at(5, 12))
    await api.move(c1, "reopen", **MOVE_FIELDS["reopen"])
    other = await api.steward("新管家")
    await api.ok(
        "POST", f"/workers/{cases['C5']['worker_id']}/steward", 201, json={"steward_id": other["id"], "reason": "调整"}
    )
    world.clock.set(NOW)
    await api.ok("POST", f"/cases/{cases['C3']['id']}/ratings", 201, json={"level": "very_dissatisfied"})

    from service.db import make_session_factory

    engine = create_async_engine(async_url(database_url))
    sessions = make_session_factory(engine)
    periods = [
        parse_period("2026", None, None, NOW.date()),
        parse_period("2026-05", None, None, NOW.date()),
        parse_period(None, datetime(2026, 4, 15).date(), datetime(2026, 5, 20).date(), NOW.date()),
        parse_period(None, datetime(2025, 12, 1).date(), datetime(2026, 6, 30).date(), NOW.date()),
        # Most of May is May's tally less the cases of the days after the 24th (C5, 05-25).
        parse_period(None, datetime(2026, 4, 29).date(), datetime(2026, 5, 24).date(), NOW.date()),
        # Less than half of May: its days are counted one by one.
        parse_period(None, datetime(2026, 5, 21).date(), datetime(2026, 6, 30).date(), NOW.date()),
    ]
    scopes = [Scope(), Scope(district_code="yubei"), Scope(department_code="housing")]
    compared = 0
    async with sessions() as session, session.begin():
        for period in periods:
            for group in (None, "item", "district", "department", "steward"):
                for scope in scopes:
                    fast = await count(session, period, group, scope)
                    slow = await count(session, period, group, scope, tallies=False)
                    assert {k: (v.counts, v.median, v.p90) for k, v in fast.by_key.items()} == {
                        k: (v.counts, v.median, v.p90) for k, v in slow.by_key.items()
                    }, (period, group, scope)
                    assert fast.whole == slow.whole, (period, group, scope)
                    compared += 1
        # The flow tally's weeks and months equal the events counted from the cases.
        from service.domain.metrics import unit_after
        from service.repositories.metrics import flows_counted, flows_tallied

        for unit, first in (("week", datetime(2025, 12, 22).date()), ("month", datetime(2025, 12, 1).date())):
            starts = [first]  # every week or month that has ended by now
            while unit_after(unit_after(starts[-1], unit), unit) <= NOW.date():
                starts.append(unit_after(starts[-1], unit))
            tallied = await flows_tallied(session, unit, starts, Scope())
            for start in starts:
                counted = await flows_counted(session, start, unit_after(start, unit), Scope(), NOW)
                assert tallied.get(start, type(counted)()) == counted, (unit, start)
            assert sum(f.received for f in tallied.values()) == 10  # C7 arrived this week
        raw_total = await session.scalar(text('SELECT count(*) FROM "case"'))
        tally_total = await session.scalar(text("SELECT sum(received) FROM case_tally WHERE span = 'year'"))
        steward_total = await session.scalar(text("SELECT sum(received) FROM steward_tally WHERE span = 'month'"))
    await engine.dispose()
    assert raw_total == tally_total == steward_total == 11
    assert compared == len(periods) * 5 * 3


async def test_a_resolution_within_seconds_counts_one_working_day(client: AsyncTestClient[Litestar]) -> None:
    """Part of a day counts as a day, even a second of one."""
    api = Api(client)
    case = await api.case()
    steps: list[tuple[str, dict[str, Any]]] = [("accept", {}), ("start", {}), ("resolve", {"outcome": "当场办结"})]
    for action, fields in steps:
        case = await api.move(case, action, **fields)
    page = await api.ok("GET", "/metrics/cases?figure=resolved&period=2026")
    assert [row["working_days_used"] for row in page["items"] if row["case_no"] == case["case_no"]] == [1]
    table = await api.ok("GET", "/metrics/items?period=2026")
    assert table["total"]["median_working_days"] == 1


async def test_the_supervision_figures_take_the_periods_and_filters_of_every_figure(world: World) -> None:
    """Counted in ``tests/api/test_supervision.py``; here: none issued among these cases, and
    the same refusals as the other tables, naming the field."""
    figures = await world.api.ok("GET", "/metrics/supervision?period=2026&district=yubei")
    assert figures["scope"]["district_code"] == "yubei" and figures["period"]["label"] == "2026"
    counters = ("issued", "replied_on_time", "replied_late", "escalated", "open", "unanswered")
    assert {figures[k] for k in counters} == {0}
    assert figures["on_time_rate"] is None
    page = await world.api.ok("GET", "/metrics/cases?period=2026&figure=supervised")
    assert (page["total"], page["items"]) == (0, [])
    for query, field, status in (
        ("period=2026-13", "query.period", 400),
        ("from=2026-03-01&to=2026-02-01", "query.to", 422),
        ("district=atlantis", "query.district", 422),
        ("item=WL-99", "query.item", 422),
    ):
        problem = await world.api.problem("GET", f"/metrics/supervision?{query}", status)
        assert problem["errors"][0]["field"] == field, problem
