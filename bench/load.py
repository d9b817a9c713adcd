"""Load benchmark: the service under sustained load on a million cases, against its ceiling.

How to run (from the repository root; the first run builds the database, 10+ minutes)::

    uv run --group dev python bench/load.py                              # 2 worker processes, 20 s per operation
    uv run --group dev python bench/load.py --workers 2,4 --connections 32 --duration 30
    uv run --group dev python bench/load.py --ops read,lookup --duration 10
    uv run --group dev python bench/load.py --rebuild                    # build the database again

It needs ``wrk`` (Debian: ``apt-get install wrk``) and ``pgbench`` (PostgreSQL's
client tools, ``postgresql-contrib`` on older releases), PostgreSQL at 127.0.0.1:5432
(user postgres) and Redis at 127.0.0.1:6379. It talks only to loopback addresses.

The database. ``--db-name`` (default ``banshi_load``) is built once with ``banshi db
upgrade`` and ``banshi demo-data --workers <cases/10> --cases <cases>`` (then ``VACUUM
(ANALYZE)``) and reused while it holds at least ``--cases`` cases. The demo data's
personal data is sealed with the keys it was built with: they are kept, mode 0600, in
``.banshi/bench-load/<db-name>.keys`` (ignored by git) and given to every server that
reads this database. Without that file the database is rebuilt.

The service runs the production way: ``banshi serve --workers N`` (uvicorn, N processes)
with the kept keys, ``BANSHI_REDIS_URL`` set (the counters shared by the processes, a
prefix of its own) and the production defaults otherwise (a pool of 10 per process,
JSON logs, access log), except for three limits raised so that a load generator on one
address is not throttled: ``BANSHI_LOOKUP_LIMIT_PER_ADDRESS``, ``BANSHI_LOOKUP_LOCK_THRESHOLD``
and ``BANSHI_LOGIN_LIMIT_PER_ADDRESS``. The first administrator is made with ``banshi users
create``; through the API it adds ``--stewards`` steward accounts (for stewards of the
demo data, picked at random with ``--seed``) and a city-wide official; every account
signs in and changes its first password. A staff record has one account, so a steward
account an earlier run made is given a temporary password by the administrator instead;
the administrator and the official are new accounts each round.

What one request of each operation is, all through wrk with ``--connections`` open
connections on ``--threads`` threads for ``--duration`` seconds after ``--warmup``
seconds whose figures are dropped (Lua scripts in ``bench/load/``):

- ``read``: ``GET /api/v1/cases/{id}`` as the case's steward (the full case with its
  timeline, the steward's reach checked in the query), a random case of the chosen
  stewards (about a thousand each);
- ``list``: ``GET /api/v1/cases`` as a steward with filters, one of: open statuses by due
  date; overdue; one work-list item; received since the 1st of last month in two statuses;
  closed, third page (20 or 50 a page, with the total);
- ``create``: ``POST /api/v1/cases`` as the steward of a random worker of theirs, a random
  item of this year's list, a fresh ``Idempotency-Key`` each (the answer carries the
  query code);
- ``move``: one ``POST /api/v1/cases/{id}/transitions`` with ``If-Match``: on the chosen
  stewards' cases that are in progress or awaiting materials, ``request_materials`` and
  ``receive_materials`` in turn. The ETag comes from the answer to the case's previous
  move (the first from the database, read just before), as a client that keeps the
  answer does; no GET in between;
- ``lookup``: the public ``GET /api/v1/lookup?case_no=&code=`` with the right code, for
  ``--lookup-codes`` random cases whose code the administrator reissued just before
  (``POST /cases/{id}/query-code``);
- ``items``: ``GET /api/v1/metrics/items?period=<this year>`` (the 20-item table) as the
  city-wide official; ``summary``: ``GET /api/v1/metrics/summary?period=<this year>``.

Then the ceiling on the same machine: ``bench/bare_app.py`` (one Litestar handler, one
asyncpg query by primary key, under uvicorn with the same worker count) measured like
``read`` on the same case ids, right before it (both servers run through the round;
the one not measured is idle), and ``pgbench -S -n -c <connections> -j 2 -T <duration>``
against ``banshi_pgbench`` (initialised once at ``--pgbench-scale``).

Before each measurement the script waits for the requests the warm-up left in flight to
finish (no statement running in the database, the service idle: a move read back too
early would carry a stale ETag), then up to ``--quiet-wait`` seconds for the machine to
be quiet (under 15% busy), since other work on a shared machine would be counted as ours.

For each operation it prints the requests, requests per second, p50 and p99 latency in
milliseconds (wrk's, of the requests answered; at a fixed number of connections a slow
operation's latency is mostly waiting in line: p50 is about connections / req/s),
errors (non-2xx answers plus connection errors and timeouts), 5xx, and, from /proc, the
CPU the service's processes, PostgreSQL and wrk spent per request, their share of the
machine's CPU time during the run ("ours") and the share others used ("other": on a
quiet machine it is near 0%; when it is not, the figures are low and the CPU per request
is the figure to compare). Client, service and database share the machine's cores.

The verdict per worker count: case read as a share of the bare handler's requests per
second (target: at least 60%), the median over ``--pairs`` (3) pairs, each the bare handler
measured right before the case read (the machine's speed drifts by tens of percent from one
minute to the next on shared cores; the table shows the first pair); the same share
estimated from CPU time per request (service plus PostgreSQL; steadier than req/s on a busy
machine); the 5xx count (target 0) and the worst operation's error rate (target under 0.1%).

Exit status: 0 when every target is met; 1 when any request got a 5xx; 3 when another
target was missed; 2 when the run could not be made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from harness import (
    API,
    KEY_NAMES,
    REPO,
    CommandFailed,
    Server,
    banshi_command,
    bearer,
    clean_environ,
    cli_create_user,
    first_sign_in,
    free_port,
    fresh_database,
    generate_keys,
    group_pids,
    machine_line,
    require_loopback,
    start_server,
    strong_password,
    wait_healthy,
)

LUA = Path(__file__).resolve().parent / "load"
KEYS_DIR = REPO / ".banshi" / "bench-load"
OPS = ("read", "list", "lookup", "items", "summary", "create", "move")
OP_LABELS = {
    "read": "case read         GET /cases/{id}",
    "list": "case list         GET /cases?<filters>",
    "create": "case creation     POST /cases",
    "move": "move              POST /cases/{id}/transitions",
    "lookup": "lookup            GET /lookup?case_no=&code=",
    "items": "20-item metrics   GET /metrics/items",
    "summary": "city summary      GET /metrics/summary",
    "bare": "bare handler      GET /cases/{id} (1 query)",
}
CST = timezone(timedelta(hours=8))
RAISED_LIMITS = {
    "BANSHI_LOOKUP_LIMIT_PER_ADDRESS": "1000000000",
    "BANSHI_LOOKUP_LOCK_THRESHOLD": "1000000000",
    "BANSHI_LOGIN_LIMIT_PER_ADDRESS": "100000",
}
TARGET_SHARE = 0.60
TARGET_ERROR_RATE = 0.001


class RunFailed(CommandFailed):
    """The run cannot go on (a server that does not start, a setup step refused)."""


# --------------------------------------------------------------------------- database


def keys_file(db_name: str) -> Path:
    return KEYS_DIR / f"{db_name}.keys"


def read_keys(path: Path) -> dict[str, str] | None:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    keys = dict(line.split("=", 1) for line in lines if "=" in line)
    return keys if all(k in keys for k in KEY_NAMES) else None


def write_keys(path: Path, keys: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("".join(f"{k}={keys[k]}\n" for k in KEY_NAMES))


async def scalar(dsn: str, sql: str) -> Any:
    """One value, or None when the database or the table is missing."""
    import asyncpg

    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        return await conn.fetchval(sql)
    except asyncpg.PostgresError:
        return None
    finally:
        await conn.close()


async def prepare_database(pg: str, name: str, cases: int, rebuild: bool) -> tuple[str, dict[str, str], int]:
    """The database URL, its keys and how many cases it holds."""
    url = f"{pg}/{name}"
    keys = read_keys(keys_file(name))
    held = await scalar(url, 'SELECT count(*) FROM "case"')
    if not rebuild and keys is not None and held is not None and held >= cases:
        print(f"database {name}: reused, {held:,} cases (keys from {keys_file(name).relative_to(REPO)})")
        # A database kept from an earlier release gets this release's migrations.
        banshi_command({**clean_environ(), **keys, "DATABASE_URL": url}, "db", "upgrade", timeout=7200)
        return url, keys, int(held)
    if not rebuild and held is not None and keys is None:
        print(f"database {name}: its keys file {keys_file(name)} is missing, so it is rebuilt")
    await fresh_database(f"{pg}/postgres", name)
    keys = generate_keys()
    write_keys(keys_file(name), keys)
    env = {**clean_environ(), **keys, "DATABASE_URL": url}
    banshi_command(env, "db", "upgrade", timeout=7200)
    workers = max(cases // 10, 100)
    print(f"database {name}: building with banshi demo-data --workers {workers} --cases {cases} ...", flush=True)
    started = time.monotonic()
    out = banshi_command(env, "demo-data", "--workers", str(workers), "--cases", str(cases), timeout=7200)
    print(f"demo-data: {time.monotonic() - started:.0f} s; " + out.strip().splitlines()[-1][:300])
    started = time.monotonic()
    await execute(url, "VACUUM (ANALYZE)")
    print(f"VACUUM (ANALYZE): {time.monotonic() - started:.0f} s", flush=True)
    held = await scalar(url, 'SELECT count(*) FROM "case"')
    return url, keys, int(held or 0)


async def execute(dsn: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def prepare_pgbench(pg: str, name: str, scale: int) -> str:
    url = f"{pg}/{name}"
    if await scalar(url, "SELECT count(*) FROM pgbench_branches") == scale:
        return url
    await fresh_database(f"{pg}/postgres", name)
    print(f"initialising {name}: pgbench -i -s {scale} ...", flush=True)
    run_checked([pgbench_binary(), "-i", "-q", "-s", str(scale), url], timeout=1800)
    return url


def pgbench_binary() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True):
        return str(candidate)
    raise RunFailed("pgbench is missing: apt-get install postgresql-client (or postgresql-contrib)")


def run_checked(argv: Sequence[str], timeout: float) -> str:
    done = subprocess.run(  # noqa: S603 - our own argv
        list(argv), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RunFailed(f"{Path(argv[0]).name} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return done.stdout + done.stderr


# --------------------------------------------------------------------------- CPU from /proc


TICK = os.sysconf("SC_CLK_TCK")
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds so far: per process of the service (by session) and of PostgreSQL,
    our finished children (wrk), and the whole machine's busy time."""

    service: dict[int, float]
    postgres: dict[int, float]
    children: float
    machine: float

    @staticmethod
    def take(session: int | None) -> CpuSnapshot:
        service: dict[int, float] = {}
        postgres: dict[int, float] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name is in parentheses and may hold spaces; the fields follow it.
            name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
            used = (int(rest[11]) + int(rest[12])) / TICK  # utime, stime
            if session is not None and rest[3] == str(session):
                service[int(entry.name)] = used
            elif name == "postgres":
                postgres[int(entry.name)] = used
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        with Path("/proc/stat").open() as stat:
            ticks = [int(x) for x in stat.readline().split()[1:]]
        idle = ticks[3] + ticks[4]  # idle, iowait
        return CpuSnapshot(service, postgres, usage.ru_utime + usage.ru_stime, (sum(ticks[:8]) - idle) / TICK)


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two snapshots by the processes alive at the second (a process
    that began in between counts whole; one that ended in between is lost)."""
    return sum(max(0.0, used - before.get(pid, 0.0)) for pid, used in after.items())


async def busy_over(seconds: float, session: int | None) -> tuple[float, float]:
    """Shares of the machine's CPU over ``seconds``: the whole machine's and the service's."""
    first = CpuSnapshot.take(session)
    await asyncio.sleep(seconds)
    last = CpuSnapshot.take(session)
    machine = (last.machine - first.machine) / (CORES * seconds)
    return machine, spent(first.service, last.service) / (CORES * seconds)


async def settle(dsn: str, session: int, limit: float = 30) -> None:
    """Wait until the requests a finished wrk left behind are done: no statement running
    in the database and the service's processes idle. A move must not be read back
    from the database while an older one is still being committed."""
    import asyncpg

    sql = """SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'"""
    deadline = time.monotonic() + limit
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        while time.monotonic() < deadline:
            _, service = await busy_over(0.3, session)
            if service < 0.02 and await conn.fetchval(sql) == 0:
                return
    finally:
        await conn.close()


async def wait_for_quiet(limit: float, what: str, notes: list[str]) -> None:
    """Wait up to ``limit`` seconds for the machine to be quiet (under 15% busy with
    our servers idle): others' work on a shared machine would be measured as ours."""
    deadline = time.monotonic() + limit
    machine, _ = await busy_over(1.0, None)
    while machine > 0.15 and time.monotonic() < deadline:
        machine, _ = await busy_over(2.0, None)
    if machine > 0.15:
        notes.append(f"{what}: the machine was {machine:.0%} busy with other work when it began")


# --------------------------------------------------------------------------- wrk


@dataclass
class Result:
    op: str
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    statuses: dict[str, int] = field(default_factory=dict)
    transport_errors: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    service_cpu: float = 0.0
    pg_cpu: float = 0.0
    client_cpu: float = 0.0
    machine_cpu: float = 0.0
    wall: float = 0.0
    """Seconds from before wrk started to after it ended: the window of the CPU figures."""
    note: str = ""

    @property
    def other_cpu(self) -> float:
        """Busy time of the machine that was neither the server, PostgreSQL nor wrk."""
        return max(0.0, self.machine_cpu - self.service_cpu - self.pg_cpu - self.client_cpu)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(n for code, n in self.statuses.items() if code.isdigit() and not code.startswith("2"))

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code.startswith("5"))

    @property
    def errors(self) -> int:
        return self.non_2xx + self.transport_errors

    @property
    def error_rate(self) -> float:
        sent = self.requests + self.extra.get("timeout", 0)
        return self.errors / sent if sent else 1.0


def run_wrk(
    op: str,
    url: str,
    script: str,
    script_args: Sequence[str],
    args: argparse.Namespace,
    duration: float,
    session: int | None,
) -> Result:
    argv = [
        "wrk",
        "-t",
        str(args.threads),
        "-c",
        str(args.connections),
        "-d",
        f"{duration:g}s",
        "--timeout",
        f"{args.timeout:g}s",
        "-s",
        str(LUA / script),
        url,
        "--",
        *script_args,
    ]
    profilers = start_profilers(args.profile, op, session, duration) if args.profile and session else []
    before, started = CpuSnapshot.take(session), time.monotonic()
    done = subprocess.run(  # noqa: S603 - our own argv
        argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=duration + 120, check=False
    )
    after, wall = CpuSnapshot.take(session), time.monotonic() - started
    for profiler in profilers:
        profiler.wait(timeout=60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("LOAD_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RunFailed(f"wrk for {op} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-800:]}")
    raw = json.loads(line.removeprefix("LOAD_RESULT "))
    errors = {k: int(raw[k]) for k in ("connect", "read", "write", "timeout")}
    return Result(
        op=op,
        requests=int(raw["requests"]),
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        statuses={str(k): int(v) for k, v in raw["statuses"].items()},
        transport_errors=sum(errors.values()),
        extra={**errors, **{k: int(raw[k]) for k in ("lost", "starved") if k in raw}},
        service_cpu=spent(before.service, after.service),
        pg_cpu=spent(before.postgres, after.postgres),
        client_cpu=after.children - before.children,
        machine_cpu=after.machine - before.machine,
        wall=wall,
    )


def start_profilers(folder: Path, op: str, session: int, duration: float) -> list[subprocess.Popen[bytes]]:
    """``--profile``: py-spy samples each worker process of the service (the processes of
    its session but the first, uvicorn's supervisor) for the run, into ``folder`` as
    collapsed stacks (``<op>-<pid>.txt``; count them with ``bench/profile_top.py``)."""
    folder.mkdir(parents=True, exist_ok=True)
    workers = [pid for pid in group_pids(session) if pid != session]
    spy = shutil.which("py-spy") or "py-spy"
    return [
        subprocess.Popen(  # noqa: S603 - our own argv
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, int(duration))),
                "--rate",
                "250",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(folder / f"{op}-{pid}.txt"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in workers
    ]


def write_data(path: Path, tokens: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """The data file of the Lua scripts: tokens first ("T", token), then rows of fields."""
    with path.open("w") as out:
        for token in tokens:
            out.write(f"T\t{token}\n")
        for row in rows:
            out.write("\t".join(row) + "\n")
    return str(path)


# --------------------------------------------------------------------------- accounts and data


@dataclass
class Fixture:
    stewards: list[uuid.UUID]
    """The demo data's stewards whose accounts this run signs in; token i+1 in the data files."""
    tokens: list[str] = field(default_factory=list)
    admin: str = ""
    official: str = ""
    items: list[str] = field(default_factory=list)
    year: int = 0
    lookups: list[tuple[str, str]] = field(default_factory=list)
    """(case number, query code)."""

    def token_index(self) -> dict[uuid.UUID, int]:
        return {staff: i + 1 for i, staff in enumerate(self.stewards)}


async def fetch(dsn: str, sql: str, *params: Any) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return list(await conn.fetch(sql, *params))
    finally:
        await conn.close()


async def choose_stewards(dsn: str, count: int, seed: int) -> list[uuid.UUID]:
    rows = await fetch(dsn, "SELECT id FROM staff WHERE role = 'steward' AND active ORDER BY id")
    if not rows:
        raise RunFailed("the database holds no stewards")
    return random.Random(seed).sample([r["id"] for r in rows], min(count, len(rows)))  # noqa: S311


async def steward_cases(dsn: str, fx: Fixture, statuses: Sequence[str] = ()) -> list[tuple[int, Any]]:
    """(token index, row) of the chosen stewards' cases, in the given statuses if any."""
    index = fx.token_index()
    sql = 'SELECT id, version, status, steward_id FROM "case" WHERE steward_id = ANY($1::uuid[])'
    params: list[Any] = [list(index)]
    if statuses:
        sql += " AND status = ANY($2::text[])"
        params.append(list(statuses))
    return [(index[r["steward_id"]], r) for r in await fetch(dsn, sql, *params)]


async def sign_in_accounts(server: Server, client: httpx.AsyncClient, fx: Fixture, dsn: str) -> None:
    """The first administrator with ``banshi users create``; then, through the API, a
    steward account for each chosen steward and a city-wide official; each signs in and
    changes the password it was given."""
    run = uuid.uuid4().hex[:6]
    admin_user, admin_password = f"load-admin-{run}", strong_password()
    cli_create_user(server.env, "admin", admin_user, admin_password)
    fx.admin = await first_sign_in(client, admin_user, admin_password)

    async def account(role: str, staff_id: uuid.UUID | None, i: int) -> str:
        username, temporary = f"load-{role}-{run}-{i}", strong_password()
        # A staff record has one account: an earlier run's gets a temporary password instead.
        held = existing.get(staff_id) if staff_id is not None else None
        if held is not None:
            username = held["username"]
            r = await client.post(
                f"{API}/accounts/{held['id']}/password-reset", json={"password": temporary}, headers=bearer(fx.admin)
            )
            expected = 200
        else:
            body: dict[str, Any] = {"username": username, "role": role, "password": temporary}
            if staff_id is not None:
                body["staff_id"] = str(staff_id)
            r = await client.post(f"{API}/accounts", json=body, headers=bearer(fx.admin))
            expected = 201
        if r.status_code != expected:
            raise RunFailed(f"setting up the {role} account {username} answered {r.status_code}: {r.text[:300]}")
        return await first_sign_in(client, username, temporary)

    sql = "SELECT id, username, staff_id FROM account WHERE staff_id = ANY($1::uuid[]) AND active"
    existing = {r["staff_id"]: r for r in await fetch(dsn, sql, fx.stewards)}
    fx.tokens = [await account("steward", s, i) for i, s in enumerate(fx.stewards)]
    fx.official = await account("official", None, 0)
    fx.year = datetime.now(CST).year
    r = await client.get(f"{API}/work-list-items", params={"year": fx.year}, headers=bearer(fx.tokens[0]))
    if r.status_code != 200:
        raise RunFailed(f"GET /work-list-items answered {r.status_code}: {r.text[:300]}")
    fx.items = [str(i["id"]) for i in r.json() if i.get("active", True)]
    if not fx.items:
        raise RunFailed(f"the {fx.year} work list has no active items")


async def issue_codes(client: httpx.AsyncClient, fx: Fixture, dsn: str, count: int, seed: int) -> None:
    """A new query code for ``count`` random cases, reissued by the administrator."""
    sample = f'SELECT id FROM "case" TABLESAMPLE BERNOULLI (1) REPEATABLE ({int(seed)}) LIMIT {int(count)}'
    gate = asyncio.Semaphore(8)

    async def reissue(case_id: uuid.UUID) -> None:
        async with gate:
            r = await client.post(f"{API}/cases/{case_id}/query-code", headers=bearer(fx.admin))
        if r.status_code != 201:
            raise RunFailed(f"POST /cases/{{id}}/query-code answered {r.status_code}: {r.text[:300]}")
        body = r.json()
        fx.lookups.append((body["case_no"], body["query_code"]))

    fx.lookups.clear()
    await asyncio.gather(*(reissue(r["id"]) for r in await fetch(dsn, sample)))


def list_rows(fx: Fixture, today: date) -> list[list[str]]:
    first_of_last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    since = quote(f"{first_of_last_month.isoformat()}T00:00:00+08:00", safe="")
    rng = random.Random(11)  # noqa: S311 - a choice of items, not a secret
    rows: list[list[str]] = []
    for i in range(1, len(fx.tokens) + 1):
        for query in (
            "status=in_progress&status=awaiting_materials&sort=due_at&order=asc&limit=20",
            "due_state=overdue&limit=20",
            f"item_id={rng.choice(fx.items)}&limit=20",
            f"created_from={since}&status=submitted&status=accepted&limit=50",
            "status=closed&limit=50&offset=100",
        ):
            rows.append([str(i), f"{API}/cases?{query}"])
    return rows


async def create_rows(dsn: str, fx: Fixture) -> list[list[str]]:
    index = fx.token_index()
    found = await fetch(dsn, "SELECT id, steward_id FROM worker WHERE steward_id = ANY($1::uuid[])", list(index))
    return [["I", item] for item in fx.items] + [[str(index[r["steward_id"]]), str(r["id"])] for r in found]


async def move_file(work: Path, dsn: str, fx: Fixture, connections: int) -> tuple[str, int]:
    """The data file for move.lua from the cases' current versions, and how many cases."""
    found = await steward_cases(dsn, fx, ("in_progress", "awaiting_materials"))
    rows = [[str(i), str(r["id"]), str(r["version"]), r["status"]] for i, r in found]
    random.Random(5).shuffle(rows)  # noqa: S311 - an order, not a secret
    if len(rows) < 4 * connections:
        print(f"note: only {len(rows)} cases to move with {connections} connections", file=sys.stderr)
    return write_data(work / "move.tsv", fx.tokens, rows), len(rows)


# --------------------------------------------------------------------------- servers


def start_bare(db_url: str, workers: int, log: Path) -> Server:
    port = free_port()
    env = {**clean_environ(), "BARE_DATABASE_URL": db_url}
    argv = ["uv", "run", "uvicorn", "--app-dir", str(Path(__file__).resolve().parent), "bare_app:create_app"]
    argv += ["--factory", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            argv,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(proc, f"http://127.0.0.1:{port}", log, env)


@contextlib.asynccontextmanager
async def running(server: Server, what: str, startup_seconds: float) -> AsyncIterator[Server]:
    """Wait for GET /health; stop the server (its process group) at the end."""
    try:
        try:
            await wait_healthy(server, time.monotonic() + startup_seconds)
        except (RuntimeError, TimeoutError) as exc:
            raise RunFailed(f"{what} did not start: {exc}\n--- log (tail) ---\n{server.tail()}") from exc
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- the run


@dataclass
class Round:
    workers: int
    results: dict[str, Result] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    pairs: list[tuple[Result, Result]] = field(default_factory=list)
    """(bare handler, case read) measured one right after the other, the first pair being
    the one in the table; the verdict takes the median of their ratios."""


class Runner:
    def __init__(self, args: argparse.Namespace, db_url: str, work: Path, fx: Fixture, case_ids: list[Any]) -> None:
        self.args, self.db_url, self.work, self.fx = args, db_url, work, fx
        self.case_ids = case_ids
        """(token index, case id) for the reads; the bare app reads the same cases."""

    def wrk(self, op: str, url: str, script: str, data: Sequence[str], seconds: float, session: int) -> Result:
        return run_wrk(op, url, script, data, self.args, seconds, session)

    async def round(self, rnd: Round, keys: dict[str, str]) -> None:
        """Both servers up (the idle one costs nothing); the bare app is measured right
        before the service's case read, so that both see the machine alike."""
        args, fx, work = self.args, self.fx, self.work
        log = work / f"banshi-{rnd.workers}.log"
        extra = {
            **keys,
            **RAISED_LIMITS,
            "BANSHI_REDIS_URL": args.redis,
            "BANSHI_REDIS_PREFIX": f"banshi-load-{uuid.uuid4().hex[:8]}:",
            "BANSHI_DATA_DIR": str(work / f"data-{rnd.workers}"),
        }
        async with contextlib.AsyncExitStack() as stack:
            bare: Server | None = None
            if not args.no_ceiling:
                bare = start_bare(self.db_url, rnd.workers, work / f"bare-{rnd.workers}.log")
                await stack.enter_async_context(running(bare, "the bare app", args.startup_timeout))
                print(f"[{rnd.workers} worker(s)] bare app: {bare.url}", flush=True)
            server = start_server(self.db_url, rnd.workers, log, extra)
            await stack.enter_async_context(running(server, "banshi serve", args.startup_timeout))
            print(f"[{rnd.workers} worker(s)] banshi serve --workers {rnd.workers}: {server.url}", flush=True)
            timeout = httpx.Timeout(60)
            client = await stack.enter_async_context(
                httpx.AsyncClient(base_url=server.url, timeout=timeout, trust_env=False)
            )
            await sign_in_accounts(server, client, fx, self.db_url)
            print(f"signed in: an administrator, {len(fx.tokens)} stewards, a city-wide official", flush=True)
            if "lookup" in args.ops:
                await issue_codes(client, fx, self.db_url, args.lookup_codes, args.seed)
                print(f"reissued {len(fx.lookups)} query codes for the lookup", flush=True)
            for op in args.ops:
                if op == "read" and bare is not None:
                    # The machine's speed drifts (shared cores): several pairs, each measured
                    # back to back, so that one slow moment does not decide the verdict; the
                    # first pair is the one in the table.
                    bare_data, read_data = self.bare_data(), self.read_data()
                    for index in range(max(args.pairs, 1)):
                        keep = index == 0
                        pair_bare = await self.measure(rnd, "bare", bare, "get.lua", bare_data, keep=keep)
                        pair_read = await self.measure(rnd, "read", server, "get.lua", read_data, keep=keep)
                        rnd.pairs.append((pair_bare, pair_read))
                    continue
                await self.operation(rnd, op, server)
            if bare is not None and "bare" not in rnd.results:
                await self.measure(rnd, "bare", bare, "get.lua", self.bare_data())
        rnd.notes.append(f"service log ({rnd.workers} workers): {log}")

    async def operation(self, rnd: Round, op: str, server: Server) -> None:
        args, fx, work = self.args, self.fx, self.work
        script, data = "get.lua", []
        if op == "read":
            data = self.read_data()
        elif op == "list":
            data = [write_data(work / "list.tsv", fx.tokens, list_rows(fx, datetime.now(CST).date()))]
        elif op == "lookup":
            rows = [["1", f"{API}/lookup?case_no={quote(n)}&code={quote(c)}"] for n, c in fx.lookups]
            data = [write_data(work / "lookup.tsv", ["-"], rows)]
        elif op in ("items", "summary"):
            data = [write_data(work / f"{op}.tsv", [fx.official], [["1", f"{API}/metrics/{op}?period={fx.year}"]])]
        elif op == "create":
            script = "create.lua"
            data = [write_data(work / "create.tsv", fx.tokens, await create_rows(self.db_url, fx)), uuid.uuid4().hex]
        elif op == "move":
            script = "move.lua"
            data = [(await move_file(work, self.db_url, fx, args.connections))[0], str(args.threads)]
        await self.measure(rnd, op, server, script, data)
        if op == "move":
            await settle(self.db_url, server.proc.pid)
            pool = (await move_file(work, self.db_url, fx, args.connections))[1]
            result = rnd.results[op]
            result.note = f"{pool} cases, {result.extra.get('lost', 0)} dropped, {result.extra.get('starved', 0)} idle"

    def read_data(self) -> list[str]:
        """The case reads' data file: each of the stewards' cases, read with its steward's token."""
        rows = ([str(i), f"{API}/cases/{case_id}"] for i, case_id in self.case_ids)
        return [write_data(self.work / "read.tsv", self.fx.tokens, rows)]

    def bare_data(self) -> list[str]:
        """The bare handler's data file: the same cases, without a token."""
        rows = (["1", f"/cases/{case_id}"] for _, case_id in self.case_ids)
        return [write_data(self.work / "bare.tsv", ["-"], rows)]

    async def measure(
        self, rnd: Round, op: str, server: Server, script: str, data: list[str], *, keep: bool = True
    ) -> Result:
        """Warm up, let the server settle, wait for a quiet machine, then measure (``keep``:
        as the operation's figures in the table)."""
        args, session = self.args, server.proc.pid
        if args.warmup > 0:
            warm = self.wrk(op, server.url, script, data, args.warmup, session)
            if warm.server_errors:
                rnd.notes.append(f"{op}: {warm.server_errors} 5xx during the warm-up")
            await settle(self.db_url, session)
            if op == "move":  # the warm-up moved the cases on: their versions from the database again
                data[0] = (await move_file(self.work, self.db_url, self.fx, args.connections))[0]
            elif op == "create":
                data[1] = uuid.uuid4().hex
        await wait_for_quiet(args.quiet_wait, op, rnd.notes)
        result = self.wrk(op, server.url, script, data, args.duration, session)
        if keep:
            rnd.results[op] = result
        show(result)
        return result


def show(result: Result) -> None:
    print(
        f"  {result.op:<8} {result.rps:8.1f} req/s, p50 {result.p50_ms:7.1f} ms, p99 {result.p99_ms:7.1f} ms, "
        f"errors {result.errors}, 5xx {result.server_errors}",
        flush=True,
    )


def pgbench(url: str, connections: int, seconds: float) -> tuple[float, str]:
    argv = [pgbench_binary(), "-S", "-n", "-c", str(connections), "-j", "2", "-T", f"{seconds:g}", url]
    out = run_checked(argv, timeout=seconds + 120)
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out) or re.search(r"tps = ([\d.]+)", out)
    if found is None:
        raise RunFailed(f"could not read pgbench's tps: {out[-500:]}")
    return float(found.group(1)), " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv[:-1]))


# --------------------------------------------------------------------------- report


def report(
    args: argparse.Namespace, rounds: list[Round], tps: float | None, pgbench_cmd: str, held: int, notes: list[str]
) -> int:
    """Print the tables and the verdict; the exit status."""
    print()
    print(
        f"Banshi load benchmark: database {args.db_name} with {held:,} cases; wrk -t {args.threads} "
        f"-c {args.connections}, {args.duration:g} s per operation after a {args.warmup:g} s warm-up"
    )
    print(
        "service: banshi serve --workers N (uvicorn), Redis counters, production settings except "
        + ", ".join(f"{k}={v}" for k, v in RAISED_LIMITS.items())
    )
    print(f"ceiling: bench/bare_app.py under uvicorn with the same workers; {pgbench_cmd} (banshi_pgbench)")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{machine_line(getattr(args, 'pg_version', None))}; load average at the end {load}")
    for note in notes:
        print(f"note: {note}")
    status = 0
    for rnd in rounds:
        print()
        print(f"[{rnd.workers} worker process(es)]")
        header = (
            f"{'operation':<48} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'errors':>7} {'5xx':>5} {'svc ms/req':>10} {'pg ms/req':>9} {'wrk ms/req':>10} {'ours':>5} {'other':>5}"
        )
        print(header)
        print("-" * len(header))
        for op in [*args.ops, "bare"]:
            r = rnd.results.get(op)
            if r is None:
                continue
            per = 1000 / r.requests if r.requests else float("nan")
            print(
                f"{OP_LABELS[op]:<48} {r.requests:>8} {r.rps:>8.1f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} "
                f"{r.errors:>7} {r.server_errors:>5} {r.service_cpu * per:>10.2f} {r.pg_cpu * per:>9.2f} "
                f"{r.client_cpu * per:>10.2f} {share(r.service_cpu + r.pg_cpu + r.client_cpu, r):>5.0%} "
                f"{share(r.other_cpu, r):>5.0%}"
            )
        if tps is not None:
            print(f"{'pgbench -S (select by primary key, no HTTP)':<48} {'':>8} {tps:>8.1f}   tps")
        for op, r in rnd.results.items():
            odd = {k: v for k, v in r.statuses.items() if not k.startswith("2")}
            if odd or r.transport_errors:
                transport = {k: v for k, v in r.extra.items() if k in ("connect", "read", "write", "timeout") and v}
                print(f"note: {op}: statuses {odd or '-'}; transport errors {transport or '-'}")
            if r.note:
                print(f"note: {op}: {r.note}")
        for note in rnd.notes:
            print(f"note: {note}")
        status = max(status, verdict(rnd, args))
    print()
    return status


def share(cpu: float, r: Result) -> float:
    """``cpu`` seconds as a share of the machine's CPU time during the run."""
    return cpu / (CORES * r.wall) if r.wall else float("nan")


def verdict(rnd: Round, args: argparse.Namespace) -> int:
    measured = [r for op, r in rnd.results.items() if op != "bare"] + [read for _, read in rnd.pairs[1:]]
    read, bare = rnd.results.get("read"), rnd.results.get("bare")
    missed = False
    if read is not None and bare is not None and bare.rps > 0:
        pairs = rnd.pairs or [(bare, read)]
        shares = [r.rps / b.rps for b, r in pairs if b.rps > 0]
        share = statistics.median(shares)
        ok = share >= TARGET_SHARE
        missed |= not ok
        each = ", ".join(f"{r.rps:.0f} / {b.rps:.0f} = {r.rps / b.rps:.1%}" for b, r in pairs if b.rps > 0)
        print(
            f"[{rnd.workers} workers] case read = {share:.1%} of the bare handler (median of {len(shares)} "
            f"pair(s) measured back to back: {each}; target >= {TARGET_SHARE:.0%}): {'PASS' if ok else 'FAIL'}"
        )
        # Less sensitive to other work on the machine: what a request costs in CPU time.
        cost = (read.service_cpu + read.pg_cpu) / read.requests if read.requests else float("nan")
        base = (bare.service_cpu + bare.pg_cpu) / bare.requests if bare.requests else float("nan")
        print(
            f"[{rnd.workers} workers] by CPU per request (service + PostgreSQL): case read {cost * 1000:.2f} ms, "
            f"bare handler {base * 1000:.2f} ms: a CPU-bound ceiling of {base / cost:.1%} of the bare handler"
        )
    fives = sum(r.server_errors for r in measured)
    print(f"[{rnd.workers} workers] 5xx: {fives} (target 0): {'PASS' if fives == 0 else 'FAIL'}")
    worst = max(measured, key=lambda r: r.error_rate, default=None)
    if worst is not None:
        ok = worst.error_rate < TARGET_ERROR_RATE
        missed |= not ok
        print(
            f"[{rnd.workers} workers] errors: worst {worst.op} {worst.error_rate:.3%} "
            f"({worst.errors} of {worst.requests}; target < {TARGET_ERROR_RATE:.1%} each): {'PASS' if ok else 'FAIL'}"
        )
    if fives:
        return 1
    return 3 if missed else 0


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", default="2", help="server worker processes; a list runs each, e.g. 2,4 (default 2)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: wrk shares the cores)")
    p.add_argument("--duration", type=float, default=20, help="seconds per operation (default 20)")
    p.add_argument("--warmup", type=float, default=3, help="seconds of unrecorded load before each (default 3)")
    p.add_argument("--timeout", type=float, default=10, help="wrk's per-request timeout in seconds (default 10)")
    p.add_argument("--ops", default=",".join(OPS), help=f"operations, in order (default {','.join(OPS)})")
    p.add_argument("--cases", type=int, default=1_000_000, help="cases the database holds at least (default 1M)")
    p.add_argument("--db-name", default="banshi_load", help="the database (default banshi_load)")
    p.add_argument("--rebuild", action="store_true", help="build the database again even if it would do")
    p.add_argument("--stewards", type=int, default=16, help="steward accounts to sign in (default 16)")
    p.add_argument("--lookup-codes", type=int, default=500, help="cases given a new query code (default 500)")
    p.add_argument("--seed", type=int, default=2026, help="picks the stewards and the lookup cases")
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL (loopback only)")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis for the service (loopback only)")
    p.add_argument("--pgbench-db", default="banshi_pgbench", help="pgbench's database (default banshi_pgbench)")
    p.add_argument("--pgbench-scale", type=int, default=10, help="pgbench -i scale (default 10)")
    p.add_argument(
        "--pairs",
        type=int,
        default=3,
        help="bare handler and case read measured back to back this many times; the verdict takes the median "
        "of their ratios (default 3)",
    )
    p.add_argument("--no-ceiling", action="store_true", help="skip the bare app and pgbench")
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="sample the service's workers with py-spy during each measured run into this folder (the figures "
        "then include py-spy's cost; py-spy is in the dev group)",
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=30,
        help="seconds to wait before each operation for other work on the machine to stop (default 30)",
    )
    p.add_argument("--startup-timeout", type=float, default=180, help="seconds to wait for GET /health")
    args = p.parse_args(argv)
    try:
        args.workers = [int(w) for w in str(args.workers).split(",") if w.strip()]
    except ValueError:
        p.error("--workers takes numbers, e.g. 2 or 2,4")
    args.ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    unknown = [o for o in args.ops if o not in OPS]
    if unknown:
        p.error(f"unknown operations {unknown}; choose from {', '.join(OPS)}")
    if not args.workers or min(args.workers) < 1 or args.connections < args.threads or args.threads < 1:
        p.error("--workers and --threads must be at least 1, --connections at least --threads")
    if args.duration <= 0 or args.warmup < 0 or args.stewards < 1 or args.lookup_codes < 1:
        p.error("--duration, --stewards and --lookup-codes must be positive")
    return args


async def amain(args: argparse.Namespace) -> int:
    require_loopback(urlsplit(args.pg).hostname, "--pg")
    require_loopback(urlsplit(args.redis).hostname, "--redis")
    if shutil.which("wrk") is None:
        print("wrk is missing: install it (Debian: apt-get install wrk) and run again", file=sys.stderr)
        return 2
    pg = args.pg.rstrip("/")
    work = Path(tempfile.mkdtemp(prefix="banshi-load-"))
    rounds: list[Round] = []
    tps: float | None = None
    pgbench_cmd = "pgbench skipped"
    notes: list[str] = []
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; files in {work}")
    try:
        db_url, keys, held = await prepare_database(pg, args.db_name, args.cases, args.rebuild)
        version = await scalar(f"{pg}/postgres", "SHOW server_version")
        args.pg_version = str(version) if version else None
        print(machine_line(args.pg_version))
        fx = Fixture(await choose_stewards(db_url, args.stewards, args.seed))
        case_ids = [(i, r["id"]) for i, r in await steward_cases(db_url, fx)]
        print(f"{len(fx.stewards)} stewards with {len(case_ids):,} cases between them", flush=True)
        if not args.no_ceiling:
            bench_url = await prepare_pgbench(pg, args.pgbench_db, args.pgbench_scale)
            await wait_for_quiet(args.quiet_wait, "pgbench", notes)
            tps, pgbench_cmd = pgbench(bench_url, args.connections, args.duration)
            print(f"{pgbench_cmd}: {tps:.1f} tps", flush=True)
        runner = Runner(args, db_url, work, fx, case_ids)
        for workers in args.workers:
            rnd = Round(workers)
            rounds.append(rnd)
            await runner.round(rnd, keys)
    except (CommandFailed, OSError, subprocess.SubprocessError) as exc:
        print(f"the run could not be completed: {exc}", file=sys.stderr)
        if rounds:
            report(args, rounds, tps, pgbench_cmd, 0, notes)
        print(f"files kept in {work}", file=sys.stderr)
        return 2
    status = report(args, rounds, tps, pgbench_cmd, held, notes)
    print(f"exit status {status}")
    return status


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(amain(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
