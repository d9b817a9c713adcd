"""The web front ends, served from their built files: the worker's page (``web/``) at
``/`` and the staff console (``console/``) at ``/staff/``. Both talk to the service only
through ``/api/v1``, like any other client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import MediaType, Response, head
from litestar.datastructures import CacheControlHeader
from litestar.router import Router
from litestar.static_files import create_static_files_router

from service.config import Settings

BUILT = Path(__file__).resolve().parents[2] / "web" / "dist"
CONSOLE_BUILT = Path(__file__).resolve().parents[2] / "console" / "dist"


def web_dir(settings: Settings) -> Path:
    return settings.web_dir or BUILT


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""The page loads nothing from elsewhere and runs no inline script. Inline styles are
allowed for the receipt, which the page opens from a blob and which inherits this policy."""


async def _page_headers(response: Response[Any]) -> Response[Any]:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _pages(path: str, folder: Path, name: str) -> Router:
    """A built front end's files at ``path``: its page served for the folder's address and
    checked on every load, with the policy above on every answer."""
    index = folder / "index.html"

    # Litestar's HTML mode serves GET but not HEAD for the page (uptime checkers ask HEAD).
    @head("/", include_in_schema=False, after_request=_page_headers, name=f"{name}/index-head")
    async def index_head() -> Response[None]:
        return Response(
            None,
            media_type=MediaType.HTML,
            headers={"Content-Length": str(index.stat().st_size), "Cache-Control": "no-cache"},
        )

    router = create_static_files_router(
        path=path,
        directories=[folder],
        html_mode=True,
        include_in_schema=False,
        name=name,
        cache_control=CacheControlHeader(no_cache=True),
        after_request=_page_headers,
    )
    router.register(index_head)
    return router


def web_router(settings: Settings) -> list[Router]:
    """Nothing when the front end is not built (an API-only deployment)."""
    folder = web_dir(settings)
    if not (folder / "index.html").is_file():
        return []
    return [_pages("/", folder, "web")]


def console_router(folder: Path = CONSOLE_BUILT) -> list[Router]:
    """The staff console at ``/staff/``: its page is checked on every load, and its
    scripts and styles, whose names carry a hash of their content, are kept for a year.
    Nothing when the console is not built."""
    if not (folder / "index.html").is_file():
        return []
    assets = create_static_files_router(
        path="/staff/assets",
        directories=[folder / "assets"],
        include_in_schema=False,
        name="console-assets",
        cache_control=CacheControlHeader(max_age=31_536_000, public=True, immutable=True),
        after_request=_page_headers,
    )
    return [assets, _pages("/staff", folder, "console")]
