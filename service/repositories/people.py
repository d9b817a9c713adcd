"""Queries on staff, workers and steward assignments."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.db import Prepared, in_transaction, prepared
from service.domain.access import Principal, Role
from service.domain.filters import WorkerFilter
from service.models import Staff, StewardAssignment, Worker
from service.models.base import from_row
from service.repositories.filters import equal_to, page
from service.repositories.reach import reach_values, worker_reach


async def get_staff(session: AsyncSession, staff_id: uuid.UUID, *, for_update: bool = False) -> Staff | None:
    return await session.get(Staff, staff_id, with_for_update=for_update)


async def list_staff(
    session: AsyncSession, role: str | None, department_code: str | None, limit: int, offset: int
) -> tuple[Sequence[Staff], int]:
    query = equal_to(select(Staff), [(Staff.role, role), (Staff.department_code, department_code)])
    return await page(session, query, [col(Staff.name), col(Staff.id)], limit, offset)


async def get_worker(session: AsyncSession, worker_id: uuid.UUID, *, for_update: bool = False) -> Worker | None:
    """Any worker, whoever asks: for checks made on the system's behalf (a worker named
    in a new account exists). Reads on a caller's behalf use ``reached_worker``."""
    return await session.get(Worker, worker_id, with_for_update=for_update)


async def reached_worker(
    session: AsyncSession, worker_id: uuid.UUID, reach: Any, *, for_update: bool = False
) -> Worker | None:
    query = select(Worker).where(col(Worker.id) == worker_id, reach)
    if for_update:
        query = query.with_for_update(of=Worker).execution_options(populate_existing=True)
    return (await session.scalars(query)).first()


async def worker_for_new_case(session: AsyncSession, worker_id: uuid.UUID, caller: Principal) -> Worker | None:
    """``reached_worker`` for logging a case: one statement compiled once per role, run on
    the transaction's driver connection. The worker belongs to no session: read it only."""
    values = {"worker_id": worker_id, **reach_values(caller)}
    row = await (await in_transaction(session)).fetch_one(_worker_statement(caller.role), values)
    return None if row is None else from_row(Worker, dict(zip(_WORKER_COLUMNS, row, strict=True)))


_WORKER_COLUMNS = tuple(column.name for column in Worker.__table__.c)  # type: ignore[attr-defined]


@cache
def _worker_statement(role: Role) -> Prepared:
    return prepared(
        select(*Worker.__table__.c).where(  # type: ignore[attr-defined]
            col(Worker.id) == bindparam("worker_id", type_=Uuid()), worker_reach(role)
        )
    )


async def worker_by_index(session: AsyncSession, national_id_index: bytes, reach: Any) -> Worker | None:
    query = select(Worker).where(col(Worker.national_id_index) == national_id_index, reach)
    return (await session.scalars(query)).first()


async def workers_by_mobile_index(session: AsyncSession, mobile_index: bytes, reach: Any) -> Sequence[Worker]:
    """The workers within ``reach`` with this mobile number (several may share one), the
    first registered first."""
    query = select(Worker).where(col(Worker.mobile_index) == mobile_index, reach)
    return (await session.scalars(query.order_by(col(Worker.created_at), col(Worker.id)))).all()


async def national_id_taken(session: AsyncSession, national_id_index: bytes) -> bool:
    query = select(col(Worker.id)).where(col(Worker.national_id_index) == national_id_index)
    return (await session.scalar(query)) is not None


async def list_workers(
    session: AsyncSession, where: WorkerFilter, reach: Any, limit: int, offset: int
) -> tuple[Sequence[Worker], int]:
    query = equal_to(
        select(Worker).where(reach),
        [
            (Worker.district_code, where.district_code),
            (Worker.steward_id, where.steward_id),
            (Worker.talent_card, where.talent_card),
        ],
    )
    if where.name:
        query = query.where(col(Worker.name).contains(where.name, autoescape=True))
    return await page(session, query, [col(Worker.created_at), col(Worker.id)], limit, offset)


async def steward_history(session: AsyncSession, worker_id: uuid.UUID) -> Sequence[StewardAssignment]:
    query = (
        select(StewardAssignment)
        .where(col(StewardAssignment.worker_id) == worker_id)
        .order_by(col(StewardAssignment.id))
    )
    return (await session.scalars(query)).all()
