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
