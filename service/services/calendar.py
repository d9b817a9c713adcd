"""The working-day calendar: reading it, and an administrator replacing a year's overrides."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Literal
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.calendar import CalendarDayOut, CalendarYearIn, CalendarYearOut
from service.adapters.freshness import watch
from service.db import bound_engine
from service.domain.calendar import DayKind, WorkingCalendar, build_calendar, library_schedule
from service.errors import Invalid
from service.models import CalendarDay, CalendarYear
from service.repositories import calendar as calendar_repo
from service.services import audit, deadlines
from service.services.context import Context

MIN_YEAR, MAX_YEAR = 2000, 2100


CALENDAR_TABLES = watch("calendar_year", "calendar_day")
KEEP_FOR_READING = 30.0
"""Seconds a process shows due times with the calendar it last read. An administrator's
change made in this process is seen at once; one made in another process, within this."""
_kept: WeakKeyDictionary[Engine, tuple[float, int, WorkingCalendar]] = WeakKeyDictionary()


async def load_calendar(session: AsyncSession) -> WorkingCalendar:
    """The calendar as the database holds it now: what every write computes deadlines with."""
    overrides, published = await calendar_repo.load_overrides(session)
    return build_calendar(overrides, published)


_stamped: WeakKeyDictionary[Engine, tuple[str, WorkingCalendar]] = WeakKeyDictionary()


async def calendar_stamped(session: AsyncSession, stamp: str | None) -> WorkingCalendar:
    """The calendar as the database holds it now, when the caller's statement has just read
    its stamp (``repositories/calendar.CALENDAR_STAMP``): the one this process built for
    that stamp, or read again. What a move computes its deadline with, without reading
    every override on every move."""
    kept = _stamped.get(bound_engine(session))
    if stamp is not None and kept is not None and kept[0] == stamp:
        return kept[1]
    calendar = await load_calendar(session)
    if stamp is not None:
        _stamped[bound_engine(session)] = (stamp, calendar)
    return calendar


def kept_calendar(engine: Engine) -> WorkingCalendar | None:
    """The calendar this process read from ``engine``'s database less than
    ``KEEP_FOR_READING`` seconds ago, unless a commit has made it stale since
    (``adapters/freshness.py``); None when it must be read."""
    kept = _kept.get(engine)
    if kept is None or kept[1] != CALENDAR_TABLES.generation or time.monotonic() - kept[0] >= KEEP_FOR_READING:
        return None
    return kept[2]


async def calendar_for_reading(session: AsyncSession) -> WorkingCalendar:
    """The calendar for showing due times (never for computing what is written): the one
    kept, or read again in the caller's transaction."""
    kept = kept_calendar(bound_engine(session))
    if kept is not None:
        return kept
    generation = CALENDAR_TABLES.generation
    calendar = await load_calendar(session)
    if CALENDAR_TABLES.generation == generation:
        _kept[bound_engine(session)] = (time.monotonic(), generation, calendar)
    return calendar


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Invalid("year", f"must be between {MIN_YEAR} and {MAX_YEAR}")


async def read_year(session: AsyncSession, year: int) -> CalendarYearOut:
    async with session.begin():
        _check_year(year)
        calendar = await load_calendar(session)
        row = await calendar_repo.get_year(session, year)
        names = {d.day: d.name for d in await calendar_repo.year_days(session, year)}
        return _year_out(year, calendar, row, names)


def _year_out(
    year: int, calendar: WorkingCalendar, row: CalendarYear | None, override_names: dict[date, str]
) -> CalendarYearOut:
    schedule = library_schedule(year)
    days: list[CalendarDayOut] = []
    working = 0
    day = date(year, 1, 1)
    while day.year == year:
        is_working = calendar.is_working_day(day)
        working += is_working
        if is_working != (day.weekday() < 5):
            source: Literal["library", "override"] = "override" if day in calendar.overrides else "library"
            name = override_names.get(day) or (schedule.names.get(day, "") if not is_working else "调休上班")
            days.append(
                CalendarDayOut(
                    date=day,
                    kind="workday" if is_working else "holiday",
                    name=name,
                    source=source,
                )
            )
        day += timedelta(days=1)
    return CalendarYearOut(
        year=year,
        provisional=calendar.is_provisional(year),
        published_by_admin=bool(row and row.published),
        note=row.note if row else "",
        working_days=working,
        days=days,
    )


async def replace_year(session: AsyncSession, ctx: Context, year: int, data: CalendarYearIn) -> CalendarYearOut:
    _check_year(year)
    seen: set[date] = set()
    for index, entry in enumerate(data.days):
        if entry.date.year != year:
            raise Invalid(f"days[{index}].date", f"is not in {year}")
        if entry.date in seen:
            raise Invalid(f"days[{index}].date", "appears twice")
        seen.add(entry.date)
    async with session.begin():
        row = await calendar_repo.lock_year(session, year)
        if row is None:
            row = CalendarYear(year=year)
            session.add(row)
        row.published = data.published
        row.note = data.note
        row.updated_at = ctx.now
        row.updated_by = ctx.caller.account_id
        await session.flush()
        await calendar_repo.delete_year_days(session, year)
        session.add_all(CalendarDay(day=d.date, year=year, kind=DayKind(d.kind).value, name=d.name) for d in data.days)
        await session.flush()
        calendar = await load_calendar(session)
        # Due times of running cases were computed with the old calendar.
        await deadlines.recompute_running(session, calendar)
        await audit.record(
            ctx,
            session,
            "calendar.update",
            target_type="calendar_year",
            target_id=year,
            details={"published": data.published, "days": len(data.days)},
        )
        return _year_out(year, calendar, row, {d.date: d.name for d in data.days})
