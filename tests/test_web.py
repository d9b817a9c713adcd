"""The built front end is served at ``/`` with a strict content security policy, beside the API."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.config import Settings
from tests.conftest import Clock


async def test_the_front_end_is_served_at_the_root_with_a_strict_policy(
    anonymous: AsyncTestClient[Litestar],
) -> None:
    page = await anonymous.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    script = await anonymous.get("/main.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "content-security-policy" in script.headers
    # The API and the health check are not shadowed by the pages.
    assert (await anonymous.get("/health")).json() == {"status": "ok"}
    assert (await anonymous.get("/api/v1/lookup")).status_code == 400
    assert (await anonymous.get("/no-such-page.js")).status_code == 404


async def test_the_staff_console_is_served_at_staff_with_the_same_policy(
    anonymous: AsyncTestClient[Litestar],
) -> None:
    page = await anonymous.get("/staff/")
    assert page.status_code == 200
    assert '<div id="app">' in page.text and "/staff/assets/" in page.text
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-cache"  # the page names the current build
    head = await anonymous.head("/staff/")
    assert head.status_code == 200 and head.content == b""
    asset = re.search(r'src="(/staff/assets/[^"]+\.js)"', page.text)
    assert asset is not None
    script = await anonymous.get(asset.group(1))
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    # Named by their content: kept a year, never asked for again.
    assert script.headers["cache-control"] == "max-age=31536000, public, immutable"
    assert (await anonymous.get("/staff/assets/no-such-file.js")).status_code == 404
    # The worker's page and the API are still where they were.
    assert '<html lang="zh-CN">' in (await anonymous.get("/")).text
    assert (await anonymous.get("/api/v1/lookup")).status_code == 400


async def test_without_a_built_front_end_only_the_api_is_served(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    bare = dataclasses.replace(settings, web_dir=tmp_path)
    async with AsyncTestClient(app=create_app(bare, clock=clock)) as client:
        assert (await client.get("/")).status_code == 404
        assert (await client.get("/health")).status_code == 200
