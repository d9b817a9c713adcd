from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, put
from litestar.params import JSONBody, PathParameter

from schemas.calendar import CalendarYearIn, CalendarYearOut
from service.api.deps import Actor, Db
from service.services import calendar

Year = Annotated[int, PathParameter(ge=2000, le=2100)]


class CalendarController(Controller):
    path = "/calendar"
    tags = ["calendar"]

    @get("/{year:int}", summary="A year's working-day calendar and whether it is provisional")
    async def read(self, db: Db, year: Year) -> CalendarYearOut:
        return await calendar.read_year(db, year)

    @put("/{year:int}", summary="Replace a year's overrides (administrators)")
    async def replace(self, db: Db, year: Year, data: JSONBody[CalendarYearIn], actor: Actor) -> CalendarYearOut:
        return await calendar.replace_year(db, year, data, actor)
