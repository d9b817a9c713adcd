from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from service.app import create_app
from service.config import Settings, read_settings
from service.security.keys import Keys, generate_env, keys_from
from tests.factory import ADMIN_PASSWORD, API
from tests.postgres import Databases, server_url, with_database


@pytest.fixture(scope="session")
def test_keys() -> Keys:
    keys = keys_from(generate_env())
    assert keys is not None
    return keys


def base_settings(keys: Keys, database_url: str | None) -> Settings:
    """Production rules with two test allowances: argon2id with little memory (the
    hashes are still argon2id, checked in tests/api/test_auth.py), and sessions that
    outlive the weeks by which lifecycle tests move the clock. ``strict_settings``
    restores the real session limits for the sign-in tests."""
    return dataclasses.replace(
        read_settings(),
        database_url=database_url,
        pool_size=25,
        keys=keys,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        session_idle_minutes=60 * 24 * 365,
        session_max_hours=24 * 365,
        redis_url=None,  # counters in the process; tests/api/test_lookup_limits.py uses Redis
        reminder_seconds=0,  # passes run when a test runs them (tests/test_reminders.py), at its clock
        metrics_keep_seconds=0,  # every read counts; tests/api/test_metrics_kept.py tests the kept figures
        delivery_worker="separate",  # tests/test_deliveries.py runs delivery workers of its own
    )


@pytest.fixture(scope="session")
def databases(test_keys: Keys) -> Iterator[Databases]:
    with server_url() as url:
        dbs = Databases(url)
        dbs.create_template()
        asyncio.run(_bootstrap_admin(with_database(url, dbs.template), base_settings(test_keys, None)))
        try:
            yield dbs
        finally:
            dbs.drop_template()


async def _bootstrap_admin(url: str, settings: Settings) -> None:
    """The template's ``admin`` account, made the way an operator makes the first one."""
    from service.config import security_kit
    from service.db import make_engine, make_session_factory
    from service.domain.access import Role
    from service.services.accounts import bootstrap_account

    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            now = datetime(2026, 1, 5, tzinfo=UTC)
            await bootstrap_account(session, security_kit(settings), Role.ADMIN, "admin", ADMIN_PASSWORD, now)
    finally:
        await engine.dispose()


@pytest.fixture
async def database_url(databases: Databases) -> AsyncIterator[str]:
    url = await databases.clone()
    try:
        yield url
    finally:
        await databases.drop(url)


class Clock:
    """The service's source of "now", moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    # A Tuesday morning in Chongqing with no holiday near.
    return Clock(datetime(2026, 6, 2, 2, 0, tzinfo=UTC))


@pytest.fixture
def settings(database_url: str, test_keys: Keys, tmp_path: Path) -> Settings:
    """Each test keeps its attachment files in its own folder."""
    return dataclasses.replace(
        base_settings(test_keys, database_url),
        attachments_env=(("BANSHI_ATTACHMENTS_DIR", str(tmp_path / "attachments")),),
    )


@pytest.fixture
def strict_settings(settings: Settings) -> Settings:
    """The production session limits (30 minutes idle, 12 hours in all)."""
    defaults = read_settings()
    return dataclasses.replace(
        settings,
        session_idle_minutes=defaults.session_idle_minutes,
        session_max_hours=defaults.session_max_hours,
    )


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Litestar:
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client signed in as the administrator (every request carries the token)."""
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as c:
        body = {"username": "admin", "password": ADMIN_PASSWORD}
        response = await c.post(f"{API}/auth/login", json=body)
        assert response.status_code == 200, response.text
        c.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield c


@pytest.fixture
async def anonymous(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client that sends no credentials, on its own app instance (same database)."""
    async with AsyncTestClient(app=create_app(settings, clock=clock), base_url="http://testserver.local") as c:
        yield c


class StatementCounter:
    """Counts what the app sends to PostgreSQL: statements run through SQLAlchemy (its
    cursor events), and at the driver what does not go through SQLAlchemy's prepared
    statements: queries run straight through asyncpg, BEGIN, COMMIT and ROLLBACK."""

    def __init__(self, client: AsyncTestClient[Litestar] | None = None) -> None:
        self.count = 0
        self.queries: list[str] = []
        self._client = client

    def reset(self) -> None:
        self._drain()
        self.count = 0
        self.queries.clear()

    def counted(self) -> int:
        """What was counted since ``reset``, once everything logged has been counted."""
        self._drain()
        return self.count

    def _drain(self) -> None:
        """asyncpg hands each query to its loggers through the event loop (``call_soon``),
        and the test client runs the app on a loop of its own: a no-op sent to that loop
        runs after every log entry already queued, so none arrives late (or in the next
        request's count)."""
        portal = getattr(self._client, "blocking_portal", None)
        if portal is not None:
            portal.call(asyncio.sleep, 0)

    def __call__(self, query: Any) -> None:
        self.count += 1
        self.queries.append(query.query)

    def on_statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.count += 1
        self.queries.append(statement)

    def on_checkout(self, dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(self)

    def on_checkin(self, dbapi_connection: Any, *_: Any) -> None:
        if dbapi_connection is not None:
            dbapi_connection.driver_connection.remove_query_logger(self)


@pytest.fixture
def statements(app: Litestar, client: AsyncTestClient[Litestar]) -> Iterator[StatementCounter]:
    """Counts the statements the app sends (the client fixture has started it)."""
    engine: AsyncEngine = app.state.engine
    counter = StatementCounter(client)
    event.listen(engine.sync_engine, "checkout", counter.on_checkout)
    event.listen(engine.sync_engine, "checkin", counter.on_checkin)
    event.listen(engine.sync_engine, "before_cursor_execute", counter.on_statement)
    yield counter
    event.remove(engine.sync_engine, "before_cursor_execute", counter.on_statement)
    event.remove(engine.sync_engine, "checkout", counter.on_checkout)
    event.remove(engine.sync_engine, "checkin", counter.on_checkin)
