"""The monthly report (月度通报): its numbers are those of the metrics endpoints for the same
month, year to date and scope; it names what it lists, holds the overdue cases, keeps the
scope rules and refuses bad months naming the field.

The cases are those of ``tests/api/test_metrics.py`` (now = Tue 2026-06-02 10:00). For
May, the year to date is January to May: C1 to C6 and C8 to C10 (C7 came in June, C11 in
2025). C4 is the one overdue case among them: due Thu 05-21 10:00, so late by 8 working
days now (05-21 from 10:00, 05-22, 05-25 to 05-29, 06-01, 06-02 until 10:00).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from service.config import async_url
from tests.api.test_metrics import World, at, build
from tests.conftest import Clock
from tests.factory import Api

MAY = "from=2026-01-01&to=2026-05-31"
TREND_MAY = "from=2025-06-01&to=2026-05-31&interval=month"


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts, whitespace collapsed."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(page: str) -> dict[str, list[list[str]]]:
    """The report's tables by the text of their first header cell."""
    parser = _Tables()
    parser.feed(page)
    return {table[0][0]: table for table in parser.tables}


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


async def report(api: Api, query: str) -> str:
    response = await api.send("GET", f"/reports/monthly?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return str(response.text)


@pytest.fixture
async def world(client: AsyncTestClient[Litestar], clock: Clock) -> World:
    return await build(client, clock)


def headline_cells(figures: dict[str, Any]) -> list[str]:
    return [
        number(figures["received"]),
        number(figures["resolved"]),
        rate(figures["on_time_rate"]),
        number(figures["overdue"]),
        rate(figures["satisfaction_rate"]),
    ]


async def _same_as_the_metrics(api: Api, month: str, scope: str) -> dict[str, list[list[str]]]:
    page = tables(await report(api, f"month={month}{scope}"))
    year, last = month.split("-")
    end = {"05": "31", "06": "30"}[last]
    ytd = f"from={year}-01-01&to={month}-{end}"
    month_items = await api.ok("GET", f"/metrics/items?period={month}{scope}")
    year_items = await api.ok("GET", f"/metrics/items?{ytd}{scope}")

    headline = page["期间"]
    assert headline[1] == [f"本月（{int(last)}月）", *headline_cells(month_items["total"])]
    assert headline[2] == ["本年累计", *headline_cells(year_items["total"])]

    items = page["编号"][2:]  # two header rows
    assert len(items) == 21  # twenty items and the total
    by_month = {row["code"]: row for row in month_items["rows"]}
    for cells, row in zip(items, year_items["rows"], strict=False):
        m = by_month[row["code"]]
        assert cells[0] == row["code"] and cells[1] == row["title_zh"]
        assert cells[3:9] == [
            number(m["received"]),
            number(m["resolved"]),
            number(row["received"]),
            number(row["resolved"]),
            rate(row["on_time_rate"]),
            number(row["overdue"]),
        ], row["code"]
        if row["annual_target"]:
            assert cells[9].startswith(number(row["annual_target"]))
    total = year_items["total"]
    assert items[-1][0] == "合计" and items[-1][1:6] == [
        number(month_items["total"]["received"]),
        number(month_items["total"]["resolved"]),
        number(total["received"]),
        number(total["resolved"]),
        rate(total["on_time_rate"]),
    ]

    by = "department" if "district=" in scope else "district"
    breakdown = await api.ok("GET", f"/metrics/by/{by}?{ytd}{scope}")
    ranked = {cells[1]: cells for cells in page["名次"][1:]}
    assert len(ranked) == len(breakdown["rows"])
    for row in breakdown["rows"]:
        cells = ranked[row["name_zh"]]
        assert cells[2] == rate(row["on_time_rate"])
        assert cells[4:7] == [number(row["resolved"]), number(row["received"]), number(row["overdue"])]

    first = f"{int(year) - 1}-{int(last) + 1:02d}-01" if last != "12" else f"{year}-01-01"
    trend = await api.ok("GET", f"/metrics/trend?from={first}&to={month}-{end}&interval=month{scope}")
    assert page["月份"][1] == [f"{int(p['first_day'][5:7])}月" for p in trend["points"]]
    rows = {row[0]: row[1:] for row in page["月份"][2:]}
    assert rows["收件"] == [number(p["received"]) for p in trend["points"]]
    assert rows["办结"] == [number(p["resolved"]) for p in trend["points"]]
    assert rows["月末超期积压"] == [number(p["overdue_backlog"]) for p in trend["points"]]
    assert len(rows["收件"]) == 12
    return page


async def test_the_city_report_holds_the_metrics_figures(world: World) -> None:
    page = await _same_as_the_metrics(world.api, "2026-05", "")
    assert page["期间"][1][1:] == ["5", "1", "100.0%", "0", "100.0%"]  # C5, C6, C8, C9, C10; C10 resolved
    assert page["期间"][2][1:] == ["9", "4", "75.0%", "1", "66.7%"]
    wl01 = next(row for row in page["编号"] if row[0] == "WL-01")
    assert wl01[2] == "市住房城乡建委"  # the lead department by name
    assert wl01[9:] == ["10,826 套", "<0.1%"]  # 3 housing units delivered of 10,826
    # Jiangbei's one resolution was on time, Yubei's three two-thirds; the rest are unranked.
    ranking = page["名次"]
    assert ranking[1][:3] == ["1", "江北区", "100.0%"]
    assert ranking[2][:3] == ["2", "渝北区", "66.7%"]
    assert ranking[3][0] == "—" and len(ranking) == 1 + 41


async def test_the_reports_of_a_district_and_of_the_running_month_agree_with_the_metrics(world: World) -> None:
    await _same_as_the_metrics(world.api, "2026-06", "")
    page = await _same_as_the_metrics(world.api, "2026-05", "&district=yubei")
    # Departments, in Yubei: only housing has resolved anything there.
    assert page["名次"][1][:3] == ["1", "市住房城乡建委", "66.7%"]
    assert {row[0] for row in page["名次"][2:]} == {"—"}


async def test_the_overdue_list_names_the_case_and_no_worker(world: World) -> None:
    html = await report(world.api, "month=2026-05")
    c4 = world.cases["C4"]
    overdue = tables(html)["序号"]
    assert overdue[1] == ["1", c4["case_no"], "人才住房保障", "渝北区", "市住房城乡建委", "王管家", "2026-05-21", "8"]
    figure = await world.api.ok("GET", f"/metrics/cases?figure=overdue&{MAY}")
    assert [c["case_no"] for c in figure["items"]] == [c4["case_no"]]
    assert "共 1 件，逐件列出如下" in html
    for private in ("张明", "13812345678", "重庆大学", "申请人才住房", world.cases["C4"]["worker_id"]):
        assert private not in html
    assert "数据截至</dt><dd>2026-06-02 10:00</dd>" in html
    # June's cases hold none overdue, but the year's list is the year's.
    june = await report(world.api, "month=2026-06")
    assert c4["case_no"] in june


async def test_a_long_overdue_list_is_cut_and_its_total_stated(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two days on, C6 (due 06-03 10:00) is overdue too; listing one, the earlier stays."""
    from service.services import reports

    monkeypatch.setattr(reports, "OVERDUE_LISTED", 1)
    world.clock.set(at(6, 4))
    html = await report(world.api, "month=2026-05")
    assert "共 2 件，以下按超期先后列出最早超期的 1 件" in html
    assert [row[1] for row in tables(html)["序号"][1:]] == [world.cases["C4"]["case_no"]]
    figure = await world.api.ok("GET", f"/metrics/cases?figure=overdue&{MAY}")
    assert figure["total"] == 2


async def test_the_page_runs_nothing_and_loads_nothing(world: World) -> None:
    response = await world.api.send("GET", "/reports/monthly?month=2026-05")
    page = response.text
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["cache-control"] == "no-store"
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(|https?:|//[a-z]", page, re.I)
    assert "<svg" in page and "@page" in page and "size: A4" in page
    assert "为科技工作者办实事" in page and "工作月度通报" in page and "2026年5月" in page


async def test_everything_from_the_data_is_escaped(world: World) -> None:
    wl01 = await world.api.item("WL-01")
    marked_up = {"title_zh": '<b onclick="x()">住房</b> & "租"', "target_unit": "<i>"}
    await world.api.ok("PATCH", f"/work-list-items/{wl01['id']}", json=marked_up)
    page = await report(world.api, "month=2026-05")
    assert "<b onclick" not in page and "<i>" not in page
    assert "&lt;b onclick=&quot;x()&quot;&gt;住房&lt;/b&gt; &amp; &quot;租&quot;" in page
    assert "10,826 &lt;i&gt;" in page


async def test_a_district_official_reads_their_district_only(world: World) -> None:
    official = await world.api.account("official", district_code="jiangbei")
    page = await report(official, "month=2026-05")
    assert '<p class="issue">2026年5月 · 江北区</p>' in page
    assert tables(page)["期间"][2][1:3] == ["1", "1"]  # C10 alone
    assert "三、部门办理情况排名" in page
    problem = await official.problem("GET", "/reports/monthly?month=2026-05&district=yubei", 403)
    assert problem["errors"][0]["field"] == "query.district"
    # A city official may ask for any district, and reads the same report as that district's.
    city = await world.api.account("official")
    asked = await report(city, "month=2026-05&district=jiangbei")
    assert tables(asked) == tables(page)


async def test_a_liaison_reads_their_department_and_a_steward_nothing(world: World) -> None:
    liaison, _ = await world.api.liaison_account("education")
    page = await report(liaison, "month=2026-05")
    assert "2026年5月 · 市教委" in page and "三、区县办理情况排名" in page
    assert tables(page)["期间"][2][1:3] == ["1", "1"]
    steward, _ = await world.api.steward_account()
    await steward.problem("GET", "/reports/monthly?month=2026-05", 403)


async def test_each_report_handed_out_is_audited(world: World, database_url: str) -> None:
    await report(world.api, "month=2026-05&district=yubei")
    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.connect() as conn:
            audited = (
                await conn.execute(
                    text(
                        "SELECT actor_username, target_type, target_id, details FROM audit_event "
                        "WHERE action = 'metrics.monthly_report'"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in audited] == [
        ("admin", "report", "2026-05", {"month": "2026-05", "district": "yubei", "department": None})
    ]


@pytest.mark.parametrize(
    ("query", "field", "status"),
    [
        ("month=2026-07", "query.month", 422),  # still to come (now is 2026-06-02)
        ("month=2027-01", "query.month", 422),
        ("month=2026-13", "query.month", 400),
        ("month=2026-6", "query.month", 400),
        ("month=26-06", "query.month", 400),
        ("month=2026-06-01", "query.month", 400),
        ("month=1999-12", "query.month", 400),
        ("month=2026-05&district=atlantis", "query.district", 422),
        ("month=2026-05&district=Yu%00bei", "query.district", 400),
    ],
)
async def test_bad_months_are_refused_naming_the_field(
    client: AsyncTestClient[Litestar], query: str, field: str, status: int
) -> None:
    problem = await Api(client).problem("GET", f"/reports/monthly?{query}", status)
    assert problem["errors"][0]["field"] == field, problem


async def test_a_missing_month_is_refused_in_chinese(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    problem = await api.problem("GET", "/reports/monthly", 400)
    assert problem["errors"][0]["field"] == "query.month", problem
    future = await api.problem("GET", "/reports/monthly?month=2030-01", 422, headers={"Accept-Language": "zh-CN"})
    assert future["errors"][0]["reason"] == "不能是尚未到来的月份"
