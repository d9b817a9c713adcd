"""One count for many askers of the same question, kept a few seconds; live askers never
take an answer counted before they asked (``service/services/kept_figures.py``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from service.services.kept_figures import KeptFigures

NOW = datetime(2026, 6, 2, 2, 0, tzinfo=UTC)


class Counter:
    """A count that takes ``delay`` seconds and answers how many counts ran before it."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.runs = 0
        self.fail = False

    async def __call__(self, now: datetime) -> int:
        self.runs += 1
        run = self.runs
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("the database went away")
        return run


async def test_thirty_two_concurrent_askers_cause_one_count() -> None:
    kept: KeptFigures[int] = KeptFigures(5)
    count = Counter()
    answers = await asyncio.gather(*(kept.get("q", count, NOW) for _ in range(32)))
    assert count.runs == 1
    assert {a.value for a in answers} == {1}
    assert {a.as_of for a in answers} == {NOW}
    # Kept afterwards for the next asker, with the moment it was counted.
    later = await kept.get("q", count, NOW + timedelta(seconds=2))
    assert (later.value, later.as_of, count.runs) == (1, NOW, 1)


async def test_other_questions_are_counted_apart() -> None:
    kept: KeptFigures[int] = KeptFigures(5)
    count = Counter()
    a, b = await asyncio.gather(kept.get(("items", "yubei"), count, NOW), kept.get(("items", None), count, NOW))
    assert count.runs == 2
    assert a.value != b.value


async def test_an_answer_older_than_the_seconds_is_counted_again() -> None:
    kept: KeptFigures[int] = KeptFigures(0.05)
    count = Counter(delay=0)
    assert (await kept.get("q", count, NOW)).value == 1
    await asyncio.sleep(0.06)
    assert (await kept.get("q", count, NOW)).value == 2


async def test_zero_seconds_keeps_nothing_but_still_shares_a_running_count() -> None:
    kept: KeptFigures[int] = KeptFigures(0)
    count = Counter()
    await asyncio.gather(*(kept.get("q", count, NOW) for _ in range(5)))
    assert count.runs == 1
    await kept.get("q", count, NOW)
    assert count.runs == 2


async def test_a_live_asker_never_takes_a_kept_answer_or_an_earlier_count() -> None:
    kept: KeptFigures[int] = KeptFigures(60)
    count = Counter()
    await kept.get("q", count, NOW)
    live = await kept.get("q", count, NOW, live=True)
    assert (live.value, count.runs) == (2, 2)
    # A live request arriving while a count runs waits for it and counts again; live
    # askers that arrive together share that next count.
    first = asyncio.ensure_future(kept.get("q", count, NOW, live=True))
    await asyncio.sleep(0.01)
    together = await asyncio.gather(*(kept.get("q", count, NOW, live=True) for _ in range(5)))
    assert (await first).value == 3
    assert {t.value for t in together} == {4}
    assert count.runs == 4
    # The newest count is the one kept.
    assert (await kept.get("q", count, NOW)).value == 4


async def test_a_failed_count_is_not_kept_and_reaches_every_asker() -> None:
    kept: KeptFigures[int] = KeptFigures(60)
    count = Counter()
    count.fail = True
    results = await asyncio.gather(*(kept.get("q", count, NOW) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert count.runs == 1
    count.fail = False
    assert (await kept.get("q", count, NOW)).value == 2


async def test_an_asker_going_away_does_not_cancel_the_count_the_others_wait_for() -> None:
    kept: KeptFigures[int] = KeptFigures(60)
    count = Counter()
    leaving = asyncio.ensure_future(kept.get("q", count, NOW))
    staying = asyncio.ensure_future(kept.get("q", count, NOW))
    await asyncio.sleep(0.01)
    leaving.cancel()
    assert (await staying).value == 1
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_the_number_of_questions_kept_is_bounded_oldest_first() -> None:
    kept: KeptFigures[int] = KeptFigures(60, most=3)
    count = Counter(delay=0)
    for key in "abcd":
        await kept.get(key, count, NOW)
    assert kept.kept("a") is None
    assert [kept.kept(k).value for k in "bcd"] == [2, 3, 4]  # type: ignore[union-attr]


async def test_an_answer_near_its_end_serves_while_the_next_is_counted() -> None:
    kept: KeptFigures[int] = KeptFigures(0.2)
    count = Counter(delay=0.05)
    assert (await kept.get("q", count, NOW)).value == 1
    await asyncio.sleep(0.13)  # past 60% of its seconds
    served = await kept.get("q", count, NOW + timedelta(seconds=1))
    assert served.value == 1  # the kept answer, not the count it started
    await asyncio.sleep(0)
    assert count.runs == 2  # the next one is being counted
    await asyncio.sleep(0.08)
    fresh = await kept.get("q", count, NOW + timedelta(seconds=2))
    assert (fresh.value, fresh.as_of, count.runs) == (2, NOW + timedelta(seconds=1), 2)
