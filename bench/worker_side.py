"""Benchmark: the science worker's side (public lookup, own cases, attachments).

How to run (from the repository root)::

    uv run --group dev python bench/worker_side.py               # about 4 minutes on 2 busy cores
    uv run --group dev python bench/worker_side.py --workers 2 --requests 1000 --concurrency 16
    uv run --group dev python bench/worker_side.py --database-url postgresql://postgres@127.0.0.1:5432/banshi_worker_side

The script drops and recreates the database named by ``--database-url`` (default
``banshi_worker_side`` on the PostgreSQL at 127.0.0.1:5432, user postgres, trust
authentication), makes a fresh key set with ``banshi keys generate``, starts ``uv run
banshi serve`` on a free loopback port (uvicorn, ``--workers`` processes, the production
defaults apart from the settings named below), creates the administrator with ``banshi
users create --role admin`` (password on standard input), and at the end stops the
server (its process group), drops the database, deletes its Redis keys and the
attachment folder. The server is started three times on the same database and keys:

* Redis counters, ``--workers`` processes: setup, the lookups, the lock check, the
  worker's own views and the attachments;
* Redis counters, one process (only when ``--workers`` is not 1): the lookups again, so
  that the in-process counters are compared with Redis at the same process count;
* in-process counters (no ``BANSHI_REDIS_URL``), one process, since such counters are per
  process: the lookups and the lock check.

Settings for every start: ``BANSHI_REDIS_URL`` (``--redis-url``) with a prefix
``BANSHI_REDIS_PREFIX=banshi-bench-<run>-<n>:`` of its own, ``BANSHI_LOOKUP_LIMIT_PER_ADDRESS
=10000000`` (all lookups come from 127.0.0.1), ``BANSHI_LOOKUP_LOCK_THRESHOLD=20`` (wrong
lookups use a new case number each, so none comes near it, and the lock check can still
reach it) and ``BANSHI_ATTACHMENTS_DIR`` in a temporary folder.

Setup, over the API: the administrator makes a steward (staff record and account); the
steward registers 10 workers and logs ``--cases`` cases (default 200, 20 per worker),
keeping each case's number and query code from the creation response, and moves them
on (a quarter stays submitted, the others are accepted, started or asked for
materials); the administrator makes a worker account for the first worker, who signs in
and changes the temporary password.

What it measures, with ``httpx.AsyncClient`` and ``--concurrency`` tasks sharing
``--requests`` requests, after a warm-up of ``--requests``/10:

1. ``GET /api/v1/lookup?case_no=&code=`` with the right code, over all the cases, on each
   server; wrong-code lookups (404) with a new unknown case number each; then the lock
   check (not on the extra one-process Redis server): 20 wrong codes for one real case
   number, each on a new connection (so that, with several processes, they land on
   either), then its right code must answer 429, and after the steward reissues the
   code (``POST /cases/{id}/query-code``) the new code must answer 200.
2. The worker's own views: ``GET /api/v1/my/cases`` and ``GET /api/v1/my/cases/{id}``
   over that worker's cases.
3. Attachments, as the steward, one at a time on one connection: ``--uploads`` (default
   10) uploads each of a 1 MiB and a 20 MiB PDF (20 MiB is the limit) to ``POST
   /cases/{id}/attachments`` (the answer's SHA-256 and size checked), then the same files
   back from ``GET /attachments/{id}/content`` (the bytes compared); one file a byte over
   the limit (must answer 413); and the memory of the uvicorn worker processes (found as
   descendants of the server's pid) around each group: VmRSS before and after, and the
   peak: VmHWM after resetting it (``/proc/<pid>/clear_refs``), or where that is refused,
   VmRSS sampled every 10 ms.

It prints a table per part (count, unexpected answers, 5xx, requests/s over the step's
wall time, p50/p95/p99/max latency, and the CPU time per request of the uvicorn
processes, the database's PostgreSQL backends, redis-server and this client, read from
/proc, with the machine's busy share and the part of it used by anything else: on a
shared machine the rates and latencies move with other work, the CPU per request much
less), the checks, the server logs' error lines (and whether a query code appears in
them), the load average, and the machine: CPU count and model, PostgreSQL and Redis
versions.

Safety limits: loopback only (server, PostgreSQL, Redis), every loop bounded by a count,
``--request-timeout`` per request, ``--time-limit`` for the whole run (default 600 s).

Exit status: 0 when every request got the answer it expected and every check held; 1
otherwise (5xx, wrong answers, failed checks); 2 when the run could not start or did not
complete.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import hashlib
import itertools
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from harness import (
    API,
    KEY_NAMES,
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.samples import make_pdf

ADMIN_USER = "bench-admin"
WORKERS = 10  # registered workers; the cases are spread over them, the first has an account
LOCK_THRESHOLD = 20
LOOKUP_LIMIT = 10_000_000
WRONG_CODE = "2222-2222"
MIB = 1024 * 1024
MAX_ATTACHMENT = 20 * MIB  # service/domain/file_types.py: MAX_ATTACHMENT_BYTES
# Per case, by index modulo 4: the moves after creation.
PATHS: tuple[tuple[dict[str, str], ...], ...] = (
    (),
    ({"action": "accept"},),
    ({"action": "accept"}, {"action": "start"}),
    (
        {"action": "accept"},
        {"action": "request_materials", "materials": "A copy of the degree certificate", "visibility": "public"},
    ),
)


# --------------------------------------------------------------------------- measuring


@dataclass
class Step:
    section: str
    name: str
    server: str
    clients: int
    latencies: list[float] = field(default_factory=list)
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    unexpected: int = 0
    wall: float = 0.0
    bytes_moved: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds over the step: "app" (the uvicorn processes), "pg" (the PostgreSQL
    backends of the bench database), "redis" (redis-server), "bench" (this process);
    shares of all the machine's cores: "busy" (in use), "others" (in use by anything else)."""

    def cpu_ms(self, who: str) -> float:
        return self.cpu[who] / self.count * 1000 if who in self.cpu and self.count else float("nan")

    @property
    def count(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith("5"))

    @property
    def rate(self) -> float:
        return self.count / self.wall if self.wall else float("nan")

    def ms(self, q: float) -> float:
        return percentile(sorted(self.latencies), q) * 1000

    @property
    def max_ms(self) -> float:
        return max(self.latencies, default=float("nan")) * 1000


@dataclass
class Run:
    steps: list[Step] = field(default_factory=list)
    transfers: list[Step] = field(default_factory=list)
    memory: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    samples: dict[str, str] = field(default_factory=dict)

    def add(self, step: Step, *, transfer: bool = False) -> Step:
        (self.transfers if transfer else self.steps).append(step)
        if step.unexpected:
            self.problems.append(f"{step.name} [{step.server}]: {dict(step.statuses)}")
        return step

    def check(self, ok: bool, text: str) -> None:
        self.checks.append(f"{'ok  ' if ok else 'FAIL'} {text}")
        if not ok:
            self.problems.append(f"check failed: {text}")


Request = Callable[[int], Awaitable[httpx.Response]]
"""(request number) -> response."""


async def drive(run: Run, step: Step, total: int, request: Request, expect: int) -> Step:
    """``step.clients`` tasks sharing ``total`` requests, each task one request at a time."""
    numbers = itertools.count()

    async def client() -> None:
        while (n := next(numbers)) < total:
            start = time.perf_counter()
            try:
                r = await request(n)
            except httpx.HTTPError as exc:
                step.statuses[type(exc).__name__] += 1
                step.unexpected += 1
                run.samples.setdefault(f"{step.name}: {type(exc).__name__}", repr(exc)[:300])
                continue
            step.latencies.append(time.perf_counter() - start)
            step.statuses[str(r.status_code)] += 1
            if r.status_code != expect:
                step.unexpected += 1
                run.samples.setdefault(f"{step.name}: HTTP {r.status_code}", r.text[:300])

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(step.clients):
            group.create_task(client())
    step.wall = time.perf_counter() - started
    return step


async def measure(
    run: Run, section: str, name: str, server: str, request: Request, *, expect: int, warm_up: bool = True
) -> Step:
    """A warm-up (not recorded), then the timed step."""
    if warm_up:
        await drive(run, Step(section, name, server, ARGS.concurrency), ARGS.requests // 10, request, expect)
    step = Step(section, name, server, ARGS.concurrency)
    meter = CpuMeter(app_pids())
    await drive(run, step, ARGS.requests, request, expect)
    step.cpu = meter.stop()
    return run.add(step)


def client_for(url: str, *, connections: int = 1, keepalive: bool = True) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections if keepalive else 0)
    # trust_env=False: no proxy settings from the environment; the requests stay on loopback.
    return httpx.AsyncClient(base_url=url, timeout=ARGS.request_timeout, limits=limits, trust_env=False)


async def expect(r: httpx.Response, status: int, what: str) -> httpx.Response:
    if r.status_code != status:
        raise RuntimeError(f"{what} answered {r.status_code}: {r.text[:300]}")
    return r


# --------------------------------------------------------------------------- server processes


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (2nd field) is in parentheses and may hold spaces.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def uvicorn_processes(server: Server, workers: int) -> dict[int, str]:
    """pid -> role of the processes that serve: the workers (and, with several, the
    supervisor that started them); not ``uv`` or multiprocessing's resource tracker."""
    found: dict[int, str] = {}
    for pid in descendants(server.proc.pid):
        cmd = cmdline(pid)
        if "resource_tracker" in cmd:
            continue
        if "multiprocessing" in cmd and "spawn_main" in cmd:
            found[pid] = "worker"
        elif "banshi serve" in cmd and pid != server.proc.pid:
            found[pid] = "worker" if workers == 1 else "supervisor"
    return found


def status_kib(pid: int, field_name: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


CURRENT: tuple[Server, int] | None = None
"""The server being measured and its number of worker processes."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def app_pids() -> list[int]:
    if CURRENT is None:
        return []
    server, workers = CURRENT
    return list(uvicorn_processes(server, workers))


def cpu_ticks(app: list[int]) -> dict[str, dict[int, int]]:
    """utime + stime of every process of interest, by group and pid."""
    found: dict[str, dict[int, int]] = {"app": {}, "pg": {}, "redis": {}}
    wanted = set(app)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        pid, comm = int(entry.name), stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat.rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        if pid in wanted:
            found["app"][pid] = ticks
        elif comm == "postgres" and f" {DB_NAME} " in cmdline(pid):  # "postgres: user db host(port) state"
            found["pg"][pid] = ticks
        elif comm.startswith("redis-server"):
            found["redis"][pid] = ticks
    return found


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is counted in user already
    return total - idle, total


class CpuMeter:
    """CPU time spent between its creation and ``stop()``, by group of processes. A
    process that exits in between loses its share (the pools keep theirs open)."""

    def __init__(self, app: list[int]) -> None:
        self.app = app
        self.start = cpu_ticks(app)
        self.machine = machine_ticks()
        self.bench = time.process_time()

    def stop(self) -> dict[str, float]:
        end = cpu_ticks(self.app)
        busy, total = machine_ticks()
        result = {
            group: sum(t - self.start[group].get(pid, 0) for pid, t in end[group].items()) / CLOCK_TICKS
            for group in end
        }
        result["bench"] = time.process_time() - self.bench
        result["busy"] = (busy - self.machine[0]) / max(total - self.machine[1], 1)
        # The machine's busy time not spent by the processes above: other work sharing it.
        used = (busy - self.machine[0]) / CLOCK_TICKS
        result["others"] = max(0.0, used - sum(result[g] for g in ("app", "pg", "redis", "bench"))) / max(
            (total - self.machine[1]) / CLOCK_TICKS, 1e-9
        )
        return result


class RssSampler:
    """VmRSS of the given processes every 10 ms: the highest value seen per process."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.peak: dict[int, int] = {}
        self.samples = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RssSampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        while not self._stop.is_set() and self.samples < 100_000:
            for pid in self.pids:
                rss = status_kib(pid, "VmRSS")
                if rss is not None:
                    self.peak[pid] = max(self.peak.get(pid, 0), rss)
            self.samples += 1
            await asyncio.sleep(0.01)

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task


# --------------------------------------------------------------------------- own server


@dataclass
class Running:
    server: Server
    label: str
    workers: int
    prefix: str | None


class ServerLogs:
    """The logs of the servers started, and the lines in them that look like trouble."""

    def __init__(self) -> None:
        self.logs: list[tuple[str, Path]] = []
        self.trouble: list[str] = []
        self.notes: list[str] = []

    def scan(self, label: str, log: Path, secrets_: list[str]) -> None:
        try:
            lines = log.read_text(errors="replace").splitlines()
        except OSError:
            return
        bad = [ln for ln in lines if "Traceback" in ln or " ERROR" in ln or "ERROR:" in ln or '" 5' in ln]
        warnings = [ln for ln in lines if "WARNING" in ln]
        leaked = sum(1 for ln in lines for s in secrets_ if s in ln)
        if bad:
            self.trouble.append(f"{label}: {len(bad)} error line(s) in {log}, the first: {bad[0][:300]}")
        if leaked:
            self.trouble.append(f"{label}: {leaked} log line(s) carry a query code in clear ({log})")
        self.notes.append(
            f"{label}: server log {len(lines)} lines, {len(bad)} error lines, {len(warnings)} warnings, "
            f"{leaked} with a query code in clear"
        )


@contextlib.asynccontextmanager
async def own_server(
    label: str, workers: int, db_url: str, env: dict[str, str], logs: ServerLogs, deadline: float
) -> AsyncIterator[Server]:
    global CURRENT
    log = Path(tempfile.mkstemp(prefix="banshi-worker-side-", suffix=".log")[1])
    logs.logs.append((label, log))
    started = time.perf_counter()
    server = start_server(db_url, workers, log, env)
    print(f"[{label}] starting the server: {server.url}, {workers} worker(s), log {log}", flush=True)
    try:
        await wait_healthy(server, min(deadline, time.monotonic() + ARGS.startup_timeout))
        print(f"[{label}] healthy after {time.perf_counter() - started:.1f} s", flush=True)
        CURRENT = (server, workers)
        yield server
    finally:
        CURRENT = None
        server.stop()


# --------------------------------------------------------------------------- setup


@dataclass
class Case:
    id: str
    case_no: str
    code: str
    worker_id: str


@dataclass
class World:
    admin: str
    steward: str
    worker: str
    cases: list[Case]  # the lookup pool
    own: list[str]  # the signed-in worker's case ids
    lock_case: Case  # the lock check's case, outside the pool (its code changes)
    files_case: str  # the case that takes the attachments


async def set_up(url: str, admin_password: str, started: float) -> World:
    async with client_for(url, connections=ARGS.concurrency) as c:
        admin, scope = await sign_in(c, ADMIN_USER, admin_password)
        if scope != "full":
            raise RuntimeError(f"{ADMIN_USER} signs in with scope {scope}")
        run = uuid.uuid4().hex[:6]
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
        steward_name, password = f"bench-steward-{run}", strong_password()
        body = {"username": steward_name, "role": "steward", "password": password, "staff_id": staff_id}
        await expect(await c.post(f"{API}/accounts", json=body, headers=bearer(admin)), 201, "POST /accounts")
        steward = await first_sign_in(c, steward_name, password)

        r = await expect(
            await c.get(f"{API}/work-list-items", params={"year": 2026}, headers=bearer(steward)), 200, "work list"
        )
        items = [item["id"] for item in r.json() if item.get("active", True)]
        if not items:
            raise RuntimeError("the 2026 work list has no active items")
        base = date(1950, 1, 1) + timedelta(days=random.randrange(40 * 365))  # noqa: S311 - not security
        workers: list[str] = []
        for i in range(WORKERS):
            worker = {
                "name": f"Bench worker {i}",
                "national_id": national_id(i, base),
                "mobile": mobile(i),
                "employer": "Chongqing Bench Institute",
                "district_code": "yubei",
                "steward_id": staff_id,
            }
            r = await expect(await c.post(f"{API}/workers", json=worker, headers=bearer(steward)), 201, "POST /workers")
            workers.append(r.json()["id"])

        # The cases, each moved on as PATHS says; two more for the lock check and the files.
        total = ARGS.cases + 2
        made: list[Case | None] = [None] * total
        semaphore = asyncio.Semaphore(ARGS.concurrency)

        async def case(i: int) -> None:
            async with semaphore:
                # The two extra cases go to the last worker: the first keeps cases/10 exactly.
                body = {
                    "worker_id": workers[i % WORKERS if i < ARGS.cases else -1],
                    "item_id": items[i % len(items)],
                    "title": f"Bench case {i}: help with a residence permit",
                    "channel": "phone",
                }
                r = await expect(await c.post(f"{API}/cases", json=body, headers=bearer(steward)), 201, "POST /cases")
                created = r.json()
                etag = r.headers.get("ETag", "")
                moves = PATHS[2] if i >= ARGS.cases else PATHS[i % len(PATHS)]
                for move in moves:
                    r = await c.post(
                        f"{API}/cases/{created['id']}/transitions",
                        json=move,
                        headers={**bearer(steward), "If-Match": etag},
                    )
                    await expect(r, 200, f"transition {move['action']}")
                    etag = r.headers.get("ETag", "")
                made[i] = Case(created["id"], created["case_no"], created["query_code"], body["worker_id"])

        await asyncio.gather(*(case(i) for i in range(total)))
        cases = [c_ for c_ in made if c_ is not None]

        username, password = f"bench-worker-{run}", strong_password()
        body = {"username": username, "role": "worker", "password": password, "worker_id": workers[0]}
        await expect(await c.post(f"{API}/accounts", json=body, headers=bearer(admin)), 201, "POST /accounts worker")
        worker_token = await first_sign_in(c, username, password)
        print(
            f"set up after {time.perf_counter() - started:.1f} s: {len(cases)} cases, "
            f"{WORKERS} workers, one with an account",
            flush=True,
        )
        pool = cases[: ARGS.cases]
        own = [c_.id for c_ in pool if c_.worker_id == workers[0]]
        return World(admin, steward, worker_token, pool, own, cases[-2], cases[-1].id)


# --------------------------------------------------------------------------- 1. lookup


async def lookups(run: Run, url: str, world: World, label: str) -> None:
    section = "1. public lookup"
    pool = world.cases
    unknown = itertools.count()
    async with client_for(url, connections=ARGS.concurrency) as c:

        def right(n: int) -> Awaitable[httpx.Response]:
            case = pool[n % len(pool)]
            return c.get(f"{API}/lookup", params={"case_no": case.case_no, "code": case.code})

        def wrong(n: int) -> Awaitable[httpx.Response]:
            # A new unknown number every time: no number collects a second wrong code.
            k = next(unknown)
            number = f"BS-2099{k // 10000:04d}-{k % 10000:04d}"
            return c.get(f"{API}/lookup", params={"case_no": number, "code": WRONG_CODE})

        first = await c.get(f"{API}/lookup", params={"case_no": pool[0].case_no, "code": pool[0].code})
        if first.status_code != 200 or first.json().get("case_no") != pool[0].case_no:
            raise RuntimeError(f"a lookup with the right code answered {first.status_code}: {first.text[:300]}")
        await measure(run, section, "lookup, right code", label, right, expect=200)
        await measure(run, section, "lookup, wrong code (404)", label, wrong, expect=404)


async def lock_check(run: Run, url: str, world: World, label: str) -> None:
    """LOCK_THRESHOLD wrong codes for one real number, each on a new connection (so they
    reach every worker process); then the right code answers 429 until the steward
    issues a new code, which answers 200."""
    case = world.lock_case
    wrong = WRONG_CODE if case.code.replace("-", "") != WRONG_CODE.replace("-", "") else "3333-3333"
    async with client_for(url, connections=1, keepalive=False) as fresh:
        statuses = collections.Counter[int]()
        for _ in range(LOCK_THRESHOLD):
            r = await fresh.get(f"{API}/lookup", params={"case_no": case.case_no, "code": wrong})
            statuses[r.status_code] += 1
        locked = await fresh.get(f"{API}/lookup", params={"case_no": case.case_no, "code": case.code})
    run.check(
        statuses == {404: LOCK_THRESHOLD} and locked.status_code == 429,
        f"[{label}] {LOCK_THRESHOLD} wrong codes over new connections answered {dict(statuses)}; then the right "
        f"code answered {locked.status_code} (expected 429), Retry-After {locked.headers.get('Retry-After', '-')} s",
    )
    async with client_for(url) as c:
        r = await c.post(f"{API}/cases/{case.id}/query-code", headers=bearer(world.steward))
        if r.status_code == 201:
            case.code = r.json()["query_code"]
            after = await c.get(f"{API}/lookup", params={"case_no": case.case_no, "code": case.code})
            run.check(
                after.status_code == 200,
                f"[{label}] after POST /cases/{{id}}/query-code the new code answered {after.status_code} "
                "(expected 200)",
            )
        else:
            run.check(False, f"[{label}] POST /cases/{{id}}/query-code answered {r.status_code}: {r.text[:200]}")


# --------------------------------------------------------------------------- 2. own views


async def own_views(run: Run, url: str, world: World, label: str) -> None:
    section = "2. a worker's own views"
    own = world.own
    async with client_for(url, connections=ARGS.concurrency) as c:
        headers = bearer(world.worker)
        page = (await expect(await c.get(f"{API}/my/cases", headers=headers), 200, "GET /my/cases")).json()
        run.check(
            page.get("total") == len(own) and len(page.get("items", [])) == len(own),
            f"[{label}] GET /my/cases lists the worker's {len(own)} cases "
            f"(total {page.get('total')}, {len(page.get('items', []))} on the page)",
        )
        await measure(
            run,
            section,
            "GET /my/cases",
            label,
            lambda n: c.get(f"{API}/my/cases", headers=headers),
            expect=200,
        )
        await measure(
            run,
            section,
            "GET /my/cases/{id}",
            label,
            lambda n: c.get(f"{API}/my/cases/{own[n % len(own)]}", headers=headers),
            expect=200,
        )


# --------------------------------------------------------------------------- 3. attachments


def pdf_of_size(size: int) -> bytes:
    """A valid PDF of exactly ``size`` bytes: random bytes in a comment before the objects."""
    body_size = size - len(make_pdf(b"%\n"))
    for _ in range(3):  # the startxref number may gain a digit
        pdf = make_pdf(b"%" + os.urandom(max(body_size, 0)).replace(b"\n", b" ").replace(b"\r", b" ") + b"\n")
        if len(pdf) == size:
            return pdf
        body_size += size - len(pdf)
    raise RuntimeError(f"could not build a PDF of {size} bytes")


class MemoryWatch:
    """RSS of the worker processes over a block: before, peak and after. The peak is VmHWM
    after resetting it on entry (writing 5 to /proc/<pid>/clear_refs), or, where that is
    refused, the highest VmRSS sampled every 10 ms."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.sampler = RssSampler(pids)
        self.before: dict[int, int] = {}
        self.peak: dict[int, int] = {}
        self.after: dict[int, int] = {}
        self.exact = False

    async def __aenter__(self) -> MemoryWatch:
        self.before = {pid: status_kib(pid, "VmRSS") or 0 for pid in self.pids}
        self.exact = bool(self.pids) and all(reset_peak(pid) for pid in self.pids)
        await self.sampler.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sampler.__aexit__()
        for pid in self.pids:
            hwm = status_kib(pid, "VmHWM") if self.exact else None
            self.peak[pid] = hwm if hwm is not None else self.sampler.peak.get(pid, 0)
            self.after[pid] = status_kib(pid, "VmRSS") or 0

    def lines(self, what: str) -> list[str]:
        how = "VmHWM, reset before" if self.exact else f"sampled every 10 ms, {self.sampler.samples} samples"
        return [
            f"{what:<22} worker {pid}: RSS {self.before[pid] / 1024:>4.0f} MiB before, peak "
            f"{self.peak[pid] / 1024:>4.0f} MiB (+{(self.peak[pid] - self.before[pid]) / 1024:.0f}), "
            f"{self.after[pid] / 1024:>4.0f} MiB after ({how})"
            for pid in self.pids
        ]


def reset_peak(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux 4.0+); False when refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


async def transfers(
    run: Run, step: Step, calls: int, call: Request, check: Callable[[int, httpx.Response], int]
) -> None:
    """``calls`` requests one after another; ``check`` answers the bytes moved, or -1
    for an unexpected answer."""
    meter = CpuMeter(app_pids())
    started = time.perf_counter()
    for k in range(calls):
        t = time.perf_counter()
        try:
            r = await call(k)
        except httpx.HTTPError as exc:
            step.statuses[type(exc).__name__] += 1
            step.unexpected += 1
            run.samples.setdefault(f"{step.name}: {type(exc).__name__}", repr(exc)[:300])
            continue
        step.latencies.append(time.perf_counter() - t)
        step.statuses[str(r.status_code)] += 1
        moved = check(k, r)
        if moved < 0:
            step.unexpected += 1
            run.samples.setdefault(f"{step.name}: HTTP {r.status_code}", r.text[:300])
        else:
            step.bytes_moved += moved
    step.wall = time.perf_counter() - started
    step.cpu = meter.stop()
    run.add(step, transfer=True)


async def attachments(run: Run, url: str, world: World, server: Server, label: str) -> None:
    section = "3. attachments"
    processes = uvicorn_processes(server, ARGS.workers)
    workers = sorted(pid for pid, role in processes.items() if role == "worker")
    if not workers:
        run.notes.append("could not find the uvicorn worker processes; no memory figures")
    run.notes.append(
        "uvicorn processes: "
        + ", ".join(f"{pid} ({role})" for pid, role in sorted(processes.items()))
        + f"; attachment folder on {filesystem_of(ATTACH_DIR)}"
    )
    for pid in workers:
        run.memory.append(
            f"{'before the uploads':<22} worker {pid}: RSS {(status_kib(pid, 'VmRSS') or 0) / 1024:>4.0f} MiB, "
            f"VmHWM since start {(status_kib(pid, 'VmHWM') or 0) / 1024:.0f} MiB"
        )
    uploaded: dict[int, list[tuple[str, bytes]]] = {MIB: [], MAX_ATTACHMENT: []}
    sizes = ((MIB, "1 MiB"), (MAX_ATTACHMENT, "20 MiB"))
    # One connection, so every request goes to the same worker; the steward's session.
    async with client_for(url) as c:
        headers = bearer(world.steward)
        for size, name in sizes:
            files = [pdf_of_size(size) for _ in range(2)]  # two contents, alternating

            def upload(k: int, files: list[bytes] = files, size: int = size) -> Awaitable[httpx.Response]:
                return c.post(
                    f"{API}/cases/{world.files_case}/attachments",
                    files={"file": (f"bench-{size}-{k}.pdf", files[k % 2], "application/pdf")},
                    data={"visibility": "internal"},
                    headers=headers,
                )

            def uploaded_ok(k: int, r: httpx.Response, files: list[bytes] = files, size: int = size) -> int:
                data = files[k % 2]
                if r.status_code != 201:
                    return -1
                body = r.json()
                if body.get("sha256") != hashlib.sha256(data).hexdigest() or body.get("size_bytes") != len(data):
                    return -1
                uploaded[size].append((body["id"], data))
                return len(data)

            async with MemoryWatch(workers) as memory:
                await transfers(run, Step(section, f"upload {name} PDF", label, 1), ARGS.uploads, upload, uploaded_ok)
            run.memory.extend(memory.lines(f"uploads of {name}"))

        for size, name in sizes:
            done = uploaded[size]

            def download(k: int, done: list[tuple[str, bytes]] = done) -> Awaitable[httpx.Response]:
                return c.get(f"{API}/attachments/{done[k][0]}/content", headers=headers)

            def downloaded_ok(k: int, r: httpx.Response, done: list[tuple[str, bytes]] = done) -> int:
                return len(r.content) if r.status_code == 200 and r.content == done[k][1] else -1

            async with MemoryWatch(workers) as memory:
                step = Step(section, f"download {name} PDF", label, 1)
                await transfers(run, step, len(done), download, downloaded_ok)
            run.memory.extend(memory.lines(f"downloads of {name}"))

        over = pdf_of_size(MAX_ATTACHMENT + 1)
        t = time.perf_counter()
        r = await c.post(
            f"{API}/cases/{world.files_case}/attachments",
            files={"file": ("bench-over.pdf", over, "application/pdf")},
            headers=headers,
        )
        run.check(
            r.status_code == 413,
            f"[{label}] a PDF of 20 MiB + 1 byte answered {r.status_code} (expected 413) "
            f"in {(time.perf_counter() - t) * 1000:.0f} ms",
        )
        accepted = sum(len(v) for v in uploaded.values())
        listed = await c.get(f"{API}/cases/{world.files_case}/attachments", headers=headers)
        count = len(listed.json()) if listed.status_code == 200 else -1
        run.check(count == accepted, f"[{label}] the case lists {count} attachments after {accepted} accepted uploads")
    stored, stored_bytes = folder_usage(ATTACH_DIR)
    run.check(
        stored == accepted,
        f"[{label}] the attachment folder holds {stored} files ({stored_bytes / MIB:.0f} MiB) for {accepted} uploads",
    )


def folder_usage(folder: Path) -> tuple[int, int]:
    """(files, bytes) under ``folder``."""
    sizes = [p.stat().st_size for p in folder.rglob("*") if p.is_file()]
    return len(sizes), sum(sizes)


def filesystem_of(path: Path) -> str:
    """The type of the file system that holds ``path`` (from /proc/mounts)."""
    best, kind = "", "unknown"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
    except OSError:
        pass
    return f"{kind} ({best or '?'})"


# --------------------------------------------------------------------------- Redis


async def redis_version(url: str) -> str:
    from redis.asyncio import Redis  # the service's own client

    client = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        info = await client.info("server")
        return str(info.get("redis_version", "?"))
    finally:
        await client.aclose()


async def redis_cleanup(url: str, pattern: str) -> dict[str, int]:
    """Delete the run's keys; how many there were under each prefix."""
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    counts: collections.Counter[str] = collections.Counter()
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=pattern, count=1000):
            counts[key.decode(errors="replace").split(":", 1)[0] + ":"] += 1
            batch.append(key)
            if len(batch) >= 1000:
                await client.delete(*batch)
                batch.clear()
        if batch:
            await client.delete(*batch)
    finally:
        await client.aclose()
    return dict(counts)


# --------------------------------------------------------------------------- report


def report(run: Run, wall: float, pg_version: str | None, redis: str, client_cpu: float) -> None:
    print()
    print(
        f"Banshi worker-side benchmark: {ARGS.requests} requests per step after {ARGS.requests // 10} to warm up, "
        f"concurrency {ARGS.concurrency}, {ARGS.cases} cases; {ARGS.uploads} uploads per size"
    )
    print(
        "columns: bad = unexpected answers or transport errors; busy% = the machine's CPU use over the step "
        "(100 = all cores), oth% = the part of it outside this benchmark (other work on the machine); "
        "app/pg/redis/bench = CPU ms per request of the uvicorn processes, the database's PostgreSQL "
        "backends, redis-server and this client"
    )
    cpu_header = f"{'busy%':>5} {'oth%':>4} {'app':>6} {'pg':>6} {'redis':>6} {'bench':>6}"
    header = (
        f"{'step':<28} {'server':<20} {'n':>6} {'bad':>4} {'5xx':>4} {'req/s':>7} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {cpu_header}"
    )

    def cpu_cells(step: Step) -> str:
        busy = step.cpu.get("busy", float("nan")) * 100
        others = step.cpu.get("others", float("nan")) * 100
        return (
            f"{busy:>5.0f} {others:>4.0f} {step.cpu_ms('app'):>6.1f} {step.cpu_ms('pg'):>6.1f} "
            f"{step.cpu_ms('redis'):>6.1f} {step.cpu_ms('bench'):>6.1f}"
        )

    section = None
    for step in sorted(run.steps, key=lambda st: st.section):  # stable: in run order within a section
        if step.section != section:
            section = step.section
            print(f"\n[{section}]")
            print(header)
        print(
            f"{step.name:<28} {step.server:<20} {step.count:>6} {step.unexpected:>4} {step.server_errors:>4} "
            f"{step.rate:>7.1f} {step.ms(50):>7.1f} {step.ms(95):>7.1f} {step.ms(99):>7.1f} {step.max_ms:>7.1f} "
            f"{cpu_cells(step)}"
        )
    if run.transfers:
        print("\n[3. attachments] one at a time on one connection; MiB/s = bytes moved / time in requests")
        print(
            f"{'step':<20} {'server':<20} {'n':>4} {'bad':>4} {'5xx':>4} {'mean ms':>8} {'p50 ms':>8} "
            f"{'max ms':>8} {'MiB/s':>7} {cpu_header}"
        )
        for step in run.transfers:
            mean = sum(step.latencies) / len(step.latencies) * 1000 if step.latencies else float("nan")
            busy = sum(step.latencies)
            speed = step.bytes_moved / MIB / busy if busy else float("nan")
            print(
                f"{step.name:<20} {step.server:<20} {step.count:>4} {step.unexpected:>4} {step.server_errors:>4} "
                f"{mean:>8.1f} {step.ms(50):>8.1f} {step.max_ms:>8.1f} {speed:>7.1f} {cpu_cells(step)}"
            )
    if run.memory:
        print("\nserver memory (uvicorn worker processes):")
        for line in run.memory:
            print(f"  {line}")
    if run.checks:
        print("\nchecks:")
        for line in run.checks:
            print(f"  {line}")
    print()
    for note in run.notes:
        print(f"note: {note}")
    print(
        f"bench client CPU: {client_cpu:.1f} s of {wall:.1f} s wall (it shares the machine with the server, "
        "PostgreSQL and Redis)"
    )
    print(f"total wall time: {wall:.2f} s (includes server starts and setup)")
    print(f"{machine_line(pg_version)}, Redis {redis}")
    for key, sample in run.samples.items():
        print(f"first {key}: {sample}")
    for problem in run.problems:
        print(f"PROBLEM: {problem}")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", type=int, default=2, help="server worker processes with Redis counters (default 2)")
    p.add_argument("--requests", type=int, default=1000, help="requests per timed step (default 1000)")
    p.add_argument("--concurrency", type=int, default=16, help="concurrent client tasks (default 16)")
    p.add_argument("--cases", type=int, default=200, help="cases to look up, 1/10 of them the worker's (default 200)")
    p.add_argument("--uploads", type=int, default=10, help="uploads of each size (default 10)")
    p.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/banshi_worker_side",
        help="database to drop, create and drop again (loopback only)",
    )
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="Redis for the counters (loopback only)")
    p.add_argument("--keep-db", action="store_true", help="leave the database in place at the end")
    p.add_argument("--keep-log", action="store_true", help="keep the server logs even when all went well")
    p.add_argument("--time-limit", type=float, default=600, help="stop the whole run after this many seconds")
    p.add_argument("--startup-timeout", type=float, default=180, help="seconds to wait for GET /health")
    p.add_argument("--request-timeout", type=float, default=60, help="seconds per request")
    args = p.parse_args(argv)
    if args.workers < 1 or args.concurrency < 1 or args.requests < 10 or args.uploads < 1:
        p.error("--workers, --concurrency and --uploads must be at least 1, --requests at least 10")
    if not WORKERS <= args.cases <= 10_000:
        p.error(f"--cases must be between {WORKERS} and 10000")
    if args.requests > 1_000_000:
        p.error("--requests is capped at 1000000")
    return args


ARGS = argparse.Namespace()
ATTACH_DIR = Path()
DB_NAME = ""


def database_urls(url: str) -> tuple[str, str, str]:
    """(the database's URL, the maintenance database's URL, the database's name)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgresql", "postgres") or not name or "/" in name or '"' in name:
        sys.exit(f"--database-url must be postgresql://user@host:port/name, got {url!r}")
    if name in ("postgres", "template0", "template1"):
        sys.exit(f"--database-url names {name!r}, which this script would drop; name a database of its own")
    return url, urlunsplit(parts._replace(path="/postgres")), name


async def amain() -> int:
    global ATTACH_DIR, DB_NAME
    started = time.perf_counter()
    cpu_started = time.process_time()
    load_at_start = os.getloadavg()
    deadline = time.monotonic() + ARGS.time_limit
    db_url, admin_dsn, db_name = database_urls(ARGS.database_url)
    DB_NAME = db_name
    require_loopback(urlsplit(db_url).hostname, "--database-url")
    require_loopback(urlsplit(ARGS.redis_url).hostname, "--redis-url")
    try:
        redis = await redis_version(ARGS.redis_url)
    except Exception as exc:  # connection refused, authentication
        print(f"Redis at {ARGS.redis_url} does not answer: {exc!r}", file=sys.stderr)
        return 2
    try:
        pg_version = await fresh_database(admin_dsn, db_name)
    except Exception as exc:  # connection refused, authentication, SQL errors
        print(f"could not recreate database {db_name}: {exc!r}", file=sys.stderr)
        return 2
    ATTACH_DIR = Path(tempfile.mkdtemp(prefix="banshi-bench-files-"))
    run_id = uuid.uuid4().hex[:8]
    run = Run()
    logs = ServerLogs()
    incomplete: str | None = None
    world: World | None = None
    common = {
        "BANSHI_LOOKUP_LIMIT_PER_ADDRESS": str(LOOKUP_LIMIT),
        "BANSHI_LOOKUP_LOCK_THRESHOLD": str(LOCK_THRESHOLD),
        "BANSHI_ATTACHMENTS_DIR": str(ATTACH_DIR),
    }
    servers: list[tuple[str, int, bool]] = [
        (f"Redis, {ARGS.workers} worker{'s' if ARGS.workers > 1 else ''}", ARGS.workers, True)
    ]
    if ARGS.workers != 1:
        servers.append(("Redis, 1 worker", 1, True))
    servers.append(("in-process, 1 worker", 1, False))
    keys: dict[str, str] = {}
    try:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            for index, (label, workers, with_redis) in enumerate(servers):
                env = dict(common, **keys)  # the first server's keys for the later ones
                if with_redis:
                    env |= {
                        "BANSHI_REDIS_URL": ARGS.redis_url,
                        "BANSHI_REDIS_PREFIX": f"banshi-bench-{run_id}-{index}:",
                    }
                async with own_server(label, workers, db_url, env, logs, deadline) as server:
                    if world is None:
                        keys = {name: server.env[name] for name in KEY_NAMES}
                        admin_password = strong_password()
                        cli_create_user(server.env, "admin", ADMIN_USER, admin_password)
                        print(f"created the administrator {ADMIN_USER} with `banshi users create`", flush=True)
                        world = await set_up(server.url, admin_password, started)
                    await lookups(run, server.url, world, label)
                    if workers == ARGS.workers or not with_redis:
                        await lock_check(run, server.url, world, label)
                    if index == 0:
                        await own_views(run, server.url, world, label)
                        await attachments(run, server.url, world, server, label)
                    print(f"[{label}] done after {time.perf_counter() - started:.1f} s", flush=True)
    except TimeoutError:
        incomplete = f"the time limit of {ARGS.time_limit:g} s was reached (or a server did not start)"
    except (RuntimeError, OSError, subprocess.SubprocessError, httpx.HTTPError) as exc:
        incomplete = f"{type(exc).__name__}: {exc}"
    finally:
        codes = [c.code for c in world.cases] if world else []
        for label, log in logs.logs:
            logs.scan(label, log, codes)
        try:
            counts = await redis_cleanup(ARGS.redis_url, f"banshi-bench-{run_id}-*")
            run.notes.append(
                "Redis keys left by the run, deleted now: "
                + (", ".join(f"{prefix} {n}" for prefix, n in sorted(counts.items())) or "none")
            )
        except Exception as exc:  # the cleanup must not hide the figures
            run.notes.append(f"could not delete the run's Redis keys (banshi-bench-{run_id}-*): {exc!r}")
        shutil.rmtree(ATTACH_DIR, ignore_errors=True)
        if not ARGS.keep_db:
            try:
                await drop_database(admin_dsn, db_name)
            except Exception as exc:
                print(f"could not drop database {db_name}: {exc!r}", file=sys.stderr)

    run.notes.extend(logs.notes)
    run.problems.extend(logs.trouble)
    run.notes.append(
        "load average (1, 5, 15 min) at the start "
        + ", ".join(f"{v:.2f}" for v in load_at_start)
        + "; at the end "
        + ", ".join(f"{v:.2f}" for v in os.getloadavg())
    )
    report(run, time.perf_counter() - started, pg_version, redis, time.process_time() - cpu_started)
    if incomplete:
        print(f"INCOMPLETE: {incomplete}")
        status = 2
    elif run.problems:
        status = 1
    else:
        status = 0
    for label, log in logs.logs:
        if status != 0 or ARGS.keep_log:
            print(f"server log kept ({label}): {log}")
        else:
            log.unlink(missing_ok=True)
    return status


def main(argv: list[str] | None = None) -> int:
    global ARGS
    ARGS = parse_args(argv)
    status = asyncio.run(amain())
    print(f"exit status {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())
