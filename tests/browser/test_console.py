"""The staff console (``console/dist`` at ``/staff/``) in Debian's Chromium against the
real service, one journey per role, as the people who use it would go:

- a steward logs a case for a new worker with the keyboard, prints the receipt with the
  query code, requests materials, receives them once the worker has answered, resolves;
- a liaison transfers a case to another department, whose liaison takes it up;
- an official opens the dashboard, clicks the overdue figure and exports the list;
- an official prints the monthly report (月度通报) of the month chosen: it is printed to
  PDF and photographed into ``test-output/screenshots/reports/``;
- an administrator adds a holiday to the calendar and sees a case's due date move.

Every screen is also photographed for each role at 1440×900 and 1024×768 into
``test-output/screenshots/staff/``, and a screen the role may not open is refused by the
API as well as hidden by the console. The service runs in a process of its own on a copy
of the template database, seeded through the HTTP API like any client; only an overdue
case is made by moving its due date into the past in the database, as a clock would.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, ViewportSize, expect

from service.security.keys import Keys
from tests.browser.seed import account, ok
from tests.browser.test_pages import CHROMIUM_ARGS, PDF, _browser_wanted, chromium
from tests.factory import ADMIN_PASSWORD, API, national_id
from tests.live import running_service, service_env
from tests.postgres import Databases

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "screenshots" / "staff"
REPORT_SHOTS = ROOT / "test-output" / "screenshots" / "reports"
SIZES: dict[str, ViewportSize] = {"1440": {"width": 1440, "height": 900}, "1024": {"width": 1024, "height": 768}}
PASSWORD = "Console-Pass-2026!"
STEWARD, LIAISON, LIAISON_2, OFFICIAL, SECURITY, AUDITOR = (
    "wang.steward",
    "li.liaison",
    "zhao.liaison",
    "chen.official",
    "sun.security",
    "qian.auditor",
)
HOUSING = "housing"  # the lead department of WL-01
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EDUCATION = "education"
assert CHROMIUM_ARGS  # the same Chromium switches as the worker's pages


@dataclass(frozen=True)
class Seeded:
    url: str
    database_url: str
    overdue_case_no: str
    running_case_id: str
    transfer_case_id: str
    transfer_case_no: str


async def _move(api: httpx.AsyncClient, case: dict[str, Any], action: str, **fields: Any) -> dict[str, Any]:
    moved: dict[str, Any] = await ok(
        api,
        "POST",
        f"/cases/{case['id']}/transitions",
        json={"action": action, **fields},
        headers={"If-Match": f'"{case["id"]}.{case["version"]}"'},
    )
    return moved


async def _seed(url: str, database_url: str) -> Seeded:
    async with httpx.AsyncClient(base_url=url + API, timeout=20) as api:
        token = (await ok(api, "POST", "/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}))[
            "access_token"
        ]
        api.headers["Authorization"] = f"Bearer {token}"
        steward = await ok(
            api, "POST", "/staff", 201, json={"name": "王专员", "role": "steward", "district_code": "yubei"}
        )
        liaison = await ok(
            api, "POST", "/staff", 201, json={"name": "李联络", "role": "liaison", "department_code": HOUSING}
        )
        liaison_2 = await ok(
            api, "POST", "/staff", 201, json={"name": "赵联络", "role": "liaison", "department_code": EDUCATION}
        )
        await account(api, STEWARD, "steward", PASSWORD, staff_id=steward["id"])
        await account(api, LIAISON, "liaison", PASSWORD, staff_id=liaison["id"])
        await account(api, LIAISON_2, "liaison", PASSWORD, staff_id=liaison_2["id"])
        await account(api, OFFICIAL, "official", PASSWORD)
        await account(api, SECURITY, "security", PASSWORD)
        await account(api, AUDITOR, "auditor", PASSWORD)
        worker = await ok(
            api,
            "POST",
            "/workers",
            201,
            json={
                "name": "张晓明",
                "national_id": national_id(8101),
                "mobile": "13812345678",
                "employer": "重庆大学",
                "district_code": "yubei",
                "steward_id": steward["id"],
            },
        )
        items = {i["code"]: i for i in await ok(api, "GET", "/work-list-items", params={"active": "true"})}

        async def case(title: str, *moves: tuple[str, dict[str, Any]]) -> dict[str, Any]:
            made: dict[str, Any] = await ok(
                api,
                "POST",
                "/cases",
                201,
                json={"title": title, "channel": "phone", "worker_id": worker["id"], "item_id": items["WL-01"]["id"]},
            )
            for action, fields in moves:
                made = await _move(api, made, action, **fields)
            return made

        overdue = await case("人才公寓配租", ("accept", {}), ("start", {}))
        running = await case("公租房资格复核", ("accept", {}))
        transfer = await case("子女入学咨询", ("accept", {}))
        await case("已办结的落户", ("accept", {}), ("start", {}), ("resolve", {"outcome": "已办结"}))
    # A clock that has run out: the overdue case was accepted 40 days ago. Its timeline says
    # so too, so that a recomputation (an administrator's calendar change) agrees.
    connection = await asyncpg.connect(database_url)
    try:
        overdue_id = uuid.UUID(overdue["id"])
        async with connection.transaction():
            await connection.execute(
                "UPDATE case_event SET at = at - interval '40 days' "
                "WHERE case_id = $1 AND action IN ('accept', 'start')",
                overdue_id,
            )
            await connection.execute(
                "UPDATE \"case\" SET accepted_at = accepted_at - interval '40 days', "
                "started_at = started_at - interval '40 days', "
                "due_soon_at = now() - interval '5 days', due_at = now() - interval '2 days' WHERE id = $1",
                overdue_id,
            )
    finally:
        await connection.close()
    return Seeded(
        url=url,
        database_url=database_url,
        overdue_case_no=overdue["case_no"],
        running_case_id=running["id"],
        transfer_case_id=transfer["id"],
        transfer_case_no=transfer["case_no"],
    )


@pytest.fixture(scope="module")
async def seeded(
    databases: Databases, test_keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Seeded]:
    _browser_wanted()
    if not (ROOT / "console" / "dist" / "index.html").is_file():
        pytest.fail("console/dist is not built: run `npm ci && npm run build` in console/", pytrace=False)
    folder = tmp_path_factory.mktemp("console-service")
    database_url = await databases.clone()
    try:
        env = service_env(
            test_keys,
            database_url,
            folder,
            BANSHI_DOCS="0",
            BANSHI_DELIVERY_WORKER="separate",
            # Every journey signs in through the form, all from one address.
            BANSHI_LOGIN_LIMIT_PER_ADDRESS="1000",
        )
        async with running_service(env, folder / "service.log") as up:
            yield await _seed(up.url, database_url)
    finally:
        await databases.drop(database_url)


@pytest.fixture(scope="module")
async def browser(seeded: Seeded) -> AsyncIterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with chromium() as launched:
        yield launched


@asynccontextmanager
async def signed_in(browser: Browser, seeded: Seeded, username: str, size: str = "1440") -> AsyncIterator[Page]:
    """A fresh context signed in through the console's own form; fails on uncaught script errors."""
    context = await browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport=SIZES[size],
        accept_downloads=True,
    )
    page = await context.new_page()
    errors: list[str] = []
    refused: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The console asks only for what the role may read: no request of its own is refused.
    page.on("response", lambda r: refused.append(r.url) if r.status == 403 and "/api/" in r.url else None)
    try:
        await page.goto(f"{seeded.url}/staff/")
        await field(page, "username").fill(username)
        await field(page, "password").fill(PASSWORD if username != "admin" else ADMIN_PASSWORD)
        await field(page, "password").press("Enter")
        await expect(page.get_by_test_id("account-menu")).to_contain_text(username)
        yield page
        assert errors == [], f"uncaught errors in the console: {errors}"
        assert refused == [], f"the console asked for what {username} may not read: {refused}"
    finally:
        await context.close()


def field(page: Page | Locator, test_id: str) -> Locator:
    """The text field marked with ``data-testid`` (Element Plus puts it on the input itself,
    or on the wrapper of a picker)."""
    t = f'[data-testid="{test_id}"]'
    return page.locator(f"input{t}, textarea{t}, {t} input, {t} textarea").first


async def choose(page: Page, test_id: str, option: str) -> None:
    await page.get_by_test_id(test_id).click()
    await page.get_by_role("option", name=option, exact=True).last.click()


async def shoot(page: Page, name: str, size: str = "1440", settle_ms: int = 250) -> None:
    # Loading veils gone, transitions (a message, a dialog) settled: then the picture.
    await expect(page.locator(".el-loading-mask")).to_have_count(0)
    await page.wait_for_timeout(settle_ms)
    await page.screenshot(path=SHOTS / f"{name}-{size}.png", full_page=True)


async def test_a_steward_logs_a_case_prints_the_receipt_and_takes_it_to_resolution(
    browser: Browser, seeded: Seeded
) -> None:
    async with signed_in(browser, seeded, STEWARD) as page:
        await expect(page.get_by_role("heading", level=1)).to_have_text("待办案件")
        # The queue opens on what needs the steward: one overdue case among the figures.
        await expect(page.get_by_test_id("queue-overdue").locator(".value")).to_have_text("1")
        await page.keyboard.press("n")
        await expect(page.get_by_role("heading", level=1)).to_have_text("登记案件")

        new_id = national_id(8202)
        id_box = field(page, "find-national-id")
        await id_box.fill(new_id[:17] + ("0" if new_id[17] != "0" else "1"))
        await expect(page.get_by_text("校验位不正确，请核对号码")).to_be_visible()  # checked as typed
        await id_box.fill(new_id)
        await id_box.press("Enter")
        await expect(page.get_by_test_id("register-worker")).to_be_visible()
        await field(page, "reg-name").fill("刘新")
        await field(page, "reg-mobile").fill("1391234")
        await field(page, "reg-mobile").fill("13912345679")
        await field(page, "reg-employer").fill("重庆邮电大学")
        await page.get_by_test_id("register").click()
        await expect(page.get_by_test_id("found-worker")).to_contain_text("刘新")

        await choose(page, "item-select", "WL-02 青年人才公租房")
        await expect(field(page, "case-title")).to_have_value("青年人才公租房")
        await field(page, "case-description").fill("新入职博士申请公租房")
        await page.get_by_test_id("case-files").set_input_files(
            {"name": "学历证明.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        await page.get_by_test_id("submit-case").click()
        created = page.get_by_test_id("case-created")
        await expect(created).to_contain_text("案件已登记")
        code = (await page.get_by_test_id("query-code").inner_text()).strip()
        assert re.fullmatch(r"[A-Z0-9-]{4,16}", code), code
        await shoot(page, "steward-case-logged")

        await page.get_by_test_id("open-receipt").click()
        receipt = page.frame_locator('[data-testid="receipt-frame"]')
        await expect(receipt.locator("body")).to_contain_text(code)
        await expect(receipt.locator("body")).to_contain_text("青年人才公租房")
        await shoot(page, "steward-receipt")
        await page.get_by_role("button", name="关闭").last.click()

        await page.get_by_role("button", name="查看案件").click()
        await expect(page.get_by_test_id("case-status")).to_have_text("已提交")
        await expect(page.get_by_role("button", name="学历证明.pdf")).to_be_visible()
        case_id = page.url.rsplit("/", 1)[-1]

        await page.get_by_test_id("action-accept").click()
        await page.get_by_test_id("action-confirm").click()
        await expect(page.get_by_test_id("case-status")).to_have_text("已受理")

        await page.get_by_test_id("action-request_materials").click()
        await page.get_by_test_id("action-confirm").click()
        await expect(page.get_by_test_id("action-dialog")).to_contain_text("必填")  # nothing was sent
        await field(page, "action-materials").fill("请补充劳动合同")
        await page.get_by_test_id("action-confirm").click()
        await expect(page.get_by_test_id("case-status")).to_have_text("待补件")

        # The worker answers from the worker's page (here through the same API, with an
        # account the administrator gives the newly registered worker).
        await _worker_answers(seeded, case_id)
        await page.reload()
        await expect(page.get_by_text("科技工作者已于")).to_contain_text("提交补正材料")
        await page.get_by_test_id("action-receive_materials").click()
        await page.get_by_test_id("action-confirm").click()
        await expect(page.get_by_test_id("case-status")).to_have_text("办理中")

        await page.get_by_test_id("action-resolve").click()
        await field(page, "action-outcome").fill("已配租青年人才公租房一套")
        await page.get_by_test_id("action-confirm").click()
        await expect(page.get_by_test_id("case-status")).to_have_text("已办结")
        timeline = page.get_by_test_id("timeline")
        for line in ("登记", "受理", "要求补正材料", "补正材料已收到", "办结"):
            await expect(timeline).to_contain_text(line)
        await shoot(page, "steward-case-resolved")

    async with httpx.AsyncClient(base_url=seeded.url + API, timeout=15) as check:
        token = (await check.post("/auth/login", json={"username": STEWARD, "password": PASSWORD})).json()[
            "access_token"
        ]
        stored = (await check.get(f"/cases/{case_id}", headers={"Authorization": f"Bearer {token}"})).json()
        assert stored["status"] == "resolved" and stored["outcome"] == "已配租青年人才公租房一套"
        assert [e["action"] for e in stored["timeline"]][:1] == ["create"]


async def test_a_liaison_transfers_and_the_second_department_takes_the_case_up(
    browser: Browser, seeded: Seeded
) -> None:
    async with signed_in(browser, seeded, LIAISON) as page:
        await expect(page.get_by_role("heading", level=1)).to_contain_text("部门待办")
        await expect(page.get_by_role("heading", level=1)).to_contain_text("市住房城乡建委")
        await page.get_by_role("link", name=seeded.transfer_case_no).click()
        await page.get_by_test_id("action-transfer").click()
        await choose(page, "transfer-department", "市教委")
        await field(page, "action-reason").fill("属子女入学事项，转市教委办理")
        await page.get_by_test_id("action-confirm").click()
        # The case leaves the department: back to its queue, where it no longer shows.
        await expect(page.get_by_text("已转办至市教委")).to_be_visible()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("部门待办")
        await expect(page.get_by_test_id("case-table")).not_to_contain_text(seeded.transfer_case_no)

    async with signed_in(browser, seeded, LIAISON_2) as page:
        await expect(page.get_by_role("heading", level=1)).to_contain_text("市教委")
        await page.get_by_role("link", name=seeded.transfer_case_no).click()
        await page.get_by_test_id("action-start").click()
        await page.get_by_test_id("action-confirm").click()
        await expect(page.get_by_test_id("case-status")).to_have_text("办理中")
        timeline = page.get_by_test_id("timeline")
        await expect(timeline).to_contain_text("转办")
        await expect(timeline).to_contain_text("属子女入学事项，转市教委办理")
        await shoot(page, "liaison-transferred-case")


async def test_an_official_opens_the_overdue_figure_and_exports_the_list(browser: Browser, seeded: Seeded) -> None:
    async with signed_in(browser, seeded, OFFICIAL) as page:
        dashboard = page.locator("#dashboard[data-state=ready]")
        await expect(dashboard).to_be_visible()
        await expect(page.get_by_test_id("figure-overdue").locator(".value")).to_have_text("1")
        await expect(page.get_by_test_id("items-table")).to_contain_text("人才住房保障")
        await expect(page.get_by_test_id("district-table")).to_contain_text("渝北区")
        await page.get_by_test_id("figure-overdue").click()
        table = page.get_by_test_id("figure-table")
        await expect(table).to_contain_text(seeded.overdue_case_no)
        await expect(table).to_contain_text("渝北区")
        await expect(page).to_have_url(re.compile(r"figure=overdue"))
        async with page.expect_download() as waiting:
            await page.get_by_test_id("export-figure-xlsx").click()
        download = await waiting.value
        saved = await download.path()
        assert saved is not None
        assert (await anyio.Path(saved).read_bytes())[:2] == b"PK"  # an XLSX (zip) file
        assert download.suggested_filename.endswith(".xlsx")
        await shoot(page, "official-overdue-cases")


async def test_an_official_prints_the_monthly_report(browser: Browser, seeded: Seeded) -> None:
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()  # China time, as the service counts
    async with signed_in(browser, seeded, OFFICIAL) as page:
        await expect(page.locator("#dashboard[data-state=ready]")).to_be_visible()
        await choose(page, "period", f"{today.year} 年 {today.month} 月")
        await expect(page).to_have_url(re.compile(rf"period={today:%Y-%m}"))
        await page.get_by_test_id("open-report").click()
        frame = page.frame_locator('[data-testid="report-frame"]')
        body = frame.locator("body")
        await expect(body).to_contain_text("工作月度通报")
        await expect(body).to_contain_text(f"{today.year}年{today.month}月 · 全市")
        await expect(body).to_contain_text(seeded.overdue_case_no)
        for text in ("人才住房保障", "渝北区", "市住房城乡建委", "王专员", "区县办理情况排名"):
            await expect(body).to_contain_text(text)
        await expect(body).not_to_contain_text("张晓明")  # the worker's name is in no report
        await shoot(page, "official-monthly-report")

        # The page on its own, as the browser prints it: the blob it was shown from, in a tab.
        source = await page.get_by_test_id("report-frame").get_attribute("src")
        assert source is not None and source.startswith("blob:"), source
        tab = await page.context.new_page()
        fetched: list[str] = []
        tab.on("request", lambda request: fetched.append(request.url))
        await tab.set_viewport_size({"width": 900, "height": 1200})
        await tab.goto(source)
        await expect(tab.locator("h1")).to_have_text("工作月度通报")
        assert fetched == [source], f"the report fetched more than itself: {fetched}"
        # Its styles apply (the console's policy, which a blob inherits, allows inline styles).
        colour = await tab.locator("h1").evaluate("h => getComputedStyle(h).color")
        assert colour == "rgb(179, 18, 27)", colour
        chart = tab.locator("figure svg rect")
        assert await chart.count() >= 24  # two bars a month for twelve months, and the legend
        pdf = await tab.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        assert pdf.startswith(b"%PDF")
        pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
        assert pages >= 2, pages  # the twenty items and 41 districts do not fit one A4 page
        REPORT_SHOTS.mkdir(parents=True, exist_ok=True)
        (REPORT_SHOTS / "monthly-report.pdf").write_bytes(pdf)
        await tab.screenshot(path=REPORT_SHOTS / "monthly-report.png", full_page=True)
        await tab.close()
        await page.get_by_role("button", name="关闭").last.click()


async def test_an_administrator_adds_a_holiday_and_the_due_date_moves(browser: Browser, seeded: Seeded) -> None:
    async with signed_in(browser, seeded, "admin") as page:
        await page.goto(f"{seeded.url}/staff/#/cases/{seeded.running_case_id}")
        due_row = page.get_by_test_id("due-at")
        await expect(due_row).to_contain_text("/")
        before = await due_row.inner_text()
        before_due = _due_date(before)
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()  # China time
        holiday = await _working_day_between(seeded, today, before_due)

        await page.goto(f"{seeded.url}/staff/#/admin/calendar?year={holiday.year}")
        await field(page, "override-date").fill(holiday.isoformat())
        await field(page, "override-date").press("Enter")
        await field(page, "override-name").fill("临时停止办公")
        await page.get_by_test_id("add-override").click()
        await expect(page.get_by_test_id("override-table")).to_contain_text(holiday.isoformat())
        await shoot(page, "admin-calendar-override")

        await page.goto(f"{seeded.url}/staff/#/cases/{seeded.running_case_id}")
        await expect(due_row).not_to_have_text(before)
        after_due = _due_date(await due_row.inner_text())
        assert after_due > before_due, (before_due, after_due)


async def _worker_answers(seeded: Seeded, case_id: str) -> None:
    async with httpx.AsyncClient(base_url=seeded.url + API, timeout=15) as api:
        token = (await ok(api, "POST", "/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}))[
            "access_token"
        ]
        api.headers["Authorization"] = f"Bearer {token}"
        worker_id = (await ok(api, "GET", f"/cases/{case_id}"))["worker_id"]
        await account(api, "liu.worker", "worker", PASSWORD, worker_id=worker_id)
        del api.headers["Authorization"]
        mine = await ok(api, "POST", "/auth/login", json={"username": "liu.worker", "password": PASSWORD})
        await ok(
            api,
            "POST",
            f"/my/cases/{case_id}/materials",
            json={"note": "劳动合同已带到服务窗口"},
            headers={"Authorization": f"Bearer {mine['access_token']}"},
        )


def _due_date(text: str) -> dt.date:
    found = re.search(r"(\d{4})/(\d{2})/(\d{2})", text)
    assert found, text
    return dt.date(int(found[1]), int(found[2]), int(found[3]))


async def _working_day_between(seeded: Seeded, start: dt.date, end: dt.date) -> dt.date:
    """A working day after ``start`` and before ``end`` by the service's own calendar: a
    day off put there moves the due date by one working day."""
    async with httpx.AsyncClient(base_url=seeded.url + API, timeout=15) as api:
        token = (await api.post("/auth/login", json={"username": OFFICIAL, "password": PASSWORD})).json()[
            "access_token"
        ]
        special: dict[str, str] = {}
        for year in {start.year, end.year}:
            calendar = await ok(api, "GET", f"/calendar/{year}", headers={"Authorization": f"Bearer {token}"})
            special.update({d["date"]: d["kind"] for d in calendar["days"]})
    day = start + dt.timedelta(days=1)
    while special.get(day.isoformat(), "workday" if day.weekday() < 5 else "holiday") != "workday":
        day += dt.timedelta(days=1)
    assert day < end, (start, end)
    return day


async def test_a_steward_checks_a_ledger_fixes_it_and_imports_it(browser: Browser, seeded: Seeded) -> None:
    from tests.api.test_imports import WORKER_TITLES, worker_row, xlsx

    good = [worker_row("赵台账", "", nid=national_id(8301)), worker_row("钱台账", "", nid=national_id(8302))]
    bad = [*good, worker_row("孙台账", "", nid=national_id(8303), district="火星区")]
    async with signed_in(browser, seeded, STEWARD) as page:
        await page.get_by_role("menuitem", name="导入台账").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("导入台账")
        files = page.get_by_test_id("import-file")
        await files.set_input_files({"name": "台账.xlsx", "mimeType": XLSX, "buffer": xlsx([WORKER_TITLES, *bad])})
        await page.get_by_test_id("import-check").click()
        await expect(page.get_by_test_id("import-status")).to_have_text("检查完成")
        problems = page.get_by_test_id("import-problems")
        await expect(problems).to_contain_text("没有「火星区」这个区县")
        await expect(problems).to_contain_text("4")  # the row as Excel numbers it
        await expect(page.get_by_test_id("import-outcome")).to_contain_text("有 1 行需要修改")
        async with page.expect_download() as waiting:
            await page.get_by_test_id("import-report").click()
        assert (await waiting.value).suggested_filename == "台账-检查结果.xlsx"
        await shoot(page, "steward-import-checked")
        await files.set_input_files({"name": "台账.xlsx", "mimeType": XLSX, "buffer": xlsx([WORKER_TITLES, *good])})
        await page.get_by_test_id("import-check").click()
        await expect(page.get_by_test_id("import-outcome")).to_contain_text("全部通过")
        await page.get_by_test_id("import-run").click()  # checked and passed: no question asked
        await expect(page.get_by_test_id("import-status")).to_have_text("已导入")
        await expect(page.get_by_test_id("import-outcome")).to_contain_text("已导入 2 行")
        await expect(page.get_by_test_id("import-history")).to_contain_text("已导入")
        await shoot(page, "steward-import-done")
        await page.get_by_role("menuitem", name="我的科技工作者").click()
        await expect(page.get_by_role("main")).to_contain_text("钱台账")


# Every screen: its route, its heading, and the API request it opens with, which the API
# refuses (403) to every role the screen is not for.
SCREENS: dict[str, tuple[str, str, str]] = {
    "queue": ("/queue", "待办", "/cases"),
    "new-case": ("/cases/new", "登记案件", "/work-list-items"),
    "workers": ("/workers", "科技工作者", "/workers"),
    "supervisions": ("/supervisions", "督办", "/supervisions"),
    "dashboard": ("/dashboard", "办理情况", "/metrics/items"),
    "figures": ("/figures?figure=overdue", "超期案件", "/metrics/cases?figure=overdue"),
    "notices": ("/notices", "消息", "/notifications"),
    "imports": ("/imports", "导入台账", "/imports"),
    "accounts": ("/admin/accounts", "账号管理", "/accounts"),
    "calendar": ("/admin/calendar", "工作日历", "/calendar/2026"),
    "items": ("/admin/items", "清单事项", "/work-list-items"),
    "audit": ("/admin/audit", "审计日志", "/audit/events"),
    "security": ("/admin/security", "安全设置", "/security/settings"),
}
ROLE_SCREENS: dict[str, list[str]] = {
    STEWARD: ["queue", "new-case", "workers", "supervisions", "notices", "imports"],
    LIAISON: ["queue", "workers", "supervisions", "dashboard", "figures", "notices"],
    OFFICIAL: ["dashboard", "figures", "supervisions", "notices"],
    "admin": ["accounts", "calendar", "items", "queue", "workers", "supervisions", "dashboard", "figures", "imports"],
    SECURITY: ["accounts", "security"],
    AUDITOR: ["audit"],
}
# The screens whose opening request is refused to a role: those not listed for it, less
# those whose request reads what every signed-in member of staff may read.
SHARED_READS = {"new-case", "items", "calendar", "notices"}


@pytest.mark.parametrize("size", list(SIZES))
async def test_every_screen_of_every_role_is_photographed(browser: Browser, seeded: Seeded, size: str) -> None:
    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=SIZES[size])
    page = await context.new_page()
    await page.goto(f"{seeded.url}/staff/")
    await expect(page.get_by_test_id("sign-in")).to_be_visible()
    await shoot(page, "login", size)
    await context.close()
    for username, screens in ROLE_SCREENS.items():
        async with signed_in(browser, seeded, username, size) as page:
            for screen in screens:
                route, heading, _ = SCREENS[screen]
                await page.goto(f"{seeded.url}/staff/#{route}")
                await expect(page.get_by_role("heading", level=1).first).to_contain_text(heading)
                if screen == "dashboard":
                    await expect(page.locator("#dashboard[data-state=ready]")).to_be_visible()
                await shoot(page, f"{username.split('.')[-1]}-{screen}", size, settle_ms=60)
            if username == AUDITOR:
                # The check of the audit trail reports every chain it walked.
                await page.get_by_test_id("verify-chain").click()
                report = page.get_by_test_id("chain-report")
                await expect(report).to_contain_text(re.compile(r"哈希链完整：已校验 \d+ 条链共 \d+ 条记录"))
                await shoot(page, "auditor-audit-verified", size)
            if username == STEWARD:
                await page.goto(f"{seeded.url}/staff/#/cases/{seeded.running_case_id}")
                await expect(page.get_by_test_id("case-status")).to_be_visible()
                await shoot(page, "steward-case", size)
                await page.goto(f"{seeded.url}/staff/#/admin/accounts")
                await expect(page.get_by_text("当前账号没有打开这个页面的权限")).to_be_visible()
                await shoot(page, "steward-forbidden", size)
            # Nothing the page shows is wider than the screen.
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= SIZES[size]["width"], f"{username}: {width} px on a {SIZES[size]['width']} px screen"


async def test_each_screen_is_refused_by_the_api_to_the_roles_it_is_not_for(browser: Browser, seeded: Seeded) -> None:
    async with httpx.AsyncClient(base_url=seeded.url + API, timeout=15) as api:
        for username, screens in ROLE_SCREENS.items():
            password = ADMIN_PASSWORD if username == "admin" else PASSWORD
            token = (await ok(api, "POST", "/auth/login", json={"username": username, "password": password}))[
                "access_token"
            ]
            headers = {"Authorization": f"Bearer {token}"}
            for screen, (_, _, request) in SCREENS.items():
                answer = await api.get(request, headers=headers)
                if screen in screens:
                    assert answer.status_code == 200, f"{username} opens {screen}: {answer.status_code}"
                elif screen not in SHARED_READS:
                    assert answer.status_code == 403, f"{username} is not refused {screen}: {answer.status_code}"
    # The console hides what the API refuses: a liaison's menu has no administration.
    async with signed_in(browser, seeded, LIAISON) as page:
        menu = page.get_by_role("menubar")
        await expect(menu).to_contain_text("部门待办")
        for hidden in ("账号管理", "工作日历", "审计日志", "登记案件"):
            await expect(menu).not_to_contain_text(hidden)


async def test_the_api_s_reason_shows_in_chinese_beside_its_field(browser: Browser, seeded: Seeded) -> None:
    async with signed_in(browser, seeded, "admin") as page:
        await page.goto(f"{seeded.url}/staff/#/admin/accounts")
        await page.get_by_test_id("new-account").click()
        await field(page, "account-username").fill("ab")  # shorter than the API allows
        await choose(page, "account-role", "主管领导")
        await field(page, "account-password").fill("Initial-Pass-2026")
        await page.get_by_test_id("account-create").click()
        # The service's own reason, asked for in Chinese, next to the user name field (the
        # console puts no text of its own there).
        username_item = page.locator(".el-form-item").filter(has=page.locator('[data-testid="account-username"]'))
        await expect(username_item.locator(".el-form-item__error")).to_have_text("长度不能少于 3 个字符")
        await shoot(page, "admin-account-refused")


async def test_the_idle_timeout_is_announced_before_it_ends_the_session(browser: Browser, seeded: Seeded) -> None:
    async with signed_in(browser, seeded, STEWARD) as page:
        # As if the service's idle limit were two minutes and five seconds: the console counts
        # a minute short (the service notes a session's use at most once a minute), so the
        # warning comes after about five seconds, a minute before the end.
        await _idle_limit(page, 125)
        warning = page.get_by_role("dialog", name="即将退出登录")
        await expect(warning).to_be_visible()
        await expect(warning).to_contain_text("秒后自动退出登录")
        await shoot(page, "steward-idle-warning")
        await warning.get_by_role("button", name="继续工作").click()  # asks the service: the clock restarts
        await expect(warning).to_be_hidden()
        await expect(page.get_by_test_id("account-menu")).to_contain_text(STEWARD)

        # Left alone until the end: signed out, told why, and the token no longer opens the API.
        token = await page.evaluate("() => JSON.parse(sessionStorage.getItem('banshi.staff.session')).token")
        await _idle_limit(page, 61)
        await expect(page.get_by_text("长时间未操作，已自动退出登录。")).to_be_visible()
        await expect(page.get_by_test_id("sign-in")).to_be_visible()
        assert await page.evaluate("() => sessionStorage.getItem('banshi.staff.session')") is None
        async with httpx.AsyncClient(base_url=seeded.url + API, timeout=15) as api:
            answer = await api.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401


async def _idle_limit(page: Page, seconds: int) -> None:
    """Reload with the stored session's idle limit set to ``seconds``, its clock from now."""
    await expect(page.locator(".el-loading-mask")).to_have_count(0)  # nothing in flight
    async with page.expect_navigation():
        await page.evaluate(
            """(seconds) => {
              const key = "banshi.staff.session";
              const s = JSON.parse(sessionStorage.getItem(key));
              s.expiresIn = seconds;
              s.lastUsed = Date.now();
              sessionStorage.setItem(key, JSON.stringify(s));
              location.reload();
            }""",
            seconds,
        )
