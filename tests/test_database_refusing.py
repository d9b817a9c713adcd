"""The database alive but refusing: reads and writes answer 503 with Retry-After, never
500, nothing is written, and the service serves again once the database accepts.

Each way is made real on the test's own database: connections not accepted (what a
database being dropped or restored looks like, SQLSTATE 55000), and read-only
transactions (25006, what a primary that failed over to a standby answers to a write).
The service's pooled connections are ended first with pg_terminate_backend, so that the
first request meets a connection the administrator shut down (57P01) and the next ones
have to open new connections. (Too many clients, 53300, cannot be provoked for the
tests' superuser, whom connection limits do not bind; it is mapped with the others.)
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from tests.factory import API, Api
from tests.postgres import _admin, with_database

WAYS = {
    "not accepting connections": ("ALLOW_CONNECTIONS false", "ALLOW_CONNECTIONS true"),
    "read-only after a failover": ("SET default_transaction_read_only = on", "RESET default_transaction_read_only"),
}


async def _set(database_url: str, clause: str) -> None:
    name = make_url(database_url).database
    await _admin(
        with_database(database_url, "postgres"),
        f'ALTER DATABASE "{name}" {clause}',
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )


def _answered(response: Any, statuses: tuple[int, ...]) -> None:
    assert response.status_code in statuses, response.text
    if response.status_code == 503:
        assert response.headers["retry-after"].isdigit()
        assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("way", list(WAYS))
async def test_a_database_that_refuses_answers_503_and_then_serves_again(
    client: AsyncTestClient[Litestar], database_url: str, way: str
) -> None:
    api = Api(client)
    case = await api.case()
    before = (await api.ok("GET", "/cases?limit=1"))["total"]
    body = {"worker_id": case["worker_id"], "item_id": case["item_id"], "title": "拒绝期间", "channel": "phone"}
    refuse, accept = WAYS[way]
    await _set(database_url, refuse)
    try:
        writes_refused = 0
        for _ in range(3):
            read = await client.get(f"{API}/cases/{case['id']}")
            _answered(read, (200, 503) if way.startswith("read-only") else (503,))
            listed = await client.get(f"{API}/cases")
            _answered(listed, (200, 503) if way.startswith("read-only") else (503,))
            created = await client.post(f"{API}/cases", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
            _answered(created, (503,))
            writes_refused += created.status_code == 503
            moved = await client.post(
                f"{API}/cases/{case['id']}/transitions",
                json={"action": "accept"},
                headers={"If-Match": f'"{case["id"]}.{case["version"]}"'},
            )
            _answered(moved, (503,))
        assert writes_refused == 3
    finally:
        await _set(database_url, accept)
    for _ in range(50):  # back within seconds, with nothing of the refused writes written
        again = await client.get(f"{API}/cases?limit=1")
        if again.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert again.status_code == 200, again.text
    assert again.json()["total"] == before
    assert (await api.ok("GET", f"/cases/{case['id']}"))["status"] == "submitted"
    await api.move(await api.ok("GET", f"/cases/{case['id']}"), "accept")
