"""Queries on cases, their events, case numbers and idempotency records."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    DateTime,
    Integer,
    String,
    Text,
    Uuid,
    any_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.db import (
    Prepared,
    array_parameters,
    bound_engine,
    columns_of,
    fetch_all,
    fetch_one,
    in_transaction,
    jsonb_text,
    named,
    one_statement,
    parameter_type,
    prepared,
    rows_inserted,
    single_statement,
)
from service.domain.access import Principal, Role
from service.domain.due import UNFINISHED, in_order
from service.domain.filters import CaseFilter, CaseOrder
from service.domain.notices import Kind
from service.domain.queues import Queue
from service.domain.time_limit import DueState
from service.domain.workflow import Category, statuses_in
from service.models import (
    Case,
    CaseEvent,
    CaseView,
    Department,
    IdempotencyRecord,
    Staff,
    Worker,
    WorkListItem,
)
from service.models.base import fresh, from_row, utcnow
from service.repositories import audit as audit_repo
from service.repositories import due, queues
from service.repositories.calendar import CALENDAR_STAMP
from service.repositories.notifications import (
    NOTICES_INSERTED,
    NoticeFacts,
    facts_in,
    notice_arrays,
    notice_fact_columns,
    notice_fact_values,
)
from service.repositories.reach import case_reach, reach_values


async def get_case(session: AsyncSession, case_id: uuid.UUID, reach: Any, *, for_update: bool = False) -> Case | None:
    """The case if it exists and is within ``reach`` (see ``repositories/reach.py``)."""
    query = select(Case).where(col(Case.id) == case_id, reach)
    if for_update:
        # FOR NO KEY UPDATE: a change never touches the key, so rows that only refer to the
        # case (its timeline, its notices, a reminder pass's) do not block it, nor it them.
        query = query.with_for_update(of=Case, key_share=True).execution_options(populate_existing=True)
    return (await session.scalars(query)).first()


@dataclass(frozen=True, slots=True)
class CaseRead:
    case: Case
    """As the table holds it, built without validation and belonging to no session."""
    item_code: str
    timeline: str
    """The case's events in order, as a JSON array of objects with the event's columns but ``case_id``."""
    calendar_stamp: str | None = None
    """With ``lock_case``: the calendar's ``CALENDAR_STAMP`` as the same statement saw it."""


@dataclass(frozen=True, slots=True)
class CaseShown:
    """What the case read fetches: the case's shown columns, its item's code, its timeline."""

    case: CaseView
    item_code: str
    timeline: str
    """As ``CaseRead.timeline``."""


async def read_case(engine: Engine, case_id: uuid.UUID, caller: Principal) -> CaseShown | None:
    """The case with its item's code and its whole timeline, if the caller reaches it.

    The most frequent request, so it is read in one statement on a connection of its own
    from ``engine``'s pool, outside any transaction (one statement sees one snapshot),
    compiled once per role and run straight through the driver (``db.single_statement``):
    an ORM query and a transaction around it cost more than the query itself. A caller must
    not hold a connection of the same pool already (in a transaction), or a busy pool could
    wait on itself. Only the columns the answer shows are selected, as a ``CaseView``."""
    values = {"case_id": case_id, **reach_values(caller)}
    async with single_statement(engine) as connection:
        row = await fetch_one(connection, _case_read_statement(caller.role), values)
    if row is None:
        return None
    # The statement selects the view's columns first, in its order.
    return CaseShown(case=CaseView._make(row[:_SHOWN]), item_code=row["item_code"], timeline=row["timeline"])


_CASE_COLUMNS = tuple(column.name for column in Case.__table__.c)  # type: ignore[attr-defined]
_SHOWN = len(CaseView._fields)


@cache
def _case_read_statement(role: Role, *, for_update: bool = False) -> Prepared:
    event = CaseEvent.__table__.c  # type: ignore[attr-defined]
    # The events in the order of the index on (case_id, id), each as the JSON object of its
    # row (the keys are the column names), aggregated in the order the sorted subquery gives
    # them (PostgreSQL's documented way besides ORDER BY in the aggregate, which sorted the
    # events again on every read); an object built key by key cost more than the row's.
    # Together 10 to 15 us of PostgreSQL's CPU a read (of about 90).
    events = (
        select(*[column for column in event if column.name != "case_id"])
        .where(event.case_id == col(Case.id))
        .order_by(event.id)
        .correlate(Case)
        .subquery("e")
    )
    timeline = (
        select(func.coalesce(func.json_agg(literal_column(events.name)), literal_column("'[]'").cast(JSON)).cast(Text))
        .select_from(events)
        .scalar_subquery()
    )
    # The item's code by its key, not a join: a join hashed the whole (small) item table
    # on every read.
    item_code = select(col(WorkListItem.code)).where(col(WorkListItem.id) == col(Case.item_id)).scalar_subquery()
    # A move locks and reads the whole case; the read selects what it shows (``CaseView``).
    table = Case.__table__.c  # type: ignore[attr-defined]
    shown = list(table) if for_update else [table[name] for name in CaseView._fields]
    columns = [*shown, item_code.label("item_code"), timeline.label("timeline")]
    if for_update:
        columns.append(literal_column(CALENDAR_STAMP).label("calendar_stamp"))
    statement = select(*columns).where(col(Case.id) == bindparam("case_id", type_=Uuid()), case_reach(role))
    if for_update:
        statement = statement.with_for_update(of=Case, key_share=True)
    return prepared(statement)


async def lock_case(session: AsyncSession, case_id: uuid.UUID, caller: Principal) -> CaseRead | None:
    """The case locked for the rest of the transaction (``FOR NO KEY UPDATE``: rows that
    only refer to it do not block it, nor it them) with its item's code and its timeline,
    if the caller reaches it: what a move reads, in one statement on the transaction's
    driver connection. The case is a new object that belongs to no session (changes to it
    are written with ``save_move``, never flushed)."""
    values = {"case_id": case_id, **reach_values(caller)}
    row = await (await in_transaction(session)).fetch_one(_case_read_statement(caller.role, for_update=True), values)
    if row is None:
        return None
    case = fresh(Case, **dict(zip(_CASE_COLUMNS, row, strict=False)))
    return CaseRead(
        case=case, item_code=row["item_code"], timeline=row["timeline"], calendar_stamp=row["calendar_stamp"]
    )


def _cast(column: Any, number: int) -> str:
    return f"CAST(${number} AS {parameter_type(column)})"


_PG = postgresql.dialect()  # type: ignore[no-untyped-call]
_CASE_TABLE = Case.__table__.c  # type: ignore[attr-defined]
_EVENT_TABLE = CaseEvent.__table__.c  # type: ignore[attr-defined]
_CASE_WRITTEN = tuple(c.name for c in _CASE_TABLE if c.computed is None)
_CASE_COMPUTED = tuple(c.name for c in _CASE_TABLE if c.computed is not None)
_EVENT_WRITTEN = tuple(c.name for c in _EVENT_TABLE if c.name != "id")


def _case_and_line(case_part: str) -> Prepared:
    """``case_part`` (an UPDATE of the case, its parameters the written columns in order,
    returning the computed columns) and the timeline line in one statement."""
    names = [f"case.{name}" for name in _CASE_WRITTEN] + [f"line.{name}" for name in _EVENT_WRITTEN]
    line = ", ".join(_cast(_EVENT_TABLE[name], len(_CASE_WRITTEN) + i) for i, name in enumerate(_EVENT_WRITTEN, 1))
    parts = [
        f"written AS ({case_part} RETURNING {', '.join(_CASE_COMPUTED)})",
        f"line AS (INSERT INTO case_event ({', '.join(_EVENT_WRITTEN)}) SELECT {line} FROM written RETURNING id)",
    ]
    return Prepared(f"WITH {', '.join(parts)} SELECT line.id, written.* FROM line, written", tuple(names))


_MOVE_CASE = _case_and_line(
    'UPDATE "case" SET '
    + ", ".join(f"{name} = {_cast(_CASE_TABLE[name], i)}" for i, name in enumerate(_CASE_WRITTEN, 1) if name != "id")
    + f" WHERE id = {_cast(_CASE_TABLE['id'], _CASE_WRITTEN.index('id') + 1)}"
)

_CASE_NUMBERED = tuple(name for name in _CASE_WRITTEN if name != "case_no")
"""A new case's columns as given: its number is formed in the statement that writes it."""
_LINE_GIVEN = ("id", *_EVENT_WRITTEN)
"""A new case's first line, its id taken beforehand (``NewCaseReferences.line_id``)."""


def _logging() -> Prepared:
    """New cases of one day, in one statement: the day's counter moved on by their number
    (its row locked to the commit), each case written with the number of its place among
    them (formed by the database's ``case_number``, migration 0015), and their first lines."""
    given = array_parameters(_CASE_TABLE, _CASE_NUMBERED, 3)
    lines = array_parameters(_EVENT_TABLE, _LINE_GIVEN, 3 + len(_CASE_NUMBERED))
    values = ", ".join(
        "case_number($1::date, numbered.last_value - $2 + given.place)" if name == "case_no" else f"given.{name}"
        for name in _CASE_WRITTEN
    )
    sql = (
        "WITH numbered AS (INSERT INTO case_number_counter (day, last_value) VALUES ($1::date, $2) "
        "ON CONFLICT (day) DO UPDATE SET last_value = case_number_counter.last_value + $2 RETURNING last_value), "
        f"given AS (SELECT * FROM unnest({given}) WITH ORDINALITY AS g({', '.join(_CASE_NUMBERED)}, place)), "
        f'written AS (INSERT INTO "case" ({", ".join(_CASE_WRITTEN)}) SELECT {values} FROM given, numbered '
        f"RETURNING id, case_no, {', '.join(_CASE_COMPUTED)}), "
        f"line AS (INSERT INTO case_event ({', '.join(_LINE_GIVEN)}) SELECT l.* FROM unnest({lines}) "
        f"AS l({', '.join(_LINE_GIVEN)}) JOIN written ON written.id = l.case_id RETURNING id) "
        "SELECT written.*, (SELECT count(*) FROM line) AS lines FROM written"
    )
    names = ["day", "count", *(f"case.{n}" for n in _CASE_NUMBERED), *(f"line.{n}" for n in _LINE_GIVEN)]
    return Prepared(sql, tuple(names))


_LOG_CASES = _logging()


async def log_cases(session: AsyncSession, day: date, cases: Sequence[Case], lines: Sequence[CaseEvent]) -> None:
    """Take the next numbers of ``day``, one for each case in the order given, and insert
    the new cases with them and the first line of each case's timeline (its id taken
    beforehand), in one statement. The day's counter row stays locked until the
    transaction ends, so numbers are handed out in commit order without gaps from
    rolled-back creations. Each case's number and computed columns are set on it; the
    objects belong to no session."""
    assert all(line.id is not None for line in lines), "take each line's id first (NewCaseReferences.line_id)"
    values: dict[str, Any] = {"day": day, "count": len(cases)}
    for name in _CASE_NUMBERED:
        values[f"case.{name}"] = [getattr(case, name) for case in cases]
    for name in _LINE_GIVEN:
        values[f"line.{name}"] = [getattr(line, name) for line in lines]
    values["line.details"] = [jsonb_text(line.details or {}) for line in lines]
    rows = await (await in_transaction(session)).fetch_all(_LOG_CASES, values)
    assert len(rows) == len(cases), "every case written"
    assert all(row["lines"] == len(lines) for row in rows), "every first line written"
    written = {row["id"]: row for row in rows}
    for case in cases:
        row = written[case.id]
        for name in ("case_no", *_CASE_COMPUTED):
            # Formed or computed by the database: set without marking the object changed.
            case.__dict__[name] = row[name]


async def save_move(session: AsyncSession, case: Case, line: CaseEvent) -> None:
    """Write every column of a case locked by ``lock_case`` and the line of the change to
    it, in one statement (the tally trigger runs once)."""
    values: dict[str, Any] = {f"case.{name}": getattr(case, name) for name in _CASE_WRITTEN}
    for name in _EVENT_WRITTEN:
        values[f"line.{name}"] = getattr(line, name)
    values["line.details"] = jsonb_text(line.details or {})
    row = await (await in_transaction(session)).fetch_one(_MOVE_CASE, values)
    assert row is not None, "the case row was written"
    line.id = row[0]
    for name in _CASE_COMPUTED:
        # Computed by the database: set without marking the object changed.
        case.__dict__[name] = row[name]


_ANSWER_COLUMNS = ("account_id", "key", "request_hash", "case_id", "response", "created_at")


@cache
def _finishing() -> Prepared:
    kept = rows_inserted(IdempotencyRecord.__table__, _ANSWER_COLUMNS)  # type: ignore[attr-defined]
    parts = [("told", NOTICES_INSERTED), *audit_repo.APPENDED, ("kept", kept)]
    return one_statement(parts, "SELECT ARRAY(SELECT id FROM told) AS told")


async def finish_logging(
    session: AsyncSession,
    notices: list[dict[str, Any]],
    audit_rows: Sequence[Mapping[str, Any]],
    answers: Sequence[Mapping[str, Any]],
) -> set[uuid.UUID]:
    """What new cases' numbers were needed for, written in one statement after ``log_cases``:
    their notices, their audit rows (linked one after the other to one held chain:
    ``services/audit.linked_all``) and, for creations sent with an ``Idempotency-Key``,
    their first answers (``first_answer``). Returns the ids of the notices written."""
    values = (
        named("told", notice_arrays(notices))
        | audit_repo.appended_values(audit_rows)
        | named("kept", columns_of(answers, _ANSWER_COLUMNS))
    )
    row = await (await in_transaction(session)).fetch_one(_finishing(), values)
    assert row is not None  # a SELECT without FROM answers one row
    return set(row["told"] or ())


_LIKE_SPECIAL = re.compile(r"[\\%_]")
"""What LIKE reads as a wildcard or an escape: taken literally in a text search."""


async def item_code_of(session: AsyncSession, item_id: uuid.UUID) -> str:
    return (await session.scalar(select(col(WorkListItem.code)).where(col(WorkListItem.id) == item_id))) or ""


@dataclass(frozen=True, slots=True)
class Shape:
    """What a case-list statement depends on besides its values: the caller's role, which
    filters are given, the order. One statement is built and compiled per shape."""

    role: Role
    statuses: bool
    category: Category | None
    given: frozenset[str]
    due_state: DueState | None
    queue: Queue | None
    order: CaseOrder


_EQUAL = ("item_id", "department_code", "district_code", "steward_id", "worker_id", "case_no")


def _shape(where: CaseFilter, role: Role, order: CaseOrder) -> Shape:
    given = {name for name in (*_EQUAL, "created_from", "created_to", "text") if getattr(where, name) is not None}
    return Shape(role, bool(where.statuses), where.category, frozenset(given), where.due_state, where.queue, order)


def _values(where: CaseFilter, caller: Principal, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"now": now, **reach_values(caller)}
    values["statuses"] = [s.value for s in where.statuses]
    values["category_statuses"] = [] if where.category is None else [s.value for s in statuses_in(where.category)]
    for name in (*_EQUAL, "created_from", "created_to"):
        values[name] = getattr(where, name)
    if where.text is not None:
        values["pattern"] = "%" + _LIKE_SPECIAL.sub(r"\\\g<0>", where.text) + "%"
    return values


def _conditions(shape: Shape) -> list[Any]:
    """``_where``'s conditions with every value a parameter (``_values`` fills them in)."""
    conditions: list[Any] = [case_reach(shape.role)]
    if shape.statuses:
        conditions.append(col(Case.status) == any_(bindparam("statuses", type_=ARRAY(String()))))
    if shape.category is not None:
        conditions.append(col(Case.status) == any_(bindparam("category_statuses", type_=ARRAY(String()))))
    for name in _EQUAL:
        if name in shape.given:
            column = Case.__table__.c[name]  # type: ignore[attr-defined]
            conditions.append(column == bindparam(name, type_=column.type))
    if "text" in shape.given:
        pattern = bindparam("pattern", type_=String())
        named = select(col(Worker.id)).where(col(Worker.name).ilike(pattern, escape="\\"))
        conditions.append(
            or_(
                col(Case.title).ilike(pattern, escape="\\"),
                col(Case.description).ilike(pattern, escape="\\"),
                col(Case.worker_id).in_(named),
            )
        )
    moment = DateTime(timezone=True)
    if "created_from" in shape.given:
        conditions.append(col(Case.created_at) >= bindparam("created_from", type_=moment))
    if "created_to" in shape.given:
        conditions.append(col(Case.created_at) < bindparam("created_to", type_=moment))
    for condition in (
        due.due_state_is(shape.due_state, '"case"') if shape.due_state is not None else None,
        queues.in_queue(shape.queue, '"case"') if shape.queue is not None else None,
    ):
        if condition is not None:
            built = text(condition)
            conditions.append(built.bindparams(bindparam("now", type_=moment)) if ":now" in condition else built)
    return conditions


_NARROW = frozenset({Role.STEWARD, Role.WORKER})
"""Roles whose reach is a few thousand cases at most: their matches are found once and
both counted and paged (an administrator's or a liaison's may be most of the table, where
an index in the order asked and a separate count do better)."""


@cache
def _list_statement(shape: Shape) -> Prepared:
    """A page of cases with their item's code, their worker's name and the total that match,
    in one statement: the total is an uncorrelated subquery, counted once. For a narrow
    reach the matches are found once, counted, and only the page's are read in full."""
    conditions = _conditions(shape)
    column = col(getattr(Case, shape.order.by))
    table = Case.__table__.c  # type: ignore[attr-defined]
    columns = (*[table[name] for name in CaseView._fields], col(WorkListItem.code), col(Worker.name))
    limit, offset = bindparam("limit", type_=Integer()), bindparam("offset", type_=Integer())

    def ordered(sort_key: Any, key: Any) -> list[Any]:
        if shape.order.descending:
            return [sort_key.desc().nulls_last(), key.desc()]
        return [sort_key.asc().nulls_last(), key.asc()]

    if shape.role in _NARROW:
        matched = (
            select(col(Case.id).label("id"), column.label("sort_key"))
            .where(*conditions)
            .cte("matched")
            .prefix_with("MATERIALIZED")
        )
        total = select(func.count()).select_from(matched).scalar_subquery()
        keys = (
            select(matched.c.id, matched.c.sort_key)
            .order_by(*ordered(matched.c.sort_key, matched.c.id))
            .limit(limit)
            .offset(offset)
            .subquery("page")
        )
        query = (
            select(*columns, total.label("total"))
            .select_from(keys)
            .join(Case, col(Case.id) == keys.c.id)
            .order_by(*ordered(keys.c.sort_key, keys.c.id))
        )
    else:
        total = select(func.count()).select_from(Case).where(*conditions).correlate(None).scalar_subquery()
        query = (
            select(*columns, total.label("total"))
            .where(*conditions)
            .order_by(*ordered(column, col(Case.id)))
            .limit(limit)
            .offset(offset)
        )
    page = query.join(WorkListItem, col(WorkListItem.id) == col(Case.item_id)).join(
        Worker, col(Worker.id) == col(Case.worker_id)
    )
    return prepared(page)


@cache
def _count_statement(shape: Shape) -> Prepared:
    return prepared(select(func.count()).select_from(Case).where(*_conditions(shape)))


async def list_page(
    session: AsyncSession,
    where: CaseFilter,
    caller: Principal,
    *,
    now: datetime,
    order: CaseOrder,
    limit: int,
    offset: int,
) -> tuple[list[tuple[CaseView, str, str]], int]:
    """A page of the cases within the caller's reach that match ``where`` (the columns a
    rendered case shows, as the case read selects them), with their item's code and their
    worker's name, and the total. The second most frequent read: one statement
    compiled once per shape, run straight through the driver outside a transaction (one
    statement sees one snapshot), as the case read is (``read_case``). A page past the end
    has no row to carry the total, which is then counted on its own."""
    assert not session.in_transaction(), "the case list runs outside a transaction"
    shape = _shape(where, caller.role, order)
    values = {**_values(where, caller, now), "limit": limit, "offset": offset}
    async with single_statement(bound_engine(session)) as connection:
        rows = await fetch_all(connection, _list_statement(shape), values)
        if rows:
            total = rows[0]["total"]
        else:
            counted = await fetch_one(connection, _count_statement(shape), values)
            total = counted[0] if counted is not None else 0
    page = [(CaseView._make(row[:_SHOWN]), row[_SHOWN], row[_SHOWN + 1]) for row in rows]
    return page, int(total)


async def events_of(session: AsyncSession, case_id: uuid.UUID, visibility: str | None = None) -> Sequence[CaseEvent]:
    query = select(CaseEvent).where(col(CaseEvent.case_id) == case_id).order_by(col(CaseEvent.id))
    if visibility is not None:
        query = query.where(col(CaseEvent.visibility) == visibility)
    return (await session.scalars(query)).all()


async def status_history(session: AsyncSession, case_id: uuid.UUID) -> list[tuple[datetime, str]]:
    """Every status the case entered, in order (notes and edits leave it unchanged)."""
    rows = await session.execute(
        select(col(CaseEvent.at), col(CaseEvent.to_status))
        .where(col(CaseEvent.case_id) == case_id)
        .where(col(CaseEvent.from_status).is_distinct_from(col(CaseEvent.to_status)))
        .order_by(col(CaseEvent.id))
    )
    return [(at, to) for at, to in rows]


async def running_case_ids(session: AsyncSession) -> Sequence[uuid.UUID]:
    """Cases whose due time is computed from the calendar and may move with it."""
    query = select(col(Case.id)).where(text(due.clock_runs('"case"')))
    return (await session.scalars(query)).all()


@dataclass(frozen=True, slots=True)
class NewCaseReferences:
    item: WorkListItem
    department_code: str
    """The department asked for, or the item's lead department."""
    department_exists: bool
    steward_active: bool
    """Whether the steward is an active staff member with the steward role."""
    facts: NoticeFacts | None
    """What the notices of the new case are written from, when ``kinds`` were given."""
    line_id: int
    """The id of the new case's first timeline line, taken now so that its notices can be
    written in the statement that writes the case (``log_case``)."""


async def new_case_references(
    session: AsyncSession,
    item_id: uuid.UUID,
    department_code: str | None,
    steward_id: uuid.UUID,
    kinds: set[Kind],
) -> NewCaseReferences | None:
    """What logging a case refers to, in one statement: the work-list item, whether the
    department (given, or the item's lead department) exists, whether the steward is an
    active steward, and the facts the notices of ``kinds`` are written from
    (``repositories/notifications``; none when ``kinds`` is empty). None when there is no
    such item."""
    values = {
        "item_id": item_id,
        "department": department_code,
        "steward": steward_id,
        "role": Role.STEWARD.value,
        **notice_fact_values(kinds),
    }
    row = await (await in_transaction(session)).fetch_one(_new_case_references_statement(), values)
    if row is None:
        return None
    item = from_row(WorkListItem, {name: row[name] for name in _ITEM_COLUMNS})
    department = str(row["department_code"])
    facts = facts_in(row, len(_ITEM_COLUMNS) + 3) if kinds else None
    exists_ = bool(row["department_exists"])
    return NewCaseReferences(item, department, exists_, bool(row["steward_active"]), facts, int(row["line_id"]))


_ITEM_COLUMNS = tuple(column.name for column in WorkListItem.__table__.c)  # type: ignore[attr-defined]


_LINE_IDS: Any = literal_column("pg_get_serial_sequence('case_event', 'id')")
"""The sequence of timeline lines' ids (an identity column's)."""


@cache
def _new_case_references_statement() -> Prepared:
    asked = bindparam("department", type_=Text)
    department = func.coalesce(asked, col(WorkListItem.lead_department_code))
    steward = bindparam("steward", type_=Uuid)
    return prepared(
        select(
            *WorkListItem.__table__.c,  # type: ignore[attr-defined]
            department.label("department_code"),
            exists().where(col(Department.code) == department).label("department_exists"),
            exists()
            .where(col(Staff.id) == steward, col(Staff.role) == bindparam("role", type_=Text), col(Staff.active))
            .label("steward_active"),
            *notice_fact_columns(col(WorkListItem.id), department),
            func.nextval(_LINE_IDS).label("line_id"),
        ).where(col(WorkListItem.id) == bindparam("item_id", type_=Uuid))
    )


async def next_case_sequence(session: AsyncSession, day: date, count: int = 1) -> int:
    """Bump the day's counter by ``count`` and return its new value (the last number taken).
    The row lock lasts until the creating transaction ends, so numbers are handed out in
    commit order without gaps from rolled-back creations."""
    row = await (await in_transaction(session)).fetch_one(_NEXT_SEQUENCE, {"day": day, "count": count})
    assert row is not None  # an upsert with RETURNING returns its row
    return int(row[0])


_NEXT_SEQUENCE = Prepared(
    "INSERT INTO case_number_counter (day, last_value) VALUES ($1, $2) "
    "ON CONFLICT (day) DO UPDATE SET last_value = case_number_counter.last_value + $2 RETURNING last_value",
    ("day", "count"),
)


_LOCK_KEYS = Prepared(
    "SELECT count(pg_advisory_xact_lock(h)) FROM "
    "(SELECT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1) AS sorted",
    ("keys",),
)


async def lock_idempotency_keys(session: AsyncSession, keys: Sequence[tuple[uuid.UUID, str]]) -> None:
    """Serialise the requests of an account that carry the same key until this transaction
    ends; several keys are locked in one order, so two transactions never wait on each other."""
    await (await in_transaction(session)).execute(_LOCK_KEYS, {"keys": [f"{a}:{k}" for a, k in keys]})


@dataclass(frozen=True, slots=True)
class FirstAnswer:
    """What an ``Idempotency-Key`` was first used with, and the answer it got."""

    request_hash: str
    response: dict[str, Any]


async def first_answers(
    session: AsyncSession, keys: Sequence[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], FirstAnswer]:
    """The records kept for these (account, key) pairs, by pair."""
    values = {"accounts": [a for a, _ in keys], "keys": [k for _, k in keys]}
    rows = await (await in_transaction(session)).fetch_all(_FIRST_ANSWERS, values)
    return {(row[0], row[1]): FirstAnswer(request_hash=row[2], response=json.loads(row[3])) for row in rows}


_FIRST_ANSWERS = Prepared(
    "SELECT account_id, key, request_hash, response::text FROM idempotency_record "
    "WHERE (account_id, key) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))",
    ("accounts", "keys"),
)


def first_answer(
    account_id: uuid.UUID, key: str, request_hash: str, case_id: uuid.UUID, response: bytes
) -> dict[str, Any]:
    """The record of a creation sent with an ``Idempotency-Key`` (``response``: its JSON
    answer), for ``finish_logging``."""
    return {
        "account_id": account_id,
        "key": key,
        "request_hash": request_hash,
        "case_id": case_id,
        "response": response.decode(),
        "created_at": utcnow(),
    }


async def hand_open_cases_to(
    session: AsyncSession, worker_id: uuid.UUID, steward_id: uuid.UUID, actor: Principal, at: datetime
) -> int:
    """Move a worker's unfinished cases to their new steward, with a timeline line each."""
    unfinished = [s.value for s in in_order(UNFINISHED)]
    moved = await session.execute(
        text(
            """
            WITH moved AS (
                UPDATE "case" SET steward_id = :steward, version = version + 1, updated_at = :at
                WHERE worker_id = :worker AND status = ANY(:statuses) AND steward_id <> :steward
                RETURNING id, status
            )
            INSERT INTO case_event
                (case_id, at, actor_id, account_id, action, from_status, to_status, visibility, details)
            SELECT id, :at, :actor, :account, 'update', status, status, 'internal',
                   jsonb_build_object('changes', jsonb_build_object('steward_id', CAST(:steward_text AS text)))
            FROM moved
            """
        ),
        {
            "steward": steward_id,
            "steward_text": str(steward_id),
            "at": at,
            "actor": actor.staff_id,
            "account": actor.account_id,
            "worker": worker_id,
            "statuses": unfinished,
        },
    )
    return int(getattr(moved, "rowcount", 0) or 0)


async def case_by_number(session: AsyncSession, case_no: str) -> Case | None:
    return (await session.scalars(select(Case).where(col(Case.case_no) == case_no))).first()


async def cases_of_worker(
    session: AsyncSession, worker_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[Sequence[tuple[Case, WorkListItem]], int]:
    """A worker's own cases with their work-list items, the newest first."""
    query = (
        select(Case, WorkListItem)
        .join(WorkListItem, col(WorkListItem.id) == col(Case.item_id))
        .where(col(Case.worker_id) == worker_id)
        .order_by(col(Case.created_at).desc(), col(Case.id))
        .limit(limit)
        .offset(offset)
    )
    rows = [(case, item) for case, item in (await session.execute(query)).all()]
    total = await session.scalar(select(func.count()).select_from(Case).where(col(Case.worker_id) == worker_id))
    return rows, int(total or 0)
