"""The committed OpenAPI document is the one the code produces."""

from __future__ import annotations

import json
from pathlib import Path

from service.app import openapi_document

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
KEY_PATHS = (
    "/api/v1/cases",
    "/api/v1/cases/{case_id}/transitions",
    "/api/v1/calendar/{year}",
    "/health",
)
STALE = "openapi/openapi.json is missing or out of date; run `uv run banshi openapi` and commit the result"


def test_committed_document_matches_the_code() -> None:
    assert COMMITTED.is_file(), STALE
    assert COMMITTED.read_text(encoding="utf-8") == openapi_document(), STALE


def test_document_lists_the_key_paths() -> None:
    document = json.loads(openapi_document())
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Banshi"
    missing = [path for path in KEY_PATHS if path not in document["paths"]]
    assert missing == [], f"paths missing from the OpenAPI document: {missing}"
    assert "post" in document["paths"]["/api/v1/cases/{case_id}/transitions"]
    assert {"get", "put"} <= set(document["paths"]["/api/v1/calendar/{year}"])
