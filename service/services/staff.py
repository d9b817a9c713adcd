"""Stewards and liaisons."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.people import StaffIn, StaffOut, StaffPage, StaffPatch
from service.errors import Invalid, NotFound
from service.models import Staff
from service.repositories import people as people_repo
from service.repositories import reference as reference_repo
from service.services import audit
from service.services.context import Context
from service.services.presenters.people import staff_out


async def require_steward(session: AsyncSession, steward_id: uuid.UUID) -> None:
    steward = await people_repo.get_staff(session, steward_id)
    if steward is None or steward.role != "steward" or not steward.active:
        raise Invalid("steward_id", "no such active steward")


async def _check_refs(session: AsyncSession, department_code: str | None, district_code: str | None) -> None:
    if department_code is not None and await reference_repo.get_department(session, department_code) is None:
        raise Invalid("department_code", "no such department")
    if district_code is not None and await reference_repo.get_district(session, district_code) is None:
        raise Invalid("district_code", "no such district")


async def create_staff(session: AsyncSession, ctx: Context, data: StaffIn) -> StaffOut:
    if data.role == "liaison" and data.department_code is None:
        raise Invalid("department_code", "a liaison belongs to a department")
    async with session.begin():
        await _check_refs(session, data.department_code, data.district_code)
        staff = Staff(**msgspec.structs.asdict(data), created_at=ctx.now, updated_at=ctx.now)
        session.add(staff)
        await session.flush()
        await audit.record(
            ctx, session, "staff.create", target_type="staff", target_id=staff.id, details={"role": data.role}
        )
        return staff_out(staff)


async def read_staff(session: AsyncSession, staff_id: uuid.UUID) -> StaffOut:
    async with session.begin():
        staff = await people_repo.get_staff(session, staff_id)
        if staff is None:
            raise NotFound("staff member", staff_id)
        return staff_out(staff)


async def list_staff(
    session: AsyncSession, role: str | None, department_code: str | None, limit: int, offset: int
) -> StaffPage:
    async with session.begin():
        rows, total = await people_repo.list_staff(session, role, department_code, limit, offset)
        return StaffPage(items=[staff_out(r) for r in rows], total=total, limit=limit, offset=offset)


async def update_staff(session: AsyncSession, ctx: Context, staff_id: uuid.UUID, data: StaffPatch) -> StaffOut:
    async with session.begin():
        staff = await people_repo.get_staff(session, staff_id, for_update=True)
        if staff is None:
            raise NotFound("staff member", staff_id)
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        await _check_refs(session, changes.get("department_code"), changes.get("district_code"))
        if staff.role == "liaison" and "department_code" in changes and changes["department_code"] is None:
            raise Invalid("department_code", "a liaison belongs to a department")
        recorded = {k: {"from": getattr(staff, k), "to": v} for k, v in changes.items() if getattr(staff, k) != v}
        for name, value in changes.items():
            setattr(staff, name, value)
        staff.updated_at = ctx.now
        await session.flush()
        if recorded:
            await audit.record(
                ctx, session, "staff.update", target_type="staff", target_id=staff.id, details={"changes": recorded}
            )
        return staff_out(staff)
