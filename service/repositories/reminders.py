"""Queries of a reminder pass: the cases that have crossed a threshold and whose steward
has not been reminded for their present due time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.access import Role
from service.domain.notices import Kind
from service.domain.time_limit import DueState
from service.domain.workflow import Status
from service.repositories.due import due_state_is

PASS_LOCK = 0x42534E52  # "BSNR": one reminder pass at a time, across processes
_STATE = {Kind.DUE_SOON: DueState.DUE_SOON, Kind.OVERDUE: DueState.OVERDUE}


@dataclass(frozen=True, slots=True)
class Crossing:
    case_id: uuid.UUID
    case_no: str
    steward_id: uuid.UUID
    at: datetime
    """The instant the reminder is about: the due time, the follow-up's end, or when the case was logged."""
    item_title: str


async def take_pass_lock(session: AsyncSession) -> bool:
    """Whether this transaction may run the pass (another process may be running one)."""
    return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PASS_LOCK}))


async def due_crossings(session: AsyncSession, kind: Kind, now: datetime, batch: int) -> list[Crossing]:
    """Up to ``batch`` cases that show the due state of ``kind`` at ``now`` and have no
    reminder of that kind for their present due time, the earliest due first."""
    query = text(
        f"""
        SELECT c.id, c.case_no, c.steward_id, c.due_at, i.title_zh
        FROM "case" c JOIN work_list_item i ON i.id = c.item_id
        WHERE {due_state_is(_STATE[kind])}
          AND NOT EXISTS (
            SELECT 1 FROM notification n
            WHERE n.case_id = c.id AND n.kind = :kind AND n.threshold_at = c.due_at
          )
        ORDER BY c.due_at, c.id
        LIMIT :batch
        """
    )
    rows = await session.execute(query, {"now": now, "kind": kind.value, "batch": batch})
    return [Crossing(*row) for row in rows.all()]


async def unaccepted(session: AsyncSession, logged_before: datetime, batch: int) -> list[Crossing]:
    """Up to ``batch`` cases still submitted that were logged before ``logged_before`` and
    have no reminder of being unaccepted, the oldest first. Whether a working day has
    passed since is for the caller to judge on the calendar."""
    query = text(
        """
        SELECT c.id, c.case_no, c.steward_id, c.created_at, i.title_zh
        FROM "case" c JOIN work_list_item i ON i.id = c.item_id
        WHERE c.status = :submitted AND c.created_at <= :before
          AND NOT EXISTS (SELECT 1 FROM notification n WHERE n.case_id = c.id AND n.kind = :kind)
        ORDER BY c.created_at, c.id
        LIMIT :batch
        """
    )
    values = {"submitted": Status.SUBMITTED.value, "before": logged_before, "kind": Kind.UNACCEPTED.value}
    rows = await session.execute(query, {**values, "batch": batch})
    return [Crossing(*row) for row in rows.all()]


async def open_follow_ups(session: AsyncSession, now: datetime, until: datetime, batch: int) -> list[Crossing]:
    """Up to ``batch`` cases whose earliest open follow-up runs out after ``now`` and by
    ``until``, not yet reminded for that end, the soonest first."""
    query = text(
        """
        SELECT c.id, c.case_no, c.steward_id, c.follow_up_due_at, i.title_zh
        FROM "case" c JOIN work_list_item i ON i.id = c.item_id
        WHERE c.follow_up_due_at > :now AND c.follow_up_due_at <= :until
          AND NOT EXISTS (
            SELECT 1 FROM notification n
            WHERE n.case_id = c.id AND n.kind = :kind AND n.threshold_at = c.follow_up_due_at
          )
        ORDER BY c.follow_up_due_at, c.id
        LIMIT :batch
        """
    )
    values = {"now": now, "until": until, "kind": Kind.FOLLOW_UP_DUE_SOON.value, "batch": batch}
    rows = await session.execute(query, values)
    return [Crossing(*row) for row in rows.all()]


@dataclass(frozen=True, slots=True)
class DepartmentLoad:
    department_code: str
    overdue: int
    due_soon: int
    first_case_nos: list[str]
    liaison_ids: list[uuid.UUID]


async def digest_written(session: AsyncSession, day_start: datetime) -> bool:
    """Whether the department digests of the day starting at ``day_start`` are written."""
    query = text("SELECT EXISTS (SELECT 1 FROM notification WHERE kind = :kind AND threshold_at = :day)")
    return bool(await session.scalar(query, {"kind": Kind.DEPARTMENT_DIGEST.value, "day": day_start}))


async def department_loads(session: AsyncSession, now: datetime, named: int) -> list[DepartmentLoad]:
    """Per department with active liaisons: its cases overdue and due soon at ``now`` (the
    clock running), the numbers of the ``named`` earliest due, and its liaisons."""
    query = text(
        f"""
        WITH due AS (
          SELECT c.department_code, c.case_no, c.due_at, ({due_state_is(DueState.OVERDUE)}) AS overdue
          FROM "case" c
          WHERE {due_state_is(DueState.OVERDUE)} OR {due_state_is(DueState.DUE_SOON)}
        ), loads AS (
          SELECT department_code,
                 count(*) FILTER (WHERE overdue) AS overdue,
                 count(*) FILTER (WHERE NOT overdue) AS due_soon,
                 (array_agg(case_no ORDER BY due_at, case_no))[1:(:named)] AS first_case_nos
          FROM due GROUP BY department_code
        )
        SELECT l.department_code, l.overdue, l.due_soon, l.first_case_nos, array_agg(s.id ORDER BY s.id)
        FROM loads l JOIN staff s ON s.department_code = l.department_code AND s.role = :liaison AND s.active
        GROUP BY l.department_code, l.overdue, l.due_soon, l.first_case_nos
        ORDER BY l.department_code
        """
    )
    rows = await session.execute(query, {"now": now, "named": named, "liaison": Role.LIAISON.value})
    return [DepartmentLoad(code, int(o), int(d), list(nos), list(ids)) for code, o, d, nos, ids in rows.all()]
