"""Science workers and their stewards."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.people import StewardAssignmentIn, StewardAssignmentOut, WorkerIn, WorkerOut, WorkerPage, WorkerPatch
from service.domain.identity import mobile_problem, national_id_problem, normalise_mobile, normalise_national_id
from service.errors import Conflict, Invalid, NotFound
from service.models import StewardAssignment, Worker
from service.models.base import utcnow
from service.presenters import assignment_out, worker_out
from service.repositories import cases as case_repo
from service.repositories import people as people_repo
from service.repositories import reference as reference_repo
from service.services.staff import require_actor, require_steward


async def _require_district(session: AsyncSession, code: str) -> None:
    if await reference_repo.get_district(session, code) is None:
        raise Invalid("district_code", "no such district")


def _mobile(value: str) -> str:
    mobile = normalise_mobile(value)
    if problem := mobile_problem(mobile):
        raise Invalid("mobile", problem)
    return mobile


async def create_worker(session: AsyncSession, data: WorkerIn, actor_id: uuid.UUID | None) -> WorkerOut:
    national_id = normalise_national_id(data.national_id)
    if problem := national_id_problem(national_id):
        raise Invalid("national_id", problem)
    mobile = _mobile(data.mobile)
    async with session.begin():
        await require_actor(session, actor_id)
        await _require_district(session, data.district_code)
        await require_steward(session, data.steward_id)
        if await people_repo.worker_id_by_national_id(session, national_id) is not None:
            raise Conflict("a worker with this national ID number already exists", field="national_id")
        worker = Worker(
            name=data.name,
            national_id=national_id,
            mobile=mobile,
            employer=data.employer,
            district_code=data.district_code,
            talent_card=data.talent_card,
            field=data.field,
            steward_id=data.steward_id,
        )
        session.add(worker)
        await session.flush()
        session.add(
            StewardAssignment(
                worker_id=worker.id, steward_id=data.steward_id, assigned_by=actor_id, reason="first assignment"
            )
        )
        await session.flush()
        return worker_out(worker)


async def read_worker(session: AsyncSession, worker_id: uuid.UUID) -> WorkerOut:
    worker = await people_repo.get_worker(session, worker_id)
    if worker is None:
        raise NotFound("worker", worker_id)
    return worker_out(worker)


async def list_workers(session: AsyncSession, where: people_repo.WorkerFilter, limit: int, offset: int) -> WorkerPage:
    rows, total = await people_repo.list_workers(session, where, limit, offset)
    return WorkerPage(items=[worker_out(r) for r in rows], total=total, limit=limit, offset=offset)


async def update_worker(
    session: AsyncSession, worker_id: uuid.UUID, data: WorkerPatch, actor_id: uuid.UUID | None
) -> WorkerOut:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    if "mobile" in changes:
        changes["mobile"] = _mobile(changes["mobile"])
    async with session.begin():
        await require_actor(session, actor_id)
        worker = await people_repo.get_worker(session, worker_id, for_update=True)
        if worker is None:
            raise NotFound("worker", worker_id)
        if "district_code" in changes:
            await _require_district(session, changes["district_code"])
        for name, value in changes.items():
            setattr(worker, name, value)
        worker.updated_at = utcnow()
        await session.flush()
        return worker_out(worker)


async def assign_steward(
    session: AsyncSession,
    worker_id: uuid.UUID,
    data: StewardAssignmentIn,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> StewardAssignmentOut:
    async with session.begin():
        await require_actor(session, actor_id)
        worker = await people_repo.get_worker(session, worker_id, for_update=True)
        if worker is None:
            raise NotFound("worker", worker_id)
        await require_steward(session, data.steward_id)
        if worker.steward_id == data.steward_id:
            raise Conflict("this steward is already the worker's steward", field="steward_id")
        assignment = StewardAssignment(
            worker_id=worker.id,
            steward_id=data.steward_id,
            previous_steward_id=worker.steward_id,
            assigned_at=now,
            assigned_by=actor_id,
            reason=data.reason,
        )
        worker.steward_id = data.steward_id
        worker.updated_at = now
        session.add(assignment)
        await session.flush()
        # Unfinished cases follow the worker to the new steward; finished ones keep
        # the steward who handled them.
        await case_repo.hand_open_cases_to(session, worker.id, data.steward_id, actor_id, now)
        return assignment_out(assignment)


async def steward_history(session: AsyncSession, worker_id: uuid.UUID) -> list[StewardAssignmentOut]:
    if await people_repo.get_worker(session, worker_id) is None:
        raise NotFound("worker", worker_id)
    return [assignment_out(a) for a in await people_repo.steward_history(session, worker_id)]
