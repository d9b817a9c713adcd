"""Officials' metrics: JSON tables, and the same tables as CSV or XLSX downloads."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from litestar import Controller, Request, Response, get
from litestar.datastructures import ResponseHeader, State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream

from schemas.base import CODE
from schemas.metrics import (
    Breakdown,
    CitySummary,
    ExportFormat,
    FigureCasePage,
    FigureName,
    ItemTable,
    SupervisionFigures,
    Trend,
)
from service.api import metric_columns as columns
from service.api.access import needs
from service.api.deps import Ctx, Db, Limits, Page, ReadDb, ReadSessions
from service.api.documented_errors import DOWNLOADS, PROBLEMS
from service.api.exports import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    Column,
    attachment_disposition,
    csv_chunks,
    reported,
    xlsx_chunks,
)
from service.api.params import DAY, day
from service.config import Settings
from service.domain.access import Permission
from service.services import metrics
from service.services.metrics import Ask, rows_of

PeriodParam = Annotated[
    str | None,
    QueryParameter(
        name="period",
        description="2026, 2026-Q2 or 2026-03, years 2000 to 2100 (days received, Asia/Shanghai). "
        "Default: the current year.",
        max_length=16,
        pattern=r"^(20[0-9]{2}|2100)(-Q[1-4]|-(0[1-9]|1[0-2]))?$",
    ),
]
FromParam = Annotated[
    str | None,
    QueryParameter(
        name="from", max_length=10, schema_extra=DAY, description="First day, with `to` instead of `period`."
    ),
]
ToParam = Annotated[
    str | None, QueryParameter(name="to", max_length=10, schema_extra=DAY, description="Last day (inclusive).")
]
ItemParam = Annotated[
    str | None,
    QueryParameter(
        name="item", description="Work-list item code, e.g. WL-03.", max_length=16, pattern=r"^[A-Za-z0-9-]+$"
    ),
]
DistrictParam = Annotated[
    str | None, QueryParameter(name="district", description="District code.", max_length=32, pattern=CODE)
]
DepartmentParam = Annotated[
    str | None, QueryParameter(name="department", description="Department code.", max_length=32, pattern=CODE)
]
StewardParam = Annotated[uuid.UUID | None, QueryParameter(name="steward", description="Steward (staff) id.")]
FormatParam = Annotated[ExportFormat, QueryParameter(name="format", description="csv (UTF-8 with BOM) or xlsx.")]
Grouping = Literal["district", "department", "steward"]
T = TypeVar("T")

READ = needs(Permission.METRICS_READ)
KEPT_READ = {**READ, PROBLEMS: (429,)}
DOWNLOAD = {**READ, DOWNLOADS: (CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE)}


def provide_filters(
    period: PeriodParam = None,
    first: FromParam = None,
    last: ToParam = None,
    item: ItemParam = None,
    district: DistrictParam = None,
    department: DepartmentParam = None,
    steward: StewardParam = None,
) -> Ask:
    """The period and filters every metrics endpoint takes, as query parameters."""
    return Ask(period, day("from", first), day("to", last), item, district, department, steward)


Filters = NamedDependency[Ask]

KEPT = (
    "The figures may be kept for a few seconds (`BANSHI_METRICS_KEEP_SECONDS`, 5 by default) and shared "
    "by callers who ask exactly the same question of the same cases: `as_of` says when they were counted "
    "and the `Age` header how many seconds ago. `fresh=true` or the request header `Cache-Control: no-cache` "
    "asks for figures counted after the request arrived, at most `BANSHI_METRICS_LIVE_PER_MINUTE` (10) times "
    "a minute per account (then 429 with Retry-After)."
)
AGE = [
    ResponseHeader(name="Age", description="Seconds since the figures were counted (`as_of`).", documentation_only=True)
]


def keeping_for(settings: Settings) -> metrics.Keeping:
    """The answers this process will keep, made once at start-up."""
    return metrics.Keeping.for_seconds(settings.metrics_keep_seconds, settings.metrics_live_per_minute)


def provide_keeping(state: State) -> Keeping:
    keeping: Keeping = state.keeping
    return keeping


def provide_live(
    request: Request[Any, Any, Any],
    fresh: Annotated[
        bool,
        QueryParameter(
            name="fresh",
            description="true: count the figures now rather than take those of the last few seconds.",
        ),
    ] = False,
) -> bool:
    """Live figures were asked for, by the query or by the request's Cache-Control (RFC 9111 no-cache)."""
    control = request.headers.get("cache-control", "")
    return fresh or any(part.strip().lower() == "no-cache" for part in control.split(","))


Live = NamedDependency[bool]
Keeping = NamedDependency[metrics.Keeping]


def _aged(body: T, as_of: datetime, generated_at: datetime) -> Response[T]:
    age = max(int((generated_at - as_of).total_seconds()), 0)
    return Response(body, headers={"Age": str(age)})


async def _each(rows: Iterable[Mapping[str, Any]]) -> AsyncIterator[Mapping[str, Any]]:
    for row in rows:
        yield row


def _download(
    name: str, fmt: str, cols: Sequence[Column], rows: AsyncIterator[Mapping[str, Any]] | Sequence[Mapping[str, Any]]
) -> Stream:
    filename = f"{name}.{fmt}"
    if fmt == "csv":
        body = csv_chunks(cols, rows if isinstance(rows, AsyncIterator) else _each(rows))
    else:
        body = xlsx_chunks(cols, rows, name)
    return Stream(
        reported(body, filename),
        media_type=CSV_MEDIA_TYPE if fmt == "csv" else XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": attachment_disposition(filename)},
    )


def _with_total(rows: list[dict[str, Any]], total: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    return [*rows, {**total, key: "合计"}]


class MetricsController(Controller):
    path = "/metrics"
    tags = ["metrics"]
    dependencies = {
        "filters": Provide(provide_filters, sync_to_thread=False),
        "keeping": Provide(provide_keeping, sync_to_thread=False),
        "live": Provide(provide_live, sync_to_thread=False),
    }

    @get(
        "/items",
        summary="The work-list table: every item's figures for a period",
        description=KEPT,
        opt=KEPT_READ,
        response_headers=AGE,
    )
    async def items(
        self,
        reads: ReadDb,
        read_sessions: ReadSessions,
        ctx: Ctx,
        filters: Filters,
        keeping: Keeping,
        counters: Limits,
        live: Live,
    ) -> Response[ItemTable]:
        table = await metrics.item_table(reads, read_sessions, ctx, filters, keeping, counters, live=live)
        return _aged(table, table.as_of, table.generated_at)

    @get("/items/export", summary="The work-list table as CSV or XLSX", opt=DOWNLOAD)
    async def items_export(
        self,
        reads: ReadDb,
        read_sessions: ReadSessions,
        ctx: Ctx,
        fmt: FormatParam,
        filters: Filters,
    ) -> Stream:
        table = await metrics.item_table(reads, read_sessions, ctx, filters)
        rows = _with_total(rows_of(table.rows), rows_of([table.total])[0], "code")
        return _download(f"work-list-{table.period.label}", fmt, columns.ITEMS, rows)

    @get(
        "/by/{by:str}",
        summary="Figures per district, department or steward",
        description=KEPT,
        opt=KEPT_READ,
        response_headers=AGE,
    )
    async def breakdown(
        self,
        reads: ReadDb,
        read_sessions: ReadSessions,
        ctx: Ctx,
        by: FromPath[Grouping],
        filters: Filters,
        keeping: Keeping,
        counters: Limits,
        live: Live,
    ) -> Response[Breakdown]:
        table = await metrics.breakdown(reads, read_sessions, ctx, filters, by, keeping, counters, live=live)
        return _aged(table, table.as_of, table.generated_at)

    @get("/by/{by:str}/export", summary="Figures per district, department or steward as CSV or XLSX", opt=DOWNLOAD)
    async def breakdown_export(
        self,
        reads: ReadDb,
        read_sessions: ReadSessions,
        ctx: Ctx,
        by: FromPath[Grouping],
        fmt: FormatParam,
        filters: Filters,
    ) -> Stream:
        table = await metrics.breakdown(reads, read_sessions, ctx, filters, by)
        rows = _with_total(rows_of(table.rows), rows_of([table.total])[0], "key")
        return _download(f"by-{by}-{table.period.label}", fmt, columns.breakdown(by), rows)

    @get("/trend", summary="Weekly or monthly cases received and resolved, and the overdue backlog", opt=READ)
    async def trend(
        self,
        reads: ReadDb,
        ctx: Ctx,
        filters: Filters,
        interval: FromQuery[Literal["week", "month"]] = "month",
    ) -> Trend:
        return await metrics.trend(reads, ctx, filters, interval)

    @get("/trend/export", summary="The trend as CSV or XLSX", opt=DOWNLOAD)
    async def trend_export(
        self,
        reads: ReadDb,
        ctx: Ctx,
        fmt: FormatParam,
        filters: Filters,
        interval: FromQuery[Literal["week", "month"]] = "month",
    ) -> Stream:
        table = await metrics.trend(reads, ctx, filters, interval)
        return _download(f"trend-{interval}-{table.period.label}", fmt, columns.TREND, rows_of(table.points))

    @get(
        "/summary",
        summary="City summary: totals, items most overdue, districts least on time",
        description=KEPT,
        opt=KEPT_READ,
        response_headers=AGE,
    )
    async def summary(
        self,
        reads: ReadDb,
        read_sessions: ReadSessions,
        ctx: Ctx,
        filters: Filters,
        keeping: Keeping,
        counters: Limits,
        live: Live,
    ) -> Response[CitySummary]:
        summary = await metrics.city_summary(reads, read_sessions, ctx, filters, keeping, counters, live=live)
        return _aged(summary, summary.as_of, summary.generated_at)

    @get(
        "/supervision",
        summary="Supervision notices (督办) issued in the period: replied on time or late, escalated, open",
        opt=READ,
    )
    async def supervision(self, reads: ReadDb, ctx: Ctx, filters: Filters) -> SupervisionFigures:
        return await metrics.supervision_figures(reads, ctx, filters)

    @get("/cases", summary="The cases behind a figure (no personal data)", opt=READ)
    async def cases(
        self,
        reads: ReadDb,
        ctx: Ctx,
        paging: Page,
        figure: FromQuery[FigureName],
        filters: Filters,
    ) -> FigureCasePage:
        return await metrics.figure_cases(reads, ctx, filters, figure, paging.limit, paging.offset)

    @get("/cases/export", summary="The cases behind a figure as CSV or XLSX (audited)", opt=DOWNLOAD)
    async def cases_export(
        self,
        db: Db,
        read_sessions: ReadSessions,
        ctx: Ctx,
        fmt: FormatParam,
        figure: FromQuery[FigureName],
        filters: Filters,
    ) -> Stream:
        # The audit record is written on the primary (``db``, which also reads the
        # scope); the rows, the heavy part, stream from a replica.
        rows = await metrics.figure_case_rows(db, read_sessions, ctx, filters, figure, fmt)
        return _download(f"cases-{figure}", fmt, columns.CASES, rows)
