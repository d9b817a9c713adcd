"""Which rows a caller reaches, as SQL conditions added to every query on them.

Reach is decided in the query, never by loading a row and checking it afterwards:
a row out of reach is indistinguishable from a row that does not exist (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_, select, true
from sqlmodel import col

from service.domain.access import Principal, Role
from service.models import Case, Worker


def cases_reached(caller: Principal) -> Any:
    """steward: cases they handle and cases of the workers assigned to them;
    liaison: cases routed to their department; worker: their own; admin: all."""
    match caller.role:
        case Role.ADMIN:
            return true()
        case Role.STEWARD:
            own_workers = select(col(Worker.id)).where(col(Worker.steward_id) == caller.staff_id)
            return or_(col(Case.steward_id) == caller.staff_id, col(Case.worker_id).in_(own_workers))
        case Role.LIAISON:
            return col(Case.department_code) == caller.department_code
        case Role.WORKER:
            return col(Case.worker_id) == caller.worker_id
        case Role.SECURITY | Role.AUDITOR | Role.OFFICIAL:
            return false()
    raise AssertionError(caller.role)


def workers_reached(caller: Principal) -> Any:
    """steward: the workers assigned to them; liaison: workers with a case in their
    department; worker: themself; admin: all."""
    match caller.role:
        case Role.ADMIN:
            return true()
        case Role.STEWARD:
            return col(Worker.steward_id) == caller.staff_id
        case Role.LIAISON:
            with_cases_here = select(col(Case.worker_id)).where(col(Case.department_code) == caller.department_code)
            return col(Worker.id).in_(with_cases_here)
        case Role.WORKER:
            return col(Worker.id) == caller.worker_id
        case Role.SECURITY | Role.AUDITOR | Role.OFFICIAL:
            return false()
    raise AssertionError(caller.role)
