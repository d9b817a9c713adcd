"""Which rows a caller reaches, as SQL conditions added to every query on them.

Reach is decided in the query, never by loading a row and checking it afterwards:
a row out of reach is indistinguishable from a row that does not exist (404).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import String, Uuid, any_, bindparam, false, func, or_, select, true
from sqlmodel import col

from service.domain.access import Principal, Role
from service.models import Case, Worker


def cases_reached(caller: Principal) -> Any:
    """steward: cases they handle and cases of the workers assigned to them;
    liaison: cases routed to their department; worker: their own; admin: all."""
    return _case_reach(caller.role, caller.staff_id, caller.worker_id, caller.department_code)


@cache
def case_reach(role: Role) -> Any:
    """``cases_reached`` for ``role`` with the caller's ids left as parameters, so that a
    statement built on it once serves every caller; ``reach_values`` fills them in."""
    return _case_reach(
        role,
        bindparam("reach_staff", type_=Uuid()),
        bindparam("reach_worker", type_=Uuid()),
        bindparam("reach_department", type_=String()),
    )


def reach_values(caller: Principal) -> dict[str, Any]:
    return {
        "reach_staff": caller.staff_id,
        "reach_worker": caller.worker_id,
        "reach_department": caller.department_code,
    }


def _case_reach(role: Role, staff: Any, worker: Any, department: Any) -> Any:
    match role:
        case Role.ADMIN:
            return true()
        case Role.STEWARD:
            # ``= ANY(ARRAY(subquery))`` runs the subquery once and lets both halves of
            # the OR use their indexes; ``IN (subquery)`` made PostgreSQL scan every case.
            own_workers = select(col(Worker.id)).where(col(Worker.steward_id) == staff)
            return or_(
                col(Case.steward_id) == staff,
                col(Case.worker_id) == any_(func.array(own_workers.scalar_subquery())),
            )
        case Role.LIAISON:
            return col(Case.department_code) == department
        case Role.WORKER:
            return col(Case.worker_id) == worker
        case Role.SECURITY | Role.AUDITOR | Role.OFFICIAL:
            return false()
    raise AssertionError(role)


def workers_reached(caller: Principal) -> Any:
    """steward: the workers assigned to them; liaison: workers with a case in their
    department; worker: themself; admin: all."""
    return _worker_reach(caller.role, caller.staff_id, caller.worker_id, caller.department_code)


@cache
def worker_reach(role: Role) -> Any:
    """``workers_reached`` for ``role`` with the caller's ids left as parameters
    (``reach_values`` fills them in), like ``case_reach``."""
    return _worker_reach(
        role,
        bindparam("reach_staff", type_=Uuid()),
        bindparam("reach_worker", type_=Uuid()),
        bindparam("reach_department", type_=String()),
    )


def _worker_reach(role: Role, staff: Any, worker: Any, department: Any) -> Any:
    match role:
        case Role.ADMIN:
            return true()
        case Role.STEWARD:
            return col(Worker.steward_id) == staff
        case Role.LIAISON:
            with_cases_here = select(col(Case.worker_id)).where(col(Case.department_code) == department)
            return col(Worker.id).in_(with_cases_here)
        case Role.WORKER:
            return col(Worker.id) == worker
        case Role.SECURITY | Role.AUDITOR | Role.OFFICIAL:
            return false()
    raise AssertionError(role)
