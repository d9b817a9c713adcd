"""A process trusts a session it has checked for a few seconds: what that changes.

Changes made through this process (sign-out, deactivation, a new role) take effect at
once; a revocation this process did not make (another worker process, written here
straight into the database) is honoured until the cache's seconds are up.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.config import Settings
from service.security.signed_in import PRINCIPAL_TABLES
from tests.conftest import Clock, StatementCounter
from tests.factory import ADMIN_PASSWORD, Api
from tests.postgres import asyncpg_dsn


async def revoke_elsewhere(database_url: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute("UPDATE auth_session SET revoked_at = now() WHERE revoked_at IS NULL")
    finally:
        await connection.close()


@pytest.fixture
async def uncached(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(dataclasses.replace(settings, sign_in_cache_seconds=0), clock=clock)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as c:
        yield c


async def test_a_revocation_made_elsewhere_is_honoured_within_the_cache_seconds(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock
) -> None:
    api = Api(client)
    steward, _ = await api.steward_account()
    await steward.ok("GET", "/auth/me")
    await revoke_elsewhere(settings.database_url or "")
    clock.advance(seconds=settings.sign_in_cache_seconds - 1)
    await steward.ok("GET", "/auth/me")  # still trusted by this process
    clock.advance(seconds=2)
    await steward.problem("GET", "/auth/me", 401)


async def test_with_the_cache_off_a_revocation_made_elsewhere_is_at_once(
    uncached: AsyncTestClient[Litestar], settings: Settings
) -> None:
    api = await Api(uncached).login("admin", ADMIN_PASSWORD)
    await api.ok("GET", "/auth/me")
    await revoke_elsewhere(settings.database_url or "")
    await api.problem("GET", "/auth/me", 401)


async def test_changes_made_in_this_process_take_effect_at_once(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward, _ = await api.steward_account()
    me = await steward.ok("GET", "/auth/me")
    await steward.ok("GET", "/cases")
    await api.ok("PATCH", f"/accounts/{me['account_id']}", json={"active": False})
    await steward.problem("GET", "/cases", 401)

    other, _ = await api.steward_account("周专员")
    await other.ok("GET", "/auth/me")
    await other.ok("POST", "/auth/logout", 204)
    await other.problem("GET", "/auth/me", 401)

    liaison, staff = await api.liaison_account("housing")
    assert (await liaison.ok("GET", "/auth/me"))["department_code"] == "housing"
    await api.ok("PATCH", f"/staff/{staff['id']}", json={"department_code": "education"})
    assert (await liaison.ok("GET", "/auth/me"))["department_code"] == "education"


async def test_a_signed_in_case_read_is_one_statement(
    client: AsyncTestClient[Litestar], statements: StatementCounter
) -> None:
    api = Api(client)
    case = await api.case()
    await api.ok("GET", f"/cases/{case['id']}")  # signs in and reads the calendar
    statements.reset()
    await api.ok("GET", f"/cases/{case['id']}")
    assert statements.counted() == 1, statements.queries


async def test_marking_a_session_used_keeps_every_kept_caller(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock
) -> None:
    api = Api(client)
    steward, _ = await api.steward_account()
    me = await steward.ok("GET", "/auth/me")
    clock.advance(seconds=61)
    before = PRINCIPAL_TABLES.generation
    await steward.ok("GET", "/auth/me")  # more than a minute on: last_seen_at is written
    connection = await asyncpg.connect(asyncpg_dsn(settings.database_url or ""))
    try:
        seen = await connection.fetchval(
            "SELECT max(last_seen_at) FROM auth_session WHERE account_id = $1", uuid.UUID(me["account_id"])
        )
    finally:
        await connection.close()
    assert seen == clock()
    assert PRINCIPAL_TABLES.generation == before
    await steward.ok("POST", "/auth/logout", 204)
    assert PRINCIPAL_TABLES.generation > before
