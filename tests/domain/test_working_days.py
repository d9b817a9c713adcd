"""The working-day calendar: weekends, China's 2026 schedule, overrides and provisional years."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service.domain.calendar import (
    DayKind,
    Override,
    WorkingCalendar,
    build_calendar,
    library_schedule,
)

PLAIN = WorkingCalendar()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 3, 9),  # Monday
        date(2026, 3, 11),  # Wednesday
        date(2026, 3, 13),  # Friday
        date(2026, 6, 17),  # Wednesday
        date(2026, 11, 20),  # Friday
    ],
)
def test_ordinary_weekdays_are_working_days(day: date) -> None:
    assert day.weekday() < 5
    assert PLAIN.is_working_day(day) is True


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 3, 7),  # Saturday
        date(2026, 3, 8),  # Sunday
        date(2026, 2, 21),  # Saturday inside the Spring Festival break
        date(2026, 11, 21),  # Saturday
        date(2026, 11, 22),  # Sunday
    ],
)
def test_ordinary_weekends_are_days_off(day: date) -> None:
    assert PLAIN.is_working_day(day) is False


@pytest.mark.parametrize("day", days(date(2026, 2, 15), date(2026, 2, 23)))
def test_spring_festival_2026_is_off_from_15_to_23_february(day: date) -> None:
    assert PLAIN.is_working_day(day) is False


@pytest.mark.parametrize("day", days(date(2026, 10, 1), date(2026, 10, 7)))
def test_national_day_2026_is_off_from_1_to_7_october(day: date) -> None:
    assert PLAIN.is_working_day(day) is False


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 4),  # Sunday, made up for New Year
        date(2026, 2, 14),  # Saturday, made up for Spring Festival
        date(2026, 2, 28),  # Saturday, made up for Spring Festival
        date(2026, 9, 20),  # Sunday, made up for National Day
        date(2026, 10, 10),  # Saturday, made up for National Day
    ],
)
def test_make_up_weekend_days_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert PLAIN.is_working_day(day) is True


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 1), False),  # New Year's Day (Thursday)
        (date(2026, 1, 2), False),  # Friday off, swapped with 4 January
        (date(2026, 1, 5), True),
        (date(2026, 2, 13), True),  # Friday before the Spring Festival break
        (date(2026, 2, 24), True),  # Tuesday after it
        (date(2026, 3, 1), False),  # Sunday after the make-up Saturday
        (date(2026, 9, 25), False),  # Mid-Autumn Festival (Friday)
        (date(2026, 9, 30), True),
        (date(2026, 10, 8), True),
        (date(2026, 10, 9), True),
        (date(2026, 10, 11), False),  # Sunday after the make-up Saturday
    ],
)
def test_days_around_2026_holidays(day: date, working: bool) -> None:
    assert PLAIN.is_working_day(day) is working


def test_library_knows_the_2026_schedule() -> None:
    schedule = library_schedule(2026)
    assert schedule.published is True
    assert {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)} <= set(
        schedule.workdays
    )
    assert all(d.year == 2026 for d in schedule.workdays | schedule.days_off)
    assert schedule.names[date(2026, 10, 1)] == "国庆节"
    assert schedule.names[date(2026, 2, 17)] == "春节"


def test_library_has_no_make_up_days_for_2027() -> None:
    schedule = library_schedule(2027)
    assert schedule.published is False
    assert schedule.workdays == frozenset()


# --- overrides -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 3, 8),  # an ordinary Sunday
        date(2026, 10, 2),  # a National Day holiday
        date(2027, 1, 1),  # a holiday in a provisional year
    ],
)
def test_workday_override_beats_library(day: date) -> None:
    assert PLAIN.is_working_day(day) is False
    calendar = build_calendar([Override(day, DayKind.WORKDAY, "加班")], [])
    assert calendar.is_working_day(day) is True


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 3, 10),  # an ordinary Tuesday
        date(2026, 2, 14),  # a make-up Saturday
        date(2026, 9, 20),  # a make-up Sunday
    ],
)
def test_holiday_override_beats_library(day: date) -> None:
    assert PLAIN.is_working_day(day) is True
    calendar = build_calendar([Override(day, DayKind.HOLIDAY, "停电")], [])
    assert calendar.is_working_day(day) is False


def test_override_touches_only_its_own_day() -> None:
    calendar = build_calendar([Override(date(2026, 3, 10), DayKind.HOLIDAY, "停电")], [])
    assert calendar.is_working_day(date(2026, 3, 9)) is True
    assert calendar.is_working_day(date(2026, 3, 11)) is True
    assert calendar.is_working_day(date(2025, 3, 10)) is True


def test_later_override_for_the_same_day_wins() -> None:
    day = date(2026, 3, 10)
    calendar = build_calendar([Override(day, DayKind.HOLIDAY, "a"), Override(day, DayKind.WORKDAY, "b")], [])
    assert calendar.is_working_day(day) is True


# --- provisional years -----------------------------------------------------------------


def test_2026_is_published_and_2027_is_provisional() -> None:
    assert PLAIN.is_provisional(2026) is False
    assert PLAIN.is_provisional(2027) is True


def test_a_year_in_published_years_is_not_provisional() -> None:
    calendar = build_calendar([], [2027])
    assert calendar.is_provisional(2027) is False
    assert calendar.is_provisional(2028) is True
    assert calendar.is_provisional(2026) is False


def test_provisional_year_follows_library_holidays_and_weekdays() -> None:
    assert PLAIN.is_working_day(date(2027, 1, 1)) is False  # New Year's Day, a Friday
    assert PLAIN.is_working_day(date(2027, 10, 1)) is False  # National Day, a Friday
    assert PLAIN.is_working_day(date(2027, 3, 9)) is True  # Tuesday
    assert PLAIN.is_working_day(date(2027, 3, 6)) is False  # Saturday


@pytest.mark.parametrize(
    ("start", "end", "published", "provisional"),
    [
        (date(2026, 1, 1), date(2026, 12, 31), [], False),
        (date(2026, 12, 1), date(2027, 1, 15), [], True),
        (date(2026, 12, 1), date(2027, 1, 15), [2027], False),
        (date(2027, 3, 1), date(2027, 3, 31), [], True),
        (date(2025, 6, 1), date(2026, 6, 1), [], False),
        (date(2026, 6, 1), date(2028, 6, 1), [2027], True),  # 2028 is still provisional
    ],
)
def test_provisional_between(start: date, end: date, published: list[int], provisional: bool) -> None:
    calendar = build_calendar([], published)
    assert calendar.provisional_between(start, end) is provisional
