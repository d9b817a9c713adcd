"""China's official working-day calendar: weekends, public holidays and make-up workdays (调休)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

import holidays


class DayKind(StrEnum):
    HOLIDAY = "holiday"  # a day off that would otherwise be a working day
    WORKDAY = "workday"  # a working day that would otherwise be a day off


@dataclass(frozen=True, slots=True)
class PublishedSchedule:
    """What the State Council's schedule says for one year, as the library knows it."""

    days_off: frozenset[date]
    workdays: frozenset[date]
    names: Mapping[date, str]

    @property
    def published(self) -> bool:
        # Every published schedule since 2008 has make-up workdays; a year the
        # library has no make-up days for is a year it has no schedule for.
        return bool(self.workdays)


@lru_cache(maxsize=64)
def library_schedule(year: int) -> PublishedSchedule:
    cn = holidays.country_holidays("CN", years=year, language="zh_CN")
    days_off = frozenset(d for d in cn if d.year == year)
    workdays = frozenset(d for d in cn.weekend_workdays if d.year == year)
    names = {d: str(cn[d]) for d in days_off}
    return PublishedSchedule(days_off=days_off, workdays=workdays, names=names)


@dataclass(frozen=True, slots=True)
class Override:
    day: date
    kind: DayKind
    name: str


@dataclass(slots=True)
class WorkingCalendar:
    """Answers "is this a working day?" from the library plus an administrator's overrides.

    An override always wins. A year is provisional when neither the library nor an
    administrator has published its schedule: it then follows the library's
    holidays and Monday to Friday, and due dates that fall in it may still move.
    """

    overrides: Mapping[date, DayKind] = field(default_factory=dict)
    published_years: frozenset[int] = frozenset()
    _counted: dict[tuple[date, date], int] = field(default_factory=dict, repr=False, compare=False)
    """Working days already counted between two days (``working_days_in``): a page of a
    list asks for the same spans again and again, and a calendar lives for seconds."""

    def working_days_in(self, first: date, last: date) -> int:
        """How many working days from ``first`` to ``last``, both counted (0 when last < first)."""
        if last < first:
            return 0
        span = (first, last)
        counted = self._counted.get(span)
        if counted is None:
            counted = sum(1 for n in range((last - first).days + 1) if self.is_working_day(first + timedelta(days=n)))
            if len(self._counted) >= 4096:
                self._counted.clear()
            self._counted[span] = counted
        return counted

    def is_working_day(self, day: date) -> bool:
        kind = self.overrides.get(day)
        if kind is DayKind.WORKDAY:
            return True
        if kind is DayKind.HOLIDAY:
            return False
        schedule = library_schedule(day.year)
        if day in schedule.workdays:
            return True
        if day in schedule.days_off:
            return False
        return day.weekday() < 5

    def is_provisional(self, year: int) -> bool:
        return year not in self.published_years and not library_schedule(year).published

    def provisional_between(self, start: date, end: date) -> bool:
        return any(self.is_provisional(y) for y in range(start.year, end.year + 1))


def build_calendar(overrides: Iterable[Override], published_years: Iterable[int]) -> WorkingCalendar:
    return WorkingCalendar(
        overrides={o.day: o.kind for o in overrides},
        published_years=frozenset(published_years),
    )
