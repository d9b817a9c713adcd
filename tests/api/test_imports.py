"""Ledger imports through the API: templates, dry runs, bad rows, the same file twice,
the encodings and date forms Excel produces, and what imported cases count in."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from typing import Any

import openpyxl
import xlsxwriter
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.factory import Api, national_id

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKER_TITLES = ["姓名", "身份证号", "手机号", "所在区县", "工作单位", "英才卡", "专业领域", "科技专员"]
CASE_TITLES = ["身份证号", "姓名", "服务事项", "诉求标题", "诉求内容", "收件日期", "办理状态", "承办部门", "科技专员", "受理渠道"]


def xlsx(rows: list[list[Any]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("台账")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, datetime | date):
                moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
                sheet.write_datetime(r, c, moment, date_format)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif value is not None:
                sheet.write_string(r, c, value)
    book.close()
    return buffer.getvalue()


def csv_bytes(rows: list[list[Any]], encoding: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


async def give(
    api: Api, kind: str, content: bytes, name: str = "台账.xlsx", *, dry_run: bool = True, partial: bool = False
) -> dict[str, Any]:
    """Give a file and wait for its job to end; returns the job."""
    data = {"kind": kind, "dry_run": "true" if dry_run else "false", "partial": "true" if partial else "false"}
    started = await api.ok("POST", "/imports", 202, files={"file": (name, content)}, data=data)
    for _ in range(400):
        job: dict[str, Any] = await api.ok("GET", f"/imports/{started['id']}")
        if job["status"] not in ("queued", "running"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"the import did not end: {job}")


def worker_row(name: str, steward: str, *, nid: str | None = None, district: str = "九龙坡区") -> list[Any]:
    return [name, nid or national_id(), "13800138000", district, "重庆大学", "A卡", "新材料", steward]


async def test_workers_dry_run_then_import_then_again(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.steward("王丽")
    rows = [WORKER_TITLES, worker_row("张明", "王丽"), worker_row("李华", "王丽")]
    content = xlsx(rows)
    checked = await give(api, "workers", content)
    assert checked["status"] == "checked", checked
    assert (checked["rows_read"], checked["rows_valid"], checked["rows_invalid"]) == (2, 2, 0)
    listed = await api.ok("GET", "/workers?limit=50")
    assert listed["total"] == 0
    imported = await give(api, "workers", content, dry_run=False)
    assert imported["status"] == "imported", imported
    assert imported["rows_imported"] == 2
    workers = (await api.ok("GET", "/workers?limit=50"))["items"]
    assert sorted(w["name"] for w in workers) == ["张明", "李华"]
    assert {w["steward_id"] for w in workers} == {steward["id"]}
    assert {w["district_code"] for w in workers} == {"jiulongpo"}
    again = await give(api, "workers", content, dry_run=False)
    assert again["status"] == "imported"
    assert (again["rows_existing"], again["rows_imported"]) == (2, 0)
    assert (await api.ok("GET", "/workers?limit=50"))["total"] == 2


async def _workers(api: Api, steward_name: str, count: int) -> list[str]:
    """Bring in ``count`` workers for the steward named; returns their ID numbers."""
    ids = [national_id() for _ in range(count)]
    rows = [WORKER_TITLES, *[worker_row(f"工作者{n}", steward_name, nid=nid) for n, nid in enumerate(ids)]]
    job = await give(api, "workers", xlsx(rows), dry_run=False)
    assert job["status"] == "imported", job
    return ids


async def test_cases_keep_their_received_date_and_due_dates_on_the_calendar(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    await api.steward("王丽")
    first, second, third = await _workers(api, "王丽", 3)
    rows = [
        CASE_TITLES,
        # Received the day before the May Day holiday (1–5 May 2026): 14 working days run to 22 May.
        [first, "工作者0", "WL-04", "子女转学", "秋季入学", date(2026, 4, 30), "办理中", "", "", "电话"],
        # An Excel serial number (46099 is 2026-03-18) and the item by its title.
        [second, "", "人才落户", "", "", 46099, "待受理", "市公安局", "", ""],
        # Text as Excel writes it in a CSV, with a time.
        [third, "", "WL-07", "就医", "", "2026/5/6 14:30", "待补件", "", "", "现场"],
    ]
    job = await give(api, "cases", xlsx(rows), dry_run=False)
    assert job["status"] == "imported", job
    assert job["rows_imported"] == 3
    cases = (await api.ok("GET", "/cases?limit=50&sort=case_no"))["items"]
    by_item = {c["item_code"]: c for c in cases}
    school = await api.ok("GET", f"/cases/{by_item['WL-04']['id']}")
    assert school["case_no"].startswith("BS-20260430-")
    assert school["status"] == "in_progress"
    assert school["created_at"] == "2026-04-30T01:00:00Z"  # 09:00 in Chongqing
    assert school["due"]["due_at"].startswith("2026-05-22")
    assert school["channel"] == "phone"
    line = school["timeline"][0]
    assert line["action"] == "import"
    assert line["visibility"] == "public"
    assert "2026-04-30" in line["note"]
    hukou = await api.ok("GET", f"/cases/{by_item['WL-05']['id']}")
    assert hukou["case_no"].startswith("BS-20260318-")
    assert hukou["status"] == "submitted"
    assert hukou["due"]["due_at"] is None
    assert hukou["department_code"] == "public-security"
    assert hukou["title"] == "人才落户"
    medical = await api.ok("GET", f"/cases/{by_item['WL-07']['id']}")
    assert medical["status"] == "awaiting_materials"
    assert medical["created_at"] == "2026-05-06T06:30:00Z"
    assert [e["action"] for e in medical["timeline"]] == ["import", "request_materials"]


async def test_imported_cases_count_in_the_metrics_from_their_received_date(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    await api.steward("王丽")
    ids = await _workers(api, "王丽", 2)
    rows = [CASE_TITLES, *[[nid, "", "WL-04", "入学", "", "2026-03-05", "办理中", "", "", ""] for nid in ids]]
    assert (await give(api, "cases", xlsx(rows), dry_run=False))["status"] == "imported"
    march = await api.ok("GET", "/metrics/items?period=2026-03")
    school = next(r for r in march["rows"] if r["code"] == "WL-04")
    assert (school["received"], school["in_progress"]) == (2, 2)
    # Received 5 March, due 14 working days later: overdue by the test's clock (2 June).
    assert school["overdue"] == 2
    april = await api.ok("GET", "/metrics/items?period=2026-04")
    assert next(r for r in april["rows"] if r["code"] == "WL-04")["received"] == 0
    districts = await api.ok("GET", "/metrics/by/district?period=2026-03")
    assert next(r for r in districts["rows"] if r["key"] == "jiulongpo")["received"] == 2


async def test_the_same_cases_file_twice_adds_nothing(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    await api.steward("王丽")
    (nid,) = await _workers(api, "王丽", 1)
    rows = [CASE_TITLES, [nid, "", "WL-04", "入学", "", "2026-03-05", "已受理", "", "", ""]]
    assert (await give(api, "cases", xlsx(rows), dry_run=False))["rows_imported"] == 1
    again = await give(api, "cases", xlsx(rows), dry_run=False)
    assert (again["status"], again["rows_existing"], again["rows_imported"]) == ("imported", 1, 0)
    assert (await api.ok("GET", "/cases"))["total"] == 1
