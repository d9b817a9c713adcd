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
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.imports import ImportJobOut, ImportJobPage, ImportProblem
from service.adapters.ledger_files import LedgerFile, UnreadableLedger, open_ledger
from service.adapters.ledger_sheets import CheckReport, Choices, template_csv, template_xlsx
from service.adapters.storage import AttachmentStore
from service.domain.access import Permission, Principal, Role, SessionScope, can
from service.domain.calendar import WorkingCalendar
from service.domain.case_number import format_case_number
from service.domain.ledger import (
    COLUMNS,
    MAX_ROWS,
    CaseRow,
    Header,
    Kind,
    Lists,
    Problem,
    WorkerRow,
    case_key,
    cells_of,
    check_case,
    check_worker,
    is_blank,
    is_example,
    read_header,
)
from service.domain.time_limit import DAY, StatusChange, compute_deadline, local_day
from service.domain.visibility import PUBLIC
from service.domain.workflow import Status
from service.errors import Conflict, Invalid, NotFound, TooManyRequests
from service.models import ImportJob
from service.repositories import accounts as account_repo
from service.repositories import imports as repo
from service.repositories import reference as reference_repo
from service.security.kit import SecurityKit
from service.services import audit
from service.services.calendar import load_calendar
from service.services.context import Context
from service.services.workers import sealed_mobile, sealed_national_id

log = logging.getLogger("banshi.imports")

BATCH_ROWS = 1000
KEPT_PROBLEMS = 200
"""Problems kept on the job for the API; the report has every one."""
REPORT_DAYS = 14
"""How long a report is kept after its import."""
PASSED = "通过"
"""A good, new row; whether it came in the job's status says (the report is written as the rows are read)."""
LOCK_RETRY_SECONDS = 1.0
STALE_AFTER_SECONDS = 120
"""A running job that has not reported for this long was stopped (its process ended)."""
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


# --- the pass over the rows ----------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """What became of one row, for the report."""

    cells: Sequence[object]
    text: str
    ok: bool


@dataclass(slots=True)
class Tally:
    read: int = 0
    valid: int = 0
    invalid: int = 0
    existing: int = 0
    written: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, row_no: int, problems: Sequence[Problem]) -> str:
        self.invalid += 1
        for problem in problems:
            if len(self.problems) < KEPT_PROBLEMS:
                self.problems.append({"row": row_no, "column": problem.column, "reason": problem.reason})
        return "；".join(f"{p.column}：{p.reason}" if p.column else p.reason for p in problems)


class Pass:
    """The rows of one file, checked and (while nothing has been refused, or when the good
    rows are wanted alone) written."""

    def __init__(self, ctx: Context, job: ImportJob, header: Header, lists: Lists, calendar: WorkingCalendar) -> None:
        self.ctx = ctx
        self.job = job
        self.header = header
        self.lists = lists
        self.calendar = calendar
        self.tally = Tally()
        self.seen: dict[bytes, int] = {}
        """Natural key → the row it was first seen on."""
        caller = ctx.caller
        self.own_steward = caller.staff_id if caller.role is Role.STEWARD else None

    @property
    def writing(self) -> bool:
        return self.job.partial or self.tally.invalid == 0

    def duplicate(self, key: bytes, row_no: int) -> int | None:
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = row_no
        return first

    async def take(self, session: AsyncSession, rows: Sequence[tuple[int, Sequence[object]]]) -> list[Outcome]:
        raise NotImplementedError


class WorkerPass(Pass):
    async def take(self, session: AsyncSession, rows: Sequence[tuple[int, Sequence[object]]]) -> list[Outcome]:
        pii = self.ctx.kit.pii
        checked: list[tuple[int, Sequence[object], WorkerRow | list[Problem], bytes]] = []
        for row_no, cells in rows:
            result = check_worker(cells_of(cells, self.header), self.header, self.lists, self.own_steward)
            index = pii.index(result.national_id, "national_id") if isinstance(result, WorkerRow) else b""
            checked.append((row_no, cells, result, index))
        existing = await repo.existing_workers(session, [c[3] for c in checked if c[3]])
        outcomes: list[Outcome] = []
        fresh: list[tuple[WorkerRow, bytes]] = []
        for row_no, cells, result, index in checked:
            if isinstance(result, list):
                outcomes.append(Outcome(cells, self.tally.refuse(row_no, result), False))
                continue
            first = self.duplicate(index, row_no)
            if first is not None:
                problem = Problem(self.header.titles["national_id"], f"与第{first}行是同一人")
                outcomes.append(Outcome(cells, self.tally.refuse(row_no, [problem]), False))
            elif index in existing:
                self.tally.existing += 1
                outcomes.append(Outcome(cells, "已在系统中，未更改", True))
            else:
                self.tally.valid += 1
                fresh.append((result, index))
                outcomes.append(Outcome(cells, PASSED, True))
        if self.writing and fresh:
            await self._write(session, fresh)
        return outcomes

    async def _write(self, session: AsyncSession, fresh: Sequence[tuple[WorkerRow, bytes]]) -> None:
        pii = self.ctx.kit.pii
        now = self.ctx.now
        workers: list[tuple[Any, ...]] = []
        assignments: list[tuple[Any, ...]] = []
        reason = f"由台账导入（{self.job.file_name}）"[:500]
        for row, index in fresh:
            worker_id = uuid.uuid4()
            sealed = sealed_national_id(pii, worker_id, row.national_id)
            phone = sealed_mobile(pii, worker_id, row.mobile)
            workers.append(
                (
                    worker_id,
                    row.name,
                    sealed["national_id_sealed"],
                    index,
                    phone["mobile_sealed"],
                    phone["mobile_index"],
                    row.employer,
                    row.district_code,
                    row.talent_card,
                    row.field,
                    row.steward_id,
                    now,
                    now,
                )
            )
            assignments.append((worker_id, row.steward_id, now, self.ctx.caller.staff_id, reason))
        await repo.copy_rows(session, "worker", WORKER_COLUMNS, workers)
        await repo.copy_rows(session, "steward_assignment", ASSIGNMENT_COLUMNS, assignments)
        self.tally.written += len(workers)


WORKER_COLUMNS = (
    "id",
    "name",
    "national_id_sealed",
    "national_id_index",
    "mobile_sealed",
    "mobile_index",
    "employer",
    "district_code",
    "talent_card",
    "field",
    "steward_id",
    "created_at",
    "updated_at",
)
ASSIGNMENT_COLUMNS = ("worker_id", "steward_id", "assigned_at", "assigned_by", "reason")


class CasePass(Pass):
    async def take(self, session: AsyncSession, rows: Sequence[tuple[int, Sequence[object]]]) -> list[Outcome]:
        pii = self.ctx.kit.pii
        checked: list[tuple[int, Sequence[object], CaseRow | list[Problem], bytes]] = []
        for row_no, cells in rows:
            result = check_case(cells_of(cells, self.header), self.header, self.lists, self.own_steward, self.ctx.now)
            index = pii.index(result.national_id, "national_id") if isinstance(result, CaseRow) else b""
            checked.append((row_no, cells, result, index))
        workers = await repo.workers_by_index(session, [c[3] for c in checked if c[3]])
        keyed: list[tuple[int, Sequence[object], CaseRow | list[Problem], bytes]] = []
        for row_no, cells, result, index in checked:
            if isinstance(result, CaseRow):
                problems = self._worker_problems(result, workers.get(index))
                if problems:
                    keyed.append((row_no, cells, problems, b""))
                    continue
                keyed.append((row_no, cells, result, case_key(index, result)))
            else:
                keyed.append((row_no, cells, result, b""))
        existing = await repo.existing_case_keys(session, [k[3] for k in keyed if k[3]])
        outcomes: list[Outcome] = []
        fresh: list[tuple[int, CaseRow, repo.KnownWorker, bytes]] = []
        for row_no, cells, result, key in keyed:
            if isinstance(result, list):
                outcomes.append(Outcome(cells, self.tally.refuse(row_no, result), False))
                continue
            first = self.duplicate(key, row_no)
            if first is not None:
                problem = Problem("", f"与第{first}行是同一办件（同一人、事项、收件日期和台账编号或标题）")
                outcomes.append(Outcome(cells, self.tally.refuse(row_no, [problem]), False))
            elif key in existing:
                self.tally.existing += 1
                outcomes.append(Outcome(cells, "已导入过，未重复导入", True))
            else:
                self.tally.valid += 1
                found = workers[pii.index(result.national_id, "national_id")]
                fresh.append((row_no, result, found, key))
                outcomes.append(Outcome(cells, PASSED, True))
        if self.writing and fresh:
            await self._stage(session, fresh)
        return outcomes

    def _worker_problems(self, row: CaseRow, worker: repo.KnownWorker | None) -> list[Problem]:
        id_title = self.header.titles["national_id"]
        if self.own_steward is not None and (worker is None or worker.steward_id != self.own_steward):
            # One answer for both: a steward learns nothing of workers served by others.
            return [Problem(id_title, "系统中没有由您服务的这位科技工作者，请先导入您的科技工作者台账")]
        if worker is None:
            return [Problem(id_title, "系统中没有这位科技工作者，请先导入科技工作者台账")]
        if row.name and row.name != worker.name:
            return [Problem(self.header.titles.get("name", "姓名"), "与系统中该身份证号的姓名不一致")]
        return []

    async def _stage(
        self, session: AsyncSession, fresh: Sequence[tuple[int, CaseRow, repo.KnownWorker, bytes]]
    ) -> None:
        cases: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        for row_no, row, worker, key in fresh:
            case_id = uuid.uuid4()
            case, lines = self._case(case_id, row_no, row, worker, key)
            cases.append(case)
            events.extend(lines)
        await repo.copy_rows(session, "import_case", (*repo.CASE_COLUMNS, "ordinal"), cases)
        await repo.copy_rows(session, "import_event", repo.EVENT_COLUMNS, events)
        self.tally.written += len(cases)

    def _case(
        self, case_id: uuid.UUID, row_no: int, row: CaseRow, worker: repo.KnownWorker, key: bytes
    ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        now = self.ctx.now
        caller = self.ctx.caller
        received = row.received_at
        status = row.status
        accepted = received if status is not Status.SUBMITTED else None
        days = row.item.promised_working_days if accepted is not None else None
        due_at = due_soon_at = None
        remaining: float | None = None
        if days is not None:
            running = compute_deadline(days, [StatusChange(received, Status.ACCEPTED)], self.calendar)
            assert running is not None
            due_at, due_soon_at, remaining = running.due_at, running.due_soon_at, float(days * DAY)
            if status is Status.AWAITING_MATERIALS:
                paused = compute_deadline(
                    days,
                    [StatusChange(received, Status.ACCEPTED), StatusChange(max(now, received), status)],
                    self.calendar,
                )
                assert paused is not None
                remaining = paused.remaining_seconds
        details = {"job": str(self.job.id), "file": self.job.file_name, "row": row_no}
        if row.ledger_no:
            details["ledger_no"] = row.ledger_no
        first_status = Status.ACCEPTED if status is Status.AWAITING_MATERIALS else status
        note = f"由台账导入，原收件日期 {received.date().isoformat()}"
        lines: list[tuple[Any, ...]] = [
            (
                case_id,
                received,
                caller.staff_id,
                caller.account_id,
                "import",
                None,
                first_status.value,
                note,
                PUBLIC,
                msgspec.json.encode(details).decode(),
            )
        ]
        if status is Status.AWAITING_MATERIALS:
            lines.append(
                (
                    case_id,
                    max(now, received),
                    caller.staff_id,
                    caller.account_id,
                    "request_materials",
                    first_status.value,
                    status.value,
                    "台账导入时为待补件",
                    PUBLIC,
                    "{}",
                )
            )
        case = (
            case_id,
            worker.id,
            row.item.id,
            row.title,
            row.description,
            row.channel,
            row.steward_id or worker.steward_id,
            row.department_code,
            worker.district_code,
            status.value,
            1,
            days,
            caller.staff_id,
            received,
            now,
            accepted,
            received if status is Status.IN_PROGRESS else None,
            max(now, received) if status is Status.AWAITING_MATERIALS else None,
            due_at,
            due_soon_at,
            remaining,
            0,
            key,
            row_no,
        )
        return case, lines


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
                lists = await repo.reference_lists(session)
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
    next_of = {day: await repo.take_numbers(session, day, count) for day, count in await repo.staged_days(session)}
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


def job_out(job: ImportJob, now: datetime) -> ImportJobOut:
    status = job.status
    stale = job.heartbeat_at or job.created_at
    if status in ("queued", "running") and (now - stale).total_seconds() > STALE_AFTER_SECONDS:
        status = "interrupted"
    return ImportJobOut(
        id=job.id,
        kind=job.kind,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        dry_run=job.dry_run,
        partial=job.partial,
        file_name=job.file_name,
        file_format=job.file_format,
        file_encoding=job.file_encoding,
        file_sha256=job.file_sha256,
        file_bytes=job.file_bytes,
        rows_total=job.rows_total,
        rows_read=job.rows_read,
        rows_valid=job.rows_valid,
        rows_invalid=job.rows_invalid,
        rows_existing=job.rows_existing,
        rows_imported=job.rows_imported,
        problems=[msgspec.convert(p, ImportProblem) for p in job.problems],
        failure=job.failure,
        report_url=f"/api/v1/imports/{job.id}/report" if job.report_key else None,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


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
