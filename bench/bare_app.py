"""The ceiling for a case read: a bare Litestar handler doing one asyncpg query by primary key.

``bench/load.py`` serves it under uvicorn with as many worker processes as the service
gets and measures it with the same wrk settings as the service's ``GET /cases/{id}``::

    BARE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/banshi_load \
        uv run uvicorn --app-dir bench bare_app:create_app --factory --workers 2 --port 8100

``GET /cases/{id}`` runs ``SELECT <case columns> FROM "case" WHERE id = $1`` on a pool of
up to ``BARE_POOL_SIZE`` connections (default 10, the service's pool size; idle ones are
closed after a few seconds, so that an idle bare app leaves PostgreSQL's connections to
the service) and answers the row as JSON, or 404. No sign-in, no session check, no timeline, no calendar: what any
handler on this stack pays for one indexed query, and nothing more.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException

QUERY = """
SELECT id, case_no, worker_id, item_id, title, description, channel, steward_id, department_code,
       district_code, status, version, promised_working_days, created_at, updated_at, accepted_at,
       due_at, resolved_at, closed_at
FROM "case" WHERE id = $1
"""


@get("/cases/{case_id:uuid}")
async def read_case(state: State, case_id: uuid.UUID) -> dict[str, Any]:
    pool: asyncpg.Pool = state.pool
    row = await pool.fetchrow(QUERY, case_id)
    if row is None:
        raise NotFoundException(f"no case {case_id}")
    return dict(row)


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> Litestar:
    dsn = os.environ["BARE_DATABASE_URL"]
    size = int(os.environ.get("BARE_POOL_SIZE", "10"))

    @asynccontextmanager
    async def pool(app: Litestar) -> AsyncGenerator[None, None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=size, max_inactive_connection_lifetime=5)
        try:
            yield
        finally:
            await app.state.pool.close()

    return Litestar(route_handlers=[read_case, health], lifespan=[pool])
