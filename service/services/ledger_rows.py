"""The rows of one ledger file, checked and written a batch at a time (``services/imports.py``
runs the pass). A row is checked against the reference lists (``domain/ledger.py``) and
the database; good new rows are written with COPY while nothing has been refused, or
always when the good rows are wanted alone."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.access import Role
from service.domain.calendar import WorkingCalendar
from service.domain.ledger import (
    CaseRow,
    Header,
    Lists,
    Problem,
    WorkerRow,
    case_key,
    cells_of,
    check_case,
    check_worker,
)
from service.domain.time_limit import DAY, StatusChange, compute_deadline
from service.domain.visibility import PUBLIC
from service.domain.workflow import Status
from service.models import ImportJob
from service.repositories import imports as repo
from service.services.context import Context
from service.services.workers import sealed_mobile, sealed_national_id

KEPT_PROBLEMS = 200
"""Problems kept on the job for the API; the report has every one."""
PASSED = "通过"
"""A good, new row; whether it came in the job's status says (the report is written as the rows are read)."""


R = TypeVar("R")
Keyed = tuple[int, Sequence[object], R | list[Problem], bytes]
"""A checked row: its number, its cells, what it reads as (or its problems), its natural key."""


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

    def sort(
        self, keyed: Sequence[Keyed[R]], existing: set[bytes], repeated: Problem, existing_text: str
    ) -> tuple[list[Outcome], list[tuple[int, R, bytes]]]:
        """Each checked row's outcome, and the good new ones: a row refused by its checks,
        one whose natural key an earlier row of the file had (``repeated``: the column and
        what the two rows share), one already in the system (``existing_text``), or a new one."""
        outcomes: list[Outcome] = []
        fresh: list[tuple[int, R, bytes]] = []
        for row_no, cells, result, key in keyed:
            if isinstance(result, list):
                outcomes.append(Outcome(cells, self.tally.refuse(row_no, result), False))
            elif (first := self.duplicate(key, row_no)) is not None:
                problem = Problem(repeated.column, f"与第{first}行是{repeated.reason}")
                outcomes.append(Outcome(cells, self.tally.refuse(row_no, [problem]), False))
            elif key in existing:
                self.tally.existing += 1
                outcomes.append(Outcome(cells, existing_text, True))
            else:
                self.tally.valid += 1
                fresh.append((row_no, result, key))
                outcomes.append(Outcome(cells, PASSED, True))
        return outcomes, fresh


class WorkerPass(Pass):
    async def take(self, session: AsyncSession, rows: Sequence[tuple[int, Sequence[object]]]) -> list[Outcome]:
        pii = self.ctx.kit.pii
        checked: list[Keyed[WorkerRow]] = []
        for row_no, cells in rows:
            result = check_worker(cells_of(cells, self.header), self.header, self.lists, self.own_steward)
            index = pii.index(result.national_id, "national_id") if isinstance(result, WorkerRow) else b""
            checked.append((row_no, cells, result, index))
        existing = await repo.existing_workers(session, [c[3] for c in checked if c[3]])
        same_person = Problem(self.header.titles["national_id"], "同一人")
        outcomes, fresh = self.sort(checked, existing, same_person, "已在系统中，未更改")
        if self.writing and fresh:
            await self._write(session, fresh)
        return outcomes

    async def _write(self, session: AsyncSession, fresh: Sequence[tuple[int, WorkerRow, bytes]]) -> None:
        pii = self.ctx.kit.pii
        now = self.ctx.now
        workers: list[tuple[Any, ...]] = []
        assignments: list[tuple[Any, ...]] = []
        reason = f"由台账导入（{self.job.file_name}）"[:500]
        for _, row, index in fresh:
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
        checked: list[Keyed[CaseRow]] = []
        for row_no, cells in rows:
            result = check_case(cells_of(cells, self.header), self.header, self.lists, self.own_steward, self.ctx.now)
            index = pii.index(result.national_id, "national_id") if isinstance(result, CaseRow) else b""
            checked.append((row_no, cells, result, index))
        workers = await repo.workers_by_index(session, [c[3] for c in checked if c[3]])
        keyed: list[Keyed[tuple[CaseRow, repo.KnownWorker]]] = []
        for row_no, cells, result, index in checked:
            if isinstance(result, list):
                keyed.append((row_no, cells, result, b""))
            elif problems := self._worker_problems(result, worker := workers.get(index)):
                keyed.append((row_no, cells, problems, b""))
            else:
                assert worker is not None  # _worker_problems refuses a row without one
                keyed.append((row_no, cells, (result, worker), case_key(index, result)))
        existing = await repo.existing_case_keys(session, [k[3] for k in keyed if k[3]])
        same_case = Problem("", "同一办件（同一人、事项、收件日期和台账编号或标题）")
        outcomes, fresh = self.sort(keyed, existing, same_case, "已导入过，未重复导入")
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
        self, session: AsyncSession, fresh: Sequence[tuple[int, tuple[CaseRow, repo.KnownWorker], bytes]]
    ) -> None:
        cases: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        for row_no, (row, worker), key in fresh:
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
