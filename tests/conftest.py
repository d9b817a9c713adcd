from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from service.app import create_app
from service.config import Settings, read_settings
from tests.postgres import Databases, server_url


@pytest.fixture(scope="session")
def databases() -> Iterator[Databases]:
    with server_url() as url:
        dbs = Databases(url)
        dbs.create_template()
        try:
            yield dbs
        finally:
            dbs.drop_template()


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
def settings(database_url: str) -> Settings:
    return dataclasses.replace(read_settings(), database_url=database_url, pool_size=25)


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Litestar:
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as c:
        yield c


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1


@pytest.fixture
def statements(app: Litestar, client: AsyncTestClient[Litestar]) -> Iterator[StatementCounter]:
    """Counts the SQL statements the app sends (the client fixture has started it)."""
    engine: AsyncEngine = app.state.engine
    counter = StatementCounter()
    event.listen(engine.sync_engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine.sync_engine, "before_cursor_execute", counter)
