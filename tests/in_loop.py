"""The app served inside the test's own event loop, for tests whose requests must run at
the same time as the test's own database work.

Litestar's test client runs the app on a thread of its own and waits for each answer,
so a request that waits for a lock the test holds would wait for ever: the test could
not go on to release it. Here the request is a task of the test's loop like any other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.app import create_app
from service.config import Settings
from service.db import make_engine, make_session_factory
from tests.conftest import Clock
from tests.factory import ADMIN_PASSWORD, API


@asynccontextmanager
async def served(settings: Settings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a freshly started app, signed in as the administrator. The app
    connects only now, so database settings changed before take effect."""
    async with served_app(settings, clock) as (http, _):
        yield http


@asynccontextmanager
async def served_app(settings: Settings, clock: Clock) -> AsyncIterator[tuple[httpx.AsyncClient, Litestar]]:
    """``served``, with the app itself (for a test that watches its state)."""
    app = create_app(settings, clock=clock)
    # Litestar types the ASGI scope as TypedDicts, httpx as plain mappings: the same thing.
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        login = await http.post(f"{API}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert login.status_code == 200, login.text
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        yield http, app


@asynccontextmanager
async def own_session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session of the test's own, on an engine of its own, for taking locks with the
    service's own repository functions while a request runs."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


@asynccontextmanager
async def _within_transaction(session: AsyncSession) -> AsyncIterator[None]:
    """The transaction the test holds its locks in, or a short one of its own (the
    service's sessions do not begin one by themselves)."""
    if session.in_transaction():
        yield
    else:
        async with session.begin():
            yield


async def _waiting_for_locks(session: AsyncSession, at_least: int, within: float) -> list[int]:
    """The server process ids of the other sessions in this database that wait for a lock
    (a row lock, an advisory lock), once there are at least ``at_least`` of them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    pids: list[int] = []
    while loop.time() < deadline:
        async with _within_transaction(session):
            await session.execute(text("SELECT pg_stat_clear_snapshot()"))  # else read once per transaction
            found = await session.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            )
            pids = [int(pid) for pid in found]
        if len(pids) >= at_least:
            return pids
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(pids)} requests waited for a lock within {within} s (wanted {at_least})")


async def lock_waiter(session: AsyncSession, within: float = 5) -> int:
    """The server process id of the other session in this database that waits for a lock."""
    return (await _waiting_for_locks(session, 1, within))[0]


async def lock_waiters(session: AsyncSession, at_least: int, within: float = 5) -> int:
    """How many requests wait for a lock, once at least ``at_least`` do: proof that they
    are really in flight at once."""
    return len(await _waiting_for_locks(session, at_least, within))
