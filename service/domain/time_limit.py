"""The promised time limit (承诺时限), counted in working time in China Standard Time.

A working day is a whole calendar day in Asia/Shanghai that the calendar says is a
working day. The clock starts at acceptance and runs only through working days and
only while the case is in a status where it counts (see ``workflow.clock_runs_in``).
A promise of N working days is therefore N x 24 hours of running working time: a
case accepted at 10:00 on a Monday 2026-03-09 with 14 days and no holidays is due at
10:00 on Friday 2026-03-27 (14 working days: Tue 10th to Fri 27th), and a pause of three working days moves that by
exactly three working days. Pauses are rebuilt from the case's status history every
time, never kept in a counter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from service.domain.calendar import WorkingCalendar
from service.domain.workflow import Status, clock_runs_in

CST = ZoneInfo("Asia/Shanghai")
DAY = 86_400.0


class DueState(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class StatusChange:
    at: datetime
    to_status: Status


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime | None  # None: still running


@dataclass(frozen=True, slots=True)
class Deadline:
    due_at: datetime | None  # None while the clock is stopped
    due_soon_at: datetime | None
    remaining_seconds: float  # running working time left when last computed (frozen while stopped)


def local_day(moment: datetime) -> date:
    return moment.astimezone(CST).date()


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CST)


def working_seconds(start: datetime, end: datetime, calendar: WorkingCalendar) -> float:
    """Working time between two instants, in seconds (0 when end <= start)."""
    if end <= start:
        return 0.0
    day = local_day(start)
    last = local_day(end)
    if day == last:
        return (end - start).total_seconds() if calendar.is_working_day(day) else 0.0
    # The part of the first day, the whole days between (China keeps no summer time: each
    # is a DAY long), and the part of the last day.
    total = 0.0
    if calendar.is_working_day(day):
        total += (_day_start(day + timedelta(days=1)) - start).total_seconds()
    total += calendar.working_days_in(day + timedelta(days=1), last - timedelta(days=1)) * DAY
    if calendar.is_working_day(last):
        total += (end - _day_start(last)).total_seconds()
    return total


def add_working_seconds(start: datetime, seconds: float, calendar: WorkingCalendar) -> datetime:
    """The instant at which ``seconds`` of working time have run from ``start``.

    A negative amount goes back in time: an overdue case that resumes keeps a due
    time in the past, so it stays exactly as overdue as it was.
    """
    cursor = start.astimezone(CST)
    remaining = seconds
    if remaining < 0:
        return _subtract_working_seconds(cursor, -remaining, calendar)
    if remaining == 0:
        return cursor
    # Ten years of days off in a row would be a broken calendar, not a long wait.
    for _ in range(3660):
        day = cursor.date()
        next_start = _day_start(day + timedelta(days=1))
        if calendar.is_working_day(day):
            available = (next_start - cursor).total_seconds()
            if remaining <= available:
                return cursor + timedelta(seconds=remaining)
            remaining -= available
        cursor = next_start
    raise ValueError("the calendar has no working day in ten years")


def _subtract_working_seconds(start: datetime, seconds: float, calendar: WorkingCalendar) -> datetime:
    cursor = start
    remaining = seconds
    for _ in range(3660):
        day = cursor.date()
        day_start = _day_start(day)
        if cursor == day_start:
            day -= timedelta(days=1)
            cursor = _day_start(day + timedelta(days=1))
            day_start = _day_start(day)
        if calendar.is_working_day(day):
            available = (cursor - day_start).total_seconds()
            if remaining <= available:
                return cursor - timedelta(seconds=remaining)
            remaining -= available
        cursor = day_start
    raise ValueError("the calendar has no working day in ten years")


def running_intervals(changes: Sequence[StatusChange]) -> list[Interval]:
    """The stretches of time in which the clock ran, from the case's status history."""
    intervals: list[Interval] = []
    started: datetime | None = None
    for change in changes:
        runs = clock_runs_in(change.to_status)
        if runs and started is None:
            started = change.at
        elif not runs and started is not None:
            intervals.append(Interval(started, change.at))
            started = None
    if started is not None:
        intervals.append(Interval(started, None))
    return intervals


def due_soon_threshold(promised_days: int) -> float:
    """Working seconds before the due time at which a case turns yellow.

    20% of the promised limit or two working days, whichever is larger.
    """
    return max(0.2 * promised_days, 2.0) * DAY


def compute_deadline(promised_days: int, changes: Sequence[StatusChange], calendar: WorkingCalendar) -> Deadline | None:
    """Due time from the history; None before the case was ever accepted."""
    intervals = running_intervals(changes)
    if not intervals:
        return None
    budget = promised_days * DAY
    soon_budget = max(budget - due_soon_threshold(promised_days), 0.0)
    used = 0.0
    for interval in intervals:
        if interval.end is None:
            due = add_working_seconds(interval.start, budget - used, calendar)
            soon = add_working_seconds(interval.start, max(soon_budget - used, 0.0), calendar)
            return Deadline(due_at=due, due_soon_at=soon, remaining_seconds=budget - used)
        used += working_seconds(interval.start, interval.end, calendar)
    # The clock is stopped (paused, resolved or ended): no due time runs now.
    return Deadline(due_at=None, due_soon_at=None, remaining_seconds=budget - used)


def remaining_seconds(due_at: datetime, now: datetime, calendar: WorkingCalendar) -> float:
    """Working time left until ``due_at`` (negative once it has passed)."""
    if now <= due_at:
        return working_seconds(now, due_at, calendar)
    return -working_seconds(due_at, now, calendar)


def whole_working_days(seconds: float) -> int:
    """Working days left as a person counts them: part of a day counts as a day."""
    if seconds >= 0:
        return math.ceil(seconds / DAY - 1e-9)
    return -math.ceil(-seconds / DAY - 1e-9)


def due_state(now: datetime, due_at: datetime, due_soon_at: datetime) -> DueState:
    if now >= due_at:
        return DueState.OVERDUE
    if now >= due_soon_at:
        return DueState.DUE_SOON
    return DueState.ON_TRACK


def status_changes(rows: Iterable[tuple[datetime, str]]) -> list[StatusChange]:
    return [StatusChange(at=at, to_status=Status(to)) for at, to in rows]
