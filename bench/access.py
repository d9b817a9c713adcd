"""Benchmark: what the security layer costs.

How to run (from the repository root)::

    uv run --group dev python bench/access.py                  # about 70 s on 2 cores
    uv run --group dev python bench/access.py --seconds 2      # shorter timed steps

The script drops and recreates the database ``banshi_access`` on the PostgreSQL at
127.0.0.1:5432 (user postgres, trust authentication), makes a fresh key set with
``banshi keys generate`` for the server's environment, starts ``uv run banshi serve`` on
a free loopback port with ``--workers`` processes and the production defaults (inherited
``BANSHI_*`` variables are dropped: argon2id time cost 3, 64 MiB, parallelism 4; 30
sign-in attempts per client address per 5 minutes), creates the administrator with
``banshi users create --role admin`` (password on standard input), and at the end stops
the server (its process group) and drops the database.

Setup, over the API: the administrator makes a steward (staff record and account), some
sign-in accounts (role ``official``, which need no linked record) and an auditor; the
steward and the auditor sign in and change their temporary passwords; the steward
registers 16 workers and logs a case for each.

What it measures, with ``httpx.AsyncClient`` and asyncio tasks:

a. sign-in (``POST /auth/login``): argon2id verification in this process for reference;
   one client in a row; 4 clients with their own accounts from 4 loopback addresses
   (127.0.0.3-6, bound with ``local_address``) while another task times ``GET /health``
   (a stall there is the event loop blocked by password hashing); 4 clients from one
   address; and the attempt that meets the per-address limit (expects 429).
b. reads: ``GET /health`` (no auth, no DB), ``GET /api/v1/cases/{id}`` with a token whose
   signature is wrong (401 before any DB work), with a signed-out session's token (401
   after the session look-up: the per-request check alone), ``GET /auth/me`` (the check
   plus one account read) and ``GET /cases/{id}`` with a valid token; each with one
   client (latency) and with 8 (throughput). At the end, the auth_session row counters
   show how often a request wrote ``last_seen_at`` (at most once a minute per session).
c. ``POST /cases/{id}/notes`` (each note appends to the audit trail under one advisory
   lock) with 1, 4 and 16 clients, each client on its own case.
d. ``POST /audit/verify`` as the auditor, over everything the run has appended.

Safety limits: loopback only, every loop bounded in count and time, ``--request-timeout``
per request, ``--time-limit`` for the whole run (default 300 s).

Exit status: 0 when every step got the answers it expected, 1 otherwise, 2 when the run
could not start or did not complete.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from harness import (
    API,
    Server,
    bearer,
    cli_create_user,
    drop_database,
    first_sign_in,
    fresh_database,
    machine_line,
    percentile,
    require_loopback,
    sign_in,
    start_server,
    strong_password,
    wait_healthy,
)
from lifecycle import mobile, national_id

ADMIN_USER = "bench-admin"
CASES = 16
SIGNIN_ACCOUNTS = 9  # one for the one-client run, four for each four-client run
SLOW_PROBE = 0.1  # seconds: a GET /health this slow waited for a blocked event loop
MAX_REQUESTS = 200_000  # a cap on each timed step; no step comes near it at this size


# --------------------------------------------------------------------------- measuring


@dataclass
class Step:
    section: str
    name: str
    clients: int
    latencies: list[float] = field(default_factory=list)
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: int = 0
    wall: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.statuses.values())

    @property
    def rate(self) -> float:
        return self.count / self.wall if self.wall else float("nan")

    def ms(self, q: float) -> float:
        return percentile(sorted(self.latencies), q) * 1000

    @property
    def max_ms(self) -> float:
        return max(self.latencies, default=float("nan")) * 1000


Request = Callable[[int, int], Awaitable[httpx.Response]]
"""(client index, request index within that client) -> response."""


async def drive(
    section: str,
    name: str,
    clients: int,
    request: Request,
    *,
    expect: int,
    each: int | None = None,
    seconds: float | None = None,
) -> Step:
    """``clients`` tasks, each sending ``each`` requests or for ``seconds``, one at a time."""
    step = Step(section, name, clients)
    end = time.perf_counter() + (seconds if seconds is not None else 3600)
    limit = each if each is not None else MAX_REQUESTS // clients

    async def client(i: int) -> None:
        n = 0
        while n < limit and time.perf_counter() < end:
            start = time.perf_counter()
            try:
                r = await request(i, n)
            except httpx.HTTPError as exc:
                step.statuses[type(exc).__name__] += 1
                step.errors += 1
            else:
                step.latencies.append(time.perf_counter() - start)
                step.statuses[str(r.status_code)] += 1
                if r.status_code != expect:
                    step.errors += 1
            n += 1

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for i in range(clients):
            group.create_task(client(i))
    step.wall = time.perf_counter() - started
    return step


@dataclass
class Run:
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        if step.errors:
            self.problems.append(f"{step.name} ({step.clients} clients): {dict(step.statuses)}")
        return step


# --------------------------------------------------------------------------- setup


@dataclass
class World:
    url: str
    dsn: str
    admin: str
    steward: str
    auditor: str
    cases: list[str]
    signin: list[tuple[str, str]]  # (user name, password) of the sign-in accounts


def client_for(
    url: str, *, address: str | None = None, connections: int = 1, keepalive: bool = True
) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(
        local_address=address,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections if keepalive else 0),
    )
    # trust_env=False: no proxy settings from the environment; the requests stay on loopback.
    return httpx.AsyncClient(base_url=url, transport=transport, timeout=ARGS.request_timeout, trust_env=False)


async def expect(r: httpx.Response, status: int, what: str) -> httpx.Response:
    if r.status_code != status:
        raise RuntimeError(f"{what} answered {r.status_code}: {r.text[:300]}")
    return r


async def set_up(url: str, dsn: str, admin_password: str) -> World:
    async with client_for(url, address="127.0.0.1", connections=8) as c:
        admin, scope = await sign_in(c, ADMIN_USER, admin_password)
        if scope != "full":
            raise RuntimeError(f"{ADMIN_USER} signs in with scope {scope}")
        run = uuid.uuid4().hex[:6]

        async def account(username: str, role: str, staff_id: str | None = None) -> str:
            password = strong_password()
            body = {"username": username, "role": role, "password": password, "staff_id": staff_id}
            await expect(await c.post(f"{API}/accounts", json=body, headers=bearer(admin)), 201, "POST /accounts")
            return password

        r = await expect(
            await c.post(
                f"{API}/staff",
                json={"name": f"Bench steward {run}", "role": "steward", "district_code": "yubei"},
                headers=bearer(admin),
            ),
            201,
            "POST /staff",
        )
        staff_id = r.json()["id"]
        steward_name, auditor_name = f"bench-steward-{run}", f"bench-auditor-{run}"
        steward_password = await account(steward_name, "steward", staff_id)
        auditor_password = await account(auditor_name, "auditor")
        signin = [
            (f"bench-signin-{run}-{i}", await account(f"bench-signin-{run}-{i}", "official"))
            for i in range(SIGNIN_ACCOUNTS)
        ]
        steward = await first_sign_in(c, steward_name, steward_password)
        auditor = await first_sign_in(c, auditor_name, auditor_password)

        r = await expect(
            await c.get(f"{API}/work-list-items", params={"year": 2026}, headers=bearer(steward)), 200, "work list"
        )
        items = [item["id"] for item in r.json() if item.get("active", True)]
        base = date(1950, 1, 1) + timedelta(days=random.randrange(40 * 365))  # noqa: S311 - not security

        async def case(i: int) -> str:
            worker = {
                "name": f"Bench worker {i}",
                "national_id": national_id(i, base),
                "mobile": mobile(i),
                "employer": "Chongqing Bench Institute",
                "district_code": "yubei",
                "steward_id": staff_id,
            }
            r = await c.post(f"{API}/workers", json=worker, headers=bearer(steward))
            worker_id = (await expect(r, 201, "POST /workers")).json()["id"]
            body = {"worker_id": worker_id, "item_id": items[i % len(items)], "title": f"Bench case {i}"}
            r = await c.post(f"{API}/cases", json={**body, "channel": "phone"}, headers=bearer(steward))
            return str((await expect(r, 201, "POST /cases")).json()["id"])

        cases = list(await asyncio.gather(*(case(i) for i in range(CASES))))
        return World(url, dsn, admin, steward, auditor, cases, signin)


# --------------------------------------------------------------------------- (a) sign-in


def argon2_reference(run: Run) -> None:
    """The hash alone, in this process, with the service's production parameters."""
    from argon2 import PasswordHasher, Type  # the service's dependency, in the same environment

    hasher = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, type=Type.ID)
    stored = hasher.hash("Bn7-reference password")
    step = Step("a. sign-in", "argon2id verify, in-process (t=3, 64 MiB, p=4)", 1)
    started = time.perf_counter()
    for _ in range(8):
        t = time.perf_counter()
        hasher.verify(stored, "Bn7-reference password")
        step.latencies.append(time.perf_counter() - t)
        step.statuses["ok"] += 1
    step.wall = time.perf_counter() - started
    run.add(step)


async def sign_ins(run: Run, world: World) -> None:
    section = "a. sign-in"
    accounts = world.signin

    def login(c: httpx.AsyncClient, account: tuple[str, str]) -> Awaitable[httpx.Response]:
        return c.post(f"{API}/auth/login", json={"username": account[0], "password": account[1]})

    # One client, one account, in a row.
    async with client_for(world.url, address="127.0.0.2") as c:
        run.add(
            await drive(
                section, "POST /auth/login, 1 address", 1, lambda i, n: login(c, accounts[0]), expect=200, each=12
            )
        )

    # Four clients, each with its own account and address; GET /health timed alongside.
    clients = [client_for(world.url, address=f"127.0.0.{3 + i}") for i in range(4)]
    # A new connection for every probe, so that the probes land on every worker process.
    probe_client = client_for(world.url, address="127.0.0.1", keepalive=False)
    try:
        idle = await drive(
            section,
            "GET /health, new connection each, idle",
            1,
            lambda i, n: probe_client.get("/health"),
            expect=200,
            each=50,
        )
        run.add(idle)
        done = asyncio.Event()

        async def probe() -> Step:
            step = Step(section, "GET /health, same, during 4-client sign-ins", 1)
            started = time.perf_counter()
            while not done.is_set() and step.count < MAX_REQUESTS:
                t = time.perf_counter()
                r = await probe_client.get("/health")
                step.latencies.append(time.perf_counter() - t)
                step.statuses[str(r.status_code)] += 1
                step.errors += r.status_code != 200
                await asyncio.sleep(0.005)
            step.wall = time.perf_counter() - started
            return step

        probe_task = asyncio.create_task(probe())
        try:
            async with LockSampler(world.dsn) as sampler:
                spread = await drive(
                    section,
                    "POST /auth/login, 4 addresses",
                    4,
                    lambda i, n: login(clients[i], accounts[1 + i]),
                    expect=200,
                    each=6,
                )
        finally:
            done.set()
        run.add(spread)
        probed = run.add(await probe_task)
        run.notes.append(f"sign-in, 4 addresses: {sampler.summary()}")
        slow = sum(t > SLOW_PROBE for t in probed.latencies)
        run.notes.append(
            f"GET /health during the 4-client sign-ins: {slow} of {probed.count} took over "
            f"{SLOW_PROBE * 1000:.0f} ms (idle: max {idle.max_ms:.1f} ms)"
        )
    finally:
        for c in (*clients, probe_client):
            await c.aclose()

    # Four clients, own accounts, one address: the per-address counter row.
    async with client_for(world.url, address="127.0.0.7", connections=4) as c:
        async with LockSampler(world.dsn) as sampler:
            run.add(
                await drive(
                    section,
                    "POST /auth/login, 4 clients, 1 address",
                    4,
                    lambda i, n: login(c, accounts[5 + i]),
                    expect=200,
                    each=6,
                )
            )
        run.notes.append(f"sign-in, 4 clients, 1 address: {sampler.summary()}")
        # Attempts 25.. from that address: the limit is 30 per 5 minutes, so #31 should be refused.
        statuses: list[int] = []
        retry_after = ""
        for _ in range(10):
            r = await login(c, accounts[5])
            statuses.append(r.status_code)
            if r.status_code != 200:
                retry_after = r.headers.get("Retry-After", "")
                break
        attempt = 24 + len(statuses)
        if statuses and statuses[-1] == 429:
            run.notes.append(
                f"per-address limit: attempt #{attempt} from 127.0.0.7 answered 429, Retry-After {retry_after} s"
            )
        else:
            run.problems.append(f"per-address limit: attempts 25-{attempt} from one address answered {statuses}")


# --------------------------------------------------------------------------- (b) reads


async def reads(run: Run, world: World, seconds: float) -> None:
    section = "b. reads"
    async with client_for(world.url, address="127.0.0.8") as c:
        gone, _ = await sign_in(c, *world.signin[0])
        await expect(await c.post(f"{API}/auth/logout", headers=bearer(gone)), 204, "POST /auth/logout")
    head, _, signature = world.steward.rpartition(".")
    forged = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    cases = world.cases
    ladder: list[tuple[str, int, Callable[[httpx.AsyncClient, int, int], Awaitable[httpx.Response]]]] = [
        ("GET /health (no auth, no DB)", 200, lambda c, i, n: c.get("/health")),
        (
            "GET /cases/{id}, bad signature -> 401",
            401,
            lambda c, i, n: c.get(f"{API}/cases/{cases[n % CASES]}", headers=bearer(forged)),
        ),
        (
            "GET /cases/{id}, signed out -> 401",
            401,
            lambda c, i, n: c.get(f"{API}/cases/{cases[n % CASES]}", headers=bearer(gone)),
        ),
        ("GET /auth/me", 200, lambda c, i, n: c.get(f"{API}/auth/me", headers=bearer(world.steward))),
        (
            "GET /cases/{id}",
            200,
            lambda c, i, n: c.get(f"{API}/cases/{cases[(i + n) % CASES]}", headers=bearer(world.steward)),
        ),
    ]
    for clients in (1, 8):
        async with client_for(world.url, connections=clients) as c:
            for name, status, call in ladder:
                # Warm the connections and the server's pools first.
                await drive(section, name, clients, lambda i, n, call=call: call(c, i, n), expect=status, each=3)
                step = await drive(
                    section, name, clients, lambda i, n, call=call: call(c, i, n), expect=status, seconds=seconds
                )
                run.add(step)
    by_name = {(st.name, st.clients): st for st in run.steps if st.section == section}
    for clients in (1, 8):
        forged_step = by_name[("GET /cases/{id}, bad signature -> 401", clients)]
        gone_step = by_name[("GET /cases/{id}, signed out -> 401", clients)]
        read_step = by_name[("GET /cases/{id}", clients)]
        check = gone_step.ms(50) - forged_step.ms(50)
        run.notes.append(
            f"reads, {clients} client(s): the session check (signed out - bad signature, p50) is "
            f"{check:.1f} ms of the {read_step.ms(50):.1f} ms read; throughput with the check alone "
            f"{gone_step.rate:.0f} req/s, full read {read_step.rate:.0f} req/s"
        )


# --------------------------------------------------------------------------- (c) audited writes


async def notes(run: Run, world: World, seconds: float) -> None:
    section = "c. audited writes"
    for clients in (1, 4, 16):
        async with client_for(world.url, connections=clients) as c:

            def note(i: int, n: int, c: httpx.AsyncClient = c) -> Awaitable[httpx.Response]:
                return c.post(
                    f"{API}/cases/{world.cases[i % CASES]}/notes",
                    json={"note": f"Bench note {n} from client {i}", "visibility": "internal"},
                    headers=bearer(world.steward),
                )

            await drive(section, "warm-up", clients, note, expect=201, each=2)
            async with LockSampler(world.dsn) as sampler:
                run.add(await drive(section, "POST /cases/{id}/notes", clients, note, expect=201, seconds=seconds))
            run.notes.append(f"notes, {clients:>2} client(s): {sampler.summary()}")


class LockSampler:
    """Samples pg_stat_activity of the bench database every 20 ms: backends waiting on an
    advisory lock (the audit chain's) or on a row lock (another transaction's row), and
    backends idle inside a transaction (waiting on the server's Python while they hold
    what they have locked)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.samples: list[tuple[int, int, int, int]] = []
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def __aenter__(self) -> LockSampler:
        import asyncpg

        self._conn = await asyncpg.connect(self.dsn, timeout=10)
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        query = (
            "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'), "
            "count(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')), "
            "count(*) FILTER (WHERE state = 'idle in transaction'), "
            "count(*) FILTER (WHERE state = 'active') "
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        while not self._stop.is_set() and len(self.samples) < 10_000:
            row = await self._conn.fetchrow(query)
            self.samples.append((int(row[0]), int(row[1]), int(row[2]), int(row[3])))
            await asyncio.sleep(0.02)

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        await self._conn.close()

    def summary(self) -> str:
        if not self.samples:
            return "no pg_stat_activity samples"
        n = len(self.samples)
        advisory, row_lock, idle_tx, active = (sum(s[k] for s in self.samples) / n for k in range(4))
        return (
            f"backends on average: {advisory:.1f} waiting on the advisory lock, {row_lock:.1f} on a row lock, "
            f"{active:.1f} active, {idle_tx:.1f} idle in transaction ({n} samples)"
        )


# --------------------------------------------------------------------------- (d) verify


async def verify(run: Run, world: World) -> None:
    section = "d. audit verify"
    async with client_for(world.url) as c:
        for attempt in (1, 2):
            step = Step(section, f"POST /audit/verify (#{attempt})", 1)
            started = time.perf_counter()
            r = await c.post(f"{API}/audit/verify", headers=bearer(world.auditor))
            step.wall = time.perf_counter() - started
            step.latencies.append(step.wall)
            step.statuses[str(r.status_code)] += 1
            if r.status_code != 200:
                step.errors += 1
                run.add(step)
                continue
            report = r.json()
            rows = report["rows_checked"]
            step.name += f", {rows} rows"
            run.add(step)
            run.notes.append(
                f"audit verify #{attempt}: {rows} rows in {step.wall * 1000:.0f} ms "
                f"({rows / step.wall:,.0f} rows/s), intact={report['intact']}"
            )
            if not report["intact"]:
                run.problems.append(f"the audit chain is broken: {report}")


# --------------------------------------------------------------------------- report


async def table_counters(dsn: str) -> dict[str, tuple[int, int]]:
    """(inserted, updated) rows per table, from PostgreSQL's statistics (read after the
    server has stopped: a backend reports its counts at latest when it exits)."""
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_user_tables "
            "WHERE relname IN ('auth_session', 'audit_event', 'case_event')"
        )
    finally:
        await conn.close()
    return {r["relname"]: (int(r["n_tup_ins"]), int(r["n_tup_upd"])) for r in rows}


def report(run: Run, wall: float, pg_version: str | None, client_cpu: float) -> None:
    print()
    print(f"Banshi access benchmark: own server, {ARGS.workers} worker(s), {ARGS.seconds:g} s per timed step")
    header = (
        f"{'step':<50} {'clients':>7} {'n':>6} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
    )
    section = None
    for step in run.steps:
        if step.section != section:
            section = step.section
            print(f"\n[{section}]")
            print(header)
        print(
            f"{step.name:<50} {step.clients:>7} {step.count:>6} {step.errors:>6} {step.rate:>8.1f} "
            f"{step.ms(50):>8.1f} {step.ms(95):>8.1f} {step.max_ms:>8.1f}"
        )
    print()
    for note in run.notes:
        print(f"note: {note}")
    print(
        f"bench client CPU: {client_cpu:.1f} s of {wall:.1f} s wall "
        "(it shares the 2 cores with the server and PostgreSQL)"
    )
    print(f"total wall time: {wall:.2f} s (includes server start)")
    print(machine_line(pg_version))
    for problem in run.problems:
        print(f"PROBLEM: {problem}")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    p.add_argument("--seconds", type=float, default=3.0, help="length of each timed step (default 3)")
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL for the server")
    p.add_argument("--db-name", default="banshi_access", help="database to create and drop (default banshi_access)")
    p.add_argument("--keep-db", action="store_true", help="leave the database in place at the end")
    p.add_argument("--keep-log", action="store_true", help="keep the server log even when all went well")
    p.add_argument("--time-limit", type=float, default=300, help="stop the whole run after this many seconds")
    p.add_argument("--startup-timeout", type=float, default=180, help="seconds to wait for GET /health")
    p.add_argument("--request-timeout", type=float, default=30, help="seconds per request")
    args = p.parse_args(argv)
    if args.workers < 1 or not 0.5 <= args.seconds <= 30:
        p.error("--workers must be at least 1 and --seconds between 0.5 and 30")
    return args


ARGS = argparse.Namespace()


async def amain() -> tuple[int, Path]:
    started = time.perf_counter()
    cpu_started = time.process_time()
    deadline = time.monotonic() + ARGS.time_limit
    require_loopback(urlsplit(ARGS.pg).hostname, "--pg")
    admin_dsn = ARGS.pg.rstrip("/") + "/postgres"
    db_dsn = f"{ARGS.pg.rstrip('/')}/{ARGS.db_name}"
    try:
        pg_version = await fresh_database(admin_dsn, ARGS.db_name)
    except Exception as exc:  # connection refused, authentication, SQL errors
        print(f"could not recreate database {ARGS.db_name}: {exc!r}", file=sys.stderr)
        return 2, Path()
    log = Path(tempfile.mkstemp(prefix="banshi-access-", suffix=".log")[1])
    run = Run()
    server: Server | None = None
    incomplete: str | None = None
    counters: dict[str, tuple[int, int]] = {}
    try:
        server = start_server(db_dsn, ARGS.workers, log)
        print(f"starting the server: {server.url}, {ARGS.workers} worker(s), database {ARGS.db_name}, log {log}")
        await wait_healthy(server, min(deadline, time.monotonic() + ARGS.startup_timeout))
        print(f"server healthy after {time.perf_counter() - started:.1f} s")
        admin_password = strong_password()
        cli_create_user(server.env, "admin", ADMIN_USER, admin_password)
        print(f"created the administrator {ADMIN_USER} with `banshi users create`")
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            world = await set_up(server.url, db_dsn, admin_password)
            print(f"set up after {time.perf_counter() - started:.1f} s; measuring")
            argon2_reference(run)
            await sign_ins(run, world)
            await reads(run, world, ARGS.seconds)
            await notes(run, world, ARGS.seconds)
            await verify(run, world)
    except TimeoutError:
        incomplete = f"the time limit of {ARGS.time_limit:g} s was reached (or the server did not start)"
    except (RuntimeError, OSError, subprocess.SubprocessError, httpx.HTTPError) as exc:
        incomplete = f"{type(exc).__name__}: {exc}"
    finally:
        if server is not None:
            server.stop()
        try:
            counters = await table_counters(db_dsn)
        except Exception as exc:  # the statistics are a bonus
            run.notes.append(f"could not read the table statistics: {exc!r}")
        if not ARGS.keep_db:
            try:
                await drop_database(admin_dsn, ARGS.db_name)
            except Exception as exc:
                print(f"could not drop database {ARGS.db_name}: {exc!r}", file=sys.stderr)

    if counters:
        ins, upd = counters.get("auth_session", (0, 0))
        authed = sum(s.count for s in run.steps if s.section != "a. sign-in" and "health" not in s.name)
        run.notes.append(
            f"auth_session over the run: {ins} rows inserted (sign-ins), {upd} updated (sign-out, password "
            f"changes, last_seen_at touches) against ~{authed} requests with a token"
        )
        run.notes.append(
            f"audit_event rows inserted: {counters.get('audit_event', (0, 0))[0]}; "
            f"case_event rows inserted: {counters.get('case_event', (0, 0))[0]}"
        )
    report(run, time.perf_counter() - started, pg_version, time.process_time() - cpu_started)
    if incomplete:
        print(f"INCOMPLETE: {incomplete}")
        print(f"server log kept: {log}\n--- server log (tail) ---\n{server.tail() if server else ''}")
        status = 2
    elif run.problems:
        print(f"server log kept: {log}")
        status = 1
    else:
        status = 0
    return status, log


def main(argv: list[str] | None = None) -> int:
    global ARGS
    ARGS = parse_args(argv)
    status, log = asyncio.run(amain())
    if status == 0 and not ARGS.keep_log:
        log.unlink(missing_ok=True)
    elif status == 0:
        print(f"server log kept: {log}")
    print(f"exit status {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())
