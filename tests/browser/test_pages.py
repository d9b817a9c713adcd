"""The web front end (``web/dist``) in a real browser against the real service.

One service process per module (uvicorn on a free port, its own copy of the template
database, keys shared with the template's admin account), seeded through the HTTP API
like any client: a steward, a worker with an account, and a case that waits for the
worker's materials. Each flow runs at phone size (360×740) and desktop size
(1280×800) where both matter, and leaves a full-page screenshot in
``test-output/screenshots/<flow>-<phone|desktop>.png``.

Debian's Chromium (``/usr/bin/chromium``) is required: the tests fail without it
unless ``BANSHI_BROWSER_TESTS=0`` says to skip them.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, FilePayload, Page, async_playwright, expect

from service.security.keys import Keys
from tests.factory import ADMIN_PASSWORD, API, INITIAL_PASSWORD, national_id
from tests.live import running_service, service_env
from tests.postgres import Databases

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEVICES: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
WORKER_USERNAME = "zhang.ming"
WORKER_PASSWORD = "Worker-Pass-2026!"
NEWCOMER = "li.hua"  # a worker account still on the password an administrator set
CASE_TITLE = "申请青年人才公租房"
RESOLVED_TITLE = "办理人才落户"
STEWARD_NAME = "王管家"
MATERIALS = "请补充学历证明"
# The smallest PDF the service's type check takes: the %PDF signature and %%EOF at the end.
PDF = (
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
    b"2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n"
    b"3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 200 200]>> endobj\n"
    b"trailer <</Root 1 0 R>>\n%%EOF\n"
)
EXPECT_TIMEOUT_MS = 10_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@dataclass(frozen=True)
class Service:
    url: str
    case_id: str
    case_no: str
    query_code: str


def _browser_wanted() -> None:
    if os.environ.get("BANSHI_BROWSER_TESTS") == "0":
        pytest.skip("browser tests turned off with BANSHI_BROWSER_TESTS=0")
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with `apt-get install chromium` "
            "(or set BANSHI_BROWSER_TESTS=0 to skip the browser tests)",
            pytrace=False,
        )
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail("web/dist is not built: run `npm ci && npm run build` in web/", pytrace=False)


async def _seed(url: str) -> Service:
    """A steward, a worker who can sign in, and a case waiting for the worker's materials."""
    async with httpx.AsyncClient(base_url=url + API, timeout=15) as api:

        async def ok(method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
            response = await api.request(method, path, **kwargs)
            assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
            return response.json() if response.content else None

        token = (await ok("POST", "/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}))[
            "access_token"
        ]
        api.headers["Authorization"] = f"Bearer {token}"
        steward = await ok(
            "POST",
            "/staff",
            201,
            json={
                "name": STEWARD_NAME,
                "role": "steward",
                "district_code": "yubei",
                "work_phone": "023-6789 1234",
                "email": "wang.guanjia@example.cn",
            },
        )
        worker = await ok(
            "POST",
            "/workers",
            201,
            json={
                "name": "张晓明",
                "national_id": national_id(),
                "mobile": "13812345678",
                "employer": "重庆大学",
                "district_code": "yubei",
                "steward_id": steward["id"],
            },
        )
        account = {
            "username": WORKER_USERNAME,
            "role": "worker",
            "password": INITIAL_PASSWORD,
            "worker_id": worker["id"],
        }
        await ok("POST", "/accounts", 201, json=account)
        first = await ok("POST", "/auth/login", json={"username": WORKER_USERNAME, "password": INITIAL_PASSWORD})
        await ok(
            "POST",
            "/auth/password",
            204,
            json={"current_password": INITIAL_PASSWORD, "new_password": WORKER_PASSWORD},
            headers={"Authorization": f"Bearer {first['access_token']}"},
        )
        newcomer = await ok(
            "POST",
            "/workers",
            201,
            json={
                "name": "李华",
                "national_id": national_id(),
                "mobile": "13912345678",
                "employer": "西南大学",
                "district_code": "yubei",
                "steward_id": steward["id"],
            },
        )
        await ok(
            "POST",
            "/accounts",
            201,
            json={"username": NEWCOMER, "role": "worker", "password": INITIAL_PASSWORD, "worker_id": newcomer["id"]},
        )
        items = await ok("GET", "/work-list-items", params={"active": "true"})
        item = next(i for i in items if i["code"] == "WL-01")
        case = await ok(
            "POST",
            "/cases",
            201,
            json={"title": CASE_TITLE, "channel": "phone", "worker_id": worker["id"], "item_id": item["id"]},
        )
        code = case["query_code"]
        for action, fields in (("accept", {}), ("request_materials", {"materials": MATERIALS, "visibility": "public"})):
            case = await ok(
                "POST",
                f"/cases/{case['id']}/transitions",
                json={"action": action, **fields},
                headers={"If-Match": f'"{case["id"]}.{case["version"]}"'},
            )
        assert case["status"] == "awaiting_materials"
        done = await ok(
            "POST",
            "/cases",
            201,
            json={"title": RESOLVED_TITLE, "channel": "phone", "worker_id": worker["id"], "item_id": item["id"]},
        )
        for action, fields in (("accept", {}), ("start", {}), ("resolve", {"outcome": "已办理落户手续"})):
            done = await ok(
                "POST",
                f"/cases/{done['id']}/transitions",
                json={"action": action, **fields},
                headers={"If-Match": f'"{done["id"]}.{done["version"]}"'},
            )
        assert done["status"] == "resolved"
        # The administrator offers text messages and e-mail (no server is configured: what
        # is sent later is parked, which these pages do not show).
        offered = {"email_offered": True, "sms_offered": True, "sms_templates": {}}
        await ok("PUT", "/notice-settings", json=offered)
        return Service(url=url, case_id=case["id"], case_no=case["case_no"], query_code=code)


@pytest.fixture(scope="module")
async def service(
    databases: Databases, test_keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    _browser_wanted()
    async with serving(databases, test_keys, tmp_path_factory.mktemp("web-service"), BANSHI_DOCS="0") as url:
        yield await _seed(url)


@asynccontextmanager
async def serving(databases: Databases, keys: Keys, folder: Path, **settings: str) -> AsyncIterator[str]:
    """The service in a process of its own on a copy of the template database; its URL."""
    database_url = await databases.clone()
    try:
        async with running_service(service_env(keys, database_url, folder, **settings), folder / "service.log") as up:
            yield up.url
    finally:
        await databases.drop(database_url)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, with the screenshot folder ready."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="module")
async def browser(service: Service) -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


class Tab:
    """A page in a fresh browser context of one device size, failing on uncaught script errors."""

    def __init__(self, page: Page, device: str, errors: list[str]) -> None:
        self.page = page
        self.device = device
        self.errors = errors

    async def screenshot(self, flow: str) -> None:
        await self.page.screenshot(path=SCREENSHOTS / f"{flow}-{self.device}.png", full_page=True)

    async def no_horizontal_scroll(self) -> None:
        width = DEVICES[self.device]["viewport"]["width"]
        scroll_width = await self.page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"the page is {scroll_width} px wide on a {width} px screen"


@pytest.fixture
async def tab(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Tab]:
    device: str = request.param
    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **DEVICES[device])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield Tab(page, device, errors)
        assert errors == [], f"uncaught errors in the page: {errors}"
    finally:
        await context.close()


both = pytest.mark.parametrize("tab", ["phone", "desktop"], indirect=True)
desktop = pytest.mark.parametrize("tab", ["desktop"], indirect=True)


async def _sign_in(tab: Tab, service: Service) -> None:
    page = tab.page
    await page.goto(f"{service.url}/#/login")
    await page.get_by_label("用户名", exact=True).fill(WORKER_USERNAME)
    await page.get_by_label("密码", exact=True).fill(WORKER_PASSWORD)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("我的办件")


async def _open_case(tab: Tab) -> None:
    page = tab.page
    await page.get_by_role("link", name=re.compile(CASE_TITLE)).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(CASE_TITLE)


@both
async def test_lookup_shows_where_the_case_stands_and_refuses_a_wrong_code(tab: Tab, service: Service) -> None:
    page = tab.page
    await page.goto(f"{service.url}/")
    await expect(page).to_have_url(re.compile(r"#/lookup$"))
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await page.get_by_label("受理编号", exact=True).fill(service.case_no)
    await page.get_by_label("查询码", exact=True).fill(service.query_code.lower())
    await page.get_by_role("button", name="查询", exact=True).click()

    result = page.get_by_role("region", name="查询结果")
    await expect(result).to_contain_text("待补件")
    await expect(result).to_contain_text("暂停计时")
    await expect(result).to_contain_text("张*明")
    await expect(result).to_contain_text(MATERIALS)
    await expect(page.get_by_role("region", name="办理进度")).to_contain_text("需补正材料")
    await expect(page.get_by_role("heading", name="查询结果")).to_be_focused()
    await tab.no_horizontal_scroll()
    await tab.screenshot("lookup")

    await page.get_by_label("查询码", exact=True).fill("ZZZZ-ZZZZ")
    await page.get_by_role("button", name="查询", exact=True).click()
    await expect(page.get_by_role("alert")).to_have_text("受理编号或查询码不正确。")
    code_field = page.get_by_label("查询码", exact=True)
    await expect(code_field).to_have_attribute("aria-invalid", "true")
    alert_id = await page.get_by_role("alert").get_attribute("id")
    await expect(code_field).to_have_attribute("aria-describedby", re.compile(rf"\b{alert_id}\b"))
    await expect(result).to_have_count(0)
    await tab.no_horizontal_scroll()
    await tab.screenshot("lookup-wrong-code")


@both
async def test_sign_in_lists_my_cases_with_their_due_state_and_opens_one(tab: Tab, service: Service) -> None:
    page = tab.page
    await _sign_in(tab, service)
    card = page.get_by_role("listitem").filter(has_text=service.case_no)
    await expect(card).to_contain_text(CASE_TITLE)
    await expect(card).to_contain_text("暂停计时")
    await expect(card).to_contain_text("待补件")
    await tab.no_horizontal_scroll()
    await tab.screenshot("my-cases")

    await _open_case(tab)
    await expect(page.get_by_role("heading", level=1)).to_be_focused()
    steward = page.get_by_role("region", name="我的科技专员")
    await expect(steward).to_contain_text(STEWARD_NAME)
    await expect(steward.get_by_role("link", name="023-6789 1234")).to_have_attribute("href", "tel:02367891234")
    await expect(page.get_by_role("region", name="提交补正材料")).to_contain_text(MATERIALS)
    await expect(page.get_by_role("region", name="撤回申请")).to_be_visible()
    await tab.no_horizontal_scroll()
    await tab.screenshot("case-detail")

    await page.get_by_role("button", name="退出登录").click()
    await expect(page.get_by_role("status")).to_have_text("您已退出登录。")
    await expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="登录")).to_be_visible()
    await page.goto(f"{service.url}/#/my")
    await expect(page.get_by_role("heading", level=1)).to_have_text("登录")


@both
async def test_a_new_request_shows_its_query_code_once(tab: Tab, service: Service) -> None:
    page = tab.page
    await _sign_in(tab, service)
    await page.get_by_role("link", name="新的申请").first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("新的申请")
    item = page.get_by_label("服务事项", exact=True)
    await item.select_option(index=1)
    await page.get_by_label("申请事项名称", exact=True).fill("申请子女入学服务")
    await page.get_by_label("详细说明（选填）", exact=True).fill("孩子今年九月上小学。")
    await page.get_by_role("button", name="提交申请").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("申请已提交")
    code = page.locator("#query-code")
    await expect(code).to_have_text(re.compile(r"^[2-9A-Z]{4}-[2-9A-Z]{4}$"))
    await expect(page.get_by_text("查询码只显示这一次")).to_be_visible()
    await tab.no_horizontal_scroll()
    await tab.screenshot("new-request")

    if tab.device == "desktop":
        shown = await code.inner_text()
        async with page.context.expect_page() as opened:
            await page.get_by_role("button", name=re.compile("受理回执")).click()
        receipt = await opened.value
        await receipt.wait_for_url(re.compile(r"^blob:"))
        await expect(receipt.locator("h1")).to_contain_text("受理回执")
        await expect(receipt.locator(".code")).to_have_text(shown)
        await receipt.close()
    else:  # and withdrawn again, with a reason and a confirmation
        await page.get_by_role("link", name="查看办件详情").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("申请子女入学服务")
        withdraw = page.get_by_role("region", name="撤回申请")
        await withdraw.get_by_role("button", name="撤回申请…").click()
        await expect(withdraw.get_by_label("撤回原因", exact=True)).to_be_focused()
        await withdraw.get_by_label("撤回原因", exact=True).fill("已通过学校直接办理。")
        await withdraw.get_by_role("button", name="确认撤回").click()
        await expect(page.get_by_role("status").filter(has_text="申请已撤回。")).to_be_focused()
        await expect(page.get_by_role("region", name="办件概况")).to_contain_text("已撤回")
        await expect(page.get_by_role("region", name="撤回申请")).to_have_count(0)


@both
async def test_materials_are_answered_with_an_uploaded_file(tab: Tab, service: Service) -> None:
    page = tab.page
    await _sign_in(tab, service)
    await _open_case(tab)
    materials = page.get_by_role("region", name="提交补正材料")
    files = materials.get_by_label("添加文件", exact=True)

    if tab.device == "desktop":  # refused in the page, before any upload
        # Made inside the page: sending 20 MB through the browser driver takes many seconds.
        await files.evaluate(
            """input => {
                const big = new File([new Uint8Array(20 * 1024 * 1024 + 1)], "扫描件.pdf", {type: "application/pdf"});
                const chosen = new DataTransfer();
                chosen.items.add(big);
                input.files = chosen.files;
                input.dispatchEvent(new Event("change", {bubbles: true}));
            }"""
        )
        await expect(materials.get_by_text("每个文件不能超过 20 MB")).to_be_visible()
        await expect(files).to_have_attribute("aria-invalid", "true")

    await materials.get_by_label("补正说明", exact=True).fill("已上传学历证明扫描件。")
    document: FilePayload = {"name": "学历证明.pdf", "mimeType": "application/pdf", "buffer": PDF}
    await files.set_input_files([document])
    chosen = materials.get_by_role("list", name="已选择的文件")
    await expect(chosen).to_contain_text("学历证明.pdf")
    await expect(chosen).to_contain_text(f"{len(PDF)} 字节")
    await materials.get_by_role("button", name="提交补正材料").click()

    await expect(page.get_by_role("status").filter(has_text="补正材料已提交")).to_be_visible()
    await expect(page.get_by_role("region", name="办理进度")).to_contain_text("已提交补正材料")
    await expect(page.get_by_role("region", name="附件")).to_contain_text("学历证明.pdf")
    await tab.no_horizontal_scroll()
    await tab.screenshot("upload")


@desktop
async def test_a_resolved_case_is_rated(tab: Tab, service: Service) -> None:
    page = tab.page
    await _sign_in(tab, service)
    await page.get_by_role("link", name=re.compile(RESOLVED_TITLE)).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(RESOLVED_TITLE)
    await expect(page.get_by_role("region", name="办件概况")).to_contain_text("已办理落户手续")
    rating = page.get_by_role("region", name="评价本次服务")
    await rating.get_by_role("button", name="提交评价").click()
    await expect(rating.get_by_role("alert")).to_have_text("请选择满意程度。")
    await tab.screenshot("rating")
    await rating.get_by_label("满意", exact=True).check()
    await rating.get_by_label("评价意见（选填）").fill("专员很负责。")
    await rating.get_by_role("button", name="提交评价").click()
    await expect(page.get_by_role("status").filter(has_text="感谢您的评价。")).to_be_visible()
    await expect(page.get_by_role("region", name="办件概况")).to_contain_text("我的评价满意")
    await expect(page.get_by_role("region", name="评价本次服务")).to_have_count(0)


@pytest.mark.parametrize("tab", ["phone"], indirect=True)
async def test_the_first_sign_in_sets_a_new_password(tab: Tab, service: Service) -> None:
    page = tab.page
    await page.goto(f"{service.url}/#/login")
    await page.get_by_label("用户名", exact=True).fill(NEWCOMER)
    await page.get_by_label("密码", exact=True).fill(INITIAL_PASSWORD)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("设置新密码")
    await expect(page.get_by_role("heading", level=1)).to_be_focused()

    await page.get_by_label("新密码", exact=True).fill("short")
    await page.get_by_label("再次输入新密码", exact=True).fill("short")
    await page.get_by_role("button", name="保存新密码").click()
    await expect(page.get_by_label("新密码", exact=True)).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_text("新密码至少需要 12 个字符。")).to_be_visible()
    await tab.screenshot("first-sign-in")

    await page.get_by_label("新密码", exact=True).fill("Li-Hua-New-2026!")
    await page.get_by_label("再次输入新密码", exact=True).fill("Li-Hua-New-2026!")
    await page.get_by_role("button", name="保存新密码").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("我的办件")
    await expect(page.get_by_text("您还没有办件。")).to_be_visible()


@desktop
async def test_the_lookup_works_with_the_keyboard_alone(tab: Tab, service: Service) -> None:
    page = tab.page
    await page.goto(f"{service.url}/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("办件查询")

    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到主要内容")
    await expect(skip).to_be_focused()
    assert await _outline_visible(page), "the skip link shows no focus outline"
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_be_focused()

    await page.keyboard.press("Tab")
    await expect(page.get_by_label("受理编号", exact=True)).to_be_focused()
    assert await _outline_visible(page), "the case number field shows no focus outline"
    await page.keyboard.type(service.case_no)
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("查询码", exact=True)).to_be_focused()
    assert await _outline_visible(page), "the query code field shows no focus outline"
    await page.keyboard.type(service.query_code)
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="查询", exact=True)).to_be_focused()
    assert await _outline_visible(page), "the button shows no focus outline"
    await tab.screenshot("keyboard")
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Enter")

    await expect(page.get_by_role("region", name="查询结果")).to_contain_text("待补件")
    await expect(page.get_by_role("heading", name="查询结果")).to_be_focused()


async def _outline_visible(page: Page) -> bool:
    visible: bool = await page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
        }"""
    )
    return visible


@desktop  # the service is the module's: the first choice made is kept
async def test_a_worker_chooses_how_notices_reach_them(tab: Tab, service: Service) -> None:
    page = tab.page
    await _sign_in(tab, service)
    await page.goto(f"{service.url}/#/notices")
    form = page.get_by_role("form", name="通知方式")
    await expect(form).to_contain_text("您尚未选择，以下为默认方式。")
    await expect(form.get_by_label("短信通知（发送到登记的手机号；22:00 至次日 8:00 不发送）")).to_be_checked()
    email = form.get_by_label("邮件通知")
    await expect(email).not_to_be_checked()

    await email.check()
    await form.get_by_label("电子邮箱（选填）").fill("zhang at example")
    await form.get_by_role("button", name="保存通知方式").click()
    address = form.get_by_label("电子邮箱（选填）")
    await expect(address).to_have_attribute("aria-invalid", "true")
    await expect(form.locator(".field-error")).to_have_text("电子邮箱格式不正确。")
    await expect(form.get_by_role("alert")).to_have_text("电子邮箱格式不正确")
    await tab.screenshot("notice-preferences-refused")

    await address.fill("zhang.ming@example.com")
    await form.get_by_role("button", name="保存通知方式").click()
    await expect(form.get_by_role("status")).to_have_text("已保存；邮件将发送到 z***@example.com。")
    await page.reload()
    form = page.get_by_role("form", name="通知方式")
    await expect(form).to_contain_text("以下为您选择的方式。")
    await expect(form.get_by_label("邮件通知")).to_be_checked()
    await expect(form).to_contain_text("已设置为 z***@example.com；留空则保持不变。")
    await tab.screenshot("notice-preferences")


@desktop
async def test_notices_show_in_the_header_and_are_marked_read(tab: Tab, service: Service) -> None:
    page = tab.page
    await _sign_in(tab, service)
    nav = page.get_by_role("navigation", name="主导航")
    notices = nav.get_by_role("link", name=re.compile(r"^消息，\d+ 条未读$"))
    await expect(notices).to_be_visible()
    await notices.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("消息通知")
    listed = page.get_by_role("list", name="消息列表")
    asked = listed.get_by_role("listitem").filter(has_text="需补正材料")
    await expect(asked.first).to_contain_text(service.case_no)
    await expect(asked.first).to_contain_text(MATERIALS)
    await expect(asked.first).to_contain_text("未读")
    await tab.screenshot("notices")

    await page.get_by_role("button", name="全部标为已读").click()
    await expect(page.get_by_role("button", name="全部标为已读")).to_have_count(0)
    await expect(nav.get_by_role("link", name="消息", exact=True)).to_be_visible()
    await expect(listed.get_by_text("未读", exact=True)).to_have_count(0)

    # A notice opens its case.
    await asked.first.get_by_role("link").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(CASE_TITLE)
