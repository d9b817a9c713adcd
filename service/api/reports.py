"""Printed reports for officials: the monthly report (月度通报) as a page to print."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import QueryParameter

from service.api.deps import Ctx, Db, ReadDb, ReadSessions
from service.api.metrics import READ, DistrictParam
from service.api.report_pages import monthly_report_html
from service.services import reports

MonthParam = Annotated[
    str,
    QueryParameter(
        name="month",
        description="The month reported, e.g. 2026-11 (years 2000 to 2100; not a month still to come).",
        max_length=7,
        pattern=r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$",
    ),
]


class ReportController(Controller):
    path = "/reports"
    tags = ["metrics"]

    @get(
        "/monthly",
        summary="The monthly report (月度通报) of a scope, as a page to print (no personal data of workers)",
        description=(
            "The month's and the year-to-date figures, the 20-item table with its targets, districts (or, for a "
            "district, departments) ranked by on-time rate, the overdue cases and the last twelve months' trend, "
            "counted as the metrics endpoints count them, with the same scope rules. Audited."
        ),
        media_type="text/html",
        opt=READ,
    )
    async def monthly(
        self,
        db: Db,
        reads: ReadDb,
        read_sessions: ReadSessions,
        ctx: Ctx,
        month: MonthParam,
        district: DistrictParam = None,
    ) -> Response[str]:
        report = await reports.monthly(reads, read_sessions, ctx, month, district, record_on=db)
        return Response(monthly_report_html(report), media_type="text/html", headers={"Cache-Control": "no-store"})
