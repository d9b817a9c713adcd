"""Bringing ledgers (台账) in: workers and open cases from a spreadsheet, checked row by row.

One use case, ``run``, serves the API (as a job in the background) and the CLI (with a
progress bar). A dry run and an import are the same pass: every row is checked against
the reference lists and the database, good rows are written inside one transaction, and
at the end the transaction is committed (an import with no bad row, or one asked to take
the good rows only) or rolled back (a dry run, or a file with a bad row). So a dry run
sees what the import will see, and a refused import leaves nothing behind.

Rows are read, checked and written a batch at a time; what is kept for the whole file is
the natural keys seen so far (to find a row given twice) and the first problems, so the
memory an import needs does not grow with the width of the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
import uuid
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.imports import ImportJobOut, ImportJobPage
from service.adapters.ledger_files import LedgerFile, UnreadableLedger, open_ledger
from service.adapters.ledger_sheets import CheckReport, Choices, template_csv, template_xlsx
from service.adapters.storage import AttachmentStore
from service.domain.access import Permission, Principal, Role, SessionScope, can
from service.domain.case_number import format_case_number
from service.domain.ledger import (
    COLUMNS,
    MAX_ROWS,
    Header,
    ItemRef,
    Kind,
    Lists,
    cells_of,
    is_blank,
    is_example,
    read_header,
)
from service.domain.time_limit import local_day
from service.errors import Conflict, Invalid, NotFound, TooManyRequests
from service.models import ImportJob
from service.repositories import accounts as account_repo
from service.repositories import cases as case_repo
from service.repositories import imports as repo
from service.repositories import reference as reference_repo
from service.security.kit import SecurityKit
from service.services import audit
from service.services.calendar import load_calendar
from service.services.context import Context
from service.services.ledger_rows import CasePass, Outcome, Pass, Tally, WorkerPass
from service.services.presenters.imports import STALE_AFTER_SECONDS, job_out

log = logging.getLogger("banshi.imports")

BATCH_ROWS = 1000
REPORT_DAYS = 14
"""How long a report is kept after its import."""
LOCK_RETRY_SECONDS = 1.0
Progress = Callable[[ImportJob], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class Upload:
    kind: Kind
    path: Path
    file_name: str
    dry_run: bool
    partial: bool


def digest(path: Path) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


async def _purge_reports(session: AsyncSession, store: AttachmentStore, now: datetime) -> None:
    """Reports hold the ledger's rows as given, ID numbers and mobiles in full: each is
    deleted ``REPORT_DAYS`` after its import (the job keeps its counts and first problems)."""
    async with session.begin():
        expired = await repo.expired_reports(session, now - timedelta(days=REPORT_DAYS))
    for job_id, key in expired:
        await store.delete(key)
        async with session.begin():
            await repo.set_job(session, job_id, {"report_key": None})


async def open_job(session: AsyncSession, ctx: Context, upload: Upload, store: AttachmentStore) -> ImportJob:
    """Record the file given; ``run`` takes it from there. An account with imports still
    queued or running up to ``OPEN_PER_ACCOUNT`` is asked to wait for them."""
    async with session.begin():
        alive_since = ctx.now - timedelta(seconds=STALE_AFTER_SECONDS)
        unfinished = await repo.count_unfinished(session, ctx.caller.account_id, alive_since)
    if unfinished >= OPEN_PER_ACCOUNT:
        raise TooManyRequests(
            f"{unfinished} imports of this account are still queued or running; wait for them", retry_after=30
        )
    await _purge_reports(session, store, ctx.now)
    sha256, size = await asyncio.to_thread(digest, upload.path)
    job = ImportJob(
        kind=upload.kind.value,
        dry_run=upload.dry_run,
        partial=upload.partial,
        file_name=upload.file_name[:255] or "ledger",
        file_sha256=sha256,
        file_bytes=size,
        account_id=ctx.caller.account_id,
        created_at=ctx.now,
    )
    async with session.begin():
        session.add(job)
    return job


# --- running a job ---------------------------------------------------------------------------

PROCESS_SLOTS = 1
"""Imports a service process works on at once; the others wait as queued. A workbook is
held in memory while it is read, so two large ones at once would double that."""
OPEN_PER_ACCOUNT = 2
"""Imports one account may have queued or running; a third is refused (429)."""
_process_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _slots() -> asyncio.Semaphore:
    """The slots of this event loop (a test client runs the app on a loop of its own)."""
    loop = asyncio.get_running_loop()
    slots = _process_slots.get(loop)
    if slots is None:
        slots = _process_slots[loop] = asyncio.Semaphore(PROCESS_SLOTS)
    return slots


Clock = Callable[[], datetime]


@dataclass(slots=True)
class Runner:
    """One job's run: where it reports progress, and its clock for the heartbeat."""

    sessions: async_sessionmaker[AsyncSession]
    ctx: Context
    store: AttachmentStore
    job: ImportJob
    clock: Clock
    progress: Progress | None = None

    async def run(self, path: Path) -> ImportJob:
        """Check and (unless a dry run) import the file, once this process has a free slot;
        the job row tells how it went."""
        slot = _slots()
        while True:
            try:
                await asyncio.wait_for(slot.acquire(), LOCK_RETRY_SECONDS)
                break
            except TimeoutError:  # queued behind this process's other imports: still alive
                self.job.heartbeat_at = self.clock()
                await self.save()
        try:
            return await self._run(path)
        finally:
            slot.release()

    async def _run(self, path: Path) -> ImportJob:
        job = self.job
        job.status, job.started_at, job.heartbeat_at = "running", self.clock(), self.clock()
        await self.save()
        handle, name = tempfile.mkstemp(prefix="banshi-import-", suffix=".xlsx")
        os.close(handle)
        report_path = Path(name)
        try:
            ledger = await asyncio.to_thread(open_ledger, path)
            header_cells = await asyncio.to_thread(next, ledger.rows, None)
            job.file_format, job.file_encoding, job.rows_total = ledger.format, ledger.encoding, ledger.estimated_rows
            header = read_header(header_cells or [], COLUMNS[Kind(job.kind)])
            if isinstance(header, list):
                raise UnreadableLedger("；".join(header))
            if ledger.estimated_rows > MAX_ROWS:
                raise UnreadableLedger(f"文件有{ledger.estimated_rows}行，一次最多导入{MAX_ROWS}行，请拆分成几个文件")
            report = await asyncio.to_thread(CheckReport, report_path, header_cells or [])
            outcome = await self._pass(ledger, header, report)
            await asyncio.to_thread(report.close)
            key = str(job.id)  # the file store takes hexadecimal keys; a job's id is its own
            await self.store.put(key, await asyncio.to_thread(report_path.read_bytes), "application/octet-stream")
            job.report_key = key
            return await self.finish(outcome)
        except asyncio.CancelledError:
            await asyncio.shield(self.finish("failed", "服务停止，导入中断，未写入任何数据"))
            raise
        except UnreadableLedger as error:
            return await self.finish("refused", str(error)[:500])
        except Exception as error:
            log.exception("import %s failed", job.id)
            return await self.finish("failed", f"导入失败，未写入任何数据（{type(error).__name__}）")
        finally:
            await asyncio.to_thread(report_path.unlink, missing_ok=True)

    async def _pass(self, ledger: LedgerFile, header: Header, report: CheckReport) -> str:
        """The rows, in one transaction; returns the job's outcome."""
        job, ctx = self.job, self.ctx
        async with self.sessions() as session:
            transaction = await session.begin()
            try:
                while not await repo.try_lock_imports(session):
                    # Another import is writing: wait for it, saying so on the job.
                    job.heartbeat_at = self.clock()
                    await self.save()
                    await asyncio.sleep(LOCK_RETRY_SECONDS)
                lists = await _reference_lists(session)
                calendar = await load_calendar(session)
                kind = Kind(job.kind)
                step: Pass = (WorkerPass if kind is Kind.WORKERS else CasePass)(ctx, job, header, lists, calendar)
                if kind is Kind.CASES:
                    await repo.stage_cases(session)
                numbered = enumerate(ledger.rows, start=2)  # row numbers as Excel shows them
                while batch := await asyncio.to_thread(_next_batch, numbered):
                    rows = [(n, c) for n, c in batch if not is_blank(c) and not is_example(cells_of(c, header))]
                    if step.tally.read + len(rows) > MAX_ROWS:
                        raise UnreadableLedger(f"文件超过{MAX_ROWS}行，请拆分成几个文件")
                    outcomes = await step.take(session, rows)
                    step.tally.read += len(rows)
                    await asyncio.to_thread(_report, report, outcomes)
                    _copy_tally(job, step.tally)
                    job.heartbeat_at = self.clock()
                    await self.save()
                outcome = _outcome(job, step.tally)
                if kind is Kind.CASES and step.writing:
                    # A dry run too: the cases meet the table's own rules, then roll back.
                    await _number_cases(session)
                    job.heartbeat_at = self.clock()
                    await self.save()
                    await repo.publish_staged(session)
                if outcome == "imported":
                    job.rows_imported = step.tally.written
                    await audit.record(ctx, session, f"import.{job.kind}", **_audit_fields(job, outcome))
                    await transaction.commit()
                return outcome
            finally:
                if transaction.is_active:
                    await transaction.rollback()

    async def finish(self, status: str, failure: str | None = None) -> ImportJob:
        job = self.job
        job.status = status
        job.failure = failure
        job.finished_at = job.heartbeat_at = self.clock()
        if status != "imported":
            job.rows_imported = 0
            # The import's own transaction was rolled back, its audit record with it.
            async with self.sessions() as session:
                await audit.record_alone(
                    session,
                    self.ctx.kit,
                    self.ctx.caller,
                    f"import.{job.kind}",
                    self.ctx.now,
                    **_audit_fields(job, status),
                )
        await self.save()
        return job

    async def save(self) -> None:
        """The job's progress, in a transaction of its own (the import's is still open)."""
        job = self.job
        values = {name: getattr(job, name) for name in _PROGRESS}
        async with self.sessions() as session, session.begin():
            await repo.set_job(session, job.id, values)
        if self.progress is not None:
            waiting = self.progress(job)
            if waiting is not None:
                await waiting


_PROGRESS = (
    "status",
    "file_format",
    "file_encoding",
    "rows_total",
    "rows_read",
    "rows_valid",
    "rows_invalid",
    "rows_existing",
    "rows_imported",
    "problems",
    "failure",
    "report_key",
    "started_at",
    "heartbeat_at",
    "finished_at",
)


async def _reference_lists(session: AsyncSession) -> Lists:
    """The names and codes a ledger may use, read once before its rows."""
    lists = Lists()
    for district in await reference_repo.list_districts(session):
        lists.add_district(district.code, district.name_zh)
    for department in await reference_repo.list_departments(session):
        lists.add_department(department.code, department.name_zh)
    for item in await reference_repo.list_items(session, None, None):
        lists.add_item(
            ItemRef(
                id=item.id,
                code=item.code,
                title=item.title_zh,
                year=item.year,
                lead_department_code=item.lead_department_code,
                promised_working_days=item.promised_working_days,
                active=item.active,
            )
        )
    for steward in await repo.active_stewards(session):
        lists.add_steward(steward)
    return lists


def _next_batch(rows: Iterator[tuple[int, Sequence[object]]]) -> list[tuple[int, Sequence[object]]]:
    return list(islice(rows, BATCH_ROWS))


def _report(report: CheckReport, outcomes: Sequence[Outcome]) -> None:
    for outcome in outcomes:
        report.add(outcome.cells, outcome.text, outcome.ok)


def _copy_tally(job: ImportJob, tally: Tally) -> None:
    job.rows_read, job.rows_valid = tally.read, tally.valid
    job.rows_invalid, job.rows_existing = tally.invalid, tally.existing
    job.problems = list(tally.problems)


def _outcome(job: ImportJob, tally: Tally) -> str:
    if job.dry_run:
        return "checked"
    if tally.invalid and not job.partial:
        return "refused"
    return "imported"


async def _number_cases(session: AsyncSession) -> None:
    """Case numbers for the staged cases, in the sequence of the day each was received."""
    next_of = {
        day: await case_repo.next_case_sequence(session, day, count) - count + 1
        for day, count in await repo.staged_days(session)
    }
    numbers: list[tuple[uuid.UUID, str]] = []
    async for case_id, day in repo.staged_in_order(session):
        numbers.append((case_id, format_case_number(day, next_of[day])))
        next_of[day] += 1
        if len(numbers) >= 10 * BATCH_ROWS:
            await repo.copy_rows(session, "import_case_no", ("id", "case_no"), numbers)
            numbers = []
    if numbers:
        await repo.copy_rows(session, "import_case_no", ("id", "case_no"), numbers)


def _audit_fields(job: ImportJob, outcome: str) -> dict[str, Any]:
    return {
        "target_type": "import",
        "target_id": job.id,
        "outcome": "success" if outcome in ("imported", "checked") else "failure",
        "details": {
            "kind": job.kind,
            "file": job.file_name,
            "sha256": job.file_sha256,
            "dry_run": job.dry_run,
            "partial": job.partial,
            "rows": job.rows_read,
            "valid": job.rows_valid,
            "invalid": job.rows_invalid,
            "existing": job.rows_existing,
            "imported": job.rows_imported,
            "outcome": outcome,
            "failure": job.failure,
        },
    }


async def give(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    ctx: Context,
    store: AttachmentStore,
    upload: Upload,
    clock: Clock,
    launch: Callable[[Coroutine[Any, Any, object]], None],
) -> ImportJobOut:
    """Record the file given through the API and start its run in the background with
    ``launch``; the uploaded file is removed when the run ends (or now, if refused)."""
    try:
        job = await open_job(session, ctx, upload, store)
    except BaseException:
        await asyncio.to_thread(upload.path.unlink, missing_ok=True)
        raise
    launch(_run_then_remove(Runner(sessions, ctx, store, job, clock), upload.path))
    return job_out(job, ctx.now)


async def _run_then_remove(runner: Runner, path: Path) -> None:
    try:
        await runner.run(path)
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


async def run_from_command_line(
    sessions: async_sessionmaker[AsyncSession],
    kit: SecurityKit,
    store: AttachmentStore,
    username: str,
    upload: Upload,
    clock: Clock,
    progress: Progress | None = None,
) -> ImportJob:
    """``banshi import``: the same job, made as the account named, on this machine. The
    account's role decides what it may bring in, as it would through the API."""
    async with sessions() as session, session.begin():
        account = await account_repo.account_by_username(session, username)
    if account is None or not account.active:
        raise Invalid("as", f"no active account {username!r}")
    role = Role(account.role)
    if not can(role, Permission.IMPORTS):
        raise Invalid("as", f"the {role.value} role may not import ledgers")
    caller = Principal(
        account_id=account.id,
        username=account.username,
        role=role,
        session_id=uuid.uuid4(),
        scope=SessionScope.FULL,
        client_addr="command line",
        staff_id=account.staff_id,
        district_code=account.district_code,
    )
    ctx = Context(caller=caller, now=clock(), kit=kit)
    async with sessions() as session:
        job = await open_job(session, ctx, upload, store)
    return await Runner(sessions, ctx, store, job, clock, progress).run(upload.path)


# --- reading jobs, reports and templates -----------------------------------------------------------


def _owner_filter(caller: Principal) -> uuid.UUID | None:
    """An administrator reads every import; anyone else their own."""
    return None if caller.role is Role.ADMIN else caller.account_id


async def read_job(session: AsyncSession, ctx: Context, job_id: uuid.UUID) -> ImportJobOut:
    async with session.begin():
        job = await repo.get_job(session, job_id, _owner_filter(ctx.caller))
    if job is None:
        raise NotFound("import", job_id)
    return job_out(job, ctx.now)


async def list_jobs(session: AsyncSession, ctx: Context, limit: int, offset: int) -> ImportJobPage:
    async with session.begin():
        jobs, total = await repo.list_jobs(session, _owner_filter(ctx.caller), limit, offset)
    return ImportJobPage(items=[job_out(j, ctx.now) for j in jobs], total=total, limit=limit, offset=offset)


async def report(session: AsyncSession, ctx: Context, store: AttachmentStore, job_id: uuid.UUID) -> tuple[str, bytes]:
    """The report workbook's name and bytes."""
    async with session.begin():
        job = await repo.get_job(session, job_id, _owner_filter(ctx.caller))
    if job is None:
        raise NotFound("import", job_id)
    if job.report_key is None:
        raise Conflict("the import has no report yet: it is still running or the file could not be read", field="id")
    stem = job.file_name.rsplit(".", 1)[0] or "ledger"
    return f"{stem}-检查结果.xlsx", await store.get(job.report_key)


async def template(session: AsyncSession, ctx: Context, kind: Kind, fmt: str) -> tuple[str, bytes]:
    name = {Kind.WORKERS: "科技工作者台账导入模板", Kind.CASES: "办件台账导入模板"}[kind]
    if fmt == "csv":
        return f"{name}.csv", template_csv(COLUMNS[kind])
    year = local_day(ctx.now).year
    async with session.begin():
        districts = await reference_repo.list_districts(session)
        departments = await reference_repo.list_departments(session)
        items = await reference_repo.list_items(session, year, True)
    choices = Choices(
        districts=[(d.code, d.name_zh) for d in districts],
        departments=[(d.code, d.name_zh) for d in departments if d.active],
        items=[(i.code, i.title_zh) for i in items],
        year=year,
    )
    sheet = {Kind.WORKERS: "科技工作者", Kind.CASES: "办件"}[kind]
    return f"{name}.xlsx", await asyncio.to_thread(template_xlsx, sheet, COLUMNS[kind], choices)
