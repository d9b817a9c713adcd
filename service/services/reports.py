"""The monthly report (月度通报) officials circulate: one month and the year to date of the
cases in the caller's scope (the city, a district, or a liaison's department), as a page
to print.

Every figure is one the officials' metrics give for the same period and filters
(``services/metrics.py``, with the same scope rules: asking for another district answers
403), so a report and the metrics endpoints always agree. Only the list of overdue cases
is read here, because a printed list names the item, district, department and steward
(never the worker). Handing out a report is recorded in the audit trail, as a case-list
export is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas import metrics as api
from service.domain.due import PAUSED, working_days_overdue
from service.domain.metrics import FIRST_YEAR, target_unit_zh
from service.domain.time_limit import local_day
from service.domain.workflow import Status
from service.errors import Invalid, Malformed
from service.repositories import metrics as repo
from service.repositories import reference as reference_repo
from service.services import audit, metrics
from service.services.calendar import calendar_for_reading
from service.services.context import Context
from service.services.metrics import Ask

OVERDUE_LISTED = 50
"""The overdue cases a report lists, those whose time ran out first; it states how many there are."""
TREND_MONTHS = 12
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True)
class ItemLine:
    """A work-list item: its figures for the month and for the year to date (whose target
    progress is the year's)."""

    month: api.ItemRow
    year: api.ItemRow
    lead_department_zh: str
    target_unit_zh: str


@dataclass(frozen=True, slots=True)
class RankLine:
    rank: int | None
    """Places shared by equal on-time rates and overdue counts; None without a resolved case."""
    row: api.BreakdownRow


@dataclass(frozen=True, slots=True)
class OverdueLine:
    case_no: str
    item_title_zh: str
    district_zh: str
    department_zh: str
    steward_name: str
    due_at: datetime | None
    working_days_overdue: int | None
    paused: bool
    """Waiting for the worker's materials (the clock stopped after the time ran out)."""


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    month: date
    """The first day of the month reported."""
    scope_zh: str
    """全市, or the district (and for a liaison the department) the figures are limited to."""
    ranked_by: Literal["district", "department"]
    generated_at: datetime
    """When the figures were counted: every case stands as it did then (数据截至)."""
    month_period: api.PeriodOut
    year_period: api.PeriodOut
    month_total: api.Figures
    year_total: api.Figures
    items: list[ItemLine]
    ranking: list[RankLine]
    overdue: list[OverdueLine]
    overdue_total: int
    trend: list[api.TrendPoint]


def _month(text: str, today: date) -> date:
    match = _MONTH.fullmatch(text)
    if match is None:
        raise Malformed("query.month", "must be a month such as 2026-11")
    first = date(int(match[1]), int(match[2]), 1)
    if first > today.replace(day=1):
        raise Invalid("query.month", "must not be a month still to come")
    return first


def _months_on(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _ranked(rows: list[api.BreakdownRow]) -> list[RankLine]:
    """Best on-time rate first, fewer overdue cases breaking a tie; those with nothing
    resolved yet come last, unranked."""
    ordered = sorted(
        rows, key=lambda r: (r.on_time_rate is None, -(r.on_time_rate or 0.0), r.overdue, -r.received, r.key)
    )
    lines: list[RankLine] = []
    rank, previous = 0, None
    for position, row in enumerate(ordered, start=1):
        if row.on_time_rate is None:
            lines.append(RankLine(None, row))
            continue
        if (row.on_time_rate, row.overdue) != previous:
            rank, previous = position, (row.on_time_rate, row.overdue)
        lines.append(RankLine(rank, row))
    return lines


async def monthly(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    ctx: Context,
    month: str,
    district: str | None,
    *,
    record_on: AsyncSession,
) -> MonthlyReport:
    """The report, read through ``session`` and ``sessions`` (a read replica may serve
    them); handing it out is recorded in the audit trail through ``record_on`` (the primary)."""
    first = _month(month, local_day(ctx.now))
    last = _months_on(first, 1) - timedelta(days=1)
    month_ask = Ask(period=month, district=district)
    year_ask = Ask(first_day=date(first.year, 1, 1), last_day=last, district=district)
    trend_from = max(_months_on(first, 1 - TREND_MONTHS), date(FIRST_YEAR, 1, 1))
    # The month's table comes first: it refuses a district outside the caller's scope.
    month_table = await metrics.item_table(session, sessions, ctx, month_ask)
    year_table = await metrics.item_table(session, sessions, ctx, year_ask)
    ranked_by: Literal["district", "department"] = "department" if year_table.scope.district_code else "district"
    ranking = await metrics.breakdown(session, sessions, ctx, year_ask, ranked_by)
    trend = await metrics.trend(session, ctx, Ask(first_day=trend_from, last_day=last, district=district), "month")
    async with session.begin():
        frame = await metrics.frame(session, ctx, year_ask)
        rows, overdue_total = await repo.list_overdue_named(session, frame.period, frame.scope, ctx.now, OVERDUE_LISTED)
        calendar = await calendar_for_reading(session)
        districts = {d.code: d.name_zh for d in await reference_repo.list_districts(session)}
        departments = {d.code: d.name_zh for d in await reference_repo.list_departments(session)}
    scope = year_table.scope
    scope_names = [
        name
        for name in (
            departments.get(scope.department_code or ""),
            districts.get(scope.district_code or ""),
        )
        if name
    ]
    by_code = {row.code: row for row in month_table.rows}
    items = [
        ItemLine(
            month=by_code[row.code],
            year=row,
            lead_department_zh=departments.get(row.lead_department_code, row.lead_department_code),
            target_unit_zh=target_unit_zh(row.target_unit),
        )
        for row in year_table.rows
        if row.code in by_code
    ]
    overdue = [
        OverdueLine(
            case_no=row["case_no"],
            item_title_zh=row["item_title"],
            district_zh=row["district_name"] or "",
            department_zh=row["department_name"] or "",
            steward_name=row["steward_name"] or "",
            due_at=row["due_at"],
            working_days_overdue=working_days_overdue(
                Status(row["status"]), row["due_at"], row["clock_remaining_seconds"], ctx.now, calendar
            ),
            paused=Status(row["status"]) in PAUSED,
        )
        for row in rows
    ]
    await audit.record_alone(
        record_on,
        ctx.kit,
        ctx.caller,
        "metrics.monthly_report",
        ctx.now,
        target_type="report",
        target_id=first.strftime("%Y-%m"),
        details={
            "month": first.strftime("%Y-%m"),
            "district": scope.district_code,
            "department": scope.department_code,
        },
    )
    return MonthlyReport(
        month=first,
        scope_zh=" · ".join(scope_names) or "全市",
        ranked_by=ranked_by,
        generated_at=ctx.now,
        month_period=month_table.period,
        year_period=year_table.period,
        month_total=month_table.total,
        year_total=year_table.total,
        items=items,
        ranking=_ranked(ranking.rows),
        overdue=overdue,
        overdue_total=overdue_total,
        trend=trend.points,
    )
