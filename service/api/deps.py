"""Request-scoped dependencies: the database session, the signed-in caller, paging."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.base import CODE
from service.adapters.limits import Counters
from service.adapters.read_replicas import Reads
from service.adapters.storage import AttachmentStore
from service.api.access import client_address
from service.config import Settings
from service.domain.access import Principal
from service.errors import Unauthenticated
from service.security.kit import SecurityKit
from service.services.context import Context


def provide_session(request: Request[Any, Any, Any]) -> AsyncSession:
    """The request's session. It begins no transaction by itself and holds a connection
    only inside a use case's ``async with session.begin():`` block, which ends the
    transaction and returns the connection however the block is left, so the session
    needs no closing when the request ends (a generator dependency that closed it cost
    more than a tenth of a case read). ``request.app.state``, not a ``state`` parameter:
    Litestar copies the state for each dependency that names it."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    return factory()


def provide_sessions(state: State) -> async_sessionmaker[AsyncSession]:
    """For a use case that reads on several connections at once (each its own session)."""
    factory: async_sessionmaker[AsyncSession] = state.session_factory
    return factory


def sessions_of(request: Request[Any, Any, Any]) -> async_sessionmaker[AsyncSession]:
    """What ``sessions`` provides, for a handler that resolves no dependencies (``context_of``)."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    return factory


def provide_read_sessions(request: Request[Any, Any, Any]) -> async_sessionmaker[AsyncSession]:
    """Sessions for a request that only reads and may trail the primary by up to
    ``BANSHI_READ_MAX_LAG_SECONDS``: a fit read replica's, else the primary's (or 503,
    ``BANSHI_READ_FALLBACK=refuse``). Chosen once per request, so that every session the
    request opens reads from the same server. A handler that also writes (an audit
    record) writes through ``db``; one that must see its caller's own last write (a case
    read after a move, the caller's own account) takes ``db`` only."""
    reads: Reads = request.app.state.reads
    return reads.sessions()


def provide_read_session(read_sessions: NamedDependency[async_sessionmaker[AsyncSession]]) -> AsyncSession:
    """One session of ``read_sessions``: for a use case that reads on one connection."""
    return read_sessions()


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_caller(request: Request[Any, Any, Any]) -> Principal:
    caller = request.user
    if not isinstance(caller, Principal):  # the bearer middleware guarantees it
        raise Unauthenticated("sign in first")
    return caller


def provide_kit(state: State) -> SecurityKit:
    kit: SecurityKit = state.kit
    return kit


def provide_context(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Context:
    """What a use case is told about its request. It is resolved after the session
    (``db``, which it does not use) on purpose: Litestar resolves dependencies that do
    not depend on each other concurrently, in a task group, and for the two that nearly
    every handler takes that cost 55 us a request (a tenth of a case read) against 2 us
    one after the other (measured in-process with Litestar 2.25). A session that no
    query uses never takes a connection."""
    del db
    return context_of(request)


def context_of(request: Request[Any, Any, Any]) -> Context:
    """The request's ``Context``: what ``ctx`` provides, for a handler that resolves no
    dependencies and takes its sessions (``sessions_of``) and context from the request
    itself. Only the case read does: the most frequent request, where Litestar's resolution
    of ``db`` and ``ctx`` (each provider's arguments checked by a signature model) was 90
    thousand of its 1.42 million instructions (``bench/read_instructions.py``)."""
    state = request.app.state
    return Context(caller=provide_caller(request), now=state.clock(), kit=state.kit)


def provide_counters(state: State) -> Counters:
    counters: Counters = state.counters
    return counters


def provide_store(state: State) -> AttachmentStore:
    store: AttachmentStore = state.store
    return store


def provide_client_addr(request: Request[Any, Any, Any]) -> str:
    return client_address(request)


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    offset: int


MAX_PAGE_SIZE = 200


def provide_paging(
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=MAX_PAGE_SIZE, description="Page size.")] = 50,
    offset: Annotated[int, QueryParameter(name="offset", ge=0, le=10_000_000)] = 0,
) -> Paging:
    return Paging(limit=limit, offset=offset)


# Handlers name their dependencies explicitly (Litestar 3 drops inferred ones).
Db = NamedDependency[AsyncSession]
Sessions = NamedDependency[async_sessionmaker[AsyncSession]]
ReadDb = NamedDependency[AsyncSession]
"""The parameter ``reads``: a session that may read from a replica (``provide_read_session``)."""
ReadSessions = NamedDependency[async_sessionmaker[AsyncSession]]
"""The parameter ``read_sessions``: sessions that may read from a replica, several at once."""
Caller = NamedDependency[Principal]
Ctx = NamedDependency[Context]
Kit = NamedDependency[SecurityKit]
ClientAddr = NamedDependency[str]
Now = NamedDependency[datetime]
Page = NamedDependency[Paging]
Config = NamedDependency[Settings]
Limits = NamedDependency[Counters]
Store = NamedDependency[AttachmentStore]
CodeFilter = Annotated[str | None, QueryParameter(min_length=1, max_length=32, pattern=CODE)]
"""A query filter by district or department code."""
