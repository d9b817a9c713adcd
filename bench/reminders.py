"""Benchmark: one reminder pass over a city's cases.

How to run (from the repository root)::

    uv run --group dev python bench/reminders.py                    # 1,000,000 cases; about 7 min on 2 cores
    uv run --group dev python bench/reminders.py --cases 100000
    uv run --group dev python bench/reminders.py --reuse            # keep and reuse the filled database

The script drops and recreates ``banshi_reminders_<cases>`` on the PostgreSQL at
127.0.0.1:5432 (user postgres, trust authentication), migrates it and fills it with
``banshi demo-data`` (``--cases`` cases, a tenth as many workers; then ``VACUUM
(ANALYZE)``). With ``--reuse`` a database that already holds that many cases is kept.
Then, as of the demo data's "now" (Friday 2026-11-20 12:00 in Chongqing, a working day),
it runs reminder passes in this process with the service's own code
(``services/reminders.run_pass``) and prints for each: the wall time, the CPU time of the
PostgreSQL backend that served it (read from ``/proc``, so the server must run on this
machine), and the reminders written.

- the **first pass** on data that has never been reminded: every case that shows
  due-soon or overdue gets its reminder (what a new installation or an import costs once);
- **steady passes**, five in a row with nothing new to tell: what each process pays every
  ``BANSHI_REMINDER_SECONDS`` (60 by default) from then on;
- the plan of the steady pass's query (``EXPLAIN (ANALYZE, BUFFERS)``).

Exit status 0 when the passes ran, 2 when the run could not start.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from harness import REPO, banshi_command, case_count, clean_environ, fresh_database, generate_keys, machine_line

sys.path.insert(0, str(REPO))

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
NOW = datetime.fromisoformat("2026-11-20T12:00:00+08:00")
TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


async def prepare(cases: int, reuse: bool) -> str:
    import asyncpg

    name = f"banshi_reminders_{cases}"
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    if reuse and await case_count(url) == cases:
        print(f"reusing {name} ({cases:,} cases)")
        return url
    version = await fresh_database(ADMIN_DSN, name)
    env = {**clean_environ(), **generate_keys(), "DATABASE_URL": url}
    banshi_command(env, "db", "upgrade")
    started = time.monotonic()
    banshi_command(env, "demo-data", "--workers", str(max(cases // 10, 100)), "--cases", str(cases))
    print(f"demo-data: {cases:,} cases in {time.monotonic() - started:.0f} s (PostgreSQL {version})")
    conn = await asyncpg.connect(url)
    try:
        started = time.monotonic()
        await conn.execute("VACUUM (ANALYZE)")
        print(f"VACUUM (ANALYZE): {time.monotonic() - started:.0f} s")
    finally:
        await conn.close()
    return url


async def one_pass(sessions: Any) -> tuple[float, float, dict[str, int], str]:
    from sqlalchemy import text

    from service.security.keys import generate_env, keys_from
    from service.security.pii import PiiCipher

    keys = keys_from(generate_env())
    assert keys is not None

    from service.services.reminders import run_pass

    async with sessions() as session:
        async with session.begin():
            pid = int(await session.scalar(text("SELECT pg_backend_pid()")))
        cpu = backend_cpu_seconds(pid)
        started = time.perf_counter()
        result = await run_pass(session, NOW, PiiCipher(keys))
        wall = time.perf_counter() - started
    return wall, backend_cpu_seconds(pid) - cpu, result.told, result.reason


async def run(cases: int, reuse: bool) -> int:
    from sqlalchemy import text

    from service.db import make_engine, make_session_factory
    from service.domain.notices import REMINDERS, Kind
    from service.domain.time_limit import DueState
    from service.repositories.due import due_state_is

    url = await prepare(cases, reuse)
    engine = make_engine(url, pool_size=1)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            kinds = [k.value for k in (*REMINDERS, Kind.DEPARTMENT_DIGEST)]
            await session.execute(
                text("DELETE FROM delivery USING notification n WHERE n.id = notification_id AND n.kind = ANY(:k)"),
                {"k": kinds},
            )
            deleted = await session.execute(text("DELETE FROM notification WHERE kind = ANY(:k)"), {"k": kinds})
            version = await session.scalar(text("SHOW server_version"))
            due = (
                await session.execute(
                    text(
                        f"SELECT count(*) FILTER (WHERE {due_state_is(DueState.DUE_SOON)}), "
                        f'count(*) FILTER (WHERE {due_state_is(DueState.OVERDUE)}) FROM "case" c'
                    ),
                    {"now": NOW},
                )
            ).one()
        print(machine_line(str(version)))
        print(f"{cases:,} cases; as of {NOW.isoformat()}: {due[0]:,} due soon, {due[1]:,} overdue (clock running)")
        if deleted.rowcount:  # type: ignore[attr-defined]
            print(f"(removed {deleted.rowcount:,} reminders of an earlier run)")  # type: ignore[attr-defined]
        wall, cpu, told, reason = await one_pass(sessions)
        print(f"first pass:  {wall * 1000:8.0f} ms wall, {cpu * 1000:8.0f} ms PostgreSQL CPU, told {told} {reason}")
        steady: list[tuple[float, float]] = []
        for _ in range(5):
            wall, cpu, told, _ = await one_pass(sessions)
            assert not any(told.values()), told
            steady.append((wall, cpu))
        walls = sorted(w for w, _ in steady)
        cpus = sorted(c for _, c in steady)
        print(
            f"steady pass: {walls[2] * 1000:8.1f} ms wall (median of 5, max {walls[-1] * 1000:.1f}), "
            f"{cpus[2] * 1000:6.1f} ms PostgreSQL CPU; nothing new told"
        )
        print(f"at one pass a minute per process, 2 processes: {2 * cpus[2] / 60 * 100:.3f}% of one core of PostgreSQL")
        async with sessions() as session, session.begin():
            plan = await session.execute(
                text(
                    'EXPLAIN (ANALYZE, BUFFERS) SELECT c.id FROM "case" c JOIN work_list_item i ON i.id = c.item_id '
                    f"WHERE {due_state_is(DueState.OVERDUE)} AND NOT EXISTS (SELECT 1 FROM notification n "
                    "WHERE n.case_id = c.id AND n.kind = 'case.overdue' AND n.threshold_at = c.due_at) "
                    "ORDER BY c.due_at, c.id LIMIT 5000"
                ),
                {"now": NOW},
            )
            print("plan of the steady overdue query:")
            for (line,) in plan.all():
                print("   ", line)
    finally:
        await engine.dispose()
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    try:
        sys.exit(asyncio.run(run(args.cases, args.reuse)))
    except OSError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
