"""Prometheus metrics for operations (not the officials' programme figures, which are
``/api/v1/metrics``): requests by route and status, their latency, the connection pool,
and how many cases are open and overdue.

With several uvicorn workers the counts live in files under ``PROMETHEUS_MULTIPROC_DIR``
(``banshi serve`` sets it), so that a scrape answered by any worker adds up all of them;
with one process they live in memory.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from sqlalchemy.ext.asyncio import AsyncEngine

CONTENT_TYPE = "text/plain; version=0.0.4"
"""Litestar adds ``; charset=utf-8`` to every text type."""
UNMATCHED = "(unmatched)"
"""The route label of requests no route answered, so that odd paths cannot grow the label set."""

REQUESTS = Counter("banshi_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "banshi_http_request_duration_seconds",
    "Time to the start of the response",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
POOL = Gauge(
    "banshi_db_pool_connections",
    "Database connections of the worker processes: in use, idle in the pool, and the pool's size",
    ["state"],
    multiprocess_mode="livesum",
)
CASES = Gauge(
    "banshi_cases",
    "Cases by state: open (not finished), overdue (the clock runs and the due time has come) and "
    "past_due (not finished and out of time, paused ones included: the officials' overdue figure)",
    ["state"],
    multiprocess_mode="mostrecent",
)


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"
"""The method label of any other method: a client may send any word as its method, and
each would otherwise be a new label set (and, with several workers, files that grow)."""

_KEEP = 2000
_counters: dict[tuple[str, str, int], Any] = {}
_timers: dict[tuple[str, str], Any] = {}


def observe(method: str, route: str | None, status: int, started: float | None) -> None:
    label = route or UNMATCHED
    if method not in METHODS:
        method = OTHER_METHOD
    # The labelled children are kept: looking them up validates and locks each time.
    counter = _counters.get((method, label, status))
    if counter is None:
        counter = REQUESTS.labels(method, label, str(status))
        if len(_counters) < _KEEP:
            _counters[(method, label, status)] = counter
    counter.inc()
    if started is not None:
        timer = _timers.get((method, label))
        if timer is None:
            timer = LATENCY.labels(method, label)
            if len(_timers) < _KEEP:
                _timers[(method, label)] = timer
        timer.observe(time.perf_counter() - started)


_pool_seen = 0.0


def observe_pool(engine: AsyncEngine, *, at_most_every: float = 0.0) -> None:
    """Write the pool gauges; a response writes them at most once a second (a scrape
    always does)."""
    global _pool_seen
    now = time.monotonic()
    if at_most_every and now - _pool_seen < at_most_every:
        return
    _pool_seen = now
    pool = engine.sync_engine.pool
    in_use = getattr(pool, "checkedout", lambda: 0)()
    size = getattr(pool, "size", lambda: 0)()
    idle = getattr(pool, "checkedin", lambda: 0)()
    POOL.labels("in_use").set(in_use)
    POOL.labels("idle").set(idle)
    POOL.labels("size").set(size)


def exposition(engine: AsyncEngine, cases: Mapping[str, int]) -> bytes:
    """The metrics text, with the case counts by state just read."""
    for state, count in cases.items():
        CASES.labels(state).set(count)
    observe_pool(engine)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)


def process_exited(pid: int) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


LOGGED_TOGETHER = Histogram(
    "banshi_cases_logged_together",
    "New cases numbered and written by one transaction of a process's logbook (1: a case alone; more: "
    "cases that waited while another transaction held the day's number)",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
READ_FALLBACKS = Counter(
    "banshi_read_fallbacks_total",
    "Requests that could read from a replica but found none fit, by the reason (lagging, unreachable, "
    "not_standby, unchecked) and what was done (primary: read from the primary; refused: answered 503)",
    ["reason", "outcome"],
)
READ_REPLICA_LAG = Gauge(
    "banshi_read_replica_lag_seconds",
    "How far each read replica is behind the primary, as last measured (NaN while it cannot be: "
    "unreachable or not a standby)",
    ["replica"],
    multiprocess_mode="livemax",
)
READ_REPLICA_FIT = Gauge(
    "banshi_read_replica_fit",
    "1 while a read replica is read from, 0 while it is set aside (lagging, unreachable, not a standby)",
    ["replica"],
    multiprocess_mode="livemin",
)


def read_fallback(reason: str, *, refused: bool) -> None:
    READ_FALLBACKS.labels(reason, "refused" if refused else "primary").inc()


def read_replica(name: str, fit: bool, lag_seconds: float | None) -> None:
    READ_REPLICA_FIT.labels(name).set(1 if fit else 0)
    READ_REPLICA_LAG.labels(name).set(math.nan if lag_seconds is None else lag_seconds)
