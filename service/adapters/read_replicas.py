"""Reading from streaming replicas: which database a read-only request reads from.

The requests that read and may trail the primary by a few seconds (the officials'
figures, reports and exports, the case and worker lists: the README's "Scaling out"
names them) ask ``Reads.sessions()`` for a session factory; everything else uses the
primary's. Each process measures every replica's lag once a ``check_seconds`` and
reads only from those within ``max_lag_seconds``, taking them in turn; with none fit,
it reads from the primary (``fallback="primary"``) or refuses (``"refuse"``, 503).

How far behind a replica is, in seconds, is measured against the primary's WAL, not
with ``now() - pg_last_xact_replay_timestamp()``: that grows without bound while the
primary is idle, though the replica then holds everything. Each check notes the
primary's ``pg_current_wal_lsn()`` and when it was seen (a *mark*, kept while it
moves), then reads the replica's ``pg_last_wal_replay_lsn()``: a replica that has
replayed the newest mark is 0 s behind, else it is behind by the age of the oldest mark
it has not replayed. The figure is therefore exact to one check interval, needs no
table, no writer and no clock shared between the servers, and counts a paused replay
(``pg_wal_replay_pause()``) as lag only once the primary has written something since.

A replica that refuses a connection, or whose connection breaks during a request, is
set aside at once (that request is answered 503 with ``Retry-After``, as any lost
connection is), and taken back at the first check that finds it fit again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.adapters import telemetry

log = logging.getLogger("banshi.reads")

Fitness = Literal["ok", "lagging", "unreachable", "not_standby", "unchecked"]
"""``ok``: read from it. ``lagging``: further behind than allowed. ``unreachable``: refused
or broke a connection, or did not answer a check in time. ``not_standby``: answers, but
is not replaying a primary's WAL (promoted, or a wrong URL). ``unchecked``: not measured yet."""

_PRIMARY_LSN = text("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")
_REPLICA_LSN = text("SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint")
_MARKS_KEPT = 4096
"""Primary positions remembered; one is added per check only when the primary wrote, so
at one check a second this is over an hour of continuous writing."""


class ReadsUnavailable(Exception):
    """No replica is fit to read from, and reads are configured not to fall back to the primary."""


@dataclass(slots=True)
class Replica:
    name: str
    """``host:port/database``, for logs and Prometheus labels (never the credentials)."""
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    probe: AsyncEngine
    """A pool of one connection for the checks alone, so that requests holding every
    connection of ``engine`` never make a busy replica look unreachable."""
    fitness: Fitness = "unchecked"
    lag_seconds: float | None = None
    """At the last check; ``inf`` when behind a position older than the checks."""
    replayed: int | None = None
    """The last WAL position the replica reported replayed."""


def replica_name(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


class Reads:
    """Where the requests that may read from a replica read from, in one process."""

    def __init__(
        self,
        primary_probe: AsyncEngine,
        primary_sessions: async_sessionmaker[AsyncSession],
        replicas: Sequence[Replica] = (),
        *,
        max_lag_seconds: float = 5.0,
        check_seconds: float = 1.0,
        fallback: str = "primary",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary_probe = primary_probe
        self.primary_sessions = primary_sessions
        self.replicas = list(replicas)
        self.max_lag_seconds = max_lag_seconds
        self.check_seconds = check_seconds
        self.refuse = fallback == "refuse"
        self._clock = clock
        self._turn = itertools.count()
        self._marks: deque[tuple[int, float]] = deque(maxlen=_MARKS_KEPT)
        for replica in self.replicas:
            _watch_connections(self, replica)

    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The session factory a read-only request reads through: a fit replica's, taken
        in turn, else the primary's; raises ``ReadsUnavailable`` when falling back is off."""
        if not self.replicas:
            return self.primary_sessions
        fit = [r for r in self.replicas if r.fitness == "ok"]
        if fit:
            return fit[next(self._turn) % len(fit)].sessions
        reason = self._why_none_fit()
        telemetry.read_fallback(reason, refused=self.refuse)
        if self.refuse:
            raise ReadsUnavailable(f"no read replica is fit to read from ({reason})")
        return self.primary_sessions

    def _why_none_fit(self) -> Fitness:
        states = {r.fitness for r in self.replicas}
        for reason in ("lagging", "unreachable", "not_standby"):
            if reason in states:
                return reason
        return "unchecked"

    async def check(self) -> None:
        """Measure every replica once (each with a time limit), then note what changed."""
        limit = max(self.check_seconds, 1.0)
        with contextlib.suppress(Exception):  # the primary gone: the marks already taken still hold
            async with asyncio.timeout(limit), self.primary_probe.connect() as connection:
                lsn = int((await connection.execute(_PRIMARY_LSN)).scalar_one())
            if not self._marks or lsn > self._marks[-1][0]:
                # When the first position seen was written is unknown: a replica that has
                # not replayed it may be any time behind, and is not read from until it has.
                self._marks.append((lsn, self._clock() if self._marks else -math.inf))
        await asyncio.gather(*(self._check_one(r, limit) for r in self.replicas))
        self._forget_replayed_marks()

    async def _check_one(self, replica: Replica, limit: float) -> None:
        try:
            async with asyncio.timeout(limit), replica.probe.connect() as connection:
                in_recovery, replayed = (await connection.execute(_REPLICA_LSN)).one()
        except Exception as error:
            # The requests' pooled connections died with it (the check's own pool noticed,
            # theirs may not have): drop them, so that none is lent once it is back. While
            # it stays away this pool is empty, and dropping it costs nothing.
            await replica.engine.dispose()
            self._set(replica, "unreachable", None, f"{type(error).__name__}: {error}")
            return
        if not in_recovery or replayed is None:
            self._set(replica, "not_standby", None, "it is not replaying a primary's WAL")
            return
        replica.replayed = int(replayed)
        lag = self._lag(int(replayed))
        self._set(replica, "ok" if lag <= self.max_lag_seconds else "lagging", lag, None)

    def _lag(self, replayed: int) -> float:
        for lsn, seen in self._marks:
            if lsn > replayed:
                return max(self._clock() - seen, 0.0)
        return 0.0

    def _forget_replayed_marks(self) -> None:
        """Marks every replica has replayed tell nothing more; the newest is always kept."""
        known = [r.replayed for r in self.replicas if r.replayed is not None]
        if not known:
            return
        slowest = min(known)
        while len(self._marks) > 1 and self._marks[1][0] <= slowest:
            self._marks.popleft()

    def lost(self, replica: Replica, why: str) -> None:
        """A request found the replica gone: read elsewhere until a check finds it again."""
        self._set(replica, "unreachable", None, why)

    def _set(self, replica: Replica, fitness: Fitness, lag: float | None, why: str | None) -> None:
        before = replica.fitness
        replica.fitness = fitness
        replica.lag_seconds = lag
        telemetry.read_replica(replica.name, fitness == "ok", lag)
        if before == fitness:
            return
        if fitness == "ok":
            log.info("read replica %s is read from again (%.1f s behind)", replica.name, lag or 0.0)
            return
        elsewhere = "refused" if self.refuse else "read from the primary"
        detail = why
        if lag is not None:
            behind = f"{lag:.1f} s" if math.isfinite(lag) else "since before this process started watching"
            detail = f"behind {behind}, more than {self.max_lag_seconds:g} s"
        log.warning("read replica %s is %s (%s); its reads are %s", replica.name, fitness, detail, elsewhere)

    async def keep_checking(self) -> None:
        """Check every ``check_seconds`` until cancelled."""
        while True:
            await asyncio.sleep(self.check_seconds)
            try:
                await self.check()
            except Exception:  # never let one failed pass end the checks
                log.exception("read replica check failed")

    async def dispose(self) -> None:
        await self.primary_probe.dispose()
        for replica in self.replicas:
            await replica.engine.dispose()
            await replica.probe.dispose()


_BROKEN = (OSError, asyncpg.PostgresConnectionError, asyncpg.ConnectionDoesNotExistError, asyncpg.InternalClientError)
"""What the driver raises when the connection itself is gone (as ``db.fetch_one`` sorts them;
an ``InterfaceError`` saying the connection is closed too, as SQLAlchemy's dialect reads it)."""


def _watch_connections(reads: Reads, replica: Replica) -> None:
    """Set the replica aside the moment a request's connection to it is refused or breaks,
    instead of at the next check. asyncpg hands a refused connect on as an ``OSError``,
    which SQLAlchemy's ``handle_error`` never sees, hence the ``do_connect`` hook."""
    sync_engine = replica.engine.sync_engine

    @event.listens_for(sync_engine, "do_connect")
    def connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as error:
            reads.lost(replica, f"connecting failed: {type(error).__name__}")
            raise

    @event.listens_for(sync_engine, "handle_error")
    def broken(context: ExceptionContext) -> None:
        if context.is_disconnect:
            reads.lost(replica, f"a connection broke: {type(context.original_exception).__name__}")

    @event.listens_for(sync_engine, "invalidate")
    def dropped(_dbapi_connection: Any, _record: Any, error: BaseException | None) -> None:
        # A statement run straight through the driver (the case list, ``db.fetch_all``)
        # is never seen by handle_error; it drops a connection that broke, with the error.
        closed = isinstance(error, asyncpg.InterfaceError) and "closed" in str(error)
        if isinstance(error, _BROKEN) or closed:
            reads.lost(replica, f"a connection broke: {type(error).__name__}")
