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


async def digest_written(session: AsyncSession, kind: Kind, day_start: datetime) -> bool:
    """Whether the digests of ``kind`` of the day starting at ``day_start`` are written."""
    query = text("SELECT EXISTS (SELECT 1 FROM notification WHERE kind = :kind AND threshold_at = :day)")
    return bool(await session.scalar(query, {"kind": kind.value, "day": day_start}))


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


@dataclass(frozen=True, slots=True)
class Official:
    account_id: uuid.UUID
    district_code: str | None
    """None: a city official, whose scope is every district."""


async def officials(session: AsyncSession) -> list[Official]:
    """The active official accounts, whom the officials' digests are for."""
    query = text("SELECT id, district_code FROM account WHERE role = :official AND active ORDER BY id")
    rows = await session.execute(query, {"official": Role.OFFICIAL.value})
    return [Official(*row) for row in rows.all()]


@dataclass(frozen=True, slots=True)
class ScopeDay:
    """One scope's late cases: ``district_code`` None is the whole city."""

    district_code: str | None
    scope_name: str
    overdue: int
    new_overdue: int
    first_new_case_nos: list[str]


async def overdue_by_scope(
    session: AsyncSession, now: datetime, since: datetime, until: datetime, named: int
) -> dict[str | None, ScopeDay]:
    """Per district and for the city (one statement, ``GROUPING SETS``): the cases overdue
    at ``now`` (the clock running), those of them whose time ran out in (``since``,
    ``until``], and the numbers of the ``named`` earliest of those."""
    query = text(
        f"""
        WITH late AS (
          SELECT c.district_code, c.case_no, c.due_at, (c.due_at > :since AND c.due_at <= :until) AS new
          FROM "case" c WHERE {due_state_is(DueState.OVERDUE)}
        )
        SELECT l.district_code, GROUPING(l.district_code) = 1 AS city,
               count(*), count(*) FILTER (WHERE l.new),
               (array_agg(l.case_no ORDER BY l.due_at, l.case_no) FILTER (WHERE l.new))[1:(:named)]
        FROM late l GROUP BY GROUPING SETS ((l.district_code), ())
        """
    )
    rows = await session.execute(query, {"now": now, "since": since, "until": until, "named": named})
    names = await _district_names(session)
    found: dict[str | None, ScopeDay] = {}
    for code, city, overdue, new, first in rows.all():
        key = None if city else code
        found[key] = ScopeDay(key, "全市" if city else names.get(code, code), int(overdue), int(new), list(first or []))
    return found


@dataclass(frozen=True, slots=True)
class ScopeWeek:
    district_code: str | None
    scope_name: str
    received: int
    resolved: int
    resolved_on_time: int
    overdue: int


async def week_by_scope(
    session: AsyncSession, now: datetime, start: datetime, end: datetime
) -> dict[str | None, ScopeWeek]:
    """Per district and for the city: cases received and resolved in [``start``, ``end``),
    how many of those resolved were on time, and the cases overdue at ``now``."""
    query = text(
        f"""
        SELECT c.district_code, GROUPING(c.district_code) = 1 AS city,
               count(*) FILTER (WHERE c.created_at >= :start AND c.created_at < :end),
               count(*) FILTER (WHERE c.resolved_at >= :start AND c.resolved_at < :end),
               count(*) FILTER (WHERE c.resolved_at >= :start AND c.resolved_at < :end AND c.resolved_on_time),
               count(*) FILTER (WHERE {due_state_is(DueState.OVERDUE)})
        FROM "case" c
        WHERE (c.created_at >= :start AND c.created_at < :end)
           OR (c.resolved_at >= :start AND c.resolved_at < :end)
           OR {due_state_is(DueState.OVERDUE)}
        GROUP BY GROUPING SETS ((c.district_code), ())
        """
    )
    rows = await session.execute(query, {"now": now, "start": start, "end": end})
    names = await _district_names(session)
    found: dict[str | None, ScopeWeek] = {}
    for code, city, received, resolved, on_time, overdue in rows.all():
        key = None if city else code
        found[key] = ScopeWeek(
            key, "全市" if city else names.get(code, code), int(received), int(resolved), int(on_time), int(overdue)
        )
    return found


async def district_name(session: AsyncSession, code: str | None) -> str:
    return "全市" if code is None else (await _district_names(session)).get(code, code)


async def _district_names(session: AsyncSession) -> dict[str, str]:
    return {code: name for code, name in (await session.execute(text("SELECT code, name_zh FROM district"))).all()}


@dataclass(frozen=True, slots=True)
class ItemProgress:
    title: str
    resolved: int
    annual_target: int
    unit: str | None


async def items_behind(
    session: AsyncSession, year_start: datetime, now: datetime, share: float, named: int
) -> list[ItemProgress]:
    """The active items of the list with an annual target whose cases resolved since
    ``year_start`` fall short of ``share`` of the target (the part of the year gone), the
    furthest behind first, at most ``named``."""
    query = text(
        """
        SELECT i.title_zh, count(c.id) AS resolved, i.annual_target, i.target_unit
        FROM work_list_item i
        LEFT JOIN "case" c ON c.item_id = i.id AND c.resolved_at >= :start AND c.resolved_at <= :now
        WHERE i.active AND i.annual_target > 0 AND i.year = :year
        GROUP BY i.id, i.title_zh, i.annual_target, i.target_unit, i.code
        HAVING count(c.id) < i.annual_target * CAST(:share AS float8)
        ORDER BY count(c.id)::float / i.annual_target, i.code
        LIMIT :named
        """
    )
    values = {"start": year_start, "now": now, "share": share, "named": named, "year": year_start.year}
    rows = await session.execute(query, values)
    return [ItemProgress(title, int(resolved), int(target), unit) for title, resolved, target, unit in rows.all()]
