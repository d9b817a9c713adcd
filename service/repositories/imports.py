"""Queries of the ledger import: the lists rows are checked against, what already exists,
the rows written with COPY, and the import jobs themselves.

Imported cases go first into a temporary table and reach ``case`` in one statement at
the end: the tally trigger, the case-number counters and the audit chain are then held
for seconds at the end of the import rather than for all of it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.domain.ledger import StewardRef
from service.models import Account, ImportJob, Staff


async def active_stewards(session: AsyncSession) -> list[StewardRef]:
    """Every steward in post, with the username of their account if they have one."""
    rows = await session.execute(
        select(col(Staff.id), col(Staff.name), col(Account.username))
        .outerjoin(Account, col(Account.staff_id) == col(Staff.id))
        .where(col(Staff.role) == "steward", col(Staff.active))
    )
    return [StewardRef(r.id, r.name, r.username) for r in rows.all()]


async def try_lock_imports(session: AsyncSession) -> bool:
    """One import writes at a time, so two files naming the same rows cannot both add them.
    True when this transaction now holds the lock (until it ends)."""
    taken = await session.scalar(text("SELECT pg_try_advisory_xact_lock(hashtextextended('banshi.import', 0))"))
    return bool(taken)


async def existing_workers(session: AsyncSession, indexes: Sequence[bytes]) -> set[bytes]:
    rows = await session.execute(
        text("SELECT national_id_index FROM worker WHERE national_id_index = ANY(:indexes)"), {"indexes": indexes}
    )
    return {bytes(r[0]) for r in rows}


@dataclass(frozen=True, slots=True)
class KnownWorker:
    id: uuid.UUID
    name: str
    steward_id: uuid.UUID
    district_code: str


async def workers_by_index(session: AsyncSession, indexes: Sequence[bytes]) -> dict[bytes, KnownWorker]:
    rows = await session.execute(
        text(
            "SELECT national_id_index, id, name, steward_id, district_code FROM worker "
            "WHERE national_id_index = ANY(:indexes)"
        ),
        {"indexes": indexes},
    )
    return {bytes(r[0]): KnownWorker(r[1], r[2], r[3], r[4]) for r in rows}


async def existing_case_keys(session: AsyncSession, keys: Sequence[bytes]) -> set[bytes]:
    rows = await session.execute(
        text('SELECT import_key FROM "case" WHERE import_key = ANY(:keys)'),
        {"keys": keys},
    )
    return {bytes(r[0]) for r in rows}


async def _driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, in the session's transaction (for COPY)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def copy_rows(
    session: AsyncSession, table: str, columns: Sequence[str], records: Iterable[Sequence[Any]]
) -> None:
    driver = await _driver(session)
    await driver.copy_records_to_table(table, records=list(records), columns=list(columns))


CASE_COLUMNS = (
    "id",
    "worker_id",
    "item_id",
    "title",
    "description",
    "channel",
    "steward_id",
    "department_code",
    "district_code",
    "status",
    "version",
    "promised_working_days",
    "created_by",
    "created_at",
    "updated_at",
    "accepted_at",
    "started_at",
    "materials_requested_at",
    "due_at",
    "due_soon_at",
    "clock_remaining_seconds",
    "resolutions",
    "import_key",
)
EVENT_COLUMNS = (
    "case_id",
    "at",
    "actor_id",
    "account_id",
    "action",
    "from_status",
    "to_status",
    "note",
    "visibility",
    "details",
)


async def stage_cases(session: AsyncSession) -> None:
    """The temporary tables imported cases and their first lines wait in (dropped at the end
    of the transaction)."""
    case_columns = ", ".join(CASE_COLUMNS)
    event_columns = ", ".join(EVENT_COLUMNS)
    await session.execute(
        text(f'CREATE TEMPORARY TABLE import_case ON COMMIT DROP AS SELECT {case_columns} FROM "case" WITH NO DATA')
    )
    await session.execute(text("ALTER TABLE import_case ADD COLUMN ordinal bigint"))
    await session.execute(
        text(
            f"CREATE TEMPORARY TABLE import_event ON COMMIT DROP AS SELECT {event_columns} FROM case_event WITH NO DATA"
        )
    )
    await session.execute(text("CREATE TEMPORARY TABLE import_case_no (id uuid, case_no text) ON COMMIT DROP"))


async def staged_days(session: AsyncSession) -> list[tuple[date, int]]:
    rows = await session.execute(
        text(
            "SELECT (created_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) FROM import_case "
            "GROUP BY 1 ORDER BY 1"
        )
    )
    return [(r[0], int(r[1])) for r in rows]


async def staged_in_order(session: AsyncSession) -> AsyncIterator[tuple[uuid.UUID, date]]:
    """The staged cases in the order they were received (file order within a moment)."""
    result = await session.stream(
        text("SELECT id, (created_at AT TIME ZONE 'Asia/Shanghai')::date FROM import_case ORDER BY created_at, ordinal")
    )
    async for row in result:
        yield row[0], row[1]


async def publish_staged(session: AsyncSession) -> int:
    """Move the staged cases, numbered, and their timeline lines into place."""
    columns = ", ".join(CASE_COLUMNS)
    moved = await session.execute(
        text(
            f'INSERT INTO "case" ({columns}, case_no) '
            f"SELECT {', '.join('s.' + c for c in CASE_COLUMNS)}, n.case_no "
            "FROM import_case s JOIN import_case_no n USING (id) ORDER BY s.created_at, s.ordinal"
        )
    )
    events = ", ".join(EVENT_COLUMNS)
    await session.execute(text(f"INSERT INTO case_event ({events}) SELECT {events} FROM import_event ORDER BY at"))
    return int(moved.rowcount or 0)  # type: ignore[attr-defined]


# --- jobs -----------------------------------------------------------------------------


async def get_job(session: AsyncSession, job_id: uuid.UUID, account_id: uuid.UUID | None) -> ImportJob | None:
    """The job; ``account_id`` limits it to the jobs that account started (None: any)."""
    statement = select(ImportJob).where(col(ImportJob.id) == job_id)
    if account_id is not None:
        statement = statement.where(col(ImportJob.account_id) == account_id)
    return (await session.scalars(statement)).one_or_none()


async def list_jobs(
    session: AsyncSession, account_id: uuid.UUID | None, limit: int, offset: int
) -> tuple[Sequence[ImportJob], int]:
    statement = select(ImportJob)
    counted = select(func.count()).select_from(ImportJob)
    if account_id is not None:
        statement = statement.where(col(ImportJob.account_id) == account_id)
        counted = counted.where(col(ImportJob.account_id) == account_id)
    rows = await session.scalars(statement.order_by(col(ImportJob.created_at).desc()).limit(limit).offset(offset))
    return rows.all(), int(await session.scalar(counted) or 0)


async def count_unfinished(session: AsyncSession, account_id: uuid.UUID, alive_since: datetime) -> int:
    """The account's imports queued or running that have reported since ``alive_since``."""
    counted = await session.scalar(
        select(func.count())
        .select_from(ImportJob)
        .where(
            col(ImportJob.account_id) == account_id,
            col(ImportJob.status).in_(("queued", "running")),
            func.coalesce(col(ImportJob.heartbeat_at), col(ImportJob.created_at)) >= alive_since,
        )
    )
    return int(counted or 0)


async def expired_reports(session: AsyncSession, before: datetime) -> list[tuple[uuid.UUID, str]]:
    """Jobs whose report was made before ``before`` and is still kept: (id, report key)."""
    rows = await session.execute(
        select(col(ImportJob.id), col(ImportJob.report_key)).where(
            col(ImportJob.report_key).is_not(None), col(ImportJob.finished_at) < before
        )
    )
    return [(r[0], str(r[1])) for r in rows]


async def set_job(session: AsyncSession, job_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(update(ImportJob).where(col(ImportJob.id) == job_id).values(**values))
