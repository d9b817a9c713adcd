"""The API docs: Swagger UI at ``/docs`` and Scalar at ``/docs/scalar``, both from pinned
copies that the service serves itself (``docs_assets/vendor``, fetched from the npm
registry by ``tools/docs_assets.py`` and committed). Nothing is loaded from another
origin, so the docs work offline and behind networks that cannot reach a public CDN,
and the pages run no inline script: each starts from a small script of ours beside the
copies, which reads the document's address from a ``data-`` attribute."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

ASSETS = Path(__file__).resolve().parent / "docs_assets"
ASSETS_PATH = "/docs/assets"

POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""The docs pages' Content-Security-Policy: everything from this origin, no inline script.
Both UIs set styles from script, hence ``'unsafe-inline'`` for styles only."""

_ICON = f'<link rel="icon" href="{ASSETS_PATH}/icon.svg" type="image/svg+xml">'


def _page(title: str, head: str, body: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n{_ICON}\n{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    ).encode()


class SwaggerPage(OpenAPIRenderPlugin):
    """Swagger UI, started by ``swagger-start.js``."""

    def __init__(self, path: str = "/swagger") -> None:
        super().__init__(path=path)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        document = escape(self.get_openapi_json_route(request))
        return _page(
            f"{openapi_schema['info']['title']} API",
            f'<link rel="stylesheet" href="{ASSETS_PATH}/vendor/swagger-ui.css">',
            f'<div id="swagger-ui" data-document="{document}"></div>\n'
            f'<script src="{ASSETS_PATH}/vendor/swagger-ui-bundle.js"></script>\n'
            f'<script src="{ASSETS_PATH}/swagger-start.js"></script>',
        )


class ScalarPage(OpenAPIRenderPlugin):
    """Scalar, started by ``scalar-start.js`` without its web fonts, telemetry or request
    proxy (each of which would reach scalar.com)."""

    def __init__(self, path: str = "/scalar") -> None:
        super().__init__(path=path)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        document = escape(self.get_openapi_json_route(request))
        return _page(
            f"{openapi_schema['info']['title']} API",
            "",
            f'<div id="scalar-docs" data-document="{document}"></div>\n'
            f'<script src="{ASSETS_PATH}/vendor/scalar-standalone.js"></script>\n'
            f'<script src="{ASSETS_PATH}/scalar-start.js"></script>',
        )


def docs_assets_router() -> Router:
    """The copies and start scripts, cached for a day (a release may change them)."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS],
        include_in_schema=False,
        name="docs-assets",
        cache_control=CacheControlHeader(max_age=86_400, public=True),
    )
