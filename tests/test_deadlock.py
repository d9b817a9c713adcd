"""Transactions PostgreSQL rolls back to settle contention: a deadlock (40P01), a
serialization failure (40001) and a lock timeout (55P03); and a statement it cancels
when ``statement_timeout`` runs out (57014).

Each is provoked for real: the test takes locks with the service's own repository
functions while a request of the app runs. Each answers 503 with ``Retry-After`` and a
problem+json body that says nothing was written and shows no SQL; the case is as it
was, and the same request sent again succeeds. A real bug stays a 500.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient, RequestFactory
from sqlalchemy import text, true
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from schemas.problem import Problem
from service.api.problems import EXCEPTION_HANDLERS
from service.config import Settings
from service.repositories import cases as case_repo
from tests.conftest import Clock
from tests.factory import API, Api
from tests.in_loop import lock_waiter, own_session, served
from tests.postgres import asyncpg_dsn

LEAKS = (
    "SELECT",
    "UPDATE",
    "FOR UPDATE",
    "pg_advisory",
    '"case"',
    "deadlock detected",
    "could not serialize",
    "lock timeout",
    "Traceback",
    "asyncpg",
    "sqlalchemy",
)
"""What PostgreSQL, the driver or Python would have said: none of it may reach a client."""


def change_of(case: dict[str, Any]) -> dict[str, Any]:
    """A title change based on the version the case was read at."""
    return {"json": {"title": "改过的标题"}, "headers": {"If-Match": f'"{case["id"]}.{case["version"]}"'}}


def assert_contention(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert set(problem) == {"type", "title", "status", "detail"}
    assert problem["type"] == "/problems/contention"
    assert problem["status"] == 503
    assert "nothing was written" in problem["detail"]
    assert not [word for word in LEAKS if word in response.text], response.text


async def set_for_database(database_url: str, setting: str, value: str) -> None:
    """A default for every session the app opens from now on (the database is this test's own)."""
    name = make_url(database_url).database
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute(f"ALTER DATABASE \"{name}\" SET {setting} = '{value}'")
    finally:
        await connection.close()


async def unchanged_then_retried(http: httpx.AsyncClient, case: dict[str, Any]) -> dict[str, Any]:
    """The refused change left no trace, and sending it again goes through."""
    now = await http.get(f"{API}/cases/{case['id']}")
    assert (now.json()["title"], now.json()["version"]) == (case["title"], case["version"])
    assert [e["action"] for e in now.json()["timeline"]] == ["create"]
    again = await http.patch(f"{API}/cases/{case['id']}", **change_of(case))
    assert again.status_code == 200, again.text
    assert (again.json()["title"], again.json()["version"]) == ("改过的标题", case["version"] + 1)
    body: dict[str, Any] = again.json()
    return body


async def test_a_deadlock_answers_503_and_writes_nothing(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock, database_url: str
) -> None:
    """The request locks the case and then waits for an audit chain: the test holds every
    one of them, so the request finds none free and waits for one; the test then asks for
    the case: each waits for the other, and PostgreSQL ends the request's transaction (the
    test's own waits 30 s before it looks)."""
    case = await Api(client).case()
    async with served(settings, clock) as http, own_session(database_url) as session:
        async with session.begin():
            await session.execute(text("SET LOCAL deadlock_timeout = '30s'"))
            await session.execute(text("SELECT id FROM audit_chain FOR UPDATE"))
            patch = asyncio.create_task(http.patch(f"{API}/cases/{case['id']}", **change_of(case)))
            await lock_waiter(session)
            await case_repo.get_case(session, uuid.UUID(case["id"]), true(), for_update=True)
            response = await asyncio.wait_for(patch, timeout=10)
        assert_contention(response)
        await unchanged_then_retried(http, case)


async def test_a_serialization_failure_answers_503_and_writes_nothing(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock, database_url: str
) -> None:
    """Under repeatable read, the request's snapshot is older than a change the test
    commits to the same case while the request waits for it: PostgreSQL refuses to
    let the request overwrite what it never saw."""
    case = await Api(client).case()
    await set_for_database(database_url, "default_transaction_isolation", "repeatable read")
    async with served(settings, clock) as http, own_session(database_url) as session:
        async with session.begin():
            held = await case_repo.get_case(session, uuid.UUID(case["id"]), true(), for_update=True)
            assert held is not None
            held.description = "同时补充的说明"
            await session.flush()
            patch = asyncio.create_task(http.patch(f"{API}/cases/{case['id']}", **change_of(case)))
            await lock_waiter(session)
        response = await asyncio.wait_for(patch, timeout=10)
        assert_contention(response)
        after = await unchanged_then_retried(http, case)
        assert after["description"] == "同时补充的说明"


async def test_a_lock_timeout_answers_503_and_writes_nothing(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock, database_url: str
) -> None:
    """With ``lock_timeout`` set, a request that waits longer for a case someone else
    is changing gives up."""
    case = await Api(client).case()
    await set_for_database(database_url, "lock_timeout", "200ms")
    async with served(settings, clock) as http, own_session(database_url) as session:
        async with session.begin():
            await case_repo.get_case(session, uuid.UUID(case["id"]), true(), for_update=True)
            response = await asyncio.wait_for(http.patch(f"{API}/cases/{case['id']}", **change_of(case)), timeout=10)
        assert_contention(response)
        await unchanged_then_retried(http, case)


async def test_a_statement_timeout_answers_503_and_writes_nothing(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock, database_url: str
) -> None:
    """With ``statement_timeout`` set (as operators may, on the database or a role), a
    request whose statement runs out of time (here: waiting for a case someone else is
    changing) is cancelled by PostgreSQL: 503 with ``Retry-After``, nothing written."""
    case = await Api(client).case()
    await set_for_database(database_url, "statement_timeout", "300ms")
    async with served(settings, clock) as http, own_session(database_url) as session:
        async with session.begin():
            await session.execute(text("SET LOCAL statement_timeout = 0"))
            await case_repo.get_case(session, uuid.UUID(case["id"]), true(), for_update=True)
            response = await asyncio.wait_for(http.patch(f"{API}/cases/{case['id']}", **change_of(case)), timeout=10)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "2"
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"] == "/problems/timeout"
        assert "nothing was written" in problem["detail"]
        assert not [word for word in (*LEAKS, "statement timeout", "canceling") if word in response.text]
        await unchanged_then_retried(http, case)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM no_such_table",  # 42P01, a bug in a query
        "SELECT CAST(:value AS integer)",  # asyncpg refuses the argument: a bug, not a lost connection
    ],
)
async def test_a_database_error_that_is_a_bug_stays_500(database_url: str, statement: str) -> None:
    async with own_session(database_url) as session:
        with pytest.raises(DBAPIError) as raised:
            async with session.begin():
                await session.execute(text(statement), {"value": "七"} if ":value" in statement else {})
    request = RequestFactory().patch(f"{API}/cases/{uuid.uuid4()}")
    response = EXCEPTION_HANDLERS[DBAPIError](request, raised.value)
    assert response.status_code == 500
    problem = response.content
    assert isinstance(problem, Problem)
    assert "Retry-After" not in response.headers
    assert not [word for word in (*LEAKS, "no_such_table", "CAST") if word in problem.detail]
