"""The Alembic migrations: they build the schema the models describe, and undo it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from service.adapters.migrate import downgrade, upgrade
from service.config import async_url
from service.models import metadata
from tests.postgres import Databases

KEY_TABLES = {"case", "case_event", "worker", "work_list_item"}
ALL_TABLES = set(metadata.tables)
PREFIXES = {"p": "pk_", "f": "fk_", "u": "uq_", "c": "ck_"}
QUEUE_PREFIX = "procrastinate_"
QUEUE_TABLES = {"procrastinate_jobs", "procrastinate_events", "procrastinate_workers", "procrastinate_periodic_defers"}


@pytest.fixture
async def empty_url(databases: Databases) -> AsyncIterator[str]:
    url = await databases.empty()
    try:
        yield url
    finally:
        await databases.drop(url)


@pytest.fixture
async def engine(empty_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_url(empty_url))
    try:
        yield engine
    finally:
        await engine.dispose()


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                # Tables and partitioned tables, not their partitions (made by the migration).
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            )
        )
        return {str(name) for (name,) in rows}


async def _revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        has_table = await conn.scalar(text("SELECT to_regclass('public.alembic_version') IS NOT NULL"))
        if not has_table:
            return None
        value = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        return None if value is None else str(value)


async def test_upgrade_downgrade_and_upgrade_again(empty_url: str, engine: AsyncEngine) -> None:
    assert await _tables(engine) == set()

    await asyncio.to_thread(upgrade, empty_url)
    created = await _tables(engine)
    assert created >= KEY_TABLES
    expected = ALL_TABLES | QUEUE_TABLES | {"alembic_version"}
    assert created == expected, created ^ expected
    assert await _revision(engine) is not None

    await asyncio.to_thread(downgrade, empty_url, "base")
    assert await _tables(engine) <= {"alembic_version"}
    assert await _revision(engine) is None

    await asyncio.to_thread(upgrade, empty_url)
    assert await _tables(engine) == expected


PARTITIONS = {
    f"{table.name}_{span}"
    for table in metadata.tables.values()
    if table.dialect_options["postgresql"].get("partition_by")
    for span in ("week", "month", "year")
}


def _not_a_partition(name: str | None, type_: str, parent_names: Any) -> bool:
    """Partitions and the job queue's own tables (Procrastinate's frozen schema) are not models."""
    return not (type_ == "table" and (name in PARTITIONS or (name or "").startswith(QUEUE_PREFIX)))


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "target_metadata": metadata,
            "include_name": _not_a_partition,
        },
    )
    return list(compare_metadata(context, metadata))


async def test_autogenerate_finds_no_difference_after_upgrade(empty_url: str, engine: AsyncEngine) -> None:
    # The comparison sees a difference where there is one: every table is missing here.
    async with engine.connect() as conn:
        missing = await conn.run_sync(_diff)
    assert {d[1].name for d in missing if d[0] == "add_table"} == ALL_TABLES

    await asyncio.to_thread(upgrade, empty_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == [], "the models and the migrations differ:\n" + "\n".join(map(repr, diff))


async def test_constraint_and_index_names_follow_the_naming_convention(empty_url: str, engine: AsyncEngine) -> None:
    await asyncio.to_thread(upgrade, empty_url)
    async with engine.connect() as conn:
        constraints = (
            await conn.execute(
                text(
                    "SELECT c.conname, c.contype::text, t.relname FROM pg_constraint c "
                    "JOIN pg_class t ON t.oid = c.conrelid "
                    "JOIN pg_namespace n ON n.oid = t.relnamespace "
                    "WHERE n.nspname = 'public' AND c.contype IN ('p', 'f', 'u', 'c', 'x') AND NOT t.relispartition"
                )
            )
        ).all()
        indexes = (
            await conn.execute(
                text(
                    "SELECT i.indexname, i.tablename FROM pg_indexes i JOIN pg_class t ON t.relname = i.tablename "
                    "WHERE i.schemaname = 'public' AND NOT t.relispartition"
                )
            )
        ).all()

    ours = [(str(n), k, t) for n, k, t in constraints if t != "alembic_version"]
    model_constraints = [(name, kind, table) for name, kind, table in ours if not table.startswith(QUEUE_PREFIX)]
    model_indexes = [
        (str(name), table)
        for name, table in indexes
        if table != "alembic_version" and not table.startswith(QUEUE_PREFIX)
    ]
    assert {table for _, _, table in model_constraints} == ALL_TABLES
    assert {kind for _, kind, _ in model_constraints} >= {"p", "f", "u", "c"}

    wrong = [
        f"{table}: {name} ({kind})"
        for name, kind, table in model_constraints
        if not name.startswith(PREFIXES.get(kind, "\0"))
    ]
    # An index is either a plain index (ix_) or the one behind a primary key or unique constraint.
    wrong += [f"{table}: index {name}" for name, table in model_indexes if not name.startswith(("ix_", "pk_", "uq_"))]
    assert wrong == [], "names outside the naming convention:\n" + "\n".join(wrong)
    # Every primary key is pk_<table>.
    assert sorted(name for name, kind, _ in model_constraints if kind == "p") == sorted(f"pk_{t}" for t in ALL_TABLES)


async def test_existing_workers_are_sealed_by_the_upgrade_and_opened_by_the_downgrade(
    empty_url: str, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.security.keys import generate_env, keys_from
    from service.security.pii import PiiCipher

    await asyncio.to_thread(upgrade, empty_url, "0001")
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO district (code, name_zh, name_en, kind) VALUES ('yubei', '渝北区', 'Yubei', 'district')")
        )
        steward = await conn.scalar(
            text(
                "INSERT INTO staff (id, name, role, active, created_at, updated_at) "
                "VALUES (gen_random_uuid(), '王', 'steward', true, now(), now()) RETURNING id"
            )
        )
        worker = await conn.scalar(
            text(
                "INSERT INTO worker (id, name, national_id, mobile, employer, district_code, talent_card, field, "
                "steward_id, created_at, updated_at) VALUES (gen_random_uuid(), '张', '50010319900101123X', "
                "'13812345678', '重庆大学', 'yubei', 'none', '', :steward, now(), now()) RETURNING id"
            ),
            {"steward": steward},
        )
    # Without keys the upgrade stops, and changes nothing.
    for name in ("BANSHI_TOKEN_KEY", "BANSHI_AUDIT_KEY", "BANSHI_PII_KEYS", "BANSHI_PII_INDEX_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="BANSHI_PII_KEYS"):
        await asyncio.to_thread(upgrade, empty_url)
    assert await _revision(engine) == "0001"

    env = generate_env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    await asyncio.to_thread(upgrade, empty_url)
    keys = keys_from(env)
    assert keys is not None
    cipher = PiiCipher(keys)
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT * FROM worker WHERE id = :id"), {"id": worker})).mappings().one()
    assert "national_id" not in row and "mobile" not in row
    assert cipher.open(row["national_id_sealed"], f"worker:{worker}:national_id") == "50010319900101123X"
    assert cipher.open(row["mobile_sealed"], f"worker:{worker}:mobile") == "13812345678"
    assert row["national_id_index"] == cipher.index("50010319900101123X", "national_id")

    await asyncio.to_thread(downgrade, empty_url, "0001")
    async with engine.connect() as conn:
        back = (await conn.execute(text("SELECT national_id, mobile FROM worker"))).one()
    assert tuple(back) == ("50010319900101123X", "13812345678")


async def test_the_english_target_units_an_older_database_loaded_become_chinese(
    empty_url: str, engine: AsyncEngine
) -> None:
    await asyncio.to_thread(upgrade, empty_url, "0009")
    units = {
        "WL-01": "housing units",
        "WL-02": "housing units",
        "WL-07": "designated hospitals",
        "WL-09": "staffing quotas",
        "WL-10": "service items",
        "WL-12": "projects",
        "WL-17": "experts",
        "WL-18": "人次",  # set by an administrator: kept
        "WL-19": "Projects",  # not what the list shipped: kept
        "WL-20": None,
    }
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO department (code, name_zh, name_en, active) VALUES ('cast', '市科协', 'CAST', true)")
        )
        for code, unit in units.items():
            await conn.execute(
                text(
                    "INSERT INTO work_list_item (id, year, code, category, title_zh, title_en, lead_department_code, "
                    "promised_working_days, annual_target, target_unit, active, updated_at) VALUES "
                    "(gen_random_uuid(), 2026, :code, 'c', '事项', 'item', 'cast', 14, 1, :unit, true, now())"
                ),
                {"code": code, "unit": unit},
            )
    await asyncio.to_thread(upgrade, empty_url, "0010")
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT code, target_unit FROM work_list_item"))
        found: dict[str, str | None] = {code: unit for code, unit in rows.all()}
    assert found == {
        "WL-01": "套",
        "WL-02": "套",
        "WL-07": "家",
        "WL-09": "个",
        "WL-10": "项",
        "WL-12": "项",
        "WL-17": "人",
        "WL-18": "人次",
        "WL-19": "Projects",
        "WL-20": None,
    }
    # The units stay Chinese below 0010: every version shows a unit as it is stored.
    await asyncio.to_thread(downgrade, empty_url, "0009")
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT target_unit FROM work_list_item WHERE code = 'WL-01'")) == "套"


async def test_a_trail_in_several_chains_goes_back_only_to_base(empty_url: str, engine: AsyncEngine) -> None:
    """Rows in the chains of revision 0012 cannot be put back into the one chain before it
    without writing them anew: a downgrade that keeps the trail is refused and changes
    nothing; one to base, which drops the trail, goes on."""
    await asyncio.to_thread(upgrade, empty_url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO audit_event (seq, chain, chain_seq, at, actor_username, actor_role, client_addr, "
                "action, target_type, target_id, outcome, details, prev_hash, hash) VALUES "
                "(nextval('audit_event_seq_seq'), 1, 1, now(), 'admin', 'admin', '127.0.0.1', 'auth.login', "
                "'account', 'x', 'success', '{}', '\\x00', '\\x01')"
            )
        )
    head = await _revision(engine)
    with pytest.raises(RuntimeError, match="1 audit rows are in chains other than 0"):
        await asyncio.to_thread(downgrade, empty_url, "0011")
    assert await _revision(engine) == head
    await asyncio.to_thread(downgrade, empty_url, "base")
    assert await _revision(engine) is None
