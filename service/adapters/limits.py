"""Counters for rate limits and lockouts, shared by every worker process.

A counter counts hits in a fixed window that starts with its first hit. With Redis
(``BANSHI_REDIS_URL``) every process of every host sees the same counts; without it
the counts live in this process only, which is right for one process on a laptop and
wrong behind a load balancer (the README says so, and compose sets the URL).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from redis.asyncio import Redis
from redis.exceptions import RedisError


class LimitsUnavailable(Exception):
    """The shared counter store does not answer; callers refuse rather than run unlimited."""


@dataclass(frozen=True, slots=True)
class Count:
    hits: int
    """Hits in the current window, this one included."""
    seconds_left: int
    """Until the window ends and the count starts again."""


@runtime_checkable
class Counters(Protocol):
    async def hit(self, key: str, window_seconds: int) -> Count:
        """Count one hit; the window starts with the key's first hit."""

    async def peek(self, key: str) -> Count:
        """The count as it stands, without a hit (0 when the window is over)."""

    async def extend(self, key: str, seconds: int) -> None:
        """Make the current window end ``seconds`` from now (a lockout starting now)."""

    async def clear(self, key: str) -> None: ...

    async def close(self) -> None: ...


class RedisCounters:
    def __init__(self, url: str, prefix: str = "banshi:") -> None:
        self._redis: Redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix

    async def hit(self, key: str, window_seconds: int) -> Count:
        name = self._prefix + key
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, window_seconds, nx=True)
                pipe.ttl(name)
                hits, _, ttl = await pipe.execute()
        except RedisError as exc:
            raise LimitsUnavailable(str(exc)) from exc
        return Count(int(hits), max(int(ttl), 1))

    async def peek(self, key: str) -> Count:
        name = self._prefix + key
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(name)
                pipe.ttl(name)
                raw, ttl = await pipe.execute()
        except RedisError as exc:
            raise LimitsUnavailable(str(exc)) from exc
        return Count(int(raw or 0), max(int(ttl), 0))

    async def extend(self, key: str, seconds: int) -> None:
        try:
            await self._redis.expire(self._prefix + key, seconds)
        except RedisError as exc:
            raise LimitsUnavailable(str(exc)) from exc

    async def clear(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except RedisError as exc:
            raise LimitsUnavailable(str(exc)) from exc

    async def close(self) -> None:
        await self._redis.aclose()


class LocalCounters:
    """The same counters in this process's memory."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}

    def _live(self, key: str) -> tuple[int, float] | None:
        entry = self._counts.get(key)
        if entry is not None and entry[1] <= time.monotonic():
            del self._counts[key]
            return None
        return entry

    async def hit(self, key: str, window_seconds: int) -> Count:
        entry = self._live(key)
        hits, ends = (entry[0] + 1, entry[1]) if entry else (1, time.monotonic() + window_seconds)
        self._counts[key] = (hits, ends)
        if len(self._counts) > 100_000:  # forget finished windows now and then
            for name in [k for k, (_, end) in self._counts.items() if end <= time.monotonic()]:
                del self._counts[name]
        return Count(hits, max(int(ends - time.monotonic() + 0.999), 1))

    async def peek(self, key: str) -> Count:
        entry = self._live(key)
        if entry is None:
            return Count(0, 0)
        return Count(entry[0], max(int(entry[1] - time.monotonic() + 0.999), 0))

    async def extend(self, key: str, seconds: int) -> None:
        entry = self._live(key)
        if entry is not None:
            self._counts[key] = (entry[0], time.monotonic() + seconds)

    async def clear(self, key: str) -> None:
        self._counts.pop(key, None)

    async def close(self) -> None:
        self._counts.clear()


def counters_for(redis_url: str | None, prefix: str = "banshi:") -> Counters:
    return RedisCounters(redis_url, prefix) if redis_url else LocalCounters()
