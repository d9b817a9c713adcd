"""The built front end is served at ``/`` with a strict content security policy, beside the API."""

from __future__ import annotations

import dataclasses
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


async def test_without_a_built_front_end_only_the_api_is_served(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    bare = dataclasses.replace(settings, web_dir=tmp_path)
    async with AsyncTestClient(app=create_app(bare, clock=clock)) as client:
        assert (await client.get("/")).status_code == 404
        assert (await client.get("/health")).status_code == 200
