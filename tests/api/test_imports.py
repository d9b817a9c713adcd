"""Ledger imports through the API: templates, dry runs, bad rows, the same file twice,
the encodings and date forms Excel produces, and what imported cases count in."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
import zipfile
from datetime import date, datetime
from typing import Any

import openpyxl
import xlsxwriter
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.models import (
    CaseTally,
    DepartmentDurationTally,
    DurationTally,
    FlowTally,
    StewardDurationTally,
    StewardTally,
)
from tests.factory import Api, national_id

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKER_TITLES = ["姓名", "身份证号", "手机号", "所在区县", "工作单位", "英才卡", "专业领域", "科技专员"]
CASE_TITLES = [
    "身份证号",
    "姓名",
    "服务事项",
    "诉求标题",
    "诉求内容",
    "收件日期",
    "办理状态",
    "承办部门",
    "科技专员",
    "受理渠道",
]


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


async def import_a_worker_and_a_case(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A steward's worker and one open case of theirs, each brought in by a real import
    (COPY into temporary tables and all); returns the two finished jobs."""
    await api.steward("王丽")
    nid = worker_row("张明", "王丽")[1]
    workers = await give(api, "workers", xlsx([WORKER_TITLES, worker_row("张明", "王丽", nid=nid)]), dry_run=False)
    rows = [CASE_TITLES, [nid, "张明", "WL-04", "子女转学", "", "2026-05-06", "办理中", "", "", "电话"]]
    return workers, await give(api, "cases", xlsx(rows), dry_run=False)


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
    rows: list[list[Any]] = [
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


def _report_rows(content: bytes) -> list[list[Any]]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


async def test_every_kind_of_bad_row_is_reported_and_nothing_is_written(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    await api.steward("王丽")
    await api.steward("刘强")
    await api.steward("刘强")  # two stewards of one name: the name alone cannot say which
    good = national_id()
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    rows = [
        WORKER_TITLES,
        worker_row("张明", "王丽", nid=good),
        worker_row("重复", "王丽", nid=good),
        worker_row("校验", "王丽", nid=bad_check),
        ["数字", 500103199001011234, "13800138000", "九龙坡区", "重庆大学", "", "", "王丽"],
        ["手机", national_id(), "0236512345", "九龙坡区", "重庆大学", "", "", "王丽"],
        worker_row("区县", "王丽", district="火星区"),
        ["", national_id(), "13800138000", "渝北", "", "C卡", "", "王丽"],
        worker_row("专员", "不存在"),
        worker_row("同名", "刘强"),
        [],  # a blank row is skipped, not counted
    ]
    content = xlsx(rows)
    job = await give(api, "workers", content, dry_run=False)
    assert job["status"] == "refused", job
    assert (job["rows_read"], job["rows_valid"], job["rows_invalid"], job["rows_imported"]) == (9, 1, 8, 0)
    reasons = {(p["row"], p["column"]): p["reason"] for p in job["problems"]}
    assert reasons[(3, "身份证号")] == "与第2行是同一人"
    assert reasons[(4, "身份证号")] == "校验码不正确"
    assert "存成了数字" in reasons[(5, "身份证号")]
    assert reasons[(6, "手机号")] == "不是有效的11位手机号码"
    assert reasons[(7, "所在区县")] == "没有「火星区」这个区县"
    assert reasons[(8, "姓名")] == "不能为空"
    assert reasons[(8, "工作单位")] == "不能为空"
    assert reasons[(8, "英才卡")] == "应为A卡、B卡或无"
    assert (8, "所在区县") not in reasons  # 渝北 without 区 is 渝北区
    assert reasons[(9, "科技专员")] == "系统中没有科技专员「不存在」"
    assert "请填写其登录账号" in reasons[(10, "科技专员")]
    assert (await api.ok("GET", "/workers"))["total"] == 0
    response = await api.send("GET", f"/imports/{job['id']}/report")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    report = _report_rows(response.content)
    assert report[0] == [*WORKER_TITLES, "导入检查结果"]
    assert report[1][0] == "张明"
    assert report[1][-1] == "通过"
    assert report[2][-1] == "身份证号：与第2行是同一人"
    assert "所在区县：没有「火星区」这个区县" in report[6][-1]
    assert len(report) == 10


async def test_bad_case_rows_are_reported(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    await api.steward("王丽")
    (nid,) = await _workers(api, "王丽", 1)
    rows = [
        CASE_TITLES,
        [nid, "", "WL-04", "入学", "", "2026-02-30", "办理中", "", "", ""],
        [nid, "", "WL-04", "入学", "", "2026-12-01", "办理中", "", "", ""],
        [nid, "", "WL-04", "入学", "", "明天", "办理中", "", "", ""],
        [nid, "", "WL-99", "入学", "", "2026-03-01", "办理中", "", "", ""],
        [nid, "", "WL-04", "入学", "", "2026-03-01", "已办结", "", "", ""],
        [nid, "", "WL-04", "入学", "", "2026-03-01", "办理中", "市交委", "", "飞鸽"],
        [nid, "别人", "WL-04", "入学", "", "2026-03-01", "办理中", "", "", ""],
        [national_id(), "", "WL-04", "入学", "", "2026-03-01", "办理中", "", "", ""],
        [nid, "", "WL-04", "入学", "", "2025-03-01", "办理中", "", "", ""],
        [nid, "", "WL-04", "入学", "", "2026-03-02", "办理中", "", "", ""],
        [nid, "", "WL-04", "入学", "", "2026-03-02", "办理中", "", "", ""],
    ]
    job = await give(api, "cases", xlsx(rows))
    assert job["status"] == "checked"
    reasons = {(p["row"], p["column"]): p["reason"] for p in job["problems"]}
    assert reasons[(2, "收件日期")] == "2026年2月30日不存在"
    assert reasons[(3, "收件日期")] == "晚于今天"
    assert "不是可识别的日期" in reasons[(4, "收件日期")]
    assert "没有「WL-99」这个事项" in reasons[(5, "服务事项")]
    assert "只导入在办的办件" in reasons[(6, "办理状态")]
    assert reasons[(7, "承办部门")] == "没有「市交委」这个部门"
    assert reasons[(7, "受理渠道")] == "应为电话、现场、微信、网站或服务平台"
    assert reasons[(8, "姓名")] == "与系统中该身份证号的姓名不一致"
    assert "请先导入科技工作者台账" in reasons[(9, "身份证号")]
    assert reasons[(10, "服务事项")] == "2025年的工作清单中没有该事项"
    assert "与第11行是同一办件" in reasons[(12, "")]
    assert (job["rows_valid"], job["rows_invalid"]) == (1, 10)


async def test_partial_import_takes_the_good_rows(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    await api.steward("王丽")
    rows = [WORKER_TITLES, worker_row("张明", "王丽"), worker_row("区县", "王丽", district="火星区")]
    job = await give(api, "workers", xlsx(rows), dry_run=False, partial=True)
    assert (job["status"], job["rows_imported"], job["rows_invalid"]) == ("imported", 1, 1)
    assert [w["name"] for w in (await api.ok("GET", "/workers"))["items"]] == ["张明"]


async def test_csv_in_gb18030_and_utf8_with_or_without_bom(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    await api.steward("王丽")
    for encoding, label in (("gb18030", "GB18030"), ("utf-8-sig", "UTF-8 (BOM)"), ("utf-8", "UTF-8")):
        rows = [WORKER_TITLES, worker_row("重庆璧山", "王丽"), worker_row("𠮷田", "王丽")]
        job = await give(api, "workers", csv_bytes(rows, encoding), "台账.csv", dry_run=False)
        assert (job["status"], job["file_format"], job["file_encoding"]) == ("imported", "csv", label), job
        assert job["rows_imported"] == 2
    names = {w["name"] for w in (await api.ok("GET", "/workers?limit=50"))["items"]}
    assert names == {"重庆璧山", "𠮷田"}


async def test_cases_from_a_gb18030_csv_with_text_dates(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    await api.steward("王丽")
    ids = await _workers(api, "王丽", 4)
    days = ["2026年3月5日", "2026/3/6", "2026.3.9", "20260310"]
    rows = [
        CASE_TITLES,
        *[[nid, "", "WL-04", "入学", "", d, "已受理", "", "", ""] for nid, d in zip(ids, days, strict=True)],
    ]
    job = await give(api, "cases", csv_bytes(rows, "gb18030"), "办件.csv", dry_run=False)
    assert job["status"] == "imported", job
    cases = (await api.ok("GET", "/cases?limit=50"))["items"]
    assert sorted(c["created_at"][:10] for c in cases) == ["2026-03-05", "2026-03-06", "2026-03-09", "2026-03-10"]


async def test_templates_come_with_titles_an_example_and_the_lists(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    await api.steward("王丽")
    response = await api.send("GET", "/imports/templates/workers")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["科技工作者", "可选值", "填写说明"]
    sheet = book["科技工作者"]
    titles = [c.value for c in sheet[1]]
    assert titles[:3] == ["姓名 *", "身份证号 *", "手机号 *"]
    assert sheet["A2"].value.startswith("示例")
    lists = [c.value for c in book["可选值"]["B"] if c.value]
    assert "九龙坡区" in lists
    assert "两江新区" in lists
    # Filled in and given back as it is, example row and all, it imports.
    sheet.append(["张明", national_id(), "13800138000", "九龙坡区", "重庆大学", "B卡", "", "王丽"])
    filled = io.BytesIO()
    book.save(filled)
    job = await give(api, "workers", filled.getvalue(), dry_run=False)
    assert (job["status"], job["rows_read"], job["rows_imported"]) == ("imported", 1, 1), job
    cases = await api.send("GET", "/imports/templates/cases?format=csv")
    assert cases.status_code == 200
    text = cases.content.decode("utf-8-sig").splitlines()
    assert text[0].split(",")[:3] == ["身份证号", "姓名", "服务事项"]
    items = openpyxl.load_workbook(io.BytesIO((await api.send("GET", "/imports/templates/cases")).content))["可选值"]
    assert "WL-04" in [c.value for c in items["G"]]


async def test_a_file_that_is_not_a_ledger_is_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    for content, name, reason in (
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "photo.xlsx", "不是 UTF-8 或 GB18030"),
        (b"", "empty.csv", "文件是空的"),
        ("姓名,工作单位\r\n张明,重庆大学\r\n".encode(), "short.csv", "缺少必填列：身份证号、手机号、所在区县"),
        (b"PK\x03\x04broken", "broken.xlsx", "文件已损坏"),
    ):
        job = await give(api, "workers", content, name)
        assert job["status"] == "refused", job
        assert reason in job["failure"], job
        assert job["report_url"] is None
        await api.problem("GET", f"/imports/{job['id']}/report", 409)


async def test_a_steward_imports_their_own_workers_and_cases_only(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward_api, steward = await api.steward_account("陈专员")
    await api.steward("王丽")
    own = national_id()
    mine = await give(steward_api, "workers", xlsx([WORKER_TITLES, worker_row("张明", "", nid=own)]), dry_run=False)
    assert mine["status"] == "imported", mine
    workers = (await api.ok("GET", "/workers"))["items"]
    assert [w["steward_id"] for w in workers] == [steward["id"]]
    theirs = await give(steward_api, "workers", xlsx([WORKER_TITLES, worker_row("李华", "王丽")]))
    assert theirs["problems"][0]["reason"] == "科技专员只能导入由本人服务的科技工作者和办件"
    (other,) = await _workers(api, "王丽", 1)
    rows = [CASE_TITLES, [other, "", "WL-04", "入学", "", "2026-03-05", "办理中", "", "", ""]]
    refused = await give(steward_api, "cases", xlsx(rows))
    reason = refused["problems"][0]["reason"]
    assert reason == "系统中没有由您服务的这位科技工作者，请先导入您的科技工作者台账"
    # Someone not in the system at all reads the same to a steward.
    unknown = [CASE_TITLES, [national_id(), "", "WL-04", "入学", "", "2026-03-05", "办理中", "", "", ""]]
    assert (await give(steward_api, "cases", xlsx(unknown)))["problems"][0]["reason"] == reason
    # Their own worker's case comes in; naming another steward on it does not.
    elsewhere = [CASE_TITLES, [own, "", "WL-04", "入学", "", "2026-03-05", "办理中", "", "王丽", ""]]
    named = await give(steward_api, "cases", xlsx(elsewhere))
    assert named["problems"][0]["reason"] == "科技专员只能导入由本人服务的科技工作者和办件"
    ours = [CASE_TITLES, [own, "张明", "WL-04", "入学", "", "2026-03-05", "办理中", "", "", ""]]
    done = await give(steward_api, "cases", xlsx(ours), dry_run=False)
    assert (done["status"], done["rows_imported"]) == ("imported", 1), done
    (case,) = (await steward_api.ok("GET", "/cases"))["items"]
    assert case["steward_id"] == steward["id"]
    # A steward sees their own imports only; the administrator sees them all.
    own_jobs = {j["id"] for j in (await steward_api.ok("GET", "/imports"))["items"]}
    assert len(own_jobs) == 6
    everyone = (await api.ok("GET", "/imports"))["items"]
    (admins,) = [j for j in everyone if j["id"] not in own_jobs]
    await steward_api.problem("GET", f"/imports/{admins['id']}", 404)
    await steward_api.problem("GET", f"/imports/{admins['id']}/report", 404)


async def test_roles_without_the_import_permission_are_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    official = await api.account("official")
    liaison, _ = await api.liaison_account()
    for who in (official, liaison):
        files = {"file": ("台账.csv", csv_bytes([WORKER_TITLES], "utf-8"))}
        await who.problem("POST", "/imports", 403, files=files, data={"kind": "workers"})
        await who.problem("GET", "/imports/templates/workers", 403)


async def test_bad_forms_are_refused_before_anything_runs(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    files = {"file": ("台账.csv", csv_bytes([WORKER_TITLES], "utf-8"))}
    problem = await api.problem("POST", "/imports", 400, files=files, data={"kind": "people"})
    assert "kind" in str(problem)
    problem = await api.problem("POST", "/imports", 400, files=files, data={"kind": "workers", "dry_run": "1"})
    assert "dry_run" in str(problem)
    await api.problem("POST", "/imports", 400, data={"kind": "workers"})
    await api.problem("GET", "/imports/templates/people", 400)
    await api.problem("GET", "/imports/templates/workers?format=pdf", 400)
    assert (await api.ok("GET", "/imports"))["total"] == 0


async def test_imports_are_on_the_audit_trail(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    await api.steward("王丽")
    checked = await give(api, "workers", xlsx([WORKER_TITLES, worker_row("张明", "王丽")]))
    imported = await give(api, "workers", xlsx([WORKER_TITLES, worker_row("李华", "王丽")]), dry_run=False)
    auditor = await api.account("auditor")
    trail = (await auditor.ok("GET", "/audit/events?action=import.workers"))["items"]
    by_target = {e["target_id"]: e for e in trail}
    assert by_target[checked["id"]]["details"]["dry_run"] is True
    assert by_target[imported["id"]]["details"]["imported"] == 1
    assert by_target[imported["id"]]["actor_username"] == "admin"
    assert by_target[checked["id"]]["outcome"] == "success"
    assert (await api.ok("POST", "/audit/verify"))["intact"] is True


async def test_a_workbook_reaching_far_past_a_ledger_is_refused_before_it_is_read(
    client: AsyncTestClient[Litestar],
) -> None:
    """One cell at XFD1048576 would make the reader hold a grid of 17 billion cells."""
    api = Api(client)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, WORKER_TITLES)
    sheet.write_string(1_048_575, 16_383, "远处")
    book.close()
    job = await give(api, "workers", buffer.getvalue())
    assert job["status"] == "refused"
    assert "超出台账的范围" in job["failure"]
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    job = await give(api, "workers", zipped.getvalue(), "台账.ods")
    assert job["status"] == "refused"
    assert "OpenDocument" in job["failure"]


async def test_an_import_waits_while_another_writes(client: AsyncTestClient[Litestar], database_url: str) -> None:
    import asyncpg

    from tests.postgres import asyncpg_dsn

    api = Api(client)
    await api.steward("王丽")
    other = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await other.execute("SELECT pg_advisory_lock(hashtextextended('banshi.import', 0))")
        data = {"kind": "workers", "dry_run": "false"}
        files = {"file": ("台账.xlsx", xlsx([WORKER_TITLES, worker_row("张明", "王丽")]))}
        started = await api.ok("POST", "/imports", 202, files=files, data=data)
        await asyncio.sleep(1.5)
        waiting = await api.ok("GET", f"/imports/{started['id']}")
        assert (waiting["status"], waiting["rows_read"]) == ("running", 0)
        # A second waits its turn in this process; a third from the same account is refused.
        second = await api.ok("POST", "/imports", 202, files=files, data={"kind": "workers"})
        await asyncio.sleep(1.2)
        assert (await api.ok("GET", f"/imports/{second['id']}"))["status"] == "queued"
        problem = await api.problem("POST", "/imports", 429, files=files, data={"kind": "workers"})
        assert "still queued or running" in problem["detail"]
        await other.execute("SELECT pg_advisory_unlock(hashtextextended('banshi.import', 0))")
    finally:
        await other.close()
    for _ in range(100):
        job = await api.ok("GET", f"/imports/{started['id']}")
        if job["status"] != "running":
            break
        await asyncio.sleep(0.1)
    assert (job["status"], job["rows_imported"]) == ("imported", 1)
    for _ in range(100):
        checked = await api.ok("GET", f"/imports/{second['id']}")
        if checked["status"] not in ("queued", "running"):
            break
        await asyncio.sleep(0.1)
    assert (checked["status"], checked["rows_existing"]) == ("checked", 1)


async def test_the_worker_sees_an_imported_case_with_its_ledger_date_and_can_be_given_a_code(
    client: AsyncTestClient[Litestar],
) -> None:
    api = Api(client)
    await api.steward("王丽")
    (nid,) = await _workers(api, "王丽", 1)
    rows = [CASE_TITLES, [nid, "", "WL-04", "子女转学", "", "2026-03-05", "办理中", "", "", ""]]
    assert (await give(api, "cases", xlsx(rows), dry_run=False))["status"] == "imported"
    (case,) = (await api.ok("GET", "/cases"))["items"]
    worker = await api.account("worker", worker_id=case["worker_id"])
    own = await worker.ok("GET", f"/my/cases/{case['id']}")
    first = own["timeline"][0]
    assert (first["action"], first["label"], first["status"]) == ("import", "由台账导入", "in_progress")
    assert "2026-03-05" in first["note"]
    assert own["due"]["state"] == "overdue"  # 14 working days from 5 March have long passed by 2 June
    # No receipt was ever given for it: the steward issues a query code, and the lookup finds it.
    issued = await api.ok("POST", f"/cases/{case['id']}/query-code", 201)
    found = await api.ok("GET", f"/lookup?case_no={case['case_no']}&code={issued['query_code']}")
    assert found["received_at"] == "2026-03-05T01:00:00Z"


def _sheet_xml(cells: str) -> str:
    return (
        '<?xml version="1.0"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{cells}</sheetData></worksheet>"
    )


def _rewritten(content: bytes, replace: dict[str, str], add: dict[str, str] | None = None) -> bytes:
    """The workbook with some parts replaced or added."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name, text in (add or {}).items():
            target.writestr(name, text)
    return out.getvalue()


async def test_a_far_cell_written_any_way_excel_allows_is_still_seen(client: AsyncTestClient[Litestar]) -> None:
    """Single quotes, a line break inside the tag, cells without references, a sheet stored
    under another name: each still reaches row 300,000 or column 300 and is refused."""
    api = Api(client)
    base = xlsx([WORKER_TITLES, worker_row("张明", "王丽")])
    far_cells = {
        "single quotes": "<row r='300000'><c r='A300000' t='inlineStr'><is><t>x</t></is></c></row>",
        "a line break": '<row r="300000"><c\nr="A300000"/></row>',
        "no references": "<row/>" * 200_002,
        "wide, no references": "<row>" + "<c/>" * 300 + "</row>",
    }
    for why, cells in far_cells.items():
        job = await give(api, "workers", _rewritten(base, {"xl/worksheets/sheet1.xml": _sheet_xml(cells)}))
        assert job["status"] == "refused", why
        assert "超出台账的范围" in job["failure"], (why, job["failure"])
    elsewhere = _rewritten(base, {}, {"xl/other/s.xml": _sheet_xml('<row r="300000"><c r="A300000"/></row>')})
    job = await give(api, "workers", elsewhere)
    assert "超出台账的范围" in job["failure"]


TALLIES = [
    table.__tablename__
    for table in (CaseTally, StewardTally, DurationTally, DepartmentDurationTally, StewardDurationTally, FlowTally)
]


async def _tallies(connection: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every tally's rows that count something, sorted."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    for table in TALLIES:
        rows = await connection.fetch(f"SELECT * FROM {table}")
        found[table] = sorted(tuple(r) for r in rows if any(isinstance(v, int) and v for v in tuple(r)[2:]))
    return found


async def test_the_tallies_count_imported_cases_as_a_recount_does(
    client: AsyncTestClient[Litestar], database_url: str
) -> None:
    """The insert trigger counts a statement's cases together (migration 0011): after an
    import beside cases logged one by one, and a refused import and a dry run that left
    nothing, every tally equals ``tally_rebuild()``'s recount of the cases."""
    import asyncpg

    from tests.postgres import asyncpg_dsn

    api = Api(client)
    await api.steward("王丽")
    ids = await _workers(api, "王丽", 6)
    await api.case(title="逐件登记")
    statuses = ["待受理", "已受理", "办理中", "待补件", "办理中", "已受理"]
    items = ["WL-04", "WL-04", "WL-01", "WL-07", "WL-12", "WL-01"]
    days = ["2026-01-05", "2026-03-05", "2026-03-05", "2026-04-30", "2026-05-20", "2025-12-31"]
    rows = [
        CASE_TITLES,
        *[[n, "", i, "诉求", "", d, s, "", "", ""] for n, i, d, s in zip(ids, items, days, statuses, strict=True)],
    ]
    checked = await give(api, "cases", xlsx(rows[:-1]))
    assert checked["status"] == "checked"
    refused = await give(api, "cases", xlsx(rows), dry_run=False)  # the 2025 list is not in the system
    assert refused["status"] == "refused"
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        before = await _tallies(connection)
        assert (await connection.fetchval('SELECT count(*) FROM "case"')) == 1
        assert (await connection.fetchval("SELECT count(*) FROM case_number_counter WHERE day < '2026-06-01'")) == 0
        assert (await give(api, "cases", xlsx(rows[:-1]), dry_run=False))["rows_imported"] == 5
        counted = await _tallies(connection)
        assert counted != before
        recount = connection.transaction()
        await recount.start()
        await connection.execute("SELECT tally_rebuild()")
        recounted = await _tallies(connection)
        await recount.rollback()
        assert recounted == counted
    finally:
        await connection.close()


async def test_reports_are_deleted_two_weeks_after_their_import(
    client: AsyncTestClient[Litestar], database_url: str
) -> None:
    import asyncpg

    from tests.postgres import asyncpg_dsn

    api = Api(client)
    await api.steward("王丽")
    old = await give(api, "workers", xlsx([WORKER_TITLES, worker_row("张明", "王丽")]))
    assert (await api.send("GET", f"/imports/{old['id']}/report")).status_code == 200
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute(
            "UPDATE import_job SET finished_at = finished_at - interval '15 days' WHERE id = $1", uuid.UUID(old["id"])
        )
    finally:
        await connection.close()
    fresh = await give(api, "workers", xlsx([WORKER_TITLES, worker_row("李华", "王丽")]))
    await api.problem("GET", f"/imports/{old['id']}/report", 409)
    assert (await api.ok("GET", f"/imports/{old['id']}"))["rows_valid"] == 1  # the counts stay
    assert (await api.send("GET", f"/imports/{fresh['id']}/report")).status_code == 200


async def test_a_form_field_that_is_not_utf8_is_a_bad_request(client: AsyncTestClient[Litestar]) -> None:
    """Litestar's form parser decodes fields as UTF-8; broken bytes answer 400, not 500."""
    api = Api(client)
    boundary = "banshi-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n'.encode()
        + b"work\xffers\r\n"
        + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'.encode()
        + "姓名\r\n".encode()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept-Language": "zh-CN"}
    problem = await api.problem("POST", "/imports", 400, content=body, headers=headers)
    assert "UTF-8" in problem["detail"]
    assert (await api.ok("GET", "/imports"))["total"] == 0
