"""Load benchmark: the full case lifecycle over HTTP.

How to run (from the repository root)::

    uv run --group dev python bench/lifecycle.py                        # own server, 2000 cases, 16 tasks
    uv run --group dev python bench/lifecycle.py --cases 200 --concurrency 8 --workers 1
    BENCH_ADMIN_PASSWORD=... uv run --group dev python bench/lifecycle.py \
        --url http://127.0.0.1:8000 --admin-user admin         # a server you started

Without ``--url`` the script drops and recreates the database ``banshi_bench`` on the
PostgreSQL at 127.0.0.1:5432 (user postgres), makes a fresh key set with ``banshi keys
generate`` for the server's environment, starts ``uv run banshi serve`` on a free
loopback port with ``--workers`` processes, waits for ``GET /health``, creates the
administrator ``bench-admin`` with ``banshi users create --role admin`` (a random password
on standard input) and stops the server (its whole process group) at the end. The
server's log goes to a temporary file that is kept, and named, when something went
wrong. With ``--url`` the server and its database are used as they are: the script signs
in as ``--admin-user`` with the password in the environment variable
``BENCH_ADMIN_PASSWORD`` (an account that may work now: no pending password change, no
second factor) and adds stewards, their accounts, workers and cases.

Every /api/v1 request carries ``Authorization: Bearer <token>``. What it measures, with
``httpx.AsyncClient`` and ``--concurrency`` tasks:

1. setup, as the administrator: sign in, ``POST /staff`` (a few stewards) and
   ``POST /accounts`` (a steward account for each, with a temporary password); each
   steward signs in and changes that password (``POST /auth/password``); then, as the
   stewards, ``GET /work-list-items?year=2026`` and ``POST /workers`` (one worker per
   case, each with a fresh valid national ID, registered by its steward to themself);
2. lifecycle, as the worker's steward: per case ``POST /cases`` (with an
   Idempotency-Key) and six ``POST /cases/{id}/transitions`` (accept, start,
   request_materials, receive_materials, resolve, close), each sent with the If-Match
   ETag from the previous response; a case whose step fails is abandoned;
3. reads, timed separately, as the case's steward: ``GET /cases/{id}`` for every case
   (checking that it ended ``closed``) and ``GET /cases`` pages (a steward's cases at
   varying offsets, and ``status=closed``), spread over the stewards.

For each operation it prints the request count, errors (non-2xx responses plus
connection errors and timeouts), requests per second over the phase's wall time, and
the p50/p95/p99 latency in milliseconds (of the requests that got a response), then
the total wall time and the machine (nproc, CPU model).

Safety limits: the script only talks to loopback addresses, sends at most
``--max-requests`` requests (default: what the run needs plus 10%), gives every request
``--request-timeout`` seconds and stops the whole run after ``--time-limit`` seconds.

Exit status: 0 when every request succeeded; 1 when any request got a 5xx; 2 when the
run did not complete (connection errors, timeouts, the time or request cap, a server that
would not start); 3 when there were only 4xx responses or cases that did not end closed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from harness import (
    API,
    Server,
    bearer,
    cli_create_user,
    fresh_database,
    machine_line,
    percentile,
    require_loopback,
    start_server,
    strong_password,
    wait_healthy,
)

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
STEPS: tuple[dict[str, str], ...] = (
    {"action": "accept"},
    {"action": "start"},
    {"action": "request_materials", "materials": "A copy of the employment contract"},
    {"action": "receive_materials"},
    {"action": "resolve", "outcome": "Arranged as requested"},
    {"action": "close"},
)
STEWARDS = 4
ADMIN_USER = "bench-admin"
# Requests per steward before the lifecycle: POST /staff, POST /accounts, sign-in, password change.
STEWARD_SETUP_REQUESTS = 4


class BudgetExceeded(Exception):
    """More requests than --max-requests."""


# --------------------------------------------------------------------------- stats


@dataclass
class Op:
    name: str
    phase: str
    latencies: list[float] = field(default_factory=list)
    count: int = 0
    errors: int = 0
    server_errors: int = 0
    transport_errors: int = 0


@dataclass
class Recorder:
    max_requests: int
    ops: dict[str, Op] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    sent: int = 0
    incomplete: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    samples: dict[str, str] = field(default_factory=dict)
    completed: int | None = None

    def op(self, name: str, phase: str) -> Op:
        if name not in self.ops:
            self.ops[name] = Op(name, phase)
        return self.ops[name]

    def any_5xx(self) -> bool:
        return any(o.server_errors for o in self.ops.values())

    def any_transport_error(self) -> bool:
        return any(o.transport_errors for o in self.ops.values())

    def any_error(self) -> bool:
        return any(o.errors for o in self.ops.values())


class Api:
    """One shared client; every request is counted, timed and attributed to an operation."""

    def __init__(self, client: httpx.AsyncClient, rec: Recorder) -> None:
        self.client = client
        self.rec = rec

    async def call(
        self,
        op: str,
        phase: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> httpx.Response | None:
        stats = self.rec.op(op, phase)
        if self.rec.sent >= self.rec.max_requests:
            raise BudgetExceeded
        self.rec.sent += 1
        if token is not None:
            headers = {**(headers or {}), **bearer(token)}
        start = time.perf_counter()
        try:
            response = await self.client.request(method, API + path, json=json, params=params, headers=headers)
        except httpx.HTTPError as exc:
            stats.count += 1
            stats.errors += 1
            stats.transport_errors += 1
            self.rec.samples.setdefault(f"{op}: {type(exc).__name__}", repr(exc)[:300])
            return None
        # A request cut off by the time limit counts only in the total of requests sent.
        stats.count += 1
        stats.latencies.append(time.perf_counter() - start)
        if not response.is_success:
            stats.errors += 1
            if response.status_code >= 500:
                stats.server_errors += 1
            self.rec.samples.setdefault(f"{op}: HTTP {response.status_code}", response.text[:300])
        return response


async def run_pool(concurrency: int, jobs: Iterable[Callable[[], Awaitable[None]]]) -> None:
    """Run the jobs with at most ``concurrency`` in flight; the first exception stops all."""
    iterator = iter(jobs)

    async def worker() -> None:
        for job in iterator:  # one shared iterator: each job is taken once
            await job()

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
    except ExceptionGroup as group_error:
        # The workers raise plain exceptions (a spent request budget, a failed setup step).
        raise group_error.exceptions[0] from group_error


@contextlib.asynccontextmanager
async def phase(rec: Recorder, name: str) -> AsyncIterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        rec.phases[name] = time.perf_counter() - start


# --------------------------------------------------------------------------- data


def national_id(serial: int, base: date) -> str:
    """A valid resident ID: Yubei district (500112), a birth date and a 3-digit sequence."""
    born = base + timedelta(days=serial // 1000)
    first17 = f"500112{born:%Y%m%d}{serial % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + ID_CHECK[total % 11]


def mobile(serial: int) -> str:
    return f"138{serial % 100_000_000:08d}"


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Steward:
    staff_id: str
    token: str


@dataclass
class Seeded:
    stewards: list[Steward]
    workers: list[tuple[str, Steward]]  # (worker id, their steward)
    items: list[str]


async def sign_in(api: Api, username: str, password: str) -> tuple[str, str]:
    """(token, scope); RuntimeError when the sign-in is refused."""
    r = await api.call(
        "POST /auth/login", "setup", "POST", "/auth/login", json={"username": username, "password": password}
    )
    if r is None or r.status_code != 200:
        raise RuntimeError(f"could not sign in as {username}")
    body = r.json()
    return str(body["access_token"]), str(body["scope"])


async def admin_token(api: Api, username: str, password: str) -> str:
    token, scope = await sign_in(api, username, password)
    if scope != "full":
        raise RuntimeError(f"the account {username} signs in with scope {scope!r}; it must be able to work now")
    return token


async def add_steward(api: Api, admin: str, run: str, i: int) -> Steward | None:
    """A steward's staff record and account (made by the administrator), then the
    steward's first sign-in and password change."""
    r = await api.call(
        "POST /staff",
        "setup",
        "POST",
        "/staff",
        json={"name": f"Bench steward {run}-{i}", "role": "steward", "district_code": "yubei"},
        token=admin,
    )
    if r is None or not r.is_success:
        return None
    staff_id = r.json()["id"]
    username, temporary = f"bench-steward-{run}-{i}", strong_password()
    r = await api.call(
        "POST /accounts",
        "setup",
        "POST",
        "/accounts",
        json={"username": username, "role": "steward", "password": temporary, "staff_id": staff_id},
        token=admin,
    )
    if r is None or not r.is_success:
        return None
    token, scope = await sign_in(api, username, temporary)
    if scope == "password_change":
        r = await api.call(
            "POST /auth/password",
            "setup",
            "POST",
            "/auth/password",
            json={"current_password": temporary, "new_password": strong_password()},
            token=token,
        )
        if r is None or r.status_code != 204:
            return None
    return Steward(staff_id, token)


async def seed(api: Api, rec: Recorder, admin: str, cases: int, concurrency: int) -> Seeded:
    run = uuid.uuid4().hex[:6]
    stewards = [s for i in range(STEWARDS) if (s := await add_steward(api, admin, run, i)) is not None]
    if not stewards:
        raise RuntimeError("could not create any steward")

    r = await api.call(
        "GET /work-list-items",
        "setup",
        "GET",
        "/work-list-items",
        params={"year": 2026},
        token=stewards[0].token,
    )
    if r is None or not r.is_success:
        raise RuntimeError("could not read the 2026 work list")
    items = [item["id"] for item in r.json() if item.get("active", True)]
    if not items:
        raise RuntimeError("the 2026 work list has no active items")

    # A random birth-date base keeps IDs apart from earlier runs against the same database.
    base = date(1950, 1, 1) + timedelta(days=random.randrange(40 * 365))  # noqa: S311 - not security
    workers: list[tuple[str, Steward] | None] = [None] * cases

    def make(i: int) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            steward = stewards[i % len(stewards)]
            r = await api.call(
                "POST /workers",
                "setup",
                "POST",
                "/workers",
                json={
                    "name": f"Bench worker {i}",
                    "national_id": national_id(i, base),
                    "mobile": mobile(i),
                    "employer": "Chongqing Bench Institute",
                    "district_code": "yubei",
                    "steward_id": steward.staff_id,
                },
                token=steward.token,
            )
            if r is not None and r.is_success:
                workers[i] = (r.json()["id"], steward)

        return job

    await run_pool(concurrency, (make(i) for i in range(cases)))
    return Seeded(stewards, [w for w in workers if w is not None], items)


async def lifecycle(api: Api, rec: Recorder, seeded: Seeded, concurrency: int) -> list[tuple[str, Steward]]:
    done: list[tuple[str, Steward]] = []
    abandoned = 0

    def make(i: int, worker_id: str, steward: Steward) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            nonlocal abandoned
            r = await api.call(
                "POST /cases",
                "lifecycle",
                "POST",
                "/cases",
                json={
                    "worker_id": worker_id,
                    "item_id": seeded.items[i % len(seeded.items)],
                    "title": f"Bench case {i}: help with a residence permit",
                    "channel": "phone",
                },
                headers={"Idempotency-Key": str(uuid.uuid4())},
                token=steward.token,
            )
            if r is None or r.status_code != 201:
                abandoned += 1
                return
            case_id = r.json()["id"]
            etag = r.headers.get("ETag", "")
            for body in STEPS:
                r = await api.call(
                    f"transition {body['action']}",
                    "lifecycle",
                    "POST",
                    f"/cases/{case_id}/transitions",
                    json=body,
                    headers={"If-Match": etag},
                    token=steward.token,
                )
                if r is None or r.status_code != 200:
                    abandoned += 1
                    return
                etag = r.headers.get("ETag", "")
            done.append((case_id, steward))

        return job

    try:
        await run_pool(concurrency, (make(i, w, s) for i, (w, s) in enumerate(seeded.workers)))
    finally:
        if abandoned:
            rec.notes.append(f"{abandoned} case(s) abandoned after a failed step")
    return done


async def reads(
    api: Api,
    rec: Recorder,
    cases: list[tuple[str, Steward]],
    stewards: list[Steward],
    list_requests: int,
    concurrency: int,
) -> None:
    not_closed = 0

    def read(case_id: str, steward: Steward) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            nonlocal not_closed
            r = await api.call("GET /cases/{id}", "reads", "GET", f"/cases/{case_id}", token=steward.token)
            if r is not None and r.is_success and r.json().get("status") != "closed":
                not_closed += 1

        return job

    # A steward lists the cases within their reach: their own workers' cases.
    per_steward = -(-len(cases) // max(len(stewards), 1))

    def page(i: int) -> Callable[[], Awaitable[None]]:
        steward = stewards[i % len(stewards)]
        if i % 2 == 0:
            offset = (i // 2 * 50) % max(per_steward, 1)
            op, params = "GET /cases?limit=50&offset=k", {"limit": 50, "offset": offset}
        else:
            op, params = "GET /cases?status=closed&limit=50", {"limit": 50, "status": "closed"}

        async def job() -> None:
            await api.call(op, "reads", "GET", "/cases", params=params, token=steward.token)

        return job

    jobs = itertools.chain((read(c, s) for c, s in cases), (page(i) for i in range(list_requests)))
    # Interleave the single-case reads and the list pages so both see the same load.
    jobs_list = list(jobs)
    random.Random(7).shuffle(jobs_list)  # noqa: S311 - an ordering, not a secret
    try:
        await run_pool(concurrency, jobs_list)
    finally:
        if not_closed:
            rec.notes.append(f"{not_closed} case(s) read back with a status other than closed")


async def load(url: str, args: argparse.Namespace, rec: Recorder, admin_password: str) -> None:
    timeout = httpx.Timeout(args.request_timeout)
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    # trust_env=False: no proxy settings from the environment; the requests stay on loopback.
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits, trust_env=False) as client:
        api = Api(client, rec)
        async with phase(rec, "setup"):
            admin = await admin_token(api, args.admin_user, admin_password)
            seeded = await seed(api, rec, admin, args.cases, args.concurrency)
        if len(seeded.workers) < args.cases:
            rec.notes.append(f"only {len(seeded.workers)} of {args.cases} workers were created")
        async with phase(rec, "lifecycle"):
            done = await lifecycle(api, rec, seeded, args.concurrency)
        rec.completed = len(done)
        async with phase(rec, "reads"):
            await reads(api, rec, done, seeded.stewards, args.list_requests, args.concurrency)


# --------------------------------------------------------------------------- report


def report(rec: Recorder, args: argparse.Namespace, target: str, wall: float, pg_version: str | None) -> None:
    print()
    print(
        f"Banshi lifecycle benchmark: {args.cases} cases, concurrency {args.concurrency}, "
        f"{'own server, ' + str(args.workers) + ' worker(s)' if args.url is None else 'server ' + target}"
    )
    header = (
        f"{'operation':<36} {'count':>7} {'errors':>6} {'5xx':>5} {'req/s':>8} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    )
    current_phase = None
    for op in rec.ops.values():
        if op.phase != current_phase:
            current_phase = op.phase
            seconds = rec.phases.get(op.phase, float("nan"))
            sent = sum(o.count for o in rec.ops.values() if o.phase == op.phase)
            print()
            print(f"[{op.phase}] {seconds:.2f} s, {sent} requests, {sent / seconds:.1f} req/s")
            print(header)
        lat = sorted(op.latencies)
        seconds = rec.phases.get(op.phase, float("nan"))
        print(
            f"{op.name:<36} {op.count:>7} {op.errors:>6} {op.server_errors:>5} {op.count / seconds:>8.1f} "
            f"{percentile(lat, 50) * 1000:>8.1f} {percentile(lat, 95) * 1000:>8.1f} {percentile(lat, 99) * 1000:>8.1f}"
        )
    lifecycle_s = rec.phases.get("lifecycle")
    print()
    if lifecycle_s and rec.completed is not None:
        print(
            f"lifecycle: {rec.completed} of {args.cases} cases completed, "
            f"{rec.completed / lifecycle_s:.1f} cases/s (7 requests each)"
        )
    print(f"total requests sent: {rec.sent}, total wall time: {wall:.2f} s (includes server start when it is ours)")
    print(machine_line(pg_version))
    for note in rec.notes:
        print(f"note: {note}")
    for problem in rec.incomplete:
        print(f"INCOMPLETE: {problem}")
    for key, sample in rec.samples.items():
        print(f"first {key}: {sample}")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", help="a running server's root, e.g. http://127.0.0.1:8000 (default: start one)")
    p.add_argument("--cases", type=int, default=2000, help="cases (and workers) to create (default 2000)")
    p.add_argument("--concurrency", type=int, default=16, help="concurrent tasks (default 16)")
    p.add_argument("--workers", type=int, default=2, help="server worker processes when starting one (default 2)")
    p.add_argument("--list-requests", type=int, default=None, help="GET /cases page requests (default cases/4)")
    p.add_argument(
        "--admin-user",
        default=None,
        help=f"with --url: the administrator to sign in as (password in $BENCH_ADMIN_PASSWORD); "
        f"without: {ADMIN_USER}, made with `banshi users create`",
    )
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL for the own server")
    p.add_argument("--db-name", default="banshi_bench", help="database to drop and recreate (default banshi_bench)")
    p.add_argument("--time-limit", type=float, default=900, help="stop the whole run after this many seconds")
    p.add_argument("--startup-timeout", type=float, default=180, help="seconds to wait for GET /health")
    p.add_argument("--request-timeout", type=float, default=30, help="seconds per request")
    p.add_argument("--max-requests", type=int, default=None, help="request cap (default: what the run needs + 10%%)")
    args = p.parse_args(argv)
    if args.cases < 1 or args.concurrency < 1 or args.workers < 1:
        p.error("--cases, --concurrency and --workers must be at least 1")
    if args.url and not (args.admin_user and os.environ.get("BENCH_ADMIN_PASSWORD")):
        p.error("with --url give --admin-user and set BENCH_ADMIN_PASSWORD")
    if not args.url:
        if args.admin_user not in (None, ADMIN_USER):
            p.error("--admin-user is for --url; the own server's administrator is " + ADMIN_USER)
        args.admin_user = ADMIN_USER
    if args.list_requests is None:
        args.list_requests = max(50, args.cases // 4)
    if args.max_requests is None:
        needed = 1 + STEWARDS * STEWARD_SETUP_REQUESTS + 1 + args.cases * (1 + 1 + len(STEPS) + 1) + args.list_requests
        args.max_requests = int(needed * 1.1) + 10
    return args


async def amain(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    deadline = time.monotonic() + args.time_limit
    rec = Recorder(max_requests=args.max_requests)
    server: Server | None = None
    pg_version: str | None = None
    keep_log = False
    try:
        if args.url:
            parts = urlsplit(args.url)
            require_loopback(parts.hostname, "--url")
            url = args.url.rstrip("/").removesuffix(API)
            admin_password = os.environ["BENCH_ADMIN_PASSWORD"]
        else:
            require_loopback(urlsplit(args.pg).hostname, "--pg")
            try:
                pg_version = await fresh_database(args.pg.rstrip("/") + "/postgres", args.db_name)
            except Exception as exc:  # connection refused, authentication, SQL errors
                print(f"could not recreate database {args.db_name}: {exc!r}", file=sys.stderr)
                return 2
            log = Path(tempfile.mkstemp(prefix="banshi-bench-", suffix=".log")[1])
            try:
                server = start_server(f"{args.pg.rstrip('/')}/{args.db_name}", args.workers, log)
            except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                print(f"could not start the server: {exc!r}", file=sys.stderr)
                return 2
            url = server.url
            print(f"starting the server: {url}, {args.workers} worker(s), database {args.db_name}, log {log}")
            try:
                await wait_healthy(server, min(deadline, time.monotonic() + args.startup_timeout))
            except (RuntimeError, TimeoutError) as exc:
                keep_log = True
                print(f"server did not start: {exc}\n--- server log (tail) ---\n{server.tail()}", file=sys.stderr)
                return 2
            print(f"server healthy after {time.perf_counter() - started:.1f} s")
            admin_password = strong_password()
            try:
                cli_create_user(server.env, "admin", args.admin_user, admin_password)
            except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                keep_log = True
                print(f"could not create the administrator: {exc} (server log: {log})", file=sys.stderr)
                return 2
            print(f"created the administrator {args.admin_user} with `banshi users create`")
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                await load(url, args, rec, admin_password)
        except TimeoutError:
            rec.incomplete.append(f"the time limit of {args.time_limit:g} s was reached")
        except BudgetExceeded:
            rec.incomplete.append(f"the request cap of {args.max_requests} was reached")
        except RuntimeError as exc:
            rec.incomplete.append(str(exc))
    finally:
        if server is not None:
            server.stop()

    report(rec, args, url, time.perf_counter() - started, pg_version)
    if rec.any_5xx():
        status = 1
    elif rec.incomplete or rec.any_transport_error():
        status = 2
    elif rec.any_error() or any("other than closed" in n for n in rec.notes):
        status = 3
    else:
        status = 0
    if server is not None:
        if status != 0 or keep_log:
            print(f"server log kept: {server.log}\n--- server log (tail) ---\n{server.tail()}")
        else:
            server.log.unlink(missing_ok=True)
    print(f"exit status {status}")
    return status


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(amain(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
