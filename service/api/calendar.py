from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, put
from litestar.params import JSONBody, PathParameter

from schemas.calendar import CalendarYearIn, CalendarYearOut
from service.api.access import needs
from service.api.deps import Ctx, Db
from service.domain.access import Permission
from service.services import calendar

Year = Annotated[int, PathParameter(ge=2000, le=2100)]


class CalendarController(Controller):
    path = "/calendar"
    tags = ["calendar"]

    @get(
        "/{year:int}",
        summary="A year's working-day calendar and whether it is provisional",
        opt=needs(Permission.CALENDAR_READ),
    )
    async def read(self, db: Db, year: Year) -> CalendarYearOut:
        return await calendar.read_year(db, year)

    @put("/{year:int}", summary="Replace a year's overrides (administrators)", opt=needs(Permission.CALENDAR_WRITE))
    async def replace(self, db: Db, ctx: Ctx, year: Year, data: JSONBody[CalendarYearIn]) -> CalendarYearOut:
        return await calendar.replace_year(db, ctx, year, data)
