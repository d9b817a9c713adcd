"""The service behind PgBouncer in transaction pool mode (``BANSHI_DB_POOLER=pgbouncer``): a
real PgBouncer on loopback, in front of the test database, with a pool of two server
connections, so that consecutive transactions of one client land on different servers."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from service.adapters.queue import make_queue, run_worker
from service.app import create_app
from service.config import Settings, security_kit
from service.db import make_engine, make_session_factory
from service.domain.deliveries import TASK
from service.services.reminders import run_pass
from tests.api.test_imports import import_a_worker_and_a_case
from tests.conftest import Clock
from tests.factory import ADMIN_PASSWORD, API, MOVE_FIELDS, Api
from tests.live import free_port
from tests.postgres import asyncpg_dsn

PGBOUNCER = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")

pytestmark = pytest.mark.skipif(
    PGBOUNCER is None, reason="PgBouncer is not installed (Debian: apt-get install pgbouncer; .ci/run installs it)"
)

SERVER_CONNECTIONS = 2


def _config(database_url: str, port: int) -> str:
    """Every database of the test server, reached as the test's own user whatever name the
    client gives (``auth_type = any``), with transaction pooling."""
    url = make_url(database_url)
    host = url.query.get("host") or url.host or "127.0.0.1"  # the embedded server gives a socket folder
    target = f"host={host} port={url.port or 5432} user={url.username}"
    if url.password:
        target += f" password={url.password}"
    return "\n".join(
        [
            "[databases]",
            f"* = {target}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {port}",
            "unix_socket_dir =",
            "auth_type = any",
            "pool_mode = transaction",
            f"default_pool_size = {SERVER_CONNECTIONS}",
            "max_client_conn = 500",
            "server_round_robin = 0",
            "",
        ]
    )


def _run_as(database_url: str) -> str:
    """Whom PgBouncer, which refuses to run as root, runs as when the tests are root: the
    owner of the server's socket folder when it is reached by a socket (the embedded
    server keeps it in its private data folder, closed to others), else nobody."""
    host = make_url(database_url).query.get("host")
    if isinstance(host, str) and host.startswith("/"):
        return pwd.getpwuid(Path(host).stat().st_uid).pw_name
    return "nobody"


@pytest.fixture
def bouncer(database_url: str) -> Iterator[str]:
    """A PgBouncer in front of the test database; yields the URL of that database through it."""
    assert PGBOUNCER is not None
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="banshi-pgbouncer-"))
    folder.chmod(0o755)  # PgBouncer started as root runs as nobody, who must read its file
    config = folder / "pgbouncer.ini"
    config.write_text(_config(database_url, port), encoding="utf-8")
    config.chmod(0o644)
    command = [PGBOUNCER, *(["-u", _run_as(database_url)] if os.geteuid() == 0 else []), str(config)]
    log = (folder / "pgbouncer.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, process, folder)
        through = make_url(database_url).difference_update_query(["host"]).set(host="127.0.0.1", port=port)
        yield through.render_as_string(hide_password=False)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for(port: int, process: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"pgbouncer exited: {(folder / 'pgbouncer.log').read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("pgbouncer did not start listening")


async def _signed_in(client: AsyncTestClient[Any]) -> Api:
    response = await client.post(f"{API}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return Api(client)


async def test_the_service_works_behind_pgbouncer_in_transaction_mode(
    bouncer: str, database_url: str, settings: Settings, clock: Clock
) -> None:
    """A case from logging to closing, its reads (the fast path included), metrics, an
    import (its transaction lock, temporary tables and COPY), the reminder pass (its lock),
    and many requests at once over a pool of two server connections."""
    # The server's own default differs from what the service asks for at connect.
    owner = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await owner.execute(f"ALTER DATABASE \"{make_url(database_url).database}\" SET timezone = 'Asia/Shanghai'")
    finally:
        await owner.close()

    pooled = dataclasses.replace(settings, database_url=bouncer, db_pooler="pgbouncer", pool_size=8)
    async with AsyncTestClient(app=create_app(pooled, clock=clock), base_url="http://testserver.local") as client:
        api = await _signed_in(client)
        case = await api.case()
        for action in ("accept", "start", "request_materials", "receive_materials", "resolve", "close"):
            case = await api.move(case, action, **MOVE_FIELDS.get(action, {}))
        assert case["status"] == "closed"
        read = await api.ok("GET", f"/cases/{case['id']}")
        assert read["status"] == "closed"
        # The timeline is built as JSON text by PostgreSQL: its times are in the session's zone.
        assert all(entry["at"].endswith(("Z", "+00:00")) for entry in read["timeline"]), read["timeline"]
        summary = await api.ok("GET", "/metrics/summary?period=2026")
        assert (summary["total"]["received"], summary["total"]["closed"]) == (1, 1), summary["total"]

        workers, imported = await import_a_worker_and_a_case(api)
        assert workers["status"] == "imported", workers
        assert (imported["status"], imported["rows_imported"]) == ("imported", 1), imported

        # Many at once: each request's transactions take turns on two server connections.
        made = await asyncio.gather(*(api.case() for _ in range(12)))
        reads = await asyncio.gather(*(api.send("GET", f"/cases/{c['id']}") for c in made * 4))
        assert [r.status_code for r in reads] == [200] * len(reads), [r.text for r in reads if r.status_code != 200]
        moved = await asyncio.gather(
            *(
                api.send(
                    "POST",
                    f"/cases/{c['id']}/transitions",
                    json={"action": "accept"},
                    headers={"If-Match": f'"{c["id"]}.{c["version"]}"'},
                )
                for c in made
            )
        )
        assert [r.status_code for r in moved] == [200] * len(moved), [r.text for r in moved if r.status_code != 200]
        listed = await api.ok("GET", "/cases?limit=50")
        assert listed["total"] == 14

    engine = make_engine(bouncer, pool_size=2, pooler="pgbouncer")
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SHOW timezone")) == "UTC"
        async with make_session_factory(engine)() as session:
            done = await run_pass(session, datetime(2026, 6, 2, 2, 0, tzinfo=UTC), security_kit(settings).pii)
        assert done.ran, done
    finally:
        await engine.dispose()


async def _twice_with_the_server_taken_between(engine_url: str, pooler: str) -> None:
    """One client runs a statement, another then holds the server connection it ran on in a
    transaction, and the first runs the same statement again: on the other server."""
    engine = make_engine(engine_url, pool_size=1, pooler=pooler)
    statement = text("SELECT count(*) FROM district WHERE code <> :code")
    other = await asyncpg.connect(asyncpg_dsn(engine_url), statement_cache_size=0)
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(statement, {"code": "x"}) > 0
            await connection.commit()
            async with other.transaction():
                await other.execute("SELECT 1")  # the server the first statement was prepared on
                assert await connection.scalar(statement, {"code": "y"}) > 0
                await connection.commit()
    finally:
        await other.close()
        await engine.dispose()


async def test_without_the_setting_a_prepared_statement_is_lost_between_server_connections(bouncer: str) -> None:
    with pytest.raises(DBAPIError, match=r"prepared statement .* does not exist"):
        await _twice_with_the_server_taken_between(bouncer, "none")


async def test_with_the_setting_no_statement_outlives_its_server_connection(bouncer: str) -> None:
    await _twice_with_the_server_taken_between(bouncer, "pgbouncer")


async def test_the_queue_worker_polls_and_prepares_nothing_behind_pgbouncer(bouncer: str) -> None:
    """Procrastinate's worker cannot LISTEN through PgBouncer, and psycopg prepares a query
    run five times on a connection under a name another client's server connection may
    already hold ("bind message supplies 3 parameters, but prepared statement "_pg3_0"
    requires 2" without the setting): both are off, and every job still runs."""
    ran: list[str] = []
    everything = asyncio.Event()
    count = 40  # more than five runs of the worker's queries on each of its connections

    async def deliver(delivery_id: str) -> None:
        ran.append(delivery_id)
        if len(ran) == count:
            everything.set()

    queue = make_queue(bouncer, deliver, pooler="pgbouncer")
    async with queue.open_async():
        for n in range(count):
            await queue.configure_task(TASK).defer_async(delivery_id=f"job-{n}")
    working = asyncio.create_task(run_worker(make_queue(bouncer, deliver, pooler="pgbouncer"), listen=False))
    try:
        await asyncio.wait_for(everything.wait(), timeout=30)
    finally:
        working.cancel()
        await asyncio.gather(working, return_exceptions=True)
    assert sorted(ran) == sorted(f"job-{n}" for n in range(count))
