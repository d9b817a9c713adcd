"""The API docs in a real browser with the network cut: every request to another origin
is refused, and both pages still show the API. Neither page may even try another origin
(a public CDN, web fonts, telemetry), and the pages' Content-Security-Policy is never
broken by their own scripts.

Debian's Chromium (``/usr/bin/chromium``) is required, as for the other browser tests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, expect

from service.api.docs import ASSETS
from service.security.keys import Keys
from tests.browser.test_pages import SCREENSHOTS, _browser_wanted, chromium, serving
from tests.postgres import Databases

LOAD_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
async def docs_service(
    databases: Databases, test_keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    _browser_wanted()
    async with serving(databases, test_keys, tmp_path_factory.mktemp("docs-service"), BANSHI_DOCS="1") as url:
        yield url


@pytest.fixture(scope="module")
async def offline_browser(docs_service: str) -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


class Offline:
    """A page whose requests to any origin but the service's are refused and recorded,
    with the console's complaints (CSP violations among them) and uncaught errors."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.elsewhere: list[str] = []
        self.complaints: list[str] = []
        page.on("console", lambda message: self._console(message.type, message.text))
        page.on("pageerror", lambda error: self.complaints.append(f"uncaught: {error}"))

    def _console(self, kind: str, text: str) -> None:
        if kind == "error" or "Content Security Policy" in text:
            self.complaints.append(f"{kind}: {text}")

    async def refuse_elsewhere(self, route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or f"{parts.scheme}://{parts.netloc}" == self.origin:
            await route.continue_()
            return
        self.elsewhere.append(url)
        await route.abort("internetdisconnected")


def _directives(policy: str | None) -> dict[str, str]:
    assert policy, "the page has no Content-Security-Policy"
    pairs = (d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    return {p[0]: p[1] if len(p) > 1 else "" for p in pairs}


@pytest.fixture
async def offline(offline_browser: Browser, docs_service: str) -> AsyncIterator[Offline]:
    context = await offline_browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    watched = Offline(page, docs_service)
    await context.route("**/*", watched.refuse_elsewhere)
    try:
        yield watched
    finally:
        await context.close()


async def test_swagger_ui_shows_the_api_with_the_network_cut(offline: Offline, docs_service: str) -> None:
    page = offline.page
    answered = await page.goto(f"{docs_service}/docs", wait_until="networkidle")
    assert answered is not None and answered.status == 200
    assert _directives(await answered.header_value("content-security-policy"))["script-src"] == "'self'"
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Banshi", timeout=LOAD_TIMEOUT_MS)
    await expect(page.locator(".opblock-summary-path", has_text="/api/v1/auth/login").first).to_be_visible()
    await expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    await page.screenshot(path=SCREENSHOTS / "docs-swagger-offline.png")
    assert offline.elsewhere == [], f"the page tried other origins: {offline.elsewhere}"
    assert offline.complaints == [], offline.complaints


async def test_scalar_shows_the_api_with_the_network_cut(offline: Offline, docs_service: str) -> None:
    page = offline.page
    answered = await page.goto(f"{docs_service}/docs/scalar", wait_until="networkidle")
    assert answered is not None and answered.status == 200
    assert _directives(await answered.header_value("content-security-policy"))["script-src"] == "'self'"
    await expect(page.get_by_role("heading", name="Banshi").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    # Scalar renders operations as they scroll into view: the first tag's are there.
    await expect(page.get_by_text("Ready to serve: the database answers").first).to_be_visible()
    await expect(page.get_by_text("Ask AI")).to_have_count(0)  # the agent would call scalar.com
    await page.screenshot(path=SCREENSHOTS / "docs-scalar-offline.png")
    assert offline.elsewhere == [], f"the page tried other origins: {offline.elsewhere}"
    assert offline.complaints == [], offline.complaints


def test_the_served_copies_are_the_pinned_ones() -> None:
    """What ``tools/docs_assets.py`` fetched and recorded is what is committed."""
    vendor = ASSETS / "vendor"
    recorded = json.loads((vendor / "ASSETS.json").read_text(encoding="utf-8"))
    assert {"swagger-ui-dist", "@scalar/api-reference"} <= set(recorded["packages"])
    for name, digest in recorded["files"].items():
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name
    referenced = Path(__file__).resolve().parents[2] / "service" / "api" / "docs.py"
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "scalar-standalone.js"):
        assert name in recorded["files"] and name in referenced.read_text(encoding="utf-8")
