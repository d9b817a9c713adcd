"""Metrics periods, their cut into tallied years and months and loose days, and ranks."""

from __future__ import annotations

from datetime import date

import pytest

from service.domain.metrics import (
    RANKS,
    PeriodError,
    buckets,
    median_and_p90,
    nearest_rank,
    parse_period,
    percentile,
)

TODAY = date(2026, 11, 20)


def test_named_periods() -> None:
    assert (parse_period("2026", None, None, TODAY).start, parse_period("2026", None, None, TODAY).end) == (
        date(2026, 1, 1),
        date(2027, 1, 1),
    )
    q4 = parse_period("2026-Q4", None, None, TODAY)
    assert (q4.start, q4.end, q4.last_day) == (date(2026, 10, 1), date(2027, 1, 1), date(2026, 12, 31))
    feb = parse_period("2028-02", None, None, TODAY)
    assert feb.last_day == date(2028, 2, 29)
    assert parse_period(None, None, None, TODAY).label == "2026"


@pytest.mark.parametrize(
    ("period", "first", "last", "field"),
    [
        ("2026-Q5", None, None, "period"),
        ("26", None, None, "period"),
        ("2026", date(2026, 1, 1), None, "period"),
        (None, date(2026, 1, 1), None, "to"),
        (None, None, date(2026, 1, 1), "from"),
        (None, date(2026, 2, 1), date(2026, 1, 31), "to"),
        (None, date(2020, 1, 1), date(2026, 1, 1), "period"),
        ("1999", None, None, "period"),
    ],
)
def test_bad_periods_name_their_field(period: str | None, first: date | None, last: date | None, field: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(period, first, last, TODAY)
    assert caught.value.field == field


def test_a_period_is_cut_into_whole_years_whole_months_and_loose_days() -> None:
    period = parse_period(None, date(2025, 11, 15), date(2027, 2, 10), TODAY)
    years, months, loose = period.units()
    assert years == [date(2026, 1, 1)]
    assert months == [date(2025, 12, 1), date(2027, 1, 1)]
    assert loose == [(date(2025, 11, 15), date(2025, 12, 1)), (date(2027, 2, 1), date(2027, 2, 11))]
    inside = parse_period(None, date(2026, 3, 3), date(2026, 3, 9), TODAY)
    assert inside.units() == ([], [], [(date(2026, 3, 3), date(2026, 3, 10))])


def test_an_edge_filling_most_of_its_month_is_the_month_less_the_days_outside() -> None:
    period = parse_period(None, date(2026, 2, 10), date(2026, 9, 20), TODAY)
    cover = period.cover()
    assert cover.years == []
    # February 10-28 is 19 of 28 days, September 1-20 is 20 of 30: both months, less their other days.
    assert cover.months == [date(2026, m, 1) for m in range(2, 10)]
    assert cover.added == []
    assert cover.taken == [(date(2026, 2, 1), date(2026, 2, 10)), (date(2026, 9, 21), date(2026, 10, 1))]
    # Half a month or less is counted day by day; a loose stretch across a month's end is cut there.
    short = parse_period(None, date(2026, 3, 17), date(2026, 4, 15), TODAY).cover()
    assert (short.months, short.taken) == ([], [])
    assert short.added == [(date(2026, 3, 17), date(2026, 4, 1)), (date(2026, 4, 1), date(2026, 4, 16))]
    middle = parse_period(None, date(2026, 3, 5), date(2026, 3, 25), TODAY).cover()
    assert middle.months == [date(2026, 3, 1)]
    assert middle.taken == [(date(2026, 3, 1), date(2026, 3, 5)), (date(2026, 3, 26), date(2026, 4, 1))]
    whole = parse_period("2026-Q2", None, None, TODAY).cover()
    assert (whole.months, whole.added, whole.taken) == ([date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)], [], [])


def test_weeks_are_iso_weeks_cut_to_the_period() -> None:
    weeks = buckets(parse_period("2026-03", None, None, TODAY), "week")
    assert weeks[0] == (date(2026, 3, 1), date(2026, 3, 2))  # Sunday 1 March alone
    assert weeks[1] == (date(2026, 3, 2), date(2026, 3, 9))
    assert weeks[-1] == (date(2026, 3, 30), date(2026, 4, 1))


@pytest.mark.parametrize(("cases", "median", "p90"), [(1, 1, 1), (2, 1, 2), (4, 2, 4), (10, 5, 9), (11, 6, 10)])
def test_nearest_rank(cases: int, median: int, p90: int) -> None:
    assert nearest_rank(cases, RANKS["median"]) == median
    assert nearest_rank(cases, RANKS["p90"]) == p90


def test_percentiles_from_a_histogram() -> None:
    durations = {1: 1, 4: 1, 6: 1, 15: 1}  # 1, 4, 6, 15 working days
    assert percentile(durations, RANKS["median"]) == 4
    assert percentile(durations, RANKS["p90"]) == 15
    assert percentile({3: 10}, RANKS["p90"]) == 3
    assert percentile({}, RANKS["median"]) is None


@pytest.mark.parametrize(
    "histogram",
    [{}, {3: 1}, {1: 1, 2: 1}, {1: 5, 4: 3, 9: 1, 15: 1}, {2: 9, 7: 1}, {1: 1, 2: 1, 3: 1, 4: 1, 5: 6}],
)
def test_median_and_p90_in_one_walk_equal_the_two_percentiles(histogram: dict[int, int]) -> None:
    assert median_and_p90(histogram) == (percentile(histogram, RANKS["median"]), percentile(histogram, RANKS["p90"]))
