"""Case-list export benchmark: time to first byte, total time, bytes and the server's memory.

How to run (from the repository root)::

    uv run --group dev python bench/export.py                          # XLSX and CSV, this year's cases
    uv run --group dev python bench/export.py --formats xlsx --period 2026 --check

The database. The export is measured on a copy of the million-case database that
``bench/load.py`` builds (``--source``, default ``banshi_load``), never on that database
itself: a run signs accounts in and the export writes its audit entry, and the source is
shared with the load benchmark. The copy (``--database``, default ``banshi_export_bench``)
is made with ``CREATE DATABASE ... TEMPLATE``, which only reads the source (PostgreSQL
refuses it while anyone is connected to the source: run it again when the source is idle)
and is reused while it holds at least ``--min-cases`` cases. The demo data is sealed with
the keys it was built with, kept in ``.banshi/bench-load/<source>.keys``; the server is
given them.

The service runs the production way (``banshi serve --workers N``: uvicorn, N processes).
The first administrator is made with ``banshi users create``; it adds a city-wide
official through the API, who downloads ``GET /api/v1/metrics/cases/export?figure=received``
for ``--period`` in each format. For each download the script prints: the time to the
response's headers and to its first body byte, the total time, the bytes, the rows (the
``total`` of ``GET /metrics/cases`` for the same figure), and for the server worker that
served it (the one that spent the most CPU meanwhile) its CPU time, the steadier figure
on a shared machine, and its resident memory sampled every 50 ms (before the request
and its peak). ``--check`` keeps the XLSX in a temporary file and reads it back with
python-calamine (rows and header). ``--abandon`` then starts one more XLSX download, leaves
after its first megabyte and waits for the export's transaction to end in PostgreSQL.
``--break-off`` ends the export's database connection after 2 MB of one more XLSX download
and prints what the client saw, whether the partial file opens as a zip, and the server's
log line.
It talks only to loopback addresses.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import httpx
from harness import (
    API,
    REPO,
    bearer,
    case_count,
    cli_create_user,
    cpu_seconds,
    first_sign_in,
    group_pids,
    machine_line,
    rss_kib,
    start_server,
    strong_password,
    wait_healthy,
)

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
KEY_NAMES = ("BANSHI_TOKEN_KEY", "BANSHI_AUDIT_KEY", "BANSHI_PII_KEYS", "BANSHI_PII_INDEX_KEY")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="banshi_load", help="database to copy (only read)")
    parser.add_argument("--database", default="banshi_export_bench", help="the copy the server runs on")
    parser.add_argument("--min-cases", type=int, default=500_000, help="cases the copy must hold")
    parser.add_argument("--period", default="2026", help="period of the export")
    parser.add_argument("--figure", default="received", help="figure whose cases are exported")
    parser.add_argument("--formats", default="xlsx,csv", help="comma-separated: xlsx, csv")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--check", action="store_true", help="read the XLSX back with python-calamine")
    parser.add_argument("--abandon", action="store_true", help="also leave an XLSX download after 1 MB")
    parser.add_argument("--break-off", action="store_true", help="also end the export's database connection mid-way")
    return parser.parse_args(argv)


def read_keys(path: Path) -> dict[str, str]:
    keys = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    missing = [k for k in KEY_NAMES if k not in keys]
    if missing:
        raise SystemExit(f"{path} lacks {', '.join(missing)}")
    return {k: keys[k] for k in KEY_NAMES}


async def prepare(source: str, name: str, min_cases: int) -> str:
    import asyncpg

    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    held = await case_count(url)
    if held is not None and held >= min_cases:
        print(f"database {name}: reused, {held:,} cases")
        return url
    conn = await asyncpg.connect(ADMIN_DSN, timeout=10)
    try:
        if held is not None:
            await conn.execute(f'DROP DATABASE "{name}"')
        started = time.monotonic()
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        print(f"database {name}: copied from {source} in {time.monotonic() - started:.1f} s")
    finally:
        await conn.close()
    held = await case_count(url)
    if held is None or held < min_cases:
        raise SystemExit(f"{source} holds {held or 0:,} cases, fewer than {min_cases:,}: build it with bench/load.py")
    print(f"database {name}: {held:,} cases")
    return url


async def download(client: httpx.AsyncClient, token: str, path: str, pgid: int, keep: Path | None) -> dict[str, Any]:
    pids = group_pids(pgid)
    baseline = {p: rss_kib(p) for p in pids}
    cpu_before = {p: cpu_seconds(p) for p in pids}
    peak = dict(baseline)
    done = asyncio.Event()

    timeline: list[tuple[float, dict[int, int]]] = []

    async def sample() -> None:
        while not done.is_set():
            now = {p: rss_kib(p) for p in pids}
            for p in pids:
                peak[p] = max(peak[p], now[p])
            timeline.append((time.monotonic(), now))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    size = 0
    first_byte: float | None = None
    out = keep.open("wb") if keep else None
    started = time.monotonic()
    try:
        async with client.stream("GET", path, headers=bearer(token), timeout=1800) as response:
            headers_at = time.monotonic() - started
            status = response.status_code
            async for chunk in response.aiter_raw():
                if first_byte is None and chunk:
                    first_byte = time.monotonic() - started
                size += len(chunk)
                if out:
                    out.write(chunk)
    finally:
        if out:
            out.close()
    elapsed = time.monotonic() - started
    done.set()
    await sampler
    cpu = {p: cpu_seconds(p) - cpu_before[p] for p in pids}
    busiest = max(pids, key=lambda p: cpu[p]) if pids else 0
    return {
        "cpu_s": cpu.get(busiest, 0.0),
        "status": status,
        "headers_s": headers_at,
        "first_byte_s": first_byte if first_byte is not None else float("nan"),
        "total_s": elapsed,
        "bytes": size,
        "rss_before_mib": baseline.get(busiest, 0) / 1024,
        "rss_peak_mib": peak.get(busiest, 0) / 1024,
        # The worker's memory a quarter, half and three quarters of the way through: flat
        # in the rows means these stay level, not climb with the bytes sent.
        "rss_course_mib": [
            next((m[busiest] for t, m in timeline if t >= started + elapsed * q), 0) / 1024 for q in (0.25, 0.5, 0.75)
        ],
    }


OPEN_EXPORT_READS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND (state LIKE 'idle in transaction%' "
    "OR (state = 'active' AND query LIKE 'FETCH % FROM export_cases'))"
)


async def abandon(client: httpx.AsyncClient, token: str, path: str, db_url: str) -> str:
    """Leave an XLSX download after its first megabyte; then look for the export's
    transaction in PostgreSQL (it should be gone: rolled back, connection returned)."""
    import asyncpg

    got = 0
    conn = await asyncpg.connect(db_url, timeout=10)
    try:
        async with client.stream("GET", path, headers=bearer(token), timeout=120) as response:
            async for chunk in response.aiter_raw():
                got += len(chunk)
                if got >= 1_000_000:
                    during = await conn.fetchval(OPEN_EXPORT_READS)
                    break
        left = time.monotonic()
        while True:
            open_reads = await conn.fetchval(OPEN_EXPORT_READS)
            waited = time.monotonic() - left
            if open_reads == 0 or waited > 30:
                break
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    state = "still open" if open_reads else "gone"
    return (
        f"left after {got:,} bytes: {during} export transaction(s) open while downloading, "
        f"{state} {waited:.1f} s after leaving"
    )


async def break_off(client: httpx.AsyncClient, token: str, path: str, db_url: str, log: Path) -> list[str]:
    """End the export's database connection (``pg_terminate_backend``) after 2 MB of an XLSX
    download, as a failover would; report what the client saw and what the server logged."""
    import asyncpg

    received = bytearray()
    seen = "the download ended as if complete"
    try:
        async with client.stream("GET", path, headers=bearer(token), timeout=120) as response:
            async for chunk in response.aiter_raw():
                received += chunk
                if len(received) > 2_000_000 and not seen.startswith("terminated"):
                    conn = await asyncpg.connect(db_url, timeout=10)
                    try:
                        await conn.fetchval(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE query LIKE 'FETCH % FROM export_cases' AND pid <> pg_backend_pid()"
                        )
                    finally:
                        await conn.close()
                    seen = "terminated"
    except httpx.HTTPError as error:
        seen = f"the client saw {type(error).__name__}: {error}"
    try:
        zipfile.ZipFile(io.BytesIO(bytes(received)))
        opened = "the partial file opens as a zip"
    except zipfile.BadZipFile:
        opened = "the partial file is not a zip"
    return [f"database connection ended after {len(received):,} bytes: {seen}; {opened}", *broke_off_lines(log)]


def broke_off_lines(log: Path) -> list[str]:
    return [line[:200] for line in log.read_text(errors="replace").splitlines() if "broke off" in line]


def check_xlsx(path: Path, rows: int) -> str:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    data = book.get_sheet_by_index(0).to_python()
    header_ok = data[0][0] == "受理编号"
    return f"calamine read {len(data) - 1:,} rows (expected {rows:,}), header {'ok' if header_ok else 'WRONG'}"


async def run(args: argparse.Namespace) -> int:
    keys = read_keys(REPO / ".banshi" / "bench-load" / f"{args.source}.keys")
    url = await prepare(args.source, args.database, args.min_cases)
    work = Path(tempfile.mkdtemp(prefix="banshi-bench-export-"))
    server = start_server(url, args.workers, work / "server.log", extra_env=keys)
    failures = 0
    try:
        await wait_healthy(server, time.monotonic() + 120)
        print(machine_line(None))
        async with httpx.AsyncClient(base_url=server.url, timeout=60, trust_env=False) as client:
            run_id = uuid.uuid4().hex[:6]
            admin_user, admin_password = f"export-admin-{run_id}", strong_password()
            cli_create_user(server.env, "admin", admin_user, admin_password)
            admin = await first_sign_in(client, admin_user, admin_password)
            official_user, temporary = f"export-official-{run_id}", strong_password()
            body = {"username": official_user, "role": "official", "password": temporary}
            r = await client.post(f"{API}/accounts", json=body, headers=bearer(admin))
            if r.status_code != 201:
                raise SystemExit(f"creating the official answered {r.status_code}: {r.text[:300]}")
            official = await first_sign_in(client, official_user, temporary)
            query = f"period={args.period}&figure={args.figure}"
            r = await client.get(f"{API}/metrics/cases?{query}&limit=1", headers=bearer(official))
            rows = int(r.json()["total"])
            print(f"figure {args.figure}, period {args.period}: {rows:,} cases, as a city-wide official")
            for fmt in args.formats.split(","):
                keep = work / f"export.{fmt}" if args.check and fmt == "xlsx" else None
                path = f"{API}/metrics/cases/export?{query}&format={fmt}"
                m = await download(client, official, path, server.proc.pid, keep)
                failures += m["status"] != 200
                print(
                    f"{fmt}: HTTP {m['status']}, headers {m['headers_s']:.2f} s, first byte {m['first_byte_s']:.2f} s, "
                    f"total {m['total_s']:.1f} s, {m['bytes'] / 1e6:.1f} MB, {rows / m['total_s']:,.0f} rows/s; "
                    f"worker CPU {m['cpu_s']:.1f} s; "
                    f"worker RSS {m['rss_before_mib']:.0f} MiB before, "
                    f"{' / '.join(f'{v:.0f}' for v in m['rss_course_mib'])} MiB at 1/4, 1/2, 3/4, "
                    f"{m['rss_peak_mib']:.0f} MiB peak"
                )
                if keep is not None:
                    print("  " + check_xlsx(keep, rows))
                    keep.unlink()
            xlsx = f"{API}/metrics/cases/export?{query}&format=xlsx"
            if args.abandon:
                print(await abandon(client, official, xlsx, url))
            if args.break_off:
                print("\n".join(await break_off(client, official, xlsx, url, server.log)))
    finally:
        server.stop()
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
