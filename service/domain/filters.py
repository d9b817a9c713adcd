"""What a caller may ask of a list: the filters of the case, worker and audit lists.

They are plain values in the domain's words, built by the API from a request and read
by the repositories' queries, so that neither layer reaches into the other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from service.domain.queues import Queue
from service.domain.time_limit import DueState
from service.domain.workflow import Category, Status


@dataclass(frozen=True, slots=True)
class CaseFilter:
    statuses: tuple[Status, ...] = ()
    category: Category | None = None
    item_id: uuid.UUID | None = None
    department_code: str | None = None
    district_code: str | None = None
    steward_id: uuid.UUID | None = None
    worker_id: uuid.UUID | None = None
    due_state: DueState | None = None
    """By the due state a case shows (``domain/due.py``)."""
    queue: Queue | None = None
    """By the work queue a case is in (``domain/queues.py``)."""
    created_from: datetime | None = None
    created_to: datetime | None = None
    case_no: str | None = None
    """The case number in its canonical form (``domain.case_number.normalise_case_number``)."""
    text: str | None = None
    """Words the title, the description or the worker's name holds, as typed (case-insensitive)."""


CaseSortKey = Literal["created_at", "updated_at", "due_at", "case_no"]


@dataclass(frozen=True, slots=True)
class CaseOrder:
    by: CaseSortKey = "created_at"
    descending: bool = True


@dataclass(frozen=True, slots=True)
class WorkerFilter:
    district_code: str | None = None
    steward_id: uuid.UUID | None = None
    talent_card: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor_account_id: uuid.UUID | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    outcome: str | None = None
    at_from: datetime | None = None
    at_to: datetime | None = None
