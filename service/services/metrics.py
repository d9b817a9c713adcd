"""Officials' metrics use cases: who sees which figures, and the tables built from the counts.

An official whose account names a district sees that district only, and a liaison
sees the cases of their own department; asking for another answers 403. Every query
here reads; nothing is written except the audit record of a case-list export.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas import metrics as api
from service.adapters.limits import Counters
from service.adapters.xlsx_stream import SHEET_ROWS
from service.domain.access import Role
from service.domain.metrics import (
    COUNTERS,
    Period,
    PeriodError,
    Tally,
    buckets,
    derive,
    parse_period,
    total,
    unit_after,
    unit_start,
)
from service.domain.metrics import rate as share
from service.domain.time_limit import local_day
from service.domain.workflow import STATUS_LABELS_ZH, Status
from service.errors import Forbidden, Invalid, TooManyRequests
from service.repositories import metrics as repo
from service.repositories import reference as reference_repo
from service.repositories.metrics import Scope
from service.services import audit
from service.services.context import Context
from service.services.kept_figures import KeptFigures


@dataclass(frozen=True, slots=True)
class Ask:
    """What the caller asked for, before their account's limits are applied."""

    period: str | None = None
    first_day: date | None = None
    last_day: date | None = None
    item: str | None = None
    district: str | None = None
    department: str | None = None
    steward: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """A work-list item as the tables show it (plain values, read before the counts run)."""

    id: uuid.UUID
    code: str
    year: int
    title_zh: str
    category: str
    lead_department_code: str
    lead_department_name_zh: str
    annual_target: int | None
    target_unit: str | None


@dataclass(frozen=True, slots=True)
class Frame:
    period: Period
    scope: Scope
    scope_out: api.ScopeOut
    items: list[Item]
    """The work-list items of the period's years."""

    @property
    def period_out(self) -> api.PeriodOut:
        return api.PeriodOut(label=self.period.label, first_day=self.period.start, last_day=self.period.last_day)


def _limited(asked: str | None, own: str | None, field: str, what: str) -> str | None:
    if own is None:
        return asked
    if asked is not None and asked != own:
        raise Forbidden(f"your account sees the figures of {what} {own} only", field=field)
    return own


def limited(ctx: Context, ask: Ask) -> Ask:
    """The question as the caller may ask it: a district official's district and a liaison's
    department filled in (another one answers 403)."""
    caller = ctx.caller
    district = _limited(
        ask.district, caller.district_code if caller.role is Role.OFFICIAL else None, "query.district", "district"
    )
    department = _limited(
        ask.department,
        caller.department_code if caller.role is Role.LIAISON else None,
        "query.department",
        "department",
    )
    return replace(ask, district=district, department=department)


async def frame(session: AsyncSession, ctx: Context, ask: Ask) -> Frame:
    try:
        period = parse_period(ask.period, ask.first_day, ask.last_day, local_day(ctx.now))
    except PeriodError as error:
        raise Invalid(f"query.{error.field}", error.reason) from error
    ask = limited(ctx, ask)
    district, department = ask.district, ask.department
    if district is not None and await reference_repo.get_district(session, district) is None:
        raise Invalid("query.district", "no such district")
    departments = {d.code: d.name_zh for d in await reference_repo.list_departments(session)}
    if department is not None and department not in departments:
        raise Invalid("query.department", "no such department")
    items = [
        Item(
            item.id,
            item.code,
            item.year,
            item.title_zh,
            item.category,
            item.lead_department_code,
            departments[item.lead_department_code],
            item.annual_target,
            item.target_unit,
        )
        for year in range(period.start.year, period.last_day.year + 1)
        for item in await reference_repo.list_items(session, year, None)
    ]
    item_ids: tuple[uuid.UUID, ...] | None = None
    if ask.item is not None:
        item_ids = tuple(i.id for i in items if i.code == ask.item)
        if not item_ids:
            raise Invalid("query.item", "no such work-list item in the period's years")
    scope = Scope(item_ids=item_ids, district_code=district, department_code=department, steward_id=ask.steward)
    scope_out = api.ScopeOut(
        item_code=ask.item, district_code=district, department_code=department, steward_id=ask.steward
    )
    return Frame(period, scope, scope_out, items)


def figures(tally: Tally, target: int | None = None) -> dict[str, Any]:
    d = derive(tally, target)
    return {
        **{name: tally.counts[name] for name in COUNTERS},
        **tally.now,
        "open": d.open,
        "on_time_rate": d.on_time_rate,
        "median_working_days": d.median_working_days,
        "p90_working_days": d.p90_working_days,
        "satisfaction_rate": d.satisfaction_rate,
    }


async def _counted(
    sessions: async_sessionmaker[AsyncSession], ctx: Context, f: Frame, group: str | None
) -> tuple[dict[Any, Tally], Tally]:
    """The rows of a table by key, and their total. The counters, the percentiles and the
    counts that depend on the time now are read at once, on three connections (each a
    statement of tens of milliseconds at a million cases)."""

    async def tallied() -> repo.Counted:
        async with sessions() as session, session.begin():
            return await repo.count(session, f.period, group, f.scope, percentiles="none")

    async def ranked() -> repo.Counted:
        async with sessions() as session, session.begin():
            return await repo.count_percentiles(session, f.period, group, f.scope)

    async def current() -> repo.Counted:
        async with sessions() as session, session.begin():
            return await repo.count_now(session, f.period, group, f.scope, ctx.now)

    counted, percentiles, now = await asyncio.gather(tallied(), ranked(), current())
    counted.add_percentiles(percentiles)
    for key, tally in now.by_key.items():
        counted.at(key).add_now(tally.now)
    return counted.by_key, total(counted.by_key.values(), *counted.whole)


def _item_rows(f: Frame, by_code: dict[Any, Tally]) -> list[api.ItemRow]:
    versions: dict[str, list[Item]] = {}
    for item in f.items:
        versions.setdefault(item.code, []).append(item)
    year = f.period.year()
    rows = []
    for code in sorted(versions):
        latest = max(versions[code], key=lambda i: i.year)
        tally = by_code[code] if code in by_code else Tally()
        target = latest.annual_target if year is not None else None
        rows.append(
            api.ItemRow(
                code=code,
                title_zh=latest.title_zh,
                category=latest.category,
                lead_department_code=latest.lead_department_code,
                lead_department_name_zh=latest.lead_department_name_zh,
                annual_target=target,
                target_unit=latest.target_unit if target is not None else None,
                target_rate=derive(tally, target).target_rate,
                **figures(tally),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class Keeping:
    """The answers each process keeps (``services/kept_figures.py``) and how often one
    account may ask for live ones."""

    items: KeptFigures[api.ItemTable]
    summaries: KeptFigures[api.CitySummary]
    breakdowns: KeptFigures[api.Breakdown]
    live_per_minute: int

    @classmethod
    def for_seconds(cls, seconds: float, live_per_minute: int) -> Keeping:
        return cls(KeptFigures(seconds), KeptFigures(seconds), KeptFigures(seconds), live_per_minute)


LIVE_WINDOW_SECONDS = 60


async def _question(ctx: Context, ask: Ask, keeping: Keeping, counters: Counters, live: bool) -> tuple[Ask, date]:
    """What a kept answer is filed under: the question once the caller's limits are applied,
    and the local day (a period left out is this year). A live question is counted against
    the caller's account first."""
    ask = limited(ctx, ask)
    if live:
        spent = await counters.hit(f"metrics-live:{ctx.caller.account_id}", LIVE_WINDOW_SECONDS)
        if spent.hits > keeping.live_per_minute:
            raise TooManyRequests(
                f"at most {keeping.live_per_minute} live metrics a minute per account; "
                "without fresh=true the figures are at most a few seconds old",
                spent.seconds_left,
            )
    return (ask, local_day(ctx.now))


_Figures = TypeVar("_Figures", api.ItemTable, api.CitySummary, api.Breakdown)


async def _kept(
    kept: KeptFigures[_Figures],
    count: Callable[[AsyncSession, async_sessionmaker[AsyncSession], Context, Ask, datetime], Awaitable[_Figures]],
    sessions: async_sessionmaker[AsyncSession],
    ctx: Context,
    ask: Ask,
    keeping: Keeping,
    counters: Counters,
    live: bool,
    what: str = "",
) -> _Figures:
    """A dashboard table through what this process keeps: the question as the caller's
    limits make it (``_question``, with ``what`` the table is by), answered by a kept
    count or a new one."""
    asked, day = await _question(ctx, ask, keeping, counters, live)
    counted = await kept.get(
        (asked, day, what), lambda now: count(sessions(), sessions, ctx, asked, now), ctx.now, live=live
    )
    # A live request may join a count that began a moment after it arrived.
    return msgspec.structs.replace(counted.value, generated_at=max(ctx.now, counted.as_of))


async def item_table(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    ctx: Context,
    ask: Ask,
    keeping: Keeping | None = None,
    counters: Counters | None = None,
    *,
    live: bool = False,
) -> api.ItemTable:
    """The 20-item table; through ``keeping`` (when given) an answer a few seconds old may
    serve, unless ``live``."""
    if keeping is None or counters is None:
        return await _item_table(session, sessions, ctx, ask, ctx.now)
    return await _kept(keeping.items, _item_table, sessions, ctx, ask, keeping, counters, live)


async def _item_table(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], ctx: Context, ask: Ask, now: datetime
) -> api.ItemTable:
    ctx = replace(ctx, now=now)
    async with session.begin():  # ends before the counts run, so its connection is free for them
        f = await frame(session, ctx, ask)
    by_code, whole = await _counted(sessions, ctx, f, "item")
    return api.ItemTable(
        period=f.period_out,
        scope=f.scope_out,
        generated_at=now,
        as_of=now,
        rows=_item_rows(f, by_code),
        total=api.Figures(**figures(whole)),
    )


async def breakdown(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    ctx: Context,
    ask: Ask,
    by: str,
    keeping: Keeping | None = None,
    counters: Counters | None = None,
    *,
    live: bool = False,
) -> api.Breakdown:
    """Figures per district, department or steward; through ``keeping`` (when given) an
    answer a few seconds old may serve, unless ``live``, as for the 20-item table. The
    city-wide steward table lists a thousand stewards, each with its own resolution-time
    percentiles: counting it takes a few hundred milliseconds at a million cases."""

    async def count(
        session: AsyncSession, sessions: async_sessionmaker[AsyncSession], ctx: Context, ask: Ask, now: datetime
    ) -> api.Breakdown:
        ctx = replace(ctx, now=now)
        async with session.begin():
            f = await frame(session, ctx, ask)
            names = await _names(session, f, by)
        return await _breakdown(sessions, ctx, f, by, names)

    if keeping is None or counters is None:
        return await count(session, sessions, ctx, ask, ctx.now)
    return await _kept(keeping.breakdowns, count, sessions, ctx, ask, keeping, counters, live, what=by)


async def _names(session: AsyncSession, f: Frame, by: str) -> dict[str, str] | None:
    """The rows a breakdown lists whether or not they have cases (None: the stewards with
    cases, named once they are counted)."""
    if by == "district":
        names = {d.code: d.name_zh for d in await reference_repo.list_districts(session)}
        own = f.scope.district_code
    elif by == "department":
        names = {d.code: d.name_zh for d in await reference_repo.list_departments(session)}
        own = f.scope.department_code
    else:
        return None
    return {own: names[own]} if own is not None else dict(names)


async def _breakdown(
    sessions: async_sessionmaker[AsyncSession], ctx: Context, f: Frame, by: str, names: dict[str, str] | None
) -> api.Breakdown:
    counted, whole = await _counted(sessions, ctx, f, by)
    if names is None:
        # Stewards with cases in the period (a tally row emptied by reassignment stays behind at zero).
        stewards = [key for key, tally in counted.items() if tally.counts["received"]]
        async with sessions() as session, session.begin():
            found = await repo.steward_names(session, stewards)
        names = {str(key): found[key] for key in stewards}
    tallies = {str(key): tally for key, tally in counted.items()}
    rows = [
        api.BreakdownRow(key=key, name_zh=name, **figures(tallies[key] if key in tallies else Tally()))
        for key, name in sorted(names.items())
    ]
    return api.Breakdown(
        by=by,  # type: ignore[arg-type]
        period=f.period_out,
        scope=f.scope_out,
        generated_at=ctx.now,
        as_of=ctx.now,
        rows=rows,
        total=api.Figures(**figures(whole)),
    )


async def trend(session: AsyncSession, ctx: Context, ask: Ask, interval: str) -> api.Trend:
    """Weeks or months: whole ones that have ended come from the flow tally; the one running
    now, any cut by the period's edges and every one of a single steward's are counted
    from the cases (a running case's
    clock runs out in the future, so the tally of a week not over yet would run ahead)."""
    async with session.begin():
        f = await frame(session, ctx, ask)
        today = local_day(ctx.now)
        spans = [(lo, hi) for lo, hi in buckets(f.period, interval) if lo <= today]
        whole = [lo for lo, hi in spans if lo == unit_start(lo, interval) and hi == unit_after(lo, interval)]
        by_steward = f.scope.steward_id is not None
        if by_steward:
            whole = []  # the flow tally is kept by item, district and department, not by steward
        tallied = await repo.flows_tallied(session, interval, whole, f.scope) if whole else {}
        first_month = f.period.start.replace(day=1)
        backlog = await (repo.backlog_counted if by_steward else repo.backlog_before)(session, first_month, f.scope)
        if first_month < f.period.start:
            before = await repo.flows_counted(session, first_month, f.period.start, f.scope, ctx.now)
            backlog += before.overdue_started - before.overdue_ended
        points = []
        for lo, hi in buckets(f.period, interval):
            if lo > today:
                points.append(
                    api.TrendPoint(first_day=lo, last_day=_day_before(hi), received=0, resolved=0, overdue_backlog=None)
                )
                continue
            if lo in whole and hi <= today:
                flow = tallied.get(lo, repo.Flow())
            elif lo in whole:
                counted = await repo.flows_counted(session, lo, hi, f.scope, ctx.now)
                flow = replace(tallied.get(lo, repo.Flow()), overdue_started=counted.overdue_started)
            else:
                flow = await repo.flows_counted(session, lo, hi, f.scope, ctx.now)
            backlog += flow.overdue_started - flow.overdue_ended
            points.append(
                api.TrendPoint(
                    first_day=lo,
                    last_day=_day_before(hi),
                    received=flow.received,
                    resolved=flow.resolved,
                    overdue_backlog=backlog,
                )
            )
        return api.Trend(
            interval=interval,  # type: ignore[arg-type]
            period=f.period_out,
            scope=f.scope_out,
            generated_at=ctx.now,
            points=points,
        )


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)


async def city_summary(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    ctx: Context,
    ask: Ask,
    keeping: Keeping | None = None,
    counters: Counters | None = None,
    *,
    live: bool = False,
) -> api.CitySummary:
    """The city summary; kept like the 20-item table (``item_table``)."""
    if keeping is None or counters is None:
        return await _city_summary(session, sessions, ctx, ask, ctx.now)
    return await _kept(keeping.summaries, _city_summary, sessions, ctx, ask, keeping, counters, live)


async def _city_summary(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], ctx: Context, ask: Ask, now: datetime
) -> api.CitySummary:
    """The totals, the five items with most overdue cases and the five districts least on
    time. Only what it shows is counted: the counts by item and by district from the tallies
    on one connection, the percentiles of the whole on another, the cases overdue now by
    item on a third (the district table's own percentiles and current counts are not
    needed), so it costs about what the 20-item table does."""
    ctx = replace(ctx, now=now)
    async with session.begin():
        f = await frame(session, ctx, ask)
        names = await _names(session, f, "district")

    async def tallied() -> tuple[repo.Counted, repo.Counted]:
        async with sessions() as counting, counting.begin():
            by_item = await repo.count(counting, f.period, "item", f.scope, percentiles="none")
            by_district = await repo.count(counting, f.period, "district", f.scope, percentiles="none")
            return by_item, by_district

    async def ranked() -> repo.Counted:
        async with sessions() as counting, counting.begin():
            return await repo.count_percentiles(counting, f.period, None, f.scope)

    async def current() -> repo.Counted:
        async with sessions() as counting, counting.begin():
            return await repo.count_now(counting, f.period, "item", f.scope, ctx.now)

    (by_item, by_district), percentiles, current_counts = await asyncio.gather(tallied(), ranked(), current())
    by_item.whole = percentiles.whole
    for key, tally in current_counts.by_key.items():
        by_item.at(key).add_now(tally.now)
    whole = total(by_item.by_key.values(), *by_item.whole)
    items = _item_rows(f, by_item.by_key)
    most_overdue = sorted((r for r in items if r.overdue > 0), key=lambda r: (-r.overdue, r.code))[:5]
    on_time = []
    for code, name in (names or {}).items():
        tally = by_district.by_key[code] if code in by_district.by_key else Tally()
        rate = derive(tally, None).on_time_rate
        if rate is not None:
            on_time.append(
                api.DistrictOnTime(code=code, name_zh=name, on_time_rate=rate, resolved=tally.counts["resolved"])
            )
    return api.CitySummary(
        period=f.period_out,
        scope=f.scope_out,
        generated_at=ctx.now,
        as_of=ctx.now,
        total=api.Figures(**figures(whole)),
        items_most_overdue=[
            api.ItemOverdue(code=r.code, title_zh=r.title_zh, overdue=r.overdue, open=r.open) for r in most_overdue
        ],
        districts_lowest_on_time=sorted(on_time, key=lambda d: (d.on_time_rate, d.code))[:5],
    )


async def supervision_figures(session: AsyncSession, ctx: Context, ask: Ask) -> api.SupervisionFigures:
    """The supervision notices issued in the period on the cases of the caller's scope."""
    async with session.begin():
        f = await frame(session, ctx, ask)
        counted = await repo.count_supervision(session, f.period, f.scope)
    return api.SupervisionFigures(
        period=f.period_out,
        scope=f.scope_out,
        generated_at=ctx.now,
        on_time_rate=share(counted["replied_on_time"], counted["replied_on_time"] + counted["replied_late"]),
        **counted,
    )


def _case_row(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row.pop("id", None)
    row["status_zh"] = STATUS_LABELS_ZH[Status(row["status"])]
    return row


async def figure_cases(
    session: AsyncSession, ctx: Context, ask: Ask, figure: str, limit: int, offset: int
) -> api.FigureCasePage:
    async with session.begin():
        f = await frame(session, ctx, ask)
        rows, count = await repo.list_figure_cases(session, f.period, figure, f.scope, ctx.now, limit, offset)
        return api.FigureCasePage(
            figure=figure,  # type: ignore[arg-type]
            period=f.period_out,
            scope=f.scope_out,
            items=[api.FigureCase(**_case_row(r)) for r in rows],
            total=count,
            limit=limit,
            offset=offset,
        )


XLSX_ROWS = SHEET_ROWS - 1
"""The most cases an XLSX export holds: one worksheet, below its header row."""


async def figure_case_rows(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    ctx: Context,
    ask: Ask,
    figure: str,
    export_format: str,
) -> AsyncIterator[dict[str, Any]]:
    """Every case behind a figure, for an export.

    The cases are counted and then streamed in one read-only REPEATABLE READ transaction
    on a session of their own (``sessions``), which outlives the handler and ends with
    the download. The count comes first so that a database that cannot serve the export,
    or an XLSX with more rows than a sheet holds, answers a problem before the first
    byte; then the export is audited (with its row count), and the rows follow."""
    async with session.begin():
        f = await frame(session, ctx, ask)
    snapshot = _snapshot(sessions, f, figure, ctx.now)
    try:
        total = await anext(snapshot)
        if not isinstance(total, int):
            raise TypeError("the snapshot counts before it streams")
        if export_format == "xlsx" and total > XLSX_ROWS:
            raise Invalid(
                "query.format",
                f"{total} cases are more than one XLSX sheet holds ({XLSX_ROWS}); "
                "choose a shorter period or more filters, or format=csv",
            )
        await audit.record_alone(
            session,
            ctx.kit,
            ctx.caller,
            "metrics.export_cases",
            ctx.now,
            target_type="figure",
            target_id=figure,
            details={
                "format": export_format,
                "period": f.period.label,
                "item": f.scope_out.item_code,
                "district": f.scope_out.district_code,
                "department": f.scope_out.department_code,
                "steward": None if f.scope_out.steward_id is None else str(f.scope_out.steward_id),
                "rows": total,
            },
        )
    except BaseException:
        await snapshot.aclose()
        raise
    return _case_rows(snapshot)


async def _snapshot(
    sessions: async_sessionmaker[AsyncSession], f: Frame, figure: str, now: datetime
) -> AsyncGenerator[int | dict[str, Any], None]:
    """The count, then each row, read in one snapshot."""
    async with sessions() as session, session.begin():
        # Before the transaction's first statement: the snapshot is set at BEGIN.
        await session.connection(execution_options=repo.SNAPSHOT)
        yield await repo.count_figure_cases(session, f.period, figure, f.scope, now)
        async for row in repo.stream_figure_cases(session, f.period, figure, f.scope, now):
            yield _case_row(row)


async def _case_rows(snapshot: AsyncIterator[int | dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    async for row in snapshot:
        if isinstance(row, dict):
            yield row


def rows_of(models: Sequence[Any]) -> list[dict[str, Any]]:
    """Response rows as plain mappings with their native values, for an export."""
    return [msgspec.structs.asdict(m) for m in models]
