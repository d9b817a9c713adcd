"""Queries on notices: who is told, writing them once, and a person's inbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Text, Uuid, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.db import Prepared, in_transaction, prepared, rows_inserted
from service.domain.access import Role
from service.domain.notices import Kind, Recipient
from service.models.accounts import Account
from service.models.cases import Case
from service.models.notifications import Notification
from service.models.people import Staff
from service.models.reference import Department, WorkListItem
from service.repositories.deliveries import Outlook, outlook_columns

NoticeFacts = tuple[str | None, int | None, str | None, list[uuid.UUID], Outlook]
"""The item's title and promised working days, the department's name and its active
liaisons, and what deciding the deliveries needs."""


async def notice_facts(
    session: AsyncSession, item_id: uuid.UUID, department_code: str, kinds: Iterable[Kind]
) -> NoticeFacts:
    """In one statement: the item's title and promised working days, the department's
    name and its active liaisons as they are now (whom a notice to the department reaches),
    and what deciding the deliveries of ``kinds`` needs (``repositories/deliveries.Outlook``).
    Run straight on the transaction's driver connection: most writes tell someone."""
    values = {"item_id": item_id, "department_code": department_code, **notice_fact_values(kinds)}
    found = await (await in_transaction(session)).fetch_one(_notice_facts_statement(), values)
    assert found is not None  # a select of scalar subqueries has one row
    return facts_in(found, 0)


def notice_fact_columns(item_id: Any, department_code: Any) -> list[Any]:
    """``notice_facts``' columns for another statement that has the item and department
    as expressions: filled by ``notice_fact_values``, read back by ``facts_in``."""
    # Aliases: the other statement may have these tables in its own FROM.
    item = WorkListItem.__table__.alias("told_item")  # type: ignore[attr-defined]
    department = Department.__table__.alias("told_department")  # type: ignore[attr-defined]
    staff = Staff.__table__.alias("told_staff")  # type: ignore[attr-defined]
    title = select(item.c.title_zh).where(item.c.id == item_id).scalar_subquery()
    days = select(item.c.promised_working_days).where(item.c.id == item_id).scalar_subquery()
    name = select(department.c.name_zh).where(department.c.code == department_code).scalar_subquery()
    liaisons = (
        select(func.array_agg(staff.c.id))
        .where(
            staff.c.department_code == department_code,
            staff.c.role == bindparam("liaison", type_=Text),
            staff.c.active,
        )
        .scalar_subquery()
    )
    return [title, days, name, liaisons, *outlook_columns([])]


def notice_fact_values(kinds: Iterable[Kind]) -> dict[str, Any]:
    wanted = [k.value for k in kinds]
    return {"liaison": Role.LIAISON.value, "outlook_kinds": wanted, "outlook_kinds2": wanted}


def facts_in(row: Any, first: int) -> NoticeFacts:
    """The facts of ``notice_fact_columns`` in ``row``, from column ``first`` on."""
    found = tuple(row[first : first + 7])
    return found[0], found[1], found[2], list(found[3] or []), Outlook.from_columns(found[4:])


@cache
def _notice_facts_statement() -> Prepared:
    columns = notice_fact_columns(bindparam("item_id", type_=Uuid), bindparam("department_code", type_=Text))
    return prepared(select(*columns))


async def city_officials(session: AsyncSession) -> list[uuid.UUID]:
    """The accounts of the active city officials: officials whose account names no district."""
    query = select(col(Account.id)).where(
        col(Account.role) == Role.OFFICIAL.value, col(Account.district_code).is_(None), col(Account.active)
    )
    return list((await session.scalars(query)).all())


async def insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Write the notices whose ``dedupe_key`` is new; returns the ids of those written.
    One statement whatever the number of rows (the columns as arrays), run straight on the
    transaction's driver connection."""
    if not rows:
        return set()
    written = await (await in_transaction(session)).fetch_all(NOTICES_INSERTED, notice_arrays(rows))
    return {row[0] for row in written}


_NOTICE_COLUMNS = (
    "id",
    "dedupe_key",
    "kind",
    "worker_id",
    "staff_id",
    "account_id",
    "case_id",
    "event_id",
    "threshold_at",
    "title",
    "body",
    "created_at",
)
NOTICES_INSERTED = rows_inserted(
    Notification.__table__,  # type: ignore[attr-defined]
    _NOTICE_COLUMNS,
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
)
"""``insert_new``'s statement, also a part of others (``db.one_statement``): the notices'
columns as arrays, filled by ``notice_arrays``; returns the ids written."""


def notice_arrays(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The values of ``NOTICES_INSERTED``'s parameters for ``rows`` (a missing column is null)."""
    return {name: [row.get(name) for row in rows] for name in _NOTICE_COLUMNS}


def _mine(who: Recipient) -> ColumnElement[bool]:
    if who.worker_id is not None:
        return col(Notification.worker_id) == who.worker_id
    if who.staff_id is not None:
        return col(Notification.staff_id) == who.staff_id
    return col(Notification.account_id) == who.account_id


async def inbox(
    session: AsyncSession,
    who: Recipient,
    *,
    unread_only: bool,
    limit: int,
    offset: int,
) -> tuple[Sequence[tuple[Notification, str | None]], int, int]:
    """A person's notices, newest first, with the case number of each; the number that
    match and the number unread."""
    mine = _mine(who)
    wanted = [mine, col(Notification.read_at).is_(None)] if unread_only else [mine]
    page = (
        select(Notification, col(Case.case_no))
        .outerjoin(Case, col(Case.id) == col(Notification.case_id))
        .where(*wanted)
        .order_by(col(Notification.seq).desc())
        .limit(limit)
        .offset(offset)
    )
    rows = [(n, no) for n, no in (await session.execute(page)).all()]
    unread = await unread_count(session, who)  # the partial index of the unread
    total = unread if unread_only else int(await session.scalar(select(func.count()).where(mine)) or 0)
    return rows, total, unread


async def unread_count(session: AsyncSession, who: Recipient) -> int:
    query = select(func.count()).where(_mine(who), col(Notification.read_at).is_(None))
    return int(await session.scalar(query) or 0)


async def mark_read(
    session: AsyncSession, who: Recipient, notice_id: uuid.UUID, now: datetime
) -> tuple[Notification, str | None] | None:
    """Mark one of the person's notices read (a notice read before keeps its time)."""
    query = (
        select(Notification, col(Case.case_no))
        .outerjoin(Case, col(Case.id) == col(Notification.case_id))
        .where(_mine(who), col(Notification.id) == notice_id)
        .with_for_update(of=Notification)
    )
    found = (await session.execute(query)).first()
    if found is None:
        return None
    notice, case_no = found
    if notice.read_at is None:
        notice.read_at = now
    return notice, case_no


async def mark_all_read(session: AsyncSession, who: Recipient, now: datetime) -> int:
    statement = (
        update(Notification)
        .where(_mine(who), col(Notification.read_at).is_(None))
        .values(read_at=now)
        .returning(col(Notification.id))
    )
    return len((await session.execute(statement)).all())
