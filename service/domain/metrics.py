"""Officials' figures: periods, and what is derived from the counted cases. Pure, no I/O.

A period is a range of days (Asia/Shanghai) in which cases were *received*; every
count describes those cases as they stand now (see the README, "Metrics").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

COUNTERS = (
    "received",
    "accepted",
    "submitted",
    "in_progress",
    "awaiting_materials",
    "resolved",
    "closed",
    "rejected",
    "withdrawn",
    "resolved_on_time",
    "resolved_late",
    "rated",
    "very_satisfied",
    "satisfied",
    "basically_satisfied",
    "dissatisfied",
    "very_dissatisfied",
    "follow_ups_open",
)
NOW_COUNTERS = ("overdue", "due_soon", "follow_ups_overdue")
SUPERVISION_COUNTERS = ("issued", "replied_on_time", "replied_late", "escalated", "open", "unanswered")
"""Supervision notices issued in a period, as they stand now (``domain/supervision.py``)."""


def supervision_figure(counter: str) -> str:
    """The name of the case list behind a supervision counter (``/metrics/cases?figure=``)."""
    return "supervised" if counter == "issued" else f"supervision_{counter}"


def target_unit_zh(unit: str | None) -> str:
    """A target's unit as the work list stores it (in Chinese since migration 0010), or
    resolved cases (件) when none is named."""
    return unit or "件"


MAX_PERIOD_DAYS = 3 * 366 + 1
FIRST_YEAR, LAST_YEAR = 2000, 2100
"""The years a period may lie in (the calendar's too)."""
_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class PeriodError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Period:
    """Received on ``start`` up to, not including, ``end``."""

    start: date
    end: date
    label: str

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def units(self) -> tuple[list[date], list[date], list[tuple[date, date]]]:
        """The period cut into whole calendar years, whole months outside those years, and
        the loose day ranges left at its edges: ``(years, months, loose)``, by first day."""
        years: list[date] = []
        months: list[date] = []
        loose: list[tuple[date, date]] = []
        cursor = self.start
        while cursor < self.end:
            if cursor.month == 1 and cursor.day == 1 and date(cursor.year + 1, 1, 1) <= self.end:
                years.append(cursor)
                cursor = date(cursor.year + 1, 1, 1)
            elif cursor.day == 1 and _next_month(cursor) <= self.end:
                months.append(cursor)
                cursor = _next_month(cursor)
            else:
                following = min(_next_month(cursor.replace(day=1)), self.end)
                if loose and loose[-1][1] == cursor:
                    loose[-1] = (loose[-1][0], following)
                else:
                    loose.append((cursor, following))
                cursor = following
        return years, months, loose

    def cover(self) -> Cover:
        """The period as whole years and months to sum from the tallies, with day ranges to
        add from the cases and day ranges to take away. A loose stretch that fills more than
        half its month is read as the whole month less the days outside the period, so no
        more than half a month of cases is counted one by one at either edge."""
        years, months, loose = self.units()
        whole = list(months)
        added: list[tuple[date, date]] = []
        taken: list[tuple[date, date]] = []
        for lo, hi in _by_month(loose):
            first = lo.replace(day=1)
            after = _next_month(first)
            if 2 * (hi - lo).days > (after - first).days:
                whole.append(first)
                taken += [(a, b) for a, b in ((first, lo), (hi, after)) if a < b]
            else:
                added.append((lo, hi))
        return Cover(years, sorted(whole), added, taken)

    def year(self) -> int | None:
        """The calendar year the period lies in, if it lies in one."""
        return self.start.year if self.start.year == self.last_day.year else None


@dataclass(frozen=True, slots=True)
class Cover:
    """A period as ``years`` and ``months`` (first days) plus the days of ``added`` less
    those of ``taken`` (``[lo, hi)`` ranges): see ``Period.cover``."""

    years: list[date]
    months: list[date]
    added: list[tuple[date, date]]
    taken: list[tuple[date, date]]


def _by_month(ranges: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    """Day ranges cut where a month ends."""
    cut = []
    for lo, hi in ranges:
        while lo < hi:
            end = min(_next_month(lo.replace(day=1)), hi)
            cut.append((lo, end))
            lo = end
    return cut


def unit_start(day: date, unit: str) -> date:
    """The first day of the ISO week (Monday) or the month holding ``day``."""
    return day - timedelta(days=day.weekday()) if unit == "week" else day.replace(day=1)


def unit_after(first: date, unit: str) -> date:
    return first + timedelta(days=7) if unit == "week" else _next_month(first)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def parse_period(period: str | None, start: date | None, end: date | None, today: date) -> Period:
    """``period`` is 2026, 2026-Q2 or 2026-03; or ``start``/``end`` give inclusive days.

    With neither, the current year so far is meant (up to and including today).
    """
    if period is not None and (start is not None or end is not None):
        raise PeriodError("period", "give either period or from/to, not both")
    if period is not None:
        if match := _YEAR.match(period):
            year = _year(match[1])
            return _checked(date(year, 1, 1), date(year + 1, 1, 1), period)
        if match := _QUARTER.match(period):
            year, quarter = _year(match[1]), int(match[2])
            first = date(year, 3 * quarter - 2, 1)
            return _checked(first, _next_month(_next_month(_next_month(first))), period)
        if match := _MONTH.match(period):
            first = date(_year(match[1]), int(match[2]), 1)
            return _checked(first, _next_month(first), period)
        raise PeriodError("period", "must look like 2026, 2026-Q2 or 2026-03")
    if start is None and end is None:
        return _checked(date(today.year, 1, 1), date(today.year + 1, 1, 1), str(today.year))
    if start is None or end is None:
        raise PeriodError("from" if start is None else "to", "give both from and to")
    for name, day in (("from", start), ("to", end)):
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise PeriodError(name, f"must lie between {FIRST_YEAR} and {LAST_YEAR}")
    if end < start:
        raise PeriodError("to", "must not be before from")
    return _checked(start, end + timedelta(days=1), f"{start.isoformat()}..{end.isoformat()}")


def _year(text: str) -> int:
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError("period", f"years run from {FIRST_YEAR} to {LAST_YEAR}")
    return year


def _checked(start: date, end: date, label: str) -> Period:
    if not FIRST_YEAR <= start.year <= LAST_YEAR or not FIRST_YEAR <= end.year <= LAST_YEAR + 1:
        raise PeriodError("period", f"must lie between {FIRST_YEAR} and {LAST_YEAR}")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise PeriodError("period", "must not be longer than three years")
    return Period(start, end, label)


def rate(part: int, whole: int) -> float | None:
    """A share rounded to four places (0.8125), or None when there is nothing to share."""
    return round(part / whole, 4) if whole else None


RANKS = {"median": (1, 2), "p90": (9, 10)}
"""Nearest-rank percentiles as fractions: the value at rank ceil(n x q) of n sorted cases
(integer arithmetic, so 90% of 10 is rank 9)."""


def nearest_rank(cases: int, fraction: tuple[int, int]) -> int:
    numerator, denominator = fraction
    return max(-(-cases * numerator // denominator), 1)


def percentile(histogram: Mapping[int, int], fraction: tuple[int, int]) -> int | None:
    """The value at the nearest rank in a histogram {value: how many cases}; None when empty."""
    cases = sum(histogram.values())
    if cases == 0:
        return None
    rank = nearest_rank(cases, fraction)
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("the ranks add up to the number of cases")


def median_and_p90(histogram: Mapping[int, int]) -> tuple[int | None, int | None]:
    """``percentile`` at the median's and the 90th's ranks, in one walk up the histogram
    (a steward breakdown ranks a thousand of them)."""
    cases = sum(histogram.values())
    if cases == 0:
        return None, None
    ranks = (nearest_rank(cases, RANKS["median"]), nearest_rank(cases, RANKS["p90"]))
    found: list[int] = []
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        while len(found) < 2 and seen >= ranks[len(found)]:
            found.append(value)
        if len(found) == 2:
            return found[0], found[1]
    raise AssertionError("the ranks add up to the number of cases")


@dataclass(slots=True)
class Tally:
    """What was counted for one row of a table: the cases received in the period."""

    counts: dict[str, int] = field(default_factory=dict.fromkeys(COUNTERS, 0).copy)
    now: dict[str, int] = field(default_factory=dict.fromkeys(NOW_COUNTERS, 0).copy)
    median: int | None = None
    """Working days from acceptance to resolution at the middle rank (see ``RANKS``)."""
    p90: int | None = None

    def add_counts(self, values: Mapping[Any, Any]) -> None:
        for name in COUNTERS:
            self.counts[name] += int(values.get(name) or 0)

    def add_now(self, values: Mapping[Any, Any]) -> None:
        for name in NOW_COUNTERS:
            self.now[name] += int(values.get(name) or 0)


def total(tallies: Iterable[Tally], median: int | None, p90: int | None) -> Tally:
    """The sum of the rows' counts; percentiles do not add up, so they are given."""
    result = Tally(median=median, p90=p90)
    for tally in tallies:
        result.add_counts(tally.counts)
        result.add_now(tally.now)
    return result


@dataclass(frozen=True, slots=True)
class Derived:
    open: int
    on_time_rate: float | None
    median_working_days: int | None
    p90_working_days: int | None
    satisfied: int
    satisfaction_rate: float | None
    target_rate: float | None


def derive(tally: Tally, target: int | None) -> Derived:
    c = tally.counts
    satisfied = c["very_satisfied"] + c["satisfied"] + c["basically_satisfied"]
    return Derived(
        open=c["submitted"] + c["in_progress"] + c["awaiting_materials"],
        on_time_rate=rate(c["resolved_on_time"], c["resolved_on_time"] + c["resolved_late"]),
        median_working_days=tally.median,
        p90_working_days=tally.p90,
        satisfied=satisfied,
        satisfaction_rate=rate(satisfied, c["rated"]),
        target_rate=rate(c["resolved"], target) if target else None,
    )


def buckets(period: Period, interval: str) -> list[tuple[date, date]]:
    """Consecutive [start, end) day ranges covering the period: ISO weeks (Monday first) or
    calendar months, the first and last cut to the period."""
    result: list[tuple[date, date]] = []
    cursor = period.start
    while cursor < period.end:
        following = cursor + timedelta(days=7 - cursor.weekday()) if interval == "week" else _next_month(cursor)
        following = min(following, period.end)
        result.append((cursor, following))
        cursor = following
    return result
