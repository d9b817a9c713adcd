"""Science workers, their personal data and their stewards."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.people import (
    RevealIn,
    RevealOut,
    StewardAssignmentIn,
    StewardAssignmentOut,
    WorkerIn,
    WorkerLookupIn,
    WorkerMobileIn,
    WorkerOut,
    WorkerPage,
    WorkerPatch,
)
from service.domain.access import Role
from service.domain.filters import WorkerFilter
from service.domain.identity import mobile_problem, national_id_problem, normalise_mobile, normalise_national_id
from service.domain.masking import mask_mobile, mask_national_id
from service.errors import Conflict, Invalid, NotFound
from service.models import StewardAssignment, Worker
from service.repositories import cases as case_repo
from service.repositories import people as people_repo
from service.repositories import reference as reference_repo
from service.repositories.reach import workers_reached
from service.security.pii import PiiCipher
from service.services import audit
from service.services.context import Context
from service.services.presenters.people import assignment_out
from service.services.reach import reached_worker
from service.services.staff import require_steward


def _context(worker_id: uuid.UUID, field: str) -> str:
    return f"worker:{worker_id}:{field}"


def sealed_national_id(pii: PiiCipher, worker_id: uuid.UUID, national_id: str) -> dict[str, bytes]:
    return {
        "national_id_sealed": pii.seal(national_id, _context(worker_id, "national_id")),
        "national_id_index": pii.index(national_id, "national_id"),
    }


def sealed_mobile(pii: PiiCipher, worker_id: uuid.UUID, mobile: str) -> dict[str, bytes]:
    return {
        "mobile_sealed": pii.seal(mobile, _context(worker_id, "mobile")),
        "mobile_index": pii.index(mobile, "mobile"),
    }


def worker_out(pii: PiiCipher, row: Worker) -> WorkerOut:
    return WorkerOut(
        id=row.id,
        name=row.name,
        national_id_masked=mask_national_id(pii.open(row.national_id_sealed, _context(row.id, "national_id"))),
        mobile_masked=mask_mobile(pii.open(row.mobile_sealed, _context(row.id, "mobile"))),
        employer=row.employer,
        district_code=row.district_code,
        talent_card=row.talent_card,  # type: ignore[arg-type]
        field=row.field,
        steward_id=row.steward_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _national_id(value: str) -> str:
    national_id = normalise_national_id(value)
    if problem := national_id_problem(national_id):
        raise Invalid("national_id", problem)
    return national_id


def _mobile(value: str) -> str:
    mobile = normalise_mobile(value)
    if problem := mobile_problem(mobile):
        raise Invalid("mobile", problem)
    return mobile


async def _require_district(session: AsyncSession, code: str) -> None:
    if await reference_repo.get_district(session, code) is None:
        raise Invalid("district_code", "no such district")


async def create_worker(session: AsyncSession, ctx: Context, data: WorkerIn) -> WorkerOut:
    """A steward registers workers to themself; an administrator to any steward."""
    national_id = _national_id(data.national_id)
    mobile = _mobile(data.mobile)
    if ctx.caller.role is Role.STEWARD and data.steward_id != ctx.caller.staff_id:
        raise Invalid("steward_id", "a steward registers workers to themself")
    pii = ctx.kit.pii
    async with session.begin():
        await _require_district(session, data.district_code)
        await require_steward(session, data.steward_id)
        # Uniqueness across the whole city: the 409 says a record exists, never whose.
        if await people_repo.national_id_taken(session, pii.index(national_id, "national_id")):
            raise Conflict("a worker with this national ID number already exists", field="national_id")
        worker_id = uuid.uuid4()
        worker = Worker(
            id=worker_id,
            **sealed_national_id(pii, worker_id, national_id),
            **sealed_mobile(pii, worker_id, mobile),
            name=data.name,
            employer=data.employer,
            district_code=data.district_code,
            talent_card=data.talent_card,
            field=data.field,
            steward_id=data.steward_id,
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        session.add(worker)
        await session.flush()
        session.add(
            StewardAssignment(
                worker_id=worker.id,
                steward_id=data.steward_id,
                assigned_at=ctx.now,
                assigned_by=ctx.caller.staff_id,
                reason="first assignment",
            )
        )
        await session.flush()
        await audit.record(ctx, session, "worker.create", target_type="worker", target_id=worker.id)
        return worker_out(pii, worker)


async def read_worker(session: AsyncSession, ctx: Context, worker_id: uuid.UUID) -> WorkerOut:
    async with session.begin():
        return worker_out(ctx.kit.pii, await reached_worker(session, ctx, worker_id))


async def lookup_worker(session: AsyncSession, ctx: Context, data: WorkerLookupIn) -> WorkerOut:
    async with session.begin():
        national_id = normalise_national_id(data.national_id)
        index = ctx.kit.pii.index(national_id, "national_id")
        worker = await people_repo.worker_by_index(session, index, workers_reached(ctx.caller))
        if worker is None:
            raise NotFound("worker", "with this national ID number")
        return worker_out(ctx.kit.pii, worker)


async def workers_by_mobile(session: AsyncSession, ctx: Context, data: WorkerMobileIn) -> list[WorkerOut]:
    """The workers within reach with this mobile number; none is an empty list, not a 404,
    since a number may be shared and the list is the answer."""
    mobile = _mobile(data.mobile)
    index = ctx.kit.pii.index(mobile, "mobile")
    async with session.begin():
        found = await people_repo.workers_by_mobile_index(session, index, workers_reached(ctx.caller))
        return [worker_out(ctx.kit.pii, worker) for worker in found]


async def list_workers(session: AsyncSession, ctx: Context, where: WorkerFilter, limit: int, offset: int) -> WorkerPage:
    async with session.begin():
        rows, total = await people_repo.list_workers(session, where, workers_reached(ctx.caller), limit, offset)
        return WorkerPage(items=[worker_out(ctx.kit.pii, r) for r in rows], total=total, limit=limit, offset=offset)


async def update_worker(session: AsyncSession, ctx: Context, worker_id: uuid.UUID, data: WorkerPatch) -> WorkerOut:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    if "mobile" in changes:
        changes["mobile"] = _mobile(changes["mobile"])
    async with session.begin():
        worker = await reached_worker(session, ctx, worker_id, for_update=True)
        if "district_code" in changes:
            await _require_district(session, changes["district_code"])
        changed = sorted(changes)  # names only: values may be personal data
        if "mobile" in changes:
            changes.update(sealed_mobile(ctx.kit.pii, worker.id, changes.pop("mobile")))
        for name, value in changes.items():
            setattr(worker, name, value)
        worker.updated_at = ctx.now
        await session.flush()
        await audit.record(
            ctx, session, "worker.update", target_type="worker", target_id=worker.id, details={"fields": changed}
        )
        return worker_out(ctx.kit.pii, worker)


async def reveal(session: AsyncSession, ctx: Context, worker_id: uuid.UUID, data: RevealIn) -> RevealOut:
    """The full numbers, for a steward's own workers or an administrator, with the
    reason written to the audit trail in the same transaction."""
    async with session.begin():
        worker = await reached_worker(session, ctx, worker_id)
        fields = sorted(set(data.fields))
        shown: dict[str, str] = {}
        if "national_id" in fields:
            shown["national_id"] = ctx.kit.pii.open(worker.national_id_sealed, _context(worker.id, "national_id"))
        if "mobile" in fields:
            shown["mobile"] = ctx.kit.pii.open(worker.mobile_sealed, _context(worker.id, "mobile"))
        await audit.record(
            ctx,
            session,
            "pii.reveal",
            target_type="worker",
            target_id=worker.id,
            details={"fields": fields, "reason": data.reason},
        )
    return RevealOut(worker_id=worker.id, **shown)


async def assign_steward(
    session: AsyncSession, ctx: Context, worker_id: uuid.UUID, data: StewardAssignmentIn
) -> StewardAssignmentOut:
    async with session.begin():
        worker = await reached_worker(session, ctx, worker_id, for_update=True)
        await require_steward(session, data.steward_id)
        if worker.steward_id == data.steward_id:
            raise Conflict("this steward is already the worker's steward", field="steward_id")
        assignment = StewardAssignment(
            worker_id=worker.id,
            steward_id=data.steward_id,
            previous_steward_id=worker.steward_id,
            assigned_at=ctx.now,
            assigned_by=ctx.caller.staff_id,
            reason=data.reason,
        )
        worker.steward_id = data.steward_id
        worker.updated_at = ctx.now
        session.add(assignment)
        await session.flush()
        # Unfinished cases follow the worker to the new steward; finished ones keep
        # the steward who handled them.
        await case_repo.hand_open_cases_to(session, worker.id, data.steward_id, ctx.caller, ctx.now)
        await audit.record(
            ctx,
            session,
            "worker.steward",
            target_type="worker",
            target_id=worker.id,
            details={"from": str(assignment.previous_steward_id), "to": str(data.steward_id), "reason": data.reason},
        )
        return assignment_out(assignment)


async def steward_history(session: AsyncSession, ctx: Context, worker_id: uuid.UUID) -> list[StewardAssignmentOut]:
    async with session.begin():
        await reached_worker(session, ctx, worker_id)
        return [assignment_out(a) for a in await people_repo.steward_history(session, worker_id)]
