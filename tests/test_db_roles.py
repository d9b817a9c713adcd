"""The service's own database role (``banshi db grant``): refused everything that changes a
table, a trigger or the audit trail, while the whole service works as it."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from service.adapters.privileges import APPEND_ONLY, GrantRefused, grant
from service.adapters.queue import make_queue, run_worker
from service.app import create_app
from service.cli import main
from service.config import Settings, get_settings, security_kit
from service.db import make_engine, make_session_factory
from service.domain.deliveries import TASK
from service.security.keys import generate_env
from service.services.reminders import run_pass
from tests.api.test_imports import import_a_worker_and_a_case
from tests.conftest import Clock
from tests.factory import ADMIN_PASSWORD, API, MOVE_FIELDS, Api
from tests.postgres import asyncpg_dsn

PASSWORD = "svc-" + uuid.uuid4().hex


async def _drop_role(owner_url: str, role: str) -> None:
    owner = await asyncpg.connect(asyncpg_dsn(owner_url))
    try:
        await owner.execute(f'DROP OWNED BY "{role}"')  # its privileges in this database
        await owner.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await owner.close()


@pytest.fixture
async def service_url(database_url: str) -> AsyncIterator[str]:
    """A fresh role made and granted by ``grant`` as the owner, and its URL."""
    role = f"banshi_svc_{uuid.uuid4().hex[:8]}"
    granted = await grant(database_url, role, PASSWORD)
    assert granted.created and granted.append_only == APPEND_ONLY
    try:
        yield make_url(database_url).set(username=role, password=PASSWORD).render_as_string(hide_password=False)
    finally:
        await _drop_role(database_url, role)


REFUSED = [
    "ALTER TABLE audit_event ADD COLUMN note text",
    'ALTER TABLE "case" DROP COLUMN title',
    "DROP TRIGGER audit_event_no_update_or_delete ON audit_event",
    "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update_or_delete",
    "ALTER TABLE audit_event DISABLE TRIGGER ALL",
    "UPDATE audit_event SET outcome = 'success'",
    "DELETE FROM audit_event",
    "TRUNCATE audit_event",
    "DROP TABLE audit_event",
    "CREATE TABLE shadow (id int)",
    "DROP FUNCTION audit_event_refuse_change() CASCADE",
    "CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger "
    "LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$",
    "SET session_replication_role = replica",
    "UPDATE alembic_version SET version_num = 'x'",
]


@pytest.mark.parametrize("statement", REFUSED)
async def test_the_service_role_is_refused_what_would_change_tables_triggers_or_the_audit_trail(
    service_url: str, statement: str
) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(service_url))
    try:
        assert await connection.fetchval("SELECT count(*) FROM audit_event") > 0  # it can read the trail
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(statement)
    finally:
        await connection.close()


async def test_the_audit_trail_takes_new_rows_from_the_service_role_but_keeps_them(service_url: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(service_url))
    try:
        row = await connection.fetchrow("SELECT * FROM audit_event ORDER BY seq DESC LIMIT 1")
        # The next free number in the trail and in the row's chain.
        values: dict[str, Any] = {**dict(row), "seq": row["seq"] + 1, "chain_seq": row["chain_seq"] + 1}
        names = ", ".join(values)
        places = ", ".join(f"${n}" for n in range(1, len(values) + 1))
        await connection.execute(f"INSERT INTO audit_event ({names}) VALUES ({places})", *values.values())
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("DELETE FROM audit_event WHERE seq = $1", values["seq"])
        # SELECT ... FOR UPDATE needs the UPDATE privilege: no row of the trail can be locked either.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("SELECT seq FROM audit_event FOR UPDATE")
    finally:
        await connection.close()


async def test_the_whole_service_works_as_its_own_role(service_url: str, settings: Settings, clock: Clock) -> None:
    """Sign-in, a case through its lifecycle, reads, metrics, the audit trail and a ledger
    import (temporary tables and COPY): everything the API does at run time, as the role."""
    app = create_app(dataclasses.replace(settings, database_url=service_url), clock=clock)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        response = await client.post(f"{API}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        api = Api(client)
        case = await api.case()
        for action in ("accept", "start", "request_materials", "receive_materials", "resolve", "close"):
            case = await api.move(case, action, **MOVE_FIELDS.get(action, {}))
        assert case["status"] == "closed"
        read = await api.ok("GET", f"/cases/{case['id']}")
        assert read["status"] == "closed"
        metrics = await api.ok("GET", "/metrics/summary?period=2026")
        assert (metrics["total"]["received"], metrics["total"]["closed"]) == (1, 1), metrics["total"]
        auditor = await api.account("auditor")
        trail = await auditor.ok("GET", "/audit/events?limit=5")
        assert trail["total"] > 0
        verified = await auditor.ok("POST", "/audit/verify")
        assert verified["intact"] is True, verified

        workers, cases = await import_a_worker_and_a_case(api)
        assert workers["status"] == "imported", workers
        assert (cases["status"], cases["rows_imported"]) == ("imported", 1), cases


async def test_the_delivery_queue_and_the_reminder_pass_work_as_the_service_role(
    service_url: str, settings: Settings
) -> None:
    """What ``banshi worker`` does: Procrastinate's tables and functions (queueing, taking
    and finishing jobs, the worker's heartbeat) and the reminder pass with its lock."""
    ran: list[str] = []
    everything = asyncio.Event()

    async def deliver(delivery_id: str) -> None:
        ran.append(delivery_id)
        if len(ran) == 3:
            everything.set()

    queue = make_queue(service_url, deliver)
    async with queue.open_async():
        for n in range(3):
            await queue.configure_task(TASK).defer_async(delivery_id=f"job-{n}")
    working = asyncio.create_task(run_worker(make_queue(service_url, deliver), heartbeat_seconds=0.2))
    try:
        await asyncio.wait_for(everything.wait(), timeout=30)
    finally:
        working.cancel()
        await asyncio.gather(working, return_exceptions=True)
    assert sorted(ran) == ["job-0", "job-1", "job-2"]

    engine = make_engine(service_url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            done = await run_pass(session, datetime(2026, 6, 2, 2, 0, tzinfo=UTC), security_kit(settings).pii)
        assert done.ran, done
    finally:
        await engine.dispose()


async def test_grant_runs_again_and_takes_back_what_is_no_longer_due(database_url: str) -> None:
    role = f"banshi_svc_{uuid.uuid4().hex[:8]}"
    owner = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await grant(database_url, role, PASSWORD)
        await owner.execute(f'GRANT UPDATE, DELETE, TRUNCATE ON audit_event TO "{role}"')  # a hand-made slip
        again = await grant(database_url, role, None)
        assert not again.created
        held = await owner.fetch(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = $1 AND table_name = 'audit_event'",
            role,
        )
        assert sorted(r["privilege_type"] for r in held) == ["INSERT", "SELECT"]
    finally:
        await owner.close()
        await _drop_role(database_url, role)


async def test_a_table_a_later_migration_adds_is_out_of_reach_until_the_grant_runs_again(
    service_url: str, database_url: str
) -> None:
    """No default privileges: a new table is refused to the service until it is granted, so
    an append-only one is never writable by accident."""
    role = make_url(service_url).username
    assert role is not None
    owner = await asyncpg.connect(asyncpg_dsn(database_url))
    service = await asyncpg.connect(asyncpg_dsn(service_url))
    try:
        await owner.execute("CREATE TABLE later_table (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await service.execute("INSERT INTO later_table VALUES (1)")
        await grant(database_url, role)
        await service.execute("INSERT INTO later_table VALUES (1)")
        assert await service.fetchval("SELECT count(*) FROM later_table") == 1
    finally:
        await service.close()
        await owner.close()


async def test_grant_refuses_the_owner_a_superuser_and_a_missing_role_without_a_password(database_url: str) -> None:
    owner = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        me = await owner.fetchval("SELECT current_user")
        with pytest.raises(GrantRefused, match="migrations run as"):
            await grant(database_url, me)
        with pytest.raises(GrantRefused, match="BANSHI_DB_SERVICE_PASSWORD"):
            await grant(database_url, f"banshi_none_{uuid.uuid4().hex[:8]}")
        mighty = f"banshi_super_{uuid.uuid4().hex[:8]}"
        await owner.execute(f'CREATE ROLE "{mighty}" SUPERUSER')
        try:
            with pytest.raises(GrantRefused, match="superuser"):
                await grant(database_url, mighty)
        finally:
            await owner.execute(f'DROP ROLE "{mighty}"')
    finally:
        await owner.close()


def test_the_commands_migrate_and_grant_as_the_owner_and_the_service_connects_as_its_role(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """What the compose migrate job runs: `db upgrade`, `db grant` (the role named in
    DATABASE_URL, created with BANSHI_DB_SERVICE_PASSWORD) and `load-reference`, as the owner."""
    role = f"banshi_svc_{uuid.uuid4().hex[:8]}"
    service = make_url(database_url).set(username=role, password=PASSWORD).render_as_string(hide_password=False)
    for name, value in {**generate_env(), "DATABASE_URL": service}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BANSHI_DATABASE_OWNER_URL", database_url)
    monkeypatch.setenv("BANSHI_DB_SERVICE_PASSWORD", PASSWORD)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        for command in (["db", "upgrade"], ["db", "grant"], ["load-reference"], ["db", "grant"]):
            done = runner.invoke(main, command)
            assert done.exit_code == 0, (command, done.output)
        assert f"{role} granted" in done.output
        # Without the owner's URL the commands run as the service's role, which may not migrate.
        monkeypatch.delenv("BANSHI_DATABASE_OWNER_URL")
        get_settings.cache_clear()
        refused = runner.invoke(main, ["db", "grant"])
        assert refused.exit_code != 0 and "migrations run as" in refused.output
        downgrade = runner.invoke(main, ["db", "downgrade", "base"])
        assert downgrade.exit_code == 1 and "BANSHI_DATABASE_OWNER_URL" in downgrade.output, downgrade.output
    finally:
        get_settings.cache_clear()
        asyncio.run(_drop_role(database_url, role))
