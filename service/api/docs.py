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


class DocsPage(OpenAPIRenderPlugin):
    """A docs UI from its pinned copy: its stylesheets, an element that names the OpenAPI
    document in a ``data-document`` attribute, the UI's script and our start script."""

    def __init__(self, path: str, element_id: str, scripts: tuple[str, ...], styles: tuple[str, ...] = ()) -> None:
        super().__init__(path=path)
        self.element_id = element_id
        self.scripts = scripts
        self.styles = styles

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        document = escape(self.get_openapi_json_route(request))
        title = escape(f"{openapi_schema['info']['title']} API")
        styles = "".join(f'<link rel="stylesheet" href="{ASSETS_PATH}/{name}">\n' for name in self.styles)
        scripts = "".join(f'<script src="{ASSETS_PATH}/{name}"></script>\n' for name in self.scripts)
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n{_ICON}\n{styles}</head>\n<body>\n"
            f'<div id="{self.element_id}" data-document="{document}"></div>\n{scripts}</body>\n</html>\n'
        ).encode()


def swagger_page() -> DocsPage:
    """Swagger UI, started by ``swagger-start.js``."""
    return DocsPage(
        "/swagger",
        "swagger-ui",
        ("vendor/swagger-ui-bundle.js", "swagger-start.js"),
        ("vendor/swagger-ui.css",),
    )


def scalar_page() -> DocsPage:
    """Scalar, started by ``scalar-start.js`` without what would reach scalar.com."""
    return DocsPage("/scalar", "scalar-docs", ("vendor/scalar-standalone.js", "scalar-start.js"))


def docs_assets_router() -> Router:
    """The copies and start scripts, cached for a day (a release may change them)."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS],
        include_in_schema=False,
        name="docs-assets",
        cache_control=CacheControlHeader(max_age=86_400, public=True),
    )
