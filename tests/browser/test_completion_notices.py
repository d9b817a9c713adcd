"""The completion notice (办结通知书) in Debian's Chromium: opened from the console's case
page by a steward, from the worker's case page after signing in, and from the public
lookup; each printed to an A4 PDF with Chromium's own printing. Screenshots of the pages
and of the notice at phone and desktop width go to ``test-output/screenshots/notices/``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from service.security.keys import Keys
from tests.browser.seed import account, ok
from tests.browser.test_pages import DEVICES, ROOT, _browser_wanted, chromium, serving
from tests.factory import ADMIN_PASSWORD, API, national_id
from tests.postgres import Databases

SHOTS = ROOT / "test-output" / "screenshots" / "notices"
PASSWORD = "Notice-Pass-2026!"
STEWARD, WORKER = "xu.steward", "zhou.worker"
WORKER_NAME = "周建华"
TITLE = "申请青年人才公租房"
OUTCOME = (
    "经市住房城乡建委审核，您符合青年人才公租房配租条件，已配租沙坪坝区大学城公租房一套（两室一厅，58 平方米），"
    "租期三年，可续租。\n请于 15 个工作日内携带身份证原件到小区服务中心办理入住手续。"
)


@dataclass(frozen=True)
class Seeded:
    url: str
    case_id: str
    case_no: str
    query_code: str


async def _seed(url: str) -> Seeded:
    """A steward and a worker with accounts, and a resolved case of the worker's."""
    async with httpx.AsyncClient(base_url=url + API, timeout=20) as api:
        login = {"username": "admin", "password": ADMIN_PASSWORD}
        api.headers["Authorization"] = f"Bearer {(await ok(api, 'POST', '/auth/login', json=login))['access_token']}"
        staff = {"name": "许专员", "role": "steward", "district_code": "shapingba", "work_phone": "023-6512 3456"}
        steward = await ok(api, "POST", "/staff", 201, json=staff)
        worker = await ok(
            api,
            "POST",
            "/workers",
            201,
            json={
                "name": WORKER_NAME,
                "national_id": national_id(9301),
                "mobile": "13812345670",
                "employer": "重庆大学",
                "district_code": "shapingba",
                "steward_id": steward["id"],
            },
        )
        await account(api, STEWARD, "steward", PASSWORD, staff_id=steward["id"])
        await account(api, WORKER, "worker", PASSWORD, worker_id=worker["id"])
        items = {i["code"]: i for i in await ok(api, "GET", "/work-list-items", params={"active": "true"})}
        body = {"title": TITLE, "channel": "phone", "worker_id": worker["id"], "item_id": items["WL-02"]["id"]}
        case = await ok(api, "POST", "/cases", 201, json=body)
        code = case["query_code"]
        for action, fields in (("accept", {}), ("start", {}), ("resolve", {"outcome": OUTCOME})):
            case = await ok(
                api,
                "POST",
                f"/cases/{case['id']}/transitions",
                json={"action": action, **fields},
                headers={"If-Match": f'"{case["id"]}.{case["version"]}"'},
            )
        return Seeded(url=url, case_id=case["id"], case_no=case["case_no"], query_code=code)


@pytest.fixture(scope="module")
async def seeded(
    databases: Databases, test_keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Seeded]:
    _browser_wanted()
    folder = tmp_path_factory.mktemp("notice-service")
    async with serving(databases, test_keys, folder, BANSHI_DOCS="0", BANSHI_DELIVERY_WORKER="separate") as url:
        yield await _seed(url)


@pytest.fixture(scope="module")
async def browser(seeded: Seeded) -> AsyncIterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with chromium() as launched:
        yield launched


@asynccontextmanager
async def opened(browser: Browser, **options: Any) -> AsyncIterator[Page]:
    """A page in a fresh context; fails on uncaught script errors."""
    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
        assert errors == [], f"uncaught errors in the page: {errors}"
    finally:
        await context.close()


async def _check_and_print(notice: Page, name: str, masked: bool) -> None:
    """The notice as a person sees it on a phone and a desktop, then printed on A4."""
    await expect(notice.locator("h1")).to_have_text("为科技工作者办实事 · 办结通知书")
    body = notice.locator("body")
    await expect(body).to_contain_text("租期三年，可续租。")
    await expect(body).to_contain_text("承诺 14 个工作日")
    await expect(body).to_contain_text("周*华" if masked else WORKER_NAME)
    assert await notice.locator("script").count() == 0
    for device in ("phone", "desktop"):
        await notice.set_viewport_size(DEVICES[device]["viewport"])
        width = await notice.evaluate("document.documentElement.scrollWidth")
        assert width <= DEVICES[device]["viewport"]["width"], f"{name}: {width} px wide on a {device}"
        await notice.screenshot(path=SHOTS / f"{name}-{device}.png", full_page=True)
    pdf = await notice.pdf(path=SHOTS / f"{name}.pdf", prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"{name}: the notice prints on {pages} pages"
    await notice.emulate_media(media="print")
    await notice.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    await notice.screenshot(path=SHOTS / f"{name}-print.png", full_page=True)


async def test_a_steward_prints_the_notice_from_the_case_page(browser: Browser, seeded: Seeded) -> None:
    async with opened(browser, viewport={"width": 1440, "height": 900}) as page:
        await _console(browser, page, seeded)


async def _console(browser: Browser, page: Page, seeded: Seeded) -> None:
    await page.goto(f"{seeded.url}/staff/")
    await page.locator('input[data-testid="username"], [data-testid="username"] input').first.fill(STEWARD)
    password = page.locator('input[data-testid="password"], [data-testid="password"] input').first
    await password.fill(PASSWORD)
    await password.press("Enter")
    await expect(page.get_by_test_id("account-menu")).to_contain_text(STEWARD)
    await page.goto(f"{seeded.url}/staff/#/cases/{seeded.case_id}")
    await expect(page.get_by_test_id("case-status")).to_have_text("已办结")
    await page.get_by_test_id("open-completion-notice").click()
    dialog = page.get_by_test_id("completion-notice-dialog")
    await expect(dialog.locator(".el-dialog__title")).to_have_text("办结通知书")
    frame = page.frame_locator('[data-testid="completion-notice-frame"]')
    await expect(frame.locator("h1")).to_have_text("为科技工作者办实事 · 办结通知书")
    await expect(frame.locator("body")).to_contain_text(WORKER_NAME)  # signed in: the name in full
    await expect(page.locator(".el-loading-mask")).to_have_count(0)
    await page.wait_for_timeout(300)
    await page.screenshot(path=SHOTS / "console-dialog.png", full_page=True)
    # What the frame shows, printed by itself as the dialog's print button would.
    html = await frame.locator("html").evaluate("element => element.outerHTML")
    async with opened(browser) as notice:
        await notice.set_content(html)
        await _check_and_print(notice, "console-notice", masked=False)


async def test_the_worker_opens_the_notice_of_a_resolved_case(browser: Browser, seeded: Seeded) -> None:
    async with opened(browser, **DEVICES["phone"]) as page:
        await _worker(page, seeded)


async def _worker(page: Page, seeded: Seeded) -> None:
    await page.goto(f"{seeded.url}/#/login")
    await page.get_by_label("用户名", exact=True).fill(WORKER)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("我的办件")
    await page.get_by_role("link", name=re.compile(TITLE)).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    card = page.get_by_role("region", name="办结通知书")
    await expect(card).to_be_visible()
    await page.screenshot(path=SHOTS / "worker-case-phone.png", full_page=True)
    async with page.context.expect_page() as tab:
        await card.get_by_role("button", name="打开办结通知书（可打印）").click()
    notice = await tab.value
    await notice.wait_for_url(re.compile(r"^blob:"))
    await _check_and_print(notice, "worker-notice", masked=False)


async def test_the_lookup_opens_the_notice_with_the_name_masked(browser: Browser, seeded: Seeded) -> None:
    async with opened(browser, **DEVICES["phone"]) as page:
        await _lookup(page, seeded)


async def _lookup(page: Page, seeded: Seeded) -> None:
    await page.goto(f"{seeded.url}/#/lookup")
    await page.get_by_label("受理编号", exact=True).fill(seeded.case_no)
    await page.get_by_label("查询码", exact=True).fill(seeded.query_code)
    await page.get_by_role("button", name="查询", exact=True).click()
    result = page.get_by_role("region", name="查询结果")
    await expect(result).to_contain_text("已办结")
    await page.screenshot(path=SHOTS / "lookup-phone.png", full_page=True)
    async with page.context.expect_page() as tab:
        await result.get_by_role("button", name="打开办结通知书（可打印）").click()
    notice = await tab.value
    await notice.wait_for_url(re.compile(r"^blob:"))
    assert WORKER_NAME not in await notice.content()
    await _check_and_print(notice, "lookup-notice", masked=True)
