"""Benchmark: the officials' metrics at 100,000 and 1,000,000 cases.

How to run (from the repository root)::

    uv run --group dev python bench/metrics.py                       # both sizes; about 10 min on 2 cores
    uv run --group dev python bench/metrics.py --sizes 100000 --rounds 20
    uv run --group dev python bench/metrics.py --reuse               # keep and reuse the filled databases

For each size the script drops and recreates the database ``banshi_metrics_<size>`` on
the PostgreSQL at 127.0.0.1:5432 (user postgres, trust authentication), migrates it,
loads the reference data and fills it with ``banshi demo-data --workers <size/10>
--cases <size>`` (timed). With ``--reuse`` a database that already holds that many cases
is kept as it is. It then starts ``banshi serve`` (two worker processes, production
settings, fresh keys) on a free loopback port, creates two officials with ``banshi users
create --role official`` (one city-wide, one limited to Yubei district), signs them in
and measures, through the HTTP stack, each metrics endpoint ``--rounds`` times in a row
after two warm-up requests (one client: latency, not throughput), printing the median
and the 95th percentile. The server keeps no figures (``BANSHI_METRICS_KEEP_SECONDS=0``),
so every request counts them: what a dashboard costs when its kept answer has expired;
``--keep 5`` measures with the service's default instead.
``--only`` picks endpoints by title. The demo data's "now" is 2026-11-20, inside the
service's real-time 2026, so "this year" is 2026 in both.

It also prints the query plans (``EXPLAIN (ANALYZE, BUFFERS)``) of the statements behind
the 20-item table, the district and steward breakdowns and the trend, captured from the
service's own repository functions, and measures a full-year case-list XLSX export:
the bytes streamed, the time, and the resident memory of the server's worker processes
sampled every 50 ms (baseline before, peak during).

Targets (2 cores): the 20-item table for a year under 100 ms p95 at 1,000,000 cases, each
breakdown under 200 ms p95, and a 100,000-row XLSX export without the process passing
300 MB. Exit status 0 when every request answered 200, 1 otherwise, 2 when the run
could not start.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from harness import (
    API,
    REPO,
    banshi_command,
    bearer,
    case_count,
    clean_environ,
    cli_create_user,
    first_sign_in,
    fresh_database,
    generate_keys,
    group_pids,
    machine_line,
    percentile,
    require_loopback,
    rss_kib,
    start_server,
    strong_password,
    wait_healthy,
)

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
YEAR = "2026"

ENDPOINTS: list[tuple[str, str, str]] = [
    ("20-item table, year", "city", f"/metrics/items?period={YEAR}"),
    ("20-item table, quarter", "city", f"/metrics/items?period={YEAR}-Q2"),
    ("20-item table, loose days", "city", f"/metrics/items?from={YEAR}-02-10&to={YEAR}-09-20"),
    ("20-item table, district official", "yubei", f"/metrics/items?period={YEAR}"),
    ("by district, year", "city", f"/metrics/by/district?period={YEAR}"),
    ("by department, year", "city", f"/metrics/by/department?period={YEAR}"),
    ("by steward, year", "city", f"/metrics/by/steward?period={YEAR}"),
    ("by steward, district official", "yubei", f"/metrics/by/steward?period={YEAR}"),
    ("by district, one item", "city", f"/metrics/by/district?period={YEAR}&item=WL-05"),
    ("trend, monthly", "city", f"/metrics/trend?period={YEAR}&interval=month"),
    ("trend, weekly", "city", f"/metrics/trend?period={YEAR}&interval=week"),
    ("city summary", "city", f"/metrics/summary?period={YEAR}"),
    ("cases behind 'overdue', page 1", "city", f"/metrics/cases?period={YEAR}&figure=overdue"),
    ("items as XLSX", "city", f"/metrics/items/export?period={YEAR}&format=xlsx"),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated case counts")
    parser.add_argument("--rounds", type=int, default=30, help="timed requests per endpoint")
    parser.add_argument("--reuse", action="store_true", help="reuse a filled database of the right size")
    parser.add_argument("--no-plans", action="store_true", help="skip the query plans")
    parser.add_argument("--no-export", action="store_true", help="skip the case-list export")
    parser.add_argument("--database", help="measure this already filled database (a loopback URL) instead of building")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument(
        "--keep",
        type=float,
        default=0,
        help="BANSHI_METRICS_KEEP_SECONDS for the server (default 0: every request counts; 5, the service's "
        "default, times what a dashboard's officials get from the kept figures)",
    )
    parser.add_argument("--only", help="measure only the endpoints whose title contains one of these (comma-separated)")
    return parser.parse_args(argv)


async def vacuum(dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


async def prepare(size: int, reuse: bool) -> tuple[str, str]:
    name = f"banshi_metrics_{size}"
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    if reuse and await case_count(url) == size:
        print(f"reusing {name} ({size:,} cases)")
        return url, "reused"
    version = await fresh_database(ADMIN_DSN, name)
    env = {**clean_environ(), **generate_keys(), "DATABASE_URL": url}
    banshi_command(env, "db", "upgrade")
    banshi_command(env, "load-reference")
    started = time.monotonic()
    out = banshi_command(env, "demo-data", "--workers", str(max(size // 10, 100)), "--cases", str(size))
    elapsed = time.monotonic() - started
    print(f"demo-data: {size:,} cases in {elapsed:.1f} s (PostgreSQL {version})")
    print("  " + "\n  ".join(out.strip().splitlines()[-4:]))
    # After a bulk load, as an operator would (autovacuum gets there too, later): hint bits and
    # the visibility map set, so that the first timed reads do not pay for them.
    started = time.monotonic()
    await vacuum(url)
    print(f"VACUUM (ANALYZE): {time.monotonic() - started:.0f} s")
    return url, f"{elapsed:.0f} s"


async def timed(client: httpx.AsyncClient, token: str, path: str, rounds: int) -> tuple[list[float], int]:
    failures = 0
    for _ in range(2):
        await client.get(API + path, headers=bearer(token))
    samples: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        r = await client.get(API + path, headers=bearer(token))
        samples.append((time.perf_counter() - started) * 1000)
        if r.status_code != 200:
            failures += 1
    return sorted(samples), failures


def create_district_official(env: dict[str, str], username: str, password: str) -> None:
    argv = ["uv", "run", "--quiet", "banshi", "users", "create", "--role", "official"]
    subprocess.run(  # noqa: S603 - fixed argv
        [*argv, "--username", username, "--district", "yubei"],
        cwd=REPO,
        env=env,
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


async def export_memory(client: httpx.AsyncClient, token: str, pgid: int) -> dict[str, Any]:
    pids = group_pids(pgid)
    baseline = {p: rss_kib(p) for p in pids}
    peak = dict(baseline)
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            for p in pids:
                peak[p] = max(peak[p], rss_kib(p))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    total = (
        await client.get(API + f"/metrics/cases?period={YEAR}&figure=received&limit=1", headers=bearer(token))
    ).json()["total"]
    started = time.monotonic()
    size = 0
    # A year of cases streams for a minute or more on a busy machine: allow for that.
    path = API + f"/metrics/cases/export?period={YEAR}&figure=received&format=xlsx"
    async with client.stream("GET", path, headers=bearer(token), timeout=900) as response:
        status = response.status_code
        async for chunk in response.aiter_bytes():
            size += len(chunk)
    elapsed = time.monotonic() - started
    done.set()
    await sampler
    grew = max(peak.values()) if peak else 0
    busiest = max(pids, key=lambda p: peak[p] - baseline[p]) if pids else 0
    return {
        "status": status,
        "rows": total,
        "bytes": size,
        "seconds": elapsed,
        "baseline_mib": baseline.get(busiest, 0) / 1024,
        "peak_mib": peak.get(busiest, 0) / 1024,
        "largest_peak_mib": grew / 1024,
    }


async def plans(url: str) -> None:
    """EXPLAIN ANALYZE every statement the repository functions run for the main tables."""
    from datetime import UTC, date, datetime

    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    from service.config import async_url
    from service.domain.metrics import parse_period
    from service.repositories import metrics as repo

    engine = create_async_engine(async_url(url))
    captured: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if not statement.startswith("EXPLAIN"):
            captured.append((statement, parameters))

    now = datetime(2026, 11, 20, 4, tzinfo=UTC)
    period = parse_period(YEAR, None, None, date(2026, 11, 20))
    scope = repo.Scope()
    months = [date(2026, m, 1) for m in range(1, 11)]
    async with engine.connect() as conn:
        from sqlalchemy.ext.asyncio import AsyncSession

        session = AsyncSession(bind=conn)
        calls: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("20-item table: counters and percentiles", lambda: repo.count(session, period, "item", scope)),
            ("20-item table: overdue and due soon now", lambda: repo.count_now(session, period, "item", scope, now)),
            ("by steward: counters and percentiles", lambda: repo.count(session, period, "steward", scope)),
            ("trend: ended months", lambda: repo.flows_tallied(session, "month", months, scope)),
            ("trend: opening backlog", lambda: repo.backlog_before(session, date(2026, 1, 1), scope)),
            (
                "trend: the running month",
                lambda: repo.flows_counted(session, date(2026, 11, 1), date(2026, 12, 1), scope, now),
            ),
        ]
        for title, call in calls:
            captured.clear()
            await call()
            print(f"\n--- plans: {title}")
            for statement, parameters in list(captured):
                raw = await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                print("\n".join(row[0] for row in raw))
        await session.close()
    await engine.dispose()


async def run_size(size: int, args: argparse.Namespace) -> int:
    if args.database:
        require_loopback(urlsplit(args.database).hostname, "--database")
        url, built = args.database, f"given, {await case_count(args.database):,} cases"
    else:
        url, built = await prepare(size, args.reuse)
    log = Path(tempfile.gettempdir()) / f"banshi-metrics-{size}.log"
    # Every request counts its figures: kept ones would measure a dictionary, not the queries.
    server = start_server(url, args.workers, log, {"BANSHI_METRICS_KEEP_SECONDS": f"{args.keep:g}"})
    failures = 0
    try:
        await wait_healthy(server, time.monotonic() + 120)
        passwords = {"city": strong_password(), "yubei": strong_password()}
        stamp = int(time.time())
        cli_create_user(server.env, "official", f"bench-city-{stamp}", passwords["city"])
        create_district_official(server.env, f"bench-yubei-{stamp}", passwords["yubei"])
        async with httpx.AsyncClient(base_url=server.url, timeout=120, trust_env=False) as client:
            tokens = {
                who: await first_sign_in(client, f"bench-{who}-{stamp}", passwords[who]) for who in ("city", "yubei")
            }
            print(f"\n{size:,} cases (built: {built}); {args.rounds} requests each, one client")
            print(f"{'endpoint':<36} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
            chosen = [e for e in ENDPOINTS if not args.only or any(o in e[0] for o in args.only.split(","))]
            for title, who, path in chosen:
                samples, failed = await timed(client, tokens[who], path, args.rounds)
                failures += failed
                print(
                    f"{title:<36} {statistics.median(samples):>10.1f} {percentile(samples, 95):>8.1f}"
                    f" {samples[-1]:>8.1f}" + (f"  {failed} failed" if failed else "")
                )
            if args.no_export:
                return failures
            memory = await export_memory(client, tokens["city"], server.proc.pid)
            if memory["status"] != 200:
                failures += 1
            print(
                f"\ncase-list XLSX export, year {YEAR}: {memory['rows']:,} rows, {memory['bytes'] / 1e6:.1f} MB in"
                f" {memory['seconds']:.1f} s; worker RSS {memory['baseline_mib']:.0f} MiB before,"
                f" {memory['peak_mib']:.0f} MiB at peak (largest process peak {memory['largest_peak_mib']:.0f} MiB)"
            )
        if not args.no_plans:
            await plans(url)
    finally:
        server.stop()
    return failures


async def amain(args: argparse.Namespace) -> int:
    print(machine_line(None))
    failures = 0
    sizes = [0] if args.database else [int(s) for s in args.sizes.split(",")]
    for size in sizes:
        failures += await run_size(size, args)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        status = asyncio.run(amain(args))
    except (RuntimeError, TimeoutError) as error:
        print(f"could not run: {error}", file=sys.stderr)
        return 2
    print(f"exit status {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())
