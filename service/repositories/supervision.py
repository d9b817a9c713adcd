"""Queries on supervision notices (督办): which ones a caller reaches, the case a notice is
issued on, and the locks every change takes, always the case's row first and then the
notice's, so that a reply and the reminder pass never wait on each other in a circle."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarSelect, false, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.domain.access import Principal, Role
from service.domain.supervision import SupervisionStatus
from service.models import Case, Supervision
from service.repositories.reach import cases_reached


def supervisions_reached(caller: Principal) -> Any:
    """The cases whose notices a caller reaches, as a condition on the case: an official
    those of their district (a city official every case), staff the cases they reach
    (``repositories/reach.py``), an administrator all; a worker none."""
    match caller.role:
        case Role.OFFICIAL:
            return true() if caller.district_code is None else col(Case.district_code) == caller.district_code
        case Role.WORKER:
            return false()
    return cases_reached(caller)


async def case_by_number(session: AsyncSession, case_no: str, reach: Any) -> Case | None:
    """The case with this number within ``reach``, locked for the rest of the transaction
    (FOR NO KEY UPDATE, as every change to a case takes it: ``repositories/cases.get_case``)."""
    query = (
        select(Case)
        .where(col(Case.case_no) == case_no, reach)
        .with_for_update(of=Case, key_share=True)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).first()


async def lock_case(session: AsyncSession, case_id: uuid.UUID) -> Case:
    query = (
        select(Case)
        .where(col(Case.id) == case_id)
        .with_for_update(of=Case, key_share=True)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).one()


async def awaiting_reply(session: AsyncSession, case_id: uuid.UUID) -> Supervision | None:
    """The case's notice still waiting for a reply, if it has one."""
    query = select(Supervision).where(col(Supervision.case_id) == case_id, col(Supervision.replied_at).is_(None))
    return (await session.scalars(query)).first()


async def lock(session: AsyncSession, supervision_id: uuid.UUID) -> Supervision:
    """The notice as committed now, locked (take its case's lock first)."""
    query = (
        select(Supervision)
        .where(col(Supervision.id) == supervision_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).one()


@dataclass(frozen=True, slots=True)
class Found:
    supervision: Supervision
    case_no: str
    district_code: str
    department_code: str


def _found(row: Any) -> Found:
    supervision, case_no, district_code, department_code = row
    return Found(supervision, case_no, district_code, department_code)


def _with_case() -> Any:
    return select(Supervision, col(Case.case_no), col(Case.district_code), col(Case.department_code)).join(
        Case, col(Case.id) == col(Supervision.case_id)
    )


async def reached(session: AsyncSession, supervision_id: uuid.UUID, reach: Any) -> Found | None:
    """The notice with its case's number and where the case is now, if ``reach`` takes its case."""
    query = _with_case().where(col(Supervision.id) == supervision_id, reach)
    row = (await session.execute(query)).first()
    return None if row is None else _found(row)


async def list_reached(
    session: AsyncSession,
    reach: Any,
    *,
    status: SupervisionStatus | None,
    case_no: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Found], int]:
    """Notices within reach, the newest first, and how many match."""
    wanted = [reach]
    if status is not None:
        wanted.append(col(Supervision.status) == status.value)
    if case_no is not None:
        wanted.append(col(Case.case_no) == case_no)
    page = (
        _with_case()
        .where(*wanted)
        .order_by(col(Supervision.issued_at).desc(), col(Supervision.id))
        .limit(limit)
        .offset(offset)
    )
    rows = [_found(row) for row in (await session.execute(page)).all()]
    count = select(func.count()).select_from(Supervision).join(Case, col(Case.id) == col(Supervision.case_id))
    total = await session.scalar(count.where(*wanted))
    return rows, int(total or 0)


def open_notices(reach: Any) -> ScalarSelect[int]:
    """How many notices on cases within ``reach`` are open: the total of ``list_reached``
    with the status ``open``, as a subquery of a query that may itself read the case table
    (it correlates with nothing)."""
    return (
        select(func.count())
        .select_from(Supervision)
        .join(Case, col(Case.id) == col(Supervision.case_id))
        .where(reach, col(Supervision.status) == SupervisionStatus.OPEN.value)
        .correlate(None)
        .scalar_subquery()
    )


def _past_deadline(now: datetime) -> list[Any]:
    return [col(Supervision.status) == SupervisionStatus.OPEN.value, col(Supervision.reply_due_at) <= now]


async def lock_past_deadline(session: AsyncSession, now: datetime, limit: int) -> Sequence[tuple[Supervision, Case]]:
    """Open notices whose reply deadline has passed by ``now``, each with its case, both
    locked: the cases first (in the order of their ids), then the notices, read again once
    the cases are held so that a reply committed meanwhile is seen."""
    with_notice = select(col(Supervision.case_id)).where(*_past_deadline(now))
    cases = (
        await session.scalars(
            select(Case)
            .where(col(Case.id).in_(with_notice))
            .order_by(col(Case.id))
            .limit(limit)
            .with_for_update(of=Case, key_share=True)
            .execution_options(populate_existing=True)
        )
    ).all()
    if not cases:
        return []
    by_id = {case.id: case for case in cases}
    notices = (
        await session.scalars(
            select(Supervision)
            .where(col(Supervision.case_id).in_(list(by_id)), *_past_deadline(now))
            .order_by(col(Supervision.case_id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()
    return [(notice, by_id[notice.case_id]) for notice in notices]
