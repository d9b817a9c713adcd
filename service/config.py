"""Settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None
    """``DATABASE_URL``; unset means an embedded PostgreSQL under ``data_dir``."""
    data_dir: Path
    """``BANSHI_DATA_DIR``: where the embedded PostgreSQL keeps its files."""
    pool_size: int
    """``BANSHI_DB_POOL_SIZE``: connections per process."""
    reopen_window_days: int
    """``BANSHI_REOPEN_WINDOW_DAYS``: working days after resolution in which a case can be reopened."""
    docs_enabled: bool
    """``BANSHI_DOCS``: serve the OpenAPI docs at /docs (on by default)."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def read_settings() -> Settings:
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or None,
        data_dir=Path(os.environ.get("BANSHI_DATA_DIR", ".banshi")).resolve(),
        pool_size=_int("BANSHI_DB_POOL_SIZE", 10),
        reopen_window_days=_int("BANSHI_REOPEN_WINDOW_DAYS", 10),
        docs_enabled=os.environ.get("BANSHI_DOCS", "1") not in ("0", "false", "no"),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return read_settings()


def async_url(url: str) -> str:
    """Accept the usual ``postgresql://`` spelling and use the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")
