"""Arrivals: how many cases come in each day and when, and their rows in batches."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any

from service.demo.cases import Case, CaseMaker, Item
from service.demo.options import FIRST_DAY, DemoDataRefused, DemoOptions
from service.demo.people import random_uuid
from service.demo.vocabulary import CATEGORY_WEIGHTS, CHANNEL_WEIGHTS, CHANNELS, HOURS
from service.demo.working_time import WorkingTime, local_midnight
from service.domain.case_number import format_case_number
from service.domain.time_limit import CST


def _daily_counts(rng: random.Random, wt: WorkingTime, now: int, total: int) -> list[tuple[date, int]]:
    """Cases received each day: more on working days and in spring and September, slowly more over time."""
    last = datetime.fromtimestamp(now, CST).date()
    days = [FIRST_DAY + timedelta(days=i) for i in range((last - FIRST_DAY).days + 1)]
    weights = [
        (1.0 if wt.is_working(day) else 0.15) * (1.25 if day.month in (3, 4, 9) else 1.0) * (0.8 + 0.5 * i / len(days))
        for i, day in enumerate(days)
    ]
    weights[-1] *= (now - local_midnight(last)) / 86_400
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    if missing := total - sum(counts):
        shortfall = [w * scale - c for w, c in zip(weights, counts, strict=True)]
        for index in rng.choices(range(len(days)), weights=shortfall, k=missing):
            counts[index] += 1
    if max(counts, default=0) > 999_999:
        raise DemoDataRefused("more than 999,999 cases on one day do not fit the case number")
    return list(zip(days, counts, strict=True))


def _arrivals(rng: random.Random, day: date, count: int, now: int) -> list[int]:
    midnight = local_midnight(day)
    until = min(86_400, now - midnight)
    moments = [hour * 3600 + rng.randrange(3600) for hour in rng.choices(range(24), cum_weights=HOURS, k=count)]
    return sorted(midnight + (into if into < until else rng.randrange(until)) for into in moments)


def case_batches(
    rng: random.Random, maker: CaseMaker, items: dict[int, list[Item]], options: DemoOptions, counters: list[Any]
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """(cases, events, ratings) in batches of about ``batch_size`` cases, in the order
    they were received; ``counters`` gets the last case number of each day."""
    weights = {year: list(accumulate(CATEGORY_WEIGHTS.get(i.category, 1.0) for i in items[year])) for year in items}
    workers = maker.people.workers
    cases: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    ratings: list[tuple[Any, ...]] = []
    for day, count in _daily_counts(rng, maker.wt, maker.now, options.cases):
        if not count:
            continue
        counters.append((day, count))
        arrivals = zip(
            _arrivals(rng, day, count, maker.now),
            rng.choices(items[day.year], cum_weights=weights[day.year], k=count),
            rng.choices(workers, k=count),
            rng.choices(CHANNELS, cum_weights=CHANNEL_WEIGHTS, k=count),
            strict=True,
        )
        for sequence, (created, item, worker, channel) in enumerate(arrivals, 1):
            case = Case(random_uuid(rng), item, item.department, created, created)
            maker.live(case, worker[2])
            row, case_events, case_ratings = maker.rows(case, format_case_number(day, sequence), worker, channel)
            cases.append(row)
            events += case_events
            ratings += case_ratings
        if len(cases) >= options.batch_size:
            yield cases, events, ratings
            cases, events, ratings = [], [], []
    if cases:
        yield cases, events, ratings
