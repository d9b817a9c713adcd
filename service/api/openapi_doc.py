"""The committed OpenAPI document, rendered the same way by the CLI and the drift test."""

from __future__ import annotations

import dataclasses
import json

from service.app import create_app
from service.config import read_settings
from service.security.keys import generate_env, keys_from


def render() -> str:
    # No database is touched: the schema comes from the route handlers alone.
    settings = dataclasses.replace(
        read_settings(), database_url="postgresql://unused/unused", docs_enabled=True, keys=keys_from(generate_env())
    )
    schema = create_app(settings).openapi_schema.to_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
