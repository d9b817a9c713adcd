"""Officials' figures kept for a few seconds in each process, one count for many askers.

A dashboard is read by many officials at once, and the 20-item table of a year costs the
database tens of milliseconds whatever the cache of pages holds. So each process keeps
an answer for ``seconds`` (``BANSHI_METRICS_KEEP_SECONDS``) under the exact question it
answers: the endpoint, the period and filters *after* the caller's own limits were
applied (a district official's district, a liaison's department), and the local day the
question was asked on (a period left out means this year). Two callers share an answer
only when they asked the same question of the same cases; a district official can never
be handed a city-wide answer or another district's, since those are other keys.

While an answer is being counted, every other asker of the same question waits for that
count instead of starting its own (one statement set for 32 concurrent requests). Once an
answer has lived 60% of its seconds, the next asker still gets it but also starts the next
count in the background, so under steady load no request waits for a count and no answer
served is older than the seconds (as long as a count takes less than the other 40%). A
*live* asker (``fresh=true``) never takes a kept answer, and joins a count only if it
started after the live request arrived; otherwise it waits for that count to end and
starts the next, so live requests never run more than one count per question at a time
in a process either.

Each process keeps its own answers (there are few: one per question asked in the last
few seconds), so with N processes a question is counted at most N times in ``seconds``.
Sharing them through Redis would save those N-1 counts at the price of a network round
trip and a serialised answer on every read; the processes' own memory is the cheaper
choice at this size.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


REFRESH_AT = 0.6
"""Share of the seconds after which an asker served a kept answer also starts the next
count, so that under steady load nobody waits for one as the kept answer runs out."""


@dataclass(frozen=True, slots=True)
class Counted(Generic[T]):
    value: T
    as_of: datetime
    """The moment the figures describe: the "now" they were counted at."""
    started: float
    """When the count started, on this process's monotonic clock."""


@dataclass(slots=True)
class _Flight(Generic[T]):
    task: asyncio.Future[Counted[T]]
    started: float


class KeptFigures(Generic[T]):
    """Answers by question, each kept ``seconds`` after its count started (0 keeps none, but
    concurrent askers still share one count)."""

    def __init__(self, seconds: float, most: int = 512) -> None:
        self.seconds = seconds
        self.most = most
        self._kept: dict[Hashable, Counted[T]] = {}
        self._flights: dict[Hashable, _Flight[T]] = {}

    def kept(self, key: Hashable) -> Counted[T] | None:
        """The answer kept for this question, if it is still young enough."""
        found = self._kept.get(key)
        if found is None or time.monotonic() - found.started >= self.seconds:
            return None
        return found

    async def get(
        self, key: Hashable, count: Callable[[datetime], Awaitable[T]], now: datetime, *, live: bool = False
    ) -> Counted[T]:
        """The answer to ``key``: kept, or being counted, or counted now by ``count(now)``."""
        asked = time.monotonic()
        if not live:
            found = self.kept(key)
            if found is not None:
                if asked - found.started >= self.seconds * REFRESH_AT and key not in self._flights:
                    self._start(key, count, now)  # the next answer, counted while this one serves
                return found
        while True:
            flight = self._flights.get(key)
            if flight is None:
                flight = self._start(key, count, now)
            elif live and flight.started < asked:
                # It may have read before a change the live asker wants to see.
                await asyncio.wait([flight.task])
                continue
            # Shielded: a caller that goes away does not cancel the count the others wait for.
            return await asyncio.shield(flight.task)

    def _start(self, key: Hashable, count: Callable[[datetime], Awaitable[T]], now: datetime) -> _Flight[T]:
        started = time.monotonic()

        async def run() -> Counted[T]:
            return Counted(await count(now), now, started)

        flight = _Flight(asyncio.ensure_future(run()), started)
        self._flights[key] = flight

        def landed(task: asyncio.Future[Counted[T]]) -> None:
            if self._flights.get(key) is flight:
                del self._flights[key]
            if task.cancelled() or task.exception() is not None:
                return  # nothing kept; the askers saw the error (retrieved here so it is never "unretrieved")
            result = task.result()
            current = self._kept.get(key)
            if self.seconds > 0 and (current is None or current.started <= result.started):
                self._kept.pop(key, None)
                self._kept[key] = result  # the newest last, so the oldest go first
                while len(self._kept) > self.most:
                    del self._kept[next(iter(self._kept))]

        flight.task.add_done_callback(landed)
        return flight
