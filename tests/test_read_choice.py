"""Which server a read goes to, given each replica's state: several fit replicas are read
from in turn, a set-aside one is skipped, and with none fit the primary reads or the
request is refused. Nothing connects here (tests/test_read_replicas.py has the real ones)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from service.adapters.read_replicas import Reads, ReadsUnavailable, Replica, replica_name
from service.db import make_session_factory


def _engine(port: int) -> AsyncEngine:
    return create_async_engine(f"postgresql+asyncpg://banshi:secret@127.0.0.1:{port}/banshi")


def _replica(port: int) -> Replica:
    engine = _engine(port)
    return Replica(replica_name(str(engine.url)), engine, make_session_factory(engine), _engine(port))


def _reads(*replicas: Replica, fallback: str = "primary") -> Reads:
    primary = _engine(5432)
    return Reads(primary, make_session_factory(primary), replicas, fallback=fallback)


def test_fit_replicas_are_read_from_in_turn_and_a_set_aside_one_is_skipped() -> None:
    first, second = _replica(6001), _replica(6002)
    reads = _reads(first, second)
    first.fitness = second.fitness = "ok"
    chosen = [reads.sessions() for _ in range(4)]
    assert chosen == [first.sessions, second.sessions, first.sessions, second.sessions]
    reads.lost(first, "a connection broke")
    assert reads.replicas[0].fitness == "unreachable"
    assert {reads.sessions() for _ in range(3)} == {second.sessions}


def test_with_none_fit_the_primary_reads_unless_refused() -> None:
    lagging, unchecked = _replica(6001), _replica(6002)
    lagging.fitness = "lagging"
    reads = _reads(lagging, unchecked)
    assert reads.sessions() is reads.primary_sessions
    refusing = _reads(lagging, unchecked, fallback="refuse")
    with pytest.raises(ReadsUnavailable, match="lagging"):
        refusing.sessions()


def test_without_replicas_every_read_is_the_primarys() -> None:
    reads = _reads()
    assert reads.sessions() is reads.primary_sessions


def test_a_replica_is_named_without_its_credentials() -> None:
    assert replica_name("postgresql://banshi:secret@db-replica:6432/banshi") == "db-replica:6432/banshi"
