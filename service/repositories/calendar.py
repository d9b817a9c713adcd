"""Queries on the administrator's calendar overrides."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.db import in_transaction, prepared
from service.domain.calendar import DayKind, Override
from service.models import CalendarDay, CalendarYear

CALENDAR_STAMP = (
    "(SELECT md5(coalesce(string_agg(concat_ws(':', y.year, y.published, d.day, d.kind, d.name), ',' "
    "ORDER BY y.year, d.day), '')) FROM calendar_year y LEFT JOIN calendar_day d ON d.year = y.year)"
)
"""A SQL expression that changes whenever anything ``load_overrides`` reads does: a
statement that must compute with the calendar as it is now reads this instead of the
calendar, and the process reads the calendar only when the stamp is one it has not
built a calendar for (``services/calendar.calendar_stamped``)."""


async def load_overrides(session: AsyncSession) -> tuple[list[Override], list[int]]:
    """All overrides and the years marked published, in one round trip (on the
    transaction's driver connection: every move reads them)."""
    rows = await (await in_transaction(session)).fetch_all(_OVERRIDES, {})
    overrides: list[Override] = []
    published: set[int] = set()
    for year, is_published, day, kind, name in rows:
        if is_published:
            published.add(year)
        if day is not None:
            overrides.append(Override(day=day, kind=DayKind(kind), name=name))
    return overrides, sorted(published)


_OVERRIDES = prepared(
    select(
        col(CalendarYear.year),
        col(CalendarYear.published),
        col(CalendarDay.day),
        col(CalendarDay.kind),
        col(CalendarDay.name),
    )
    .select_from(CalendarYear)
    .outerjoin(CalendarDay, col(CalendarDay.year) == col(CalendarYear.year))
)


async def get_year(session: AsyncSession, year: int) -> CalendarYear | None:
    return await session.get(CalendarYear, year)


async def year_days(session: AsyncSession, year: int) -> Sequence[CalendarDay]:
    query = select(CalendarDay).where(col(CalendarDay.year) == year).order_by(col(CalendarDay.day))
    return (await session.scalars(query)).all()


async def lock_year(session: AsyncSession, year: int) -> CalendarYear | None:
    return await session.get(CalendarYear, year, with_for_update=True)


async def delete_year_days(session: AsyncSession, year: int) -> None:
    await session.execute(delete(CalendarDay).where(col(CalendarDay.year) == year))
