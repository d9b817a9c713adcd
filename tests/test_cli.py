"""Bootstrapping an installation from the command line."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.cli import fresh_metrics_dir, main
from service.config import Settings, get_settings
from service.security.keys import ENV_NAMES, generate_env, keys_from
from tests.conftest import Clock
from tests.factory import API


@pytest.fixture
def keyed_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[dict[str, str]]:
    env = generate_env()
    for name, value in {**env, "DATABASE_URL": database_url}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def test_keys_generate_prints_a_usable_set() -> None:
    result = CliRunner().invoke(main, ["keys", "generate"])
    assert result.exit_code == 0
    env = dict(line.split("=", 1) for line in result.output.strip().splitlines())
    assert set(env) == set(ENV_NAMES)
    assert keys_from(env) is not None


async def test_users_create_reads_the_password_from_stdin(
    keyed_env: dict[str, str], anonymous: AsyncTestClient[Litestar]
) -> None:
    runner = CliRunner()
    args = ["users", "create", "--role", "auditor", "--username", "Audit.Chen"]
    result = await asyncio.to_thread(runner.invoke, main, args, input="Ledger-Check-2026\n")
    assert result.exit_code == 0, result.output
    assert '"username": "audit.chen"' in result.output
    # The operator chose the password: no change is forced at first sign-in.
    response = await anonymous.post(
        f"{API}/auth/login", json={"username": "audit.chen", "password": "Ledger-Check-2026"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "full"

    weak = await asyncio.to_thread(runner.invoke, main, [*args[:-1], "other"], input="short\n")
    assert weak.exit_code != 0
    assert "at least 12" in weak.output
    taken = await asyncio.to_thread(runner.invoke, main, args, input="Ledger-Check-2026\n")
    assert taken.exit_code != 0 and "taken" in taken.output


def test_a_configured_server_without_keys_refuses_to_start(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["users", "create", "--role", "admin", "--username", "root"], input="x\n")
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0
    assert "BANSHI_TOKEN_KEY" in result.output


async def test_demo_worker_makes_a_case_to_look_up_and_a_worker_to_sign_in(
    keyed_env: dict[str, str], settings: Settings, clock: Clock
) -> None:
    runner = CliRunner()
    result = await asyncio.to_thread(runner.invoke, main, ["demo-worker"])
    assert result.exit_code == 0, result.output
    printed = dict(line.split(":", 1) for line in result.output.strip().splitlines() if ":" in line[:14])
    case_no = printed["Case number"].strip()
    code = printed["Query code"].split()[0]
    username, password = (part.strip() for part in printed["Worker login"].split("/"))
    same_keys = dataclasses.replace(settings, keys=keys_from(keyed_env))
    async with AsyncTestClient(app=create_app(same_keys, clock=clock)) as client:
        found = await client.get(f"{API}/lookup", params={"case_no": case_no, "code": code})
        assert found.status_code == 200, found.text
        assert found.json()["status"] == "awaiting_materials"
        assert found.json()["awaited_materials"] == "请上传最高学历证明（PDF）"
        login = await client.post(f"{API}/auth/login", json={"username": username, "password": password})
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        mine = await client.get(f"{API}/my/cases", headers={"Authorization": f"Bearer {token}"})
        assert [c["case_no"] for c in mine.json()["items"]] == [case_no]


def test_each_server_counts_in_a_folder_of_its_own(tmp_path: Path) -> None:
    """``banshi serve --workers N`` keeps its Prometheus counts in ``prometheus/<pid>``:
    starting a second server leaves a running one's counts alone and clears what
    ended servers (and the old layout) left behind."""
    parent = tmp_path / "prometheus"
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        ended_pid = int(ended.stdout)
        first = fresh_metrics_dir(parent, running.pid)
        (first / "counter_1.db").write_bytes(b"counts of the running server")
        (parent / str(ended_pid)).mkdir()
        (parent / str(ended_pid) / "counter_2.db").write_bytes(b"counts of an ended server")
        (parent / "counter_3.db").write_bytes(b"the old layout")
        second = fresh_metrics_dir(parent, os.getpid())
        assert second == parent / str(os.getpid())
        assert list(second.iterdir()) == []
        assert (first / "counter_1.db").read_bytes() == b"counts of the running server"
        assert sorted(p.name for p in parent.iterdir()) == sorted([str(running.pid), str(os.getpid())])
    finally:
        running.kill()
        running.wait()


async def _count(database_url: str, sql: str) -> int:
    from sqlalchemy import text

    from service.db import make_engine

    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def test_import_checks_then_brings_a_ledger_in_with_a_report(
    keyed_env: dict[str, str], database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.api.test_imports import WORKER_TITLES, worker_row, xlsx

    monkeypatch.setenv("BANSHI_ATTACHMENTS_DIR", str(tmp_path / "files"))
    get_settings.cache_clear()
    from sqlalchemy import text

    from service.db import make_engine

    engine = make_engine(database_url, pool_size=1)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO staff (id, name, role, active, created_at, updated_at) "
                "VALUES (gen_random_uuid(), '王丽', 'steward', true, now(), now())"
            )
        )
    await engine.dispose()
    ledger = tmp_path / "台账.xlsx"
    ledger.write_bytes(xlsx([WORKER_TITLES, worker_row("张明", "王丽"), worker_row("李华", "王丽")]))
    runner = CliRunner()
    checked = await asyncio.to_thread(runner.invoke, main, ["import", "workers", str(ledger), "--dry-run"])
    assert checked.exit_code == 0, checked.output
    assert '"status": "checked"' in checked.output and '"valid": 2' in checked.output
    assert (tmp_path / "台账-检查结果.xlsx").exists()
    assert await _count(database_url, "SELECT count(*) FROM worker") == 0
    imported = await asyncio.to_thread(runner.invoke, main, ["import", "workers", str(ledger)])
    assert '"imported": 2' in imported.output, imported.output
    assert await _count(database_url, "SELECT count(*) FROM worker") == 2
    again = await asyncio.to_thread(runner.invoke, main, ["import", "workers", str(ledger)])
    assert '"existing": 2' in again.output and '"imported": 0' in again.output
    audited = "SELECT count(*) FROM audit_event WHERE action = 'import.workers' AND client_addr = 'command line'"
    assert await _count(database_url, audited) == 3
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,身份证号,手机号,所在区县,工作单位\n张三,123,1,火星,某单位\n", encoding="gb18030")
    refused = await asyncio.to_thread(runner.invoke, main, ["import", "workers", str(bad)])
    assert refused.exit_code == 1
    assert '"invalid": 1' in refused.output
    nobody = await asyncio.to_thread(runner.invoke, main, ["import", "workers", str(ledger), "--as", "nobody"])
    assert nobody.exit_code == 1 and "no active account" in nobody.output
