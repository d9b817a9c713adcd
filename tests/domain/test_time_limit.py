"""Promised time limits in working time (Asia/Shanghai), with every expected value counted by hand.

How to read the hand counts: N working days are N x 24 hours of running time, and
only working days run. From 10:00 on one working day, the next working day's 10:00
is exactly one working day later, whatever days off lie in between.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.calendar import DayKind, Override, WorkingCalendar, build_calendar
from service.domain.time_limit import (
    DAY,
    Deadline,
    DueState,
    Interval,
    StatusChange,
    add_working_seconds,
    compute_deadline,
    due_soon_threshold,
    due_state,
    local_day,
    remaining_seconds,
    running_intervals,
    status_changes,
    whole_working_days,
    working_seconds,
)
from service.domain.workflow import Status

CST = ZoneInfo("Asia/Shanghai")
HOUR = 3600.0
CALENDAR = WorkingCalendar()


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CST)


def history(*steps: tuple[datetime, Status]) -> list[StatusChange]:
    return [StatusChange(at=at, to_status=status) for at, status in steps]


def accepted_at(moment: datetime) -> list[StatusChange]:
    return history((moment - timedelta(minutes=30), Status.SUBMITTED), (moment, Status.ACCEPTED))


def deadline(promised_days: int, changes: list[StatusChange], calendar: WorkingCalendar = CALENDAR) -> Deadline:
    result = compute_deadline(promised_days, changes, calendar)
    assert result is not None
    return result


def assert_same_instant(actual: datetime | None, expected: datetime, tolerance: float = 0.001) -> None:
    """Equal to within a millisecond (fractions of a day go through float seconds)."""
    assert actual is not None
    assert abs((actual - expected).total_seconds()) < tolerance, f"{actual.astimezone(CST)} != {expected}"


# --- due dates for 14 working days -----------------------------------------------------


def test_ordinary_fortnight_without_holidays() -> None:
    # Mon 9 March 10:00. Working days after it: 10 11 12 13 | 16 17 18 19 20 | 23 24 25 26 27
    # -> the 14th is Friday 27 March, at 10:00.
    result = deadline(14, accepted_at(cst(2026, 3, 9, 10)))
    assert result.due_at == cst(2026, 3, 27, 10)
    assert result.remaining_seconds == 14 * DAY


def test_due_at_is_an_aware_instant_that_reads_the_same_in_utc() -> None:
    result = deadline(14, accepted_at(cst(2026, 3, 9, 10)))
    assert result.due_at is not None
    assert result.due_at.utcoffset() is not None
    assert result.due_at == datetime(2026, 3, 27, 2, 0, tzinfo=UTC)


def test_acceptance_given_in_utc_counts_the_same() -> None:
    # 02:00 UTC is 10:00 in Shanghai.
    result = deadline(14, accepted_at(datetime(2026, 3, 9, 2, 0, tzinfo=UTC)))
    assert result.due_at == cst(2026, 3, 27, 10)


def test_across_spring_festival_2026_with_make_up_saturdays() -> None:
    # Tue 10 Feb 10:00. Working days after it:
    #   11 (1) 12 (2) 13 (3) Sat 14 make-up (4)   15-23 off
    #   24 (5) 25 (6) 26 (7) 27 (8) Sat 28 make-up (9)   Sun 1 Mar off
    #   Mar 2 (10) 3 (11) 4 (12) 5 (13) 6 (14)
    result = deadline(14, accepted_at(cst(2026, 2, 10, 10)))
    assert result.due_at == cst(2026, 3, 6, 10)
    # 11.2 working days after acceptance: 3 Mar 10:00 is 11, plus 0.2 x 24 h = 4 h 48 min.
    assert_same_instant(result.due_soon_at, cst(2026, 3, 3, 14, 48))


def test_across_national_day_2026() -> None:
    # Mon 28 Sep 09:00. Working days after it:
    #   29 (1) 30 (2)   1-7 Oct off   8 (3) 9 (4) Sat 10 make-up (5)   Sun 11 off
    #   12 (6) 13 (7) 14 (8) 15 (9) 16 (10) | 19 (11) 20 (12) 21 (13) 22 (14)
    result = deadline(14, accepted_at(cst(2026, 9, 28, 9)))
    assert result.due_at == cst(2026, 10, 22, 9)


def test_seven_days_over_the_make_up_sunday_and_mid_autumn() -> None:
    # Fri 18 Sep 09:00: Sat 19 off, Sun 20 make-up (1), 21 (2) 22 (3) 23 (4) 24 (5),
    # Fri 25 Mid-Autumn off, 26-27 weekend, 28 (6), 29 (7).
    result = deadline(7, accepted_at(cst(2026, 9, 18, 9)))
    assert result.due_at == cst(2026, 9, 29, 9)


def test_accepted_on_a_saturday_starts_at_the_next_working_day() -> None:
    # Sat 7 March is a day off: the clock starts Mon 9 March 00:00, and 14 whole working
    # days (9-13, 16-20, 23-26) end at the close of Thursday 26 March.
    result = deadline(14, accepted_at(cst(2026, 3, 7, 15, 30)))
    assert result.due_at == cst(2026, 3, 27, 0, 0)
    assert result.due_at == deadline(14, accepted_at(cst(2026, 3, 9, 0, 0))).due_at


def test_accepted_on_a_sunday_inside_spring_festival() -> None:
    # Sun 22 Feb and Mon 23 Feb are off: the clock starts Tue 24 Feb 00:00.
    # Five whole days: 24, 25, 26, 27, Sat 28 (make-up) -> end of Saturday 28 February.
    result = deadline(5, accepted_at(cst(2026, 2, 22, 11)))
    assert result.due_at == cst(2026, 3, 1, 0, 0)


def test_accepted_on_a_make_up_saturday_runs_at_once() -> None:
    # Sat 14 Feb is a working day: 14 Feb 10:00 + 1 day -> next working day Tue 24 Feb 10:00.
    result = deadline(1, accepted_at(cst(2026, 2, 14, 10)))
    assert result.due_at == cst(2026, 2, 24, 10)


def test_admin_holiday_override_pushes_the_due_date() -> None:
    # Same as the ordinary fortnight, but Wed 18 March is declared a day off: one more day.
    calendar = build_calendar([Override(cst(2026, 3, 18).date(), DayKind.HOLIDAY, "停电")], [])
    result = deadline(14, accepted_at(cst(2026, 3, 9, 10)), calendar)
    assert result.due_at == cst(2026, 3, 30, 10)


# --- pauses, resolution and reopening --------------------------------------------------


def test_pause_moves_the_due_date_by_exactly_the_paused_working_time() -> None:
    start = cst(2026, 3, 9, 10)
    paused = cst(2026, 3, 11, 10)  # Wed
    resumed = cst(2026, 3, 16, 10)  # Mon: 14 h + 24 h + 24 h + 10 h = 3 working days paused
    changes = [
        *accepted_at(start),
        StatusChange(paused, Status.AWAITING_MATERIALS),
        StatusChange(resumed, Status.IN_PROGRESS),
    ]
    without_pause = deadline(14, accepted_at(start))
    with_pause = deadline(14, changes)
    # 2 days used before the pause, 12 left from Mon 16 March 10:00:
    # 17 18 19 20 | 23 24 25 26 27 | 30 31 | 1 April -> Wednesday 1 April 10:00.
    assert with_pause.due_at == cst(2026, 4, 1, 10)
    assert without_pause.due_at is not None
    assert with_pause.due_at is not None
    assert working_seconds(without_pause.due_at, with_pause.due_at, CALENDAR) == 3 * DAY
    assert with_pause.remaining_seconds == 12 * DAY
    # 2.8 days before 1 April 10:00: 30 March 10:00 is 2, then 19 h 12 min earlier.
    assert_same_instant(with_pause.due_soon_at, cst(2026, 3, 27, 14, 48))


def test_remaining_working_time_at_resumption_matches_the_due_date() -> None:
    resumed = cst(2026, 3, 16, 10)
    changes = [
        *accepted_at(cst(2026, 3, 9, 10)),
        StatusChange(cst(2026, 3, 11, 10), Status.AWAITING_MATERIALS),
        StatusChange(resumed, Status.IN_PROGRESS),
    ]
    result = deadline(14, changes)
    assert result.due_at is not None
    assert remaining_seconds(result.due_at, resumed, CALENDAR) == result.remaining_seconds


def test_pause_over_a_holiday_costs_only_working_time() -> None:
    # Paused Wed 30 Sep 10:00 to Thu 8 Oct 10:00: 14 h on 30 Sep + 10 h on 8 Oct = 1 working day.
    changes = [
        *accepted_at(cst(2026, 9, 28, 9)),
        StatusChange(cst(2026, 9, 30, 10), Status.AWAITING_MATERIALS),
        StatusChange(cst(2026, 10, 8, 10), Status.IN_PROGRESS),
    ]
    # Without the pause: 22 Oct 09:00. One working day later: Fri 23 Oct 09:00.
    assert deadline(14, changes).due_at == cst(2026, 10, 23, 9)


def test_running_pause_has_no_due_date_and_frozen_remaining_time() -> None:
    changes = [
        *accepted_at(cst(2026, 3, 9, 10)),
        StatusChange(cst(2026, 3, 9, 11), Status.IN_PROGRESS),
        StatusChange(cst(2026, 3, 11, 10), Status.AWAITING_MATERIALS),
    ]
    result = deadline(14, changes)
    assert result.due_at is None
    assert result.due_soon_at is None
    # Two working days used (Mon 10:00 -> Wed 10:00), twelve left.
    assert result.remaining_seconds == 12 * DAY
    # The history up to the pause fixes the number: a later evaluation gives the same.
    assert deadline(14, list(changes)).remaining_seconds == 12 * DAY


@pytest.mark.parametrize(
    "changes",
    [
        [],
        history((cst(2026, 3, 9, 10), Status.SUBMITTED)),
        history((cst(2026, 3, 9, 10), Status.SUBMITTED), (cst(2026, 3, 10, 10), Status.REJECTED)),
        history((cst(2026, 3, 9, 10), Status.SUBMITTED), (cst(2026, 3, 10, 10), Status.WITHDRAWN)),
    ],
    ids=["no-history", "submitted", "rejected", "withdrawn-before-acceptance"],
)
def test_never_accepted_has_no_deadline(changes: list[StatusChange]) -> None:
    assert compute_deadline(14, changes, CALENDAR) is None


def test_time_spent_resolved_does_not_count_after_reopening() -> None:
    # Used: Mon 9 Mar 10:00 -> Thu 12 Mar 10:00 = 3 days; resolved until Wed 18 Mar 10:00.
    # 11 days left from 18 Mar 10:00: 19 20 | 23 24 25 26 27 | 30 31 | 1 2 April.
    changes = [
        *accepted_at(cst(2026, 3, 9, 10)),
        StatusChange(cst(2026, 3, 9, 11), Status.IN_PROGRESS),
        StatusChange(cst(2026, 3, 12, 10), Status.RESOLVED),
        StatusChange(cst(2026, 3, 18, 10), Status.IN_PROGRESS),
    ]
    result = deadline(14, changes)
    assert result.due_at == cst(2026, 4, 2, 10)
    assert result.remaining_seconds == 11 * DAY


@pytest.mark.parametrize("final", [Status.RESOLVED, Status.WITHDRAWN])
def test_stopped_clock_keeps_what_was_left(final: Status) -> None:
    changes = [
        *accepted_at(cst(2026, 3, 9, 10)),
        StatusChange(cst(2026, 3, 9, 11), Status.IN_PROGRESS),
        StatusChange(cst(2026, 3, 12, 10), final),
    ]
    result = deadline(14, changes)
    assert result.due_at is None
    assert result.due_soon_at is None
    assert result.remaining_seconds == 11 * DAY


def test_resolved_then_closed_keeps_the_remaining_time() -> None:
    changes = [
        *accepted_at(cst(2026, 3, 9, 10)),
        StatusChange(cst(2026, 3, 9, 11), Status.IN_PROGRESS),
        StatusChange(cst(2026, 3, 12, 10), Status.RESOLVED),
        StatusChange(cst(2026, 3, 20, 10), Status.CLOSED),
    ]
    result = deadline(14, changes)
    assert result.due_at is None
    assert result.remaining_seconds == 11 * DAY


def test_overdue_when_resolved_shows_negative_remaining_time() -> None:
    # 2 days promised, 4 used (Mon 10:00 -> Fri 10:00).
    changes = [
        *accepted_at(cst(2026, 3, 9, 10)),
        StatusChange(cst(2026, 3, 9, 11), Status.IN_PROGRESS),
        StatusChange(cst(2026, 3, 13, 10), Status.RESOLVED),
    ]
    assert deadline(2, changes).remaining_seconds == -2 * DAY


def test_reopening_an_overdue_case_keeps_its_overdue_time() -> None:
    # 2 days promised, 4 used, so 2 working days overdue when resolved on Fri 13 Mar 10:00.
    # Reopened Tue 17 Mar 10:00 the case is still 2 working days overdue, so the due time
    # should be 2 working days before the reopening: Fri 13 Mar 10:00.
    reopened = cst(2026, 3, 17, 10)
    changes = [
        *accepted_at(cst(2026, 3, 9, 10)),
        StatusChange(cst(2026, 3, 9, 11), Status.IN_PROGRESS),
        StatusChange(cst(2026, 3, 13, 10), Status.RESOLVED),
        StatusChange(reopened, Status.IN_PROGRESS),
    ]
    result = deadline(2, changes)
    assert result.remaining_seconds == -2 * DAY
    assert result.due_at is not None
    assert remaining_seconds(result.due_at, reopened, CALENDAR) == -2 * DAY
    assert result.due_at == cst(2026, 3, 13, 10)


# --- running intervals -----------------------------------------------------------------


def test_running_intervals_from_a_full_history() -> None:
    t = [cst(2026, 3, d, 10) for d in range(9, 17)]
    changes = history(
        (t[0], Status.SUBMITTED),
        (t[1], Status.ACCEPTED),
        (t[2], Status.ACCEPTED),  # a transfer keeps the status and the clock
        (t[3], Status.IN_PROGRESS),
        (t[4], Status.AWAITING_MATERIALS),
        (t[5], Status.IN_PROGRESS),
        (t[6], Status.RESOLVED),
        (t[7], Status.IN_PROGRESS),
    )
    assert running_intervals(changes) == [Interval(t[1], t[4]), Interval(t[5], t[6]), Interval(t[7], None)]


def test_status_changes_parses_stored_rows() -> None:
    at = cst(2026, 3, 9, 10)
    assert status_changes([(at, "accepted"), (at, "awaiting_materials")]) == [
        StatusChange(at, Status.ACCEPTED),
        StatusChange(at, Status.AWAITING_MATERIALS),
    ]
    with pytest.raises(ValueError, match="bogus"):
        status_changes([(at, "bogus")])


# --- due soon --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("promised", "threshold_days"),
    [(1, 2.0), (2, 2.0), (5, 2.0), (10, 2.0), (14, 2.8), (15, 3.0), (20, 4.0), (30, 6.0)],
)
def test_due_soon_threshold_is_a_fifth_or_two_days(promised: int, threshold_days: float) -> None:
    assert due_soon_threshold(promised) == pytest.approx(threshold_days * DAY)


def test_due_soon_for_14_days_is_2_8_working_days_before_due() -> None:
    result = deadline(14, accepted_at(cst(2026, 3, 9, 10)))
    # Due Fri 27 Mar 10:00; 2 days before is Wed 25 Mar 10:00; 0.8 day (19 h 12 min) before
    # that is Tue 24 Mar 14:48.
    assert_same_instant(result.due_soon_at, cst(2026, 3, 24, 14, 48))
    assert result.due_at is not None
    assert result.due_soon_at is not None
    assert working_seconds(result.due_soon_at, result.due_at, CALENDAR) == pytest.approx(2.8 * DAY, abs=0.001)


def test_due_soon_for_5_days_is_2_working_days_before_due() -> None:
    # Mon 9 Mar 10:00 + 5: 10 11 12 13 16 -> due Mon 16 Mar 10:00; yellow from Thu 12 Mar 10:00.
    result = deadline(5, accepted_at(cst(2026, 3, 9, 10)))
    assert result.due_at == cst(2026, 3, 16, 10)
    assert result.due_soon_at == cst(2026, 3, 12, 10)


def test_due_soon_threshold_spans_a_weekend_in_working_time() -> None:
    # 5 days from Wed 11 Mar 10:00: 12 13 16 17 18 -> due Wed 18 Mar 10:00; two working days
    # before that is Mon 16 Mar 10:00 (the weekend does not count).
    result = deadline(5, accepted_at(cst(2026, 3, 11, 10)))
    assert result.due_at == cst(2026, 3, 18, 10)
    assert result.due_soon_at == cst(2026, 3, 16, 10)


def test_two_day_promise_is_due_soon_from_acceptance() -> None:
    start = cst(2026, 3, 9, 10)
    result = deadline(2, accepted_at(start))
    assert result.due_at == cst(2026, 3, 11, 10)
    assert result.due_soon_at == start


# --- due state -------------------------------------------------------------------------

DUE = cst(2026, 3, 27, 10)
SOON = cst(2026, 3, 24, 14, 48)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (cst(2026, 3, 9, 10), DueState.ON_TRACK),
        (SOON - TICK, DueState.ON_TRACK),
        (SOON, DueState.DUE_SOON),
        (SOON + TICK, DueState.DUE_SOON),
        (DUE - TICK, DueState.DUE_SOON),
        (DUE, DueState.OVERDUE),
        (DUE + TICK, DueState.OVERDUE),
        (cst(2026, 5, 1), DueState.OVERDUE),
    ],
)
def test_due_state_boundaries(now: datetime, state: DueState) -> None:
    assert due_state(now, DUE, SOON) is state


def test_due_state_compares_instants_not_wall_clocks() -> None:
    # 02:00 UTC on 27 March is exactly 10:00 in Shanghai.
    assert due_state(datetime(2026, 3, 27, 2, 0, tzinfo=UTC), DUE, SOON) is DueState.OVERDUE
    assert due_state(datetime(2026, 3, 27, 1, 59, tzinfo=UTC), DUE, SOON) is DueState.DUE_SOON


# --- remaining time and whole days -----------------------------------------------------


@pytest.mark.parametrize(
    ("now", "seconds"),
    [
        (cst(2026, 3, 26, 10), DAY),  # Thu 10:00, one working day before Fri 10:00
        (cst(2026, 3, 20, 10), 5 * DAY),  # a week before, over a weekend
        (cst(2026, 3, 27, 10), 0.0),
        (cst(2026, 3, 27, 16), -6 * HOUR),
        (cst(2026, 3, 28, 12), -14 * HOUR),  # Saturday: only Friday's 14 hours count
        (cst(2026, 3, 30, 9), -23 * HOUR),  # Monday 09:00: 14 h + 9 h
    ],
)
def test_remaining_seconds(now: datetime, seconds: float) -> None:
    assert remaining_seconds(DUE, now, CALENDAR) == seconds


@pytest.mark.parametrize(
    ("seconds", "days"),
    [
        (0.0, 0),
        (1.0, 1),
        (0.5 * DAY, 1),
        (DAY, 1),
        (DAY + 1, 2),
        (2.8 * DAY, 3),
        (14 * DAY, 14),
        (-1.0, -1),
        (-0.5 * DAY, -1),
        (-DAY, -1),
        (-DAY - 1, -2),
        (-1.5 * DAY, -2),
    ],
)
def test_whole_working_days_counts_part_of_a_day_as_a_day(seconds: float, days: int) -> None:
    assert whole_working_days(seconds) == days


def test_whole_working_days_ignores_float_noise_at_a_day_boundary() -> None:
    assert whole_working_days(3 * DAY + 1e-6) == 3
    assert whole_working_days(-(3 * DAY + 1e-6)) == -3


def test_whole_days_shown_for_a_case_due_tomorrow_and_one_overdue() -> None:
    assert whole_working_days(remaining_seconds(DUE, cst(2026, 3, 26, 15), CALENDAR)) == 1  # 19 h left
    assert whole_working_days(remaining_seconds(DUE, cst(2026, 3, 30, 9), CALENDAR)) == -1  # 23 h late
    assert whole_working_days(remaining_seconds(DUE, cst(2026, 3, 30, 11), CALENDAR)) == -2  # 25 h late


# --- working seconds -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        (cst(2026, 3, 13, 12), cst(2026, 3, 16, 12), DAY),  # Fri noon -> Mon noon
        (cst(2026, 3, 14, 0), cst(2026, 3, 16, 0), 0.0),  # the whole weekend
        (cst(2026, 3, 13, 18), cst(2026, 3, 14, 18), 6 * HOUR),  # Fri evening -> Sat evening
        (cst(2026, 3, 9, 0), cst(2026, 3, 16, 0), 5 * DAY),  # a full week
        (cst(2026, 3, 9, 9), cst(2026, 3, 9, 17), 8 * HOUR),  # within one day
        (cst(2026, 2, 13, 12), cst(2026, 2, 24, 12), 2 * DAY),  # 12 h + Sat 14 + 12 h
        (cst(2026, 9, 30, 0), cst(2026, 10, 12, 0), 4 * DAY),  # 30 Sep, 8, 9, Sat 10 Oct
        (cst(2026, 3, 16, 12), cst(2026, 3, 13, 12), 0.0),  # end before start
        (cst(2026, 3, 16, 12), cst(2026, 3, 16, 12), 0.0),
    ],
)
def test_working_seconds(start: datetime, end: datetime, seconds: float) -> None:
    assert working_seconds(start, end, CALENDAR) == seconds


def test_working_seconds_uses_shanghai_days_for_utc_input() -> None:
    # 15:00-17:00 UTC on Fri 13 March is 23:00 Friday to 01:00 Saturday in Shanghai:
    # only the Friday hour is working time.
    start = datetime(2026, 3, 13, 15, 0, tzinfo=UTC)
    end = datetime(2026, 3, 13, 17, 0, tzinfo=UTC)
    assert working_seconds(start, end, CALENDAR) == HOUR


@pytest.mark.parametrize(
    ("start", "seconds", "expected"),
    [
        (cst(2026, 3, 13, 20), 6 * HOUR, cst(2026, 3, 16, 2)),  # 4 h on Friday, 2 h on Monday
        (cst(2026, 3, 14, 15, 30), 1.0, cst(2026, 3, 16) + timedelta(seconds=1)),
        (cst(2026, 3, 13, 10), 14 * HOUR, cst(2026, 3, 14)),  # exactly to Friday midnight
        (cst(2026, 3, 13, 10), 0.0, cst(2026, 3, 13, 10)),
    ],
)
def test_add_working_seconds(start: datetime, seconds: float, expected: datetime) -> None:
    assert add_working_seconds(start, seconds, CALENDAR) == expected


def test_add_working_seconds_returns_shanghai_time() -> None:
    result = add_working_seconds(datetime(2026, 3, 9, 2, 0, tzinfo=UTC), DAY, CALENDAR)
    assert result == cst(2026, 3, 10, 10)
    assert result.utcoffset() == timedelta(hours=8)


def test_working_days_overdue_counts_on_while_the_clock_runs_and_stops_with_it() -> None:
    from service.domain.due import working_days_overdue

    calendar = build_calendar([], [2026])
    due = cst(2026, 5, 21, 10)  # a Thursday
    # Running: part of a working day counts as a day; the weekend does not count.
    assert working_days_overdue(Status.IN_PROGRESS, due, None, cst(2026, 5, 21, 11), calendar) == 1
    assert working_days_overdue(Status.IN_PROGRESS, due, None, cst(2026, 5, 25, 9), calendar) == 2  # 14 h + 24 h + 9 h
    assert working_days_overdue(Status.IN_PROGRESS, due, None, cst(2026, 6, 2, 10), calendar) == 8
    assert working_days_overdue(Status.IN_PROGRESS, due, None, cst(2026, 5, 21, 9), calendar) is None
    # Paused for materials a day and a half after the time ran out: late by two, however long it waits.
    assert working_days_overdue(Status.AWAITING_MATERIALS, due, -1.5 * DAY, cst(2026, 9, 1), calendar) == 2
    # Paused in time, or finished: not late.
    assert working_days_overdue(Status.AWAITING_MATERIALS, due, 3 * DAY, cst(2026, 9, 1), calendar) is None
    assert working_days_overdue(Status.RESOLVED, due, -1.5 * DAY, cst(2026, 9, 1), calendar) is None


def _working_seconds_day_by_day(start: datetime, end: datetime, calendar: WorkingCalendar) -> float:
    """The definition, a day at a time: what ``working_seconds`` counts by spans."""
    if end <= start:
        return 0.0
    total, day = 0.0, local_day(start)
    while day <= local_day(end):
        if calendar.is_working_day(day):
            lo = max(start, datetime.combine(day, time.min, tzinfo=CST))
            hi = min(end, datetime.combine(day + timedelta(days=1), time.min, tzinfo=CST))
            total += max(0.0, (hi - lo).total_seconds())
        day += timedelta(days=1)
    return total


_OVERRIDES = build_calendar(
    [
        Override(date(2026, 3, 14), DayKind.WORKDAY, "调休上班"),
        Override(date(2026, 3, 17), DayKind.HOLIDAY, "停工"),
        Override(date(2027, 1, 4), DayKind.HOLIDAY, "停工"),
    ],
    [],
)
_INSTANTS = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 28), timezones=st.just(UTC))


@settings(max_examples=400, deadline=None)
@given(start=_INSTANTS, end=_INSTANTS)
def test_working_seconds_by_spans_equals_the_day_by_day_count(start: datetime, end: datetime) -> None:
    # Equal up to the order in which floats are added (microseconds make them inexact).
    for calendar in (WorkingCalendar(), _OVERRIDES):
        by_day = _working_seconds_day_by_day(start, end, calendar)
        assert working_seconds(start, end, calendar) == pytest.approx(by_day, abs=1e-6)
        expected = by_day if start <= end else -_working_seconds_day_by_day(end, start, calendar)
        assert remaining_seconds(end, start, calendar) == pytest.approx(expected, abs=1e-6)


def test_a_calendar_counts_a_span_once_and_forgets_past_its_bound() -> None:
    calendar = WorkingCalendar()
    assert calendar.working_days_in(date(2026, 3, 9), date(2026, 3, 15)) == 5  # Monday to Sunday
    assert calendar.working_days_in(date(2026, 3, 15), date(2026, 3, 9)) == 0
    assert calendar._counted == {(date(2026, 3, 9), date(2026, 3, 15)): 5}
    for n in range(5000):
        calendar.working_days_in(date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=n % 400))
    assert len(calendar._counted) <= 4096
