"""Staff and steward assignments into the API's Structs."""

from __future__ import annotations

from typing import Any, cast

from schemas.people import StaffOut, StewardAssignmentOut
from service.models import Staff, StewardAssignment


def staff_out(row: Staff) -> StaffOut:
    return StaffOut(
        id=row.id,
        name=row.name,
        role=cast(Any, row.role),
        department_code=row.department_code,
        district_code=row.district_code,
        work_phone=row.work_phone,
        email=row.email,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def assignment_out(row: StewardAssignment) -> StewardAssignmentOut:
    assert row.id is not None
    return StewardAssignmentOut(
        id=row.id,
        worker_id=row.worker_id,
        steward_id=row.steward_id,
        previous_steward_id=row.previous_steward_id,
        assigned_at=row.assigned_at,
        assigned_by=row.assigned_by,
        reason=row.reason,
    )
