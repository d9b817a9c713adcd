"""The queries behind the officials' metrics: sums over the monthly tallies for whole
months, and the same counters computed from the cases themselves for loose days and
for groupings the tallies do not hold. Both paths count with the expressions below,
which are the ones the tally trigger uses (migration 0003); a test holds them equal.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.due import PAUSED
from service.domain.metrics import (
    COUNTERS,
    SUPERVISION_COUNTERS,
    Cover,
    Period,
    Tally,
    median_and_p90,
    supervision_figure,
)
from service.domain.supervision import SupervisionStatus
from service.domain.time_limit import CST, DueState
from service.domain.workflow import Status
from service.repositories import due


def _is(status: Status) -> str:
    return f"c.status = '{status.value}'"


COUNTER_SQL: dict[str, str] = {
    "received": "1",
    "accepted": "(c.accepted_at IS NOT NULL)::int",
    "submitted": f"({_is(Status.SUBMITTED)})::int",
    "in_progress": f"({due.clock_runs()})::int",
    "awaiting_materials": f"({due.status_in(PAUSED)})::int",
    "resolved": f"({due.resolved()})::int",
    "closed": f"({_is(Status.CLOSED)})::int",
    "rejected": f"({_is(Status.REJECTED)})::int",
    "withdrawn": f"({_is(Status.WITHDRAWN)})::int",
    "resolved_on_time": f"({due.resolved()} AND c.resolved_on_time IS TRUE)::int",
    "resolved_late": f"({due.resolved()} AND c.resolved_on_time IS FALSE)::int",
    "rated": "(c.rating IS NOT NULL)::int",
    "very_satisfied": "(c.rating IS NOT DISTINCT FROM 'very_satisfied')::int",
    "satisfied": "(c.rating IS NOT DISTINCT FROM 'satisfied')::int",
    "basically_satisfied": "(c.rating IS NOT DISTINCT FROM 'basically_satisfied')::int",
    "dissatisfied": "(c.rating IS NOT DISTINCT FROM 'dissatisfied')::int",
    "very_dissatisfied": "(c.rating IS NOT DISTINCT FROM 'very_dissatisfied')::int",
    "follow_ups_open": "(c.follow_up_due_at IS NOT NULL)::int",
}
"""Counted per case; the tally trigger of migration 0003 holds a frozen copy of these, and
a test holds the two ways of counting equal."""
assert tuple(COUNTER_SQL) == COUNTERS

DIMENSIONS = {"item": "item_id", "district": "district_code", "department": "department_code", "steward": "steward_id"}
_CASE_TALLY = frozenset({"item_id", "district_code", "department_code"})
_STEWARD_TALLY = frozenset({"steward_id", "district_code"})
# Resolution-time tallies, the smallest first: the one whose keys cover a query serves it.
_DURATION_TALLIES = (
    ("department_duration_tally", frozenset({"department_code", "item_id"})),
    ("duration_tally", frozenset({"item_id", "district_code"})),
    ("steward_duration_tally", _STEWARD_TALLY),
)

# Which cases each figure of a table is about; the case list behind a number uses the same.
FIGURE_SQL: dict[str, str] = {
    **{name: f"{expr} = 1" for name, expr in COUNTER_SQL.items() if name != "received"},
    "received": "true",
    "open": due.unfinished(),
    # The officials' "overdue" is past due (``domain/due.py``): a case paused after its
    # time ran out still counts.
    "overdue": due.past_due(),
    "due_soon": due.due_state_is(DueState.DUE_SOON),
    "follow_ups_overdue": "c.follow_up_due_at <= :now",
}


STEWARD_NAME = "st.name"
"""What the metrics read of a steward (alias ``st``): the name, never the work phone or
e-mail. Every role that may read the metrics sees it (``Permission.METRICS_READ``)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which cases count: equal-to filters on the case's item, district, department, steward."""

    item_ids: tuple[uuid.UUID, ...] | None = None
    district_code: str | None = None
    department_code: str | None = None
    steward_id: uuid.UUID | None = None

    def conditions(self, alias: str, params: dict[str, Any]) -> tuple[list[str], set[str]]:
        """SQL conditions on ``alias`` and the columns they need."""
        where: list[str] = []
        columns: set[str] = set()
        if self.item_ids is not None:
            where.append(f"{alias}.item_id = ANY(:scope_items)")
            params["scope_items"] = list(self.item_ids)
            columns.add("item_id")
        for column, value in (
            ("district_code", self.district_code),
            ("department_code", self.department_code),
            ("steward_id", self.steward_id),
        ):
            if value is not None:
                where.append(f"{alias}.{column} = :scope_{column}")
                params[f"scope_{column}"] = value
                columns.add(column)
        return where, columns


@dataclass(slots=True)
class Counted:
    by_key: dict[Any, Tally] = field(default_factory=dict)
    whole: tuple[int | None, int | None] = (None, None)
    """The median and 90th percentile of all keys together."""
    ranks: dict[Any, tuple[int | None, int | None]] = field(default_factory=dict)
    """What ``count_percentiles`` found per key, before ``add_percentiles`` puts it in the tallies."""

    def at(self, key: Any) -> Tally:
        tally = self.by_key.get(key)
        if tally is None:
            tally = self.by_key[key] = Tally()
        return tally

    def add_percentiles(self, other: Counted) -> None:
        """Take the percentiles ``count_percentiles`` found."""
        for key, (median, p90) in other.ranks.items():
            tally = self.at(key)
            tally.median, tally.p90 = median, p90
        self.whole = other.whole


def _tally_for(columns: set[str]) -> str | None:
    if columns <= _CASE_TALLY:
        return "case"
    if columns <= _STEWARD_TALLY:
        return "steward"
    return None


def _days(alias: str, ranges: Sequence[tuple[date, date]], params: dict[str, Any], prefix: str = "d") -> str:
    if not ranges:
        return "false"
    parts = []
    for index, (lo, hi) in enumerate(ranges):
        lo_name, hi_name = f"{prefix}{index}_lo", f"{prefix}{index}_hi"
        params[lo_name], params[hi_name] = lo, hi
        parts.append(f"({alias}.received_on >= :{lo_name} AND {alias}.received_on < :{hi_name})")
    return "(" + " OR ".join(parts) + ")"


def _and(conditions: Sequence[str]) -> str:
    return "".join(f" AND {w}" for w in conditions)


_UNITS = "((t.span = 'year' AND t.start = ANY(:u_years)) OR (t.span = 'month' AND t.start = ANY(:u_months)))"


def _key(alias: str, group: str | None) -> tuple[str, str]:
    """The group key of a source row and the join it needs: an item is grouped by its code,
    so that one item's rows of several years add up."""
    if group is None:
        return "NULL::text", ""
    if group == "item":
        return "w.code", f" JOIN work_list_item w ON w.id = {alias}.item_id"
    return f"{alias}.{DIMENSIONS[group]}", ""


async def count(
    session: AsyncSession,
    period: Period,
    group: str | None,
    scope: Scope,
    *,
    tallies: bool = True,
    percentiles: Literal["all", "whole", "none"] = "all",
) -> Counted:
    """Counters and resolution-time percentiles per group key (an item's code, a district or
    department code, a steward id; None when ungrouped), and the percentiles of all together.

    Whole years and months of the period are summed from the tallies; the loose days at its
    edges are counted from the cases with the same expressions, or, where they fill most of
    their month, the month's tally is taken less the cases of its days outside the period
    (``Period.cover``). ``tallies=False`` counts everything from the cases (the reference
    the tallies must equal). ``percentiles`` leaves out those a caller does not show: the
    per-key ones ("whole") or all of them ("none").
    """
    counted = Counted()
    _, columns = scope.conditions("c", {})
    group_column = DIMENSIONS[group] if group else None
    if group_column:
        columns.add(group_column)
    tally = _tally_for(columns) if tallies else None
    cover = period.cover() if tally else _from_cases(period)
    raw_key, raw_join = _key("c", group)
    tally_key, tally_join = _key("t", group)

    params: dict[str, Any] = {"u_years": cover.years, "u_months": cover.months}
    raw_where, _ = scope.conditions("c", params)
    sources = []
    for sign, ranges, prefix in ((1, cover.added, "d"), (-1, cover.taken, "x")):
        if ranges or sign == 1:
            counters = ", ".join(f"{_signed(sign, expr)} AS {name}" for name, expr in COUNTER_SQL.items())
            sources.append(
                f'SELECT {raw_key} AS k, {counters} FROM "case" c{raw_join} '
                f"WHERE {_days('c', ranges, params, prefix)}{_and(raw_where)}"
            )
    if tally and (cover.years or cover.months):
        tally_where, _ = scope.conditions("t", params)
        sources.append(
            f"SELECT {tally_key} AS k, {', '.join(f't.{n}' for n in COUNTERS)} FROM {tally}_tally t{tally_join} "
            f"WHERE {_UNITS}{_and(tally_where)}"
        )
    sums = ", ".join(f"sum({name})::bigint AS {name}" for name in COUNTERS)
    # A key without cases in the period has no row, as when counted from the cases: a tally
    # row emptied by a move stays behind at zero, and a month less its outside days may be zero.
    rows = await session.execute(
        text(f"SELECT k, {sums} FROM ({' UNION ALL '.join(sources)}) s GROUP BY k HAVING sum(received) <> 0"), params
    )
    for k, *values in rows:  # plain tuples: reading RowMapping by name costs more than the query
        counts = counted.at(k).counts
        for name, value in zip(COUNTERS, values, strict=True):
            counts[name] += value
    if percentiles != "none":
        counted.add_percentiles(
            await count_percentiles(session, period, group, scope, tallies=tallies, per_key=percentiles == "all")
        )
    return counted


async def count_percentiles(
    session: AsyncSession,
    period: Period,
    group: str | None,
    scope: Scope,
    *,
    tallies: bool = True,
    per_key: bool = True,
) -> Counted:
    """Only the percentiles ``count`` gives (per key unless not ``per_key``, and of all
    together), for a caller that reads them on a connection of their own at the same time."""
    counted = Counted()
    _, filter_columns = scope.conditions("c", {})
    columns = filter_columns | ({DIMENSIONS[group]} if group is not None else set())
    tally = _tally_for(columns) if tallies else None
    cover = period.cover() if tally else _from_cases(period)
    # Percentiles of the working days resolutions took, per key and for all keys together.
    # The keys part the cases (one item, district, department or steward each), so the
    # histogram of all is the sum of the keys' and needs no statement of its own.
    units = (cover.years, cover.months) if tally else ([], [])
    if group is not None and per_key:
        everything: dict[int, int] = {}
        for k, histogram in await _histograms(session, period, group, scope, columns, units, tallies):
            counted.ranks[k] = _ranked(histogram)
            for days, cases in histogram.items():
                everything[days] = everything.get(days, 0) + cases
        counted.whole = _ranked(everything)
    else:
        whole = await _histograms(session, period, None, scope, filter_columns, units, tallies)
        counted.whole = _ranked(whole[0][1]) if whole else (None, None)
    return counted


def _from_cases(period: Period) -> Cover:
    return Cover([], [], [(period.start, period.end)], [])


def _signed(sign: int, expr: str) -> str:
    return expr if sign == 1 else f"-({expr})"


def _ranked(histogram: dict[int, int]) -> tuple[int | None, int | None]:
    return median_and_p90(histogram)


async def _histograms(
    session: AsyncSession,
    period: Period,
    group: str | None,
    scope: Scope,
    columns: set[str],
    units: tuple[list[date], list[date]],
    tallies: bool,
) -> list[tuple[Any, dict[int, int]]]:
    """Per key, how many resolutions took each number of working days, summed from the
    smallest resolution-time tally that covers the query (or counted from the cases)."""
    years, months = units
    table = next((name for name, keys in _DURATION_TALLIES if columns <= keys), None) if tallies else None
    whole_units = table is not None and bool(years or months)
    cover = period.cover() if whole_units else _from_cases(period)
    params: dict[str, Any] = {"u_years": cover.years, "u_months": cover.months}
    raw_key, raw_join = _key("c", group)
    raw_where, _ = scope.conditions("c", params)
    sources = [
        f'SELECT {raw_key} AS k, c.working_days_used AS d, {sign} AS n FROM "case" c{raw_join} '
        f"WHERE c.working_days_used IS NOT NULL AND {_days('c', ranges, params, prefix)}{_and(raw_where)}"
        for sign, ranges, prefix in ((1, cover.added, "d"), (-1, cover.taken, "x"))
        if ranges or sign == 1
    ]
    if whole_units:
        tally_key, tally_join = _key("t", group)
        tally_where, _ = scope.conditions("t", params)
        sources.append(
            f"SELECT {tally_key} AS k, t.working_days AS d, t.cases AS n FROM {table} t{tally_join} "
            f"WHERE {_UNITS}{_and(tally_where)}"
        )
    # One row per key with its histogram as two arrays: far fewer rows to carry than (key, days).
    rows = await session.execute(
        text(
            "SELECT k, array_agg(d), array_agg(n) FROM ("
            f"SELECT k, d, sum(n)::integer AS n FROM ({' UNION ALL '.join(sources)}) s GROUP BY k, d HAVING sum(n) > 0"
            ") h GROUP BY k"
        ),
        params,
    )
    return [(k, dict(zip(days, cases, strict=True))) for k, days, cases in rows]


async def count_now(session: AsyncSession, period: Period, group: str | None, scope: Scope, now: datetime) -> Counted:
    """Overdue and due-soon cases and overdue follow-ups now, among the period's cases."""
    counted = Counted()
    params: dict[str, Any] = {"now": now}
    key, join = _key("c", group)
    raw_where, _ = scope.conditions("c", params)
    days = _days("c", [(period.start, period.end)], params)
    extra = _and(raw_where)
    unfinished = await session.execute(
        text(
            f"SELECT {key} AS k, count(*) FILTER (WHERE {FIGURE_SQL['overdue']}) AS overdue, "
            f"count(*) FILTER (WHERE {FIGURE_SQL['due_soon']}) AS due_soon "
            f'FROM "case" c{join} WHERE {due.unfinished()} AND {days}{extra} GROUP BY 1'
        ),
        params,
    )
    for k, overdue, due_soon in unfinished:
        now_counts = counted.at(k).now
        now_counts["overdue"] += overdue
        now_counts["due_soon"] += due_soon
    follow_ups = await session.execute(
        text(
            # Among the few cases with an open follow-up (a partial index), whatever the plan cache chooses.
            f"SELECT {key} AS k, count(*) FILTER (WHERE {FIGURE_SQL['follow_ups_overdue']}) AS follow_ups_overdue "
            f'FROM "case" c{join} WHERE c.follow_up_due_at IS NOT NULL AND {days}{extra} GROUP BY 1'
        ),
        params,
    )
    for k, follow_ups_overdue in follow_ups:
        counted.at(k).now["follow_ups_overdue"] += follow_ups_overdue
    return counted


FLOWS = ("received", "resolved", "overdue_started", "overdue_ended")


@dataclass(frozen=True, slots=True)
class Flow:
    received: int = 0
    resolved: int = 0
    overdue_started: int = 0
    overdue_ended: int = 0


def _instant(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CST)


async def flows_tallied(session: AsyncSession, unit: str, starts: Sequence[date], scope: Scope) -> dict[date, Flow]:
    """The flow tally's whole weeks or months, by first day."""
    params: dict[str, Any] = {"unit": unit, "starts": list(starts)}
    where, _ = scope.conditions("t", params)
    rows = await session.execute(
        text(
            f"SELECT t.start, {', '.join(f'sum(t.{f})::bigint' for f in FLOWS)} FROM flow_tally t "
            f"WHERE t.span = :unit AND t.start = ANY(:starts){_and(where)} GROUP BY t.start"
        ),
        params,
    )
    return {start: Flow(*(int(v) for v in values)) for start, *values in rows}


async def flows_counted(session: AsyncSession, lo: date, hi: date, scope: Scope, now: datetime) -> Flow:
    """The same events counted from the cases for the days [lo, hi); clocks running out only up to ``now``."""
    params: dict[str, Any] = {"lo": lo, "hi": hi, "lo_at": _instant(lo), "hi_at": _instant(hi), "now": now}
    where, _ = scope.conditions("c", params)
    extra = _and(where)
    row = (
        await session.execute(
            text(
                f'SELECT (SELECT count(*) FROM "case" c WHERE c.received_on >= :lo AND c.received_on < :hi{extra}), '
                f'(SELECT count(*) FROM "case" c WHERE c.resolved_at >= :lo_at AND c.resolved_at < :hi_at '
                f"AND {due.resolved()}{extra}), "
                f'(SELECT count(*) FROM "case" c WHERE c.overdue_since >= :lo_at '
                f"AND c.overdue_since < :hi_at AND {due.ran_out()}{extra}), "
                f'(SELECT count(*) FROM "case" c WHERE c.overdue_since IS NOT NULL AND c.finished_at >= :lo_at '
                f"AND c.finished_at < :hi_at{extra})"
            ),
            params,
        )
    ).one()
    return Flow(*(int(v) for v in row))


async def backlog_before(session: AsyncSession, month: date, scope: Scope) -> int:
    """Overdue cases not finished at the start of ``month``: every clock that ran out before
    it, less every late case finished before it."""
    params: dict[str, Any] = {"month": month}
    where, _ = scope.conditions("t", params)
    value = await session.scalar(
        text(
            "SELECT coalesce(sum(t.overdue_started - t.overdue_ended), 0) FROM flow_tally t "
            f"WHERE t.span = 'month' AND t.start < :month{_and(where)}"
        ),
        params,
    )
    return int(value or 0)


async def backlog_counted(session: AsyncSession, month: date, scope: Scope) -> int:
    """The same backlog counted from the cases (for a scope the tally does not keep: one steward)."""
    params: dict[str, Any] = {"month_at": _instant(month)}
    where, _ = scope.conditions("c", params)
    value = await session.scalar(
        text(
            'SELECT count(*) FROM "case" c WHERE c.overdue_since < :month_at '
            f"AND (c.finished_at IS NULL OR c.finished_at >= :month_at){_and(where)}"
        ),
        params,
    )
    return int(value or 0)


EXPORT_FETCH_ROWS = 2000
"""Rows an export's cursor fetches at a time."""
SNAPSHOT = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
"""How an export reads: one read-only snapshot, so that its count and its rows agree
however many statements it takes and whatever is written meanwhile (allowed on a
standby too, unlike SERIALIZABLE)."""

CASE_ROW_SQL = f"""
SELECT c.id, c.case_no, w.code AS item_code, w.title_zh AS item_title_zh, c.status,
       c.district_code, d.name_zh AS district_name_zh, c.department_code, p.name_zh AS department_name_zh,
       c.steward_id, {STEWARD_NAME} AS steward_name,
       c.received_on, c.accepted_at, c.due_at, c.resolved_at, c.resolved_on_time, c.working_days_used,
       c.rating, c.follow_up_due_at
FROM "case" c
JOIN work_list_item w ON w.id = c.item_id
JOIN district d ON d.code = c.district_code
JOIN department p ON p.code = c.department_code
JOIN staff st ON st.id = c.steward_id
"""


async def steward_names(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The names of these stewards, for a metrics table."""
    if not ids:
        return {}
    rows = await session.execute(
        text(f"SELECT st.id, {STEWARD_NAME} FROM staff st WHERE st.id = ANY(:ids)"), {"ids": list(ids)}
    )
    return {staff_id: name for staff_id, name in rows.all()}


SUPERVISION_SQL: dict[str, str] = {
    "issued": "true",
    "replied_on_time": "s.replied_on_time IS TRUE",
    "replied_late": "s.replied_on_time IS FALSE",
    "escalated": "s.escalated_at IS NOT NULL",
    "open": "s.replied_at IS NULL",
    "unanswered": f"s.status = '{SupervisionStatus.UNANSWERED.value}'",
}
"""Which supervision notices (alias ``s``) each supervision counter counts."""
assert tuple(SUPERVISION_SQL) == SUPERVISION_COUNTERS
SUPERVISION_FIGURE_SQL = {supervision_figure(name): expr for name, expr in SUPERVISION_SQL.items()}
"""The same, by the name of the case list behind each counter."""


def _issued_in(period: Period, params: dict[str, Any]) -> str:
    """Notices issued in the period: their period is their own, not their case's receipt."""
    params["issued_lo"], params["issued_hi"] = period.start, period.end
    return "s.issued_on >= :issued_lo AND s.issued_on < :issued_hi"


async def count_supervision(session: AsyncSession, period: Period, scope: Scope) -> dict[str, int]:
    """The supervision counters of the notices issued in the period on the scope's cases."""
    params: dict[str, Any] = {}
    where, _ = scope.conditions("c", params)
    counters = ", ".join(f"count(*) FILTER (WHERE {expr}) AS {name}" for name, expr in SUPERVISION_SQL.items())
    row = (
        await session.execute(
            text(
                f'SELECT {counters} FROM supervision s JOIN "case" c ON c.id = s.case_id '
                f"WHERE {_issued_in(period, params)}{_and(where)}"
            ),
            params,
        )
    ).one()
    return {name: int(value) for name, value in zip(SUPERVISION_COUNTERS, row, strict=True)}


def _case_query(period: Period, figure: str, scope: Scope, now: datetime) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"now": now}
    raw_where, _ = scope.conditions("c", params)
    if figure in SUPERVISION_FIGURE_SQL:
        # Each case once, however many of its notices the figure counts.
        notices = f"{_issued_in(period, params)} AND {SUPERVISION_FIGURE_SQL[figure]}"
        where = f"EXISTS (SELECT 1 FROM supervision s WHERE s.case_id = c.id AND {notices}){_and(raw_where)}"
        return where, params
    where = f"{_days('c', [(period.start, period.end)], params)} AND {FIGURE_SQL[figure]}{_and(raw_where)}"
    return where, params


async def count_figure_cases(session: AsyncSession, period: Period, figure: str, scope: Scope, now: datetime) -> int:
    where, params = _case_query(period, figure, scope, now)
    return int(await session.scalar(text(f'SELECT count(*) FROM "case" c WHERE {where}'), params) or 0)


async def list_figure_cases(
    session: AsyncSession, period: Period, figure: str, scope: Scope, now: datetime, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    where, params = _case_query(period, figure, scope, now)
    total = await count_figure_cases(session, period, figure, scope, now)
    rows = await session.execute(
        text(f"{CASE_ROW_SQL} WHERE {where} ORDER BY c.received_on, c.case_no LIMIT :limit OFFSET :offset"),
        {**params, "limit": limit, "offset": offset},
    )
    return [dict(row) for row in rows.mappings()], int(total or 0)


OVERDUE_ROW_SQL = """
SELECT c.case_no, w.title_zh AS item_title, d.name_zh AS district_name, p.name_zh AS department_name,
       s.name AS steward_name, c.status, c.due_at, c.clock_remaining_seconds
FROM "case" c
JOIN work_list_item w ON w.id = c.item_id
LEFT JOIN district d ON d.code = c.district_code
LEFT JOIN department p ON p.code = c.department_code
LEFT JOIN staff s ON s.id = c.steward_id
"""


async def list_overdue_named(
    session: AsyncSession, period: Period, scope: Scope, now: datetime, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The cases behind the figure ``overdue``, those whose time ran out first at the top,
    with the names a printed report shows (item, district, department, steward; never the
    worker's)."""
    where, params = _case_query(period, "overdue", scope, now)
    total = await session.scalar(text(f'SELECT count(*) FROM "case" c WHERE {where}'), params)
    rows = await session.execute(
        text(f"{OVERDUE_ROW_SQL} WHERE {where} ORDER BY c.overdue_since, c.case_no LIMIT :limit"),
        {**params, "limit": limit},
    )
    return [dict(row) for row in rows.mappings()], int(total or 0)


async def stream_figure_cases(
    session: AsyncSession, period: Period, figure: str, scope: Scope, now: datetime
) -> AsyncIterator[dict[str, Any]]:
    """Every case behind a figure, fetched a chunk at a time through a server-side cursor.

    A cursor declared in SQL, not the driver's portal: PostgreSQL plans a declared cursor
    for its first rows (``cursor_tuple_fraction``): the received_on index in order, an
    incremental sort by case number, no hash tables to build; a portal is planned for the
    whole result, a full sort of a year's cases (about 10 s at 530,000 before the first
    row). The cursor ends with the transaction it is declared in."""
    where, params = _case_query(period, figure, scope, now)
    await session.execute(
        text(
            f"DECLARE export_cases NO SCROLL CURSOR FOR {CASE_ROW_SQL} WHERE {where} ORDER BY c.received_on, c.case_no"
        ),
        params,
    )
    fetch = text(f"FETCH {EXPORT_FETCH_ROWS} FROM export_cases")
    while rows := (await session.execute(fetch)).mappings().all():
        for row in rows:
            yield dict(row)
