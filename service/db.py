"""Engine and sessions. Made at start-up by the app factory; nothing connects at import."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

import asyncpg
from sqlalchemy import ClauseElement, Column, String, Table
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import configure_mappers
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn  # runs the pool's own code, which may await the driver

from service.config import async_url, get_settings

_ASYNCPG = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


def make_engine(
    url: str, pool_size: int = 10, pool_timeout: float = 10, *, overflow: int | None = None, pooler: str | None = None
) -> AsyncEngine:
    """``pool_timeout``: how long a request waits for a free connection before it is
    answered 503 (``api/problems.py``), so that an exhausted pool never hangs a caller.

    No ping before each use of a pooled connection: with asyncpg it costs three round
    trips (BEGIN, a query, ROLLBACK), as much as a case read itself. A connection that
    died while idle (the database restarted) fails its first statement instead: that
    request is answered 503 with ``Retry-After`` and nothing written, and SQLAlchemy
    then discards every connection the pool held before the failure, so the next
    requests connect afresh. Connections are also replaced after half an hour, before
    a firewall or ``idle_session_timeout`` drops them quietly.

    ``overflow``: connections opened beyond ``pool_size`` when all are busy, and closed
    again as soon as they are returned (default: as many as ``pool_size``). The API
    passes 0: under sustained load, overflow connections were opened and closed for
    every other request, and a connection costs far more than a query.

    ``pooler``: what stands between the service and PostgreSQL (``driver_options``); the
    app and the worker pass their settings', the one-off commands leave it to the
    environment's (``BANSHI_DB_POOLER``)."""
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size if overflow is None else overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=False,
        pool_recycle=1800,
        # Times that PostgreSQL writes as text (the case read's timeline is built as
        # JSON) come out in UTC, like every other time the API returns, whatever time
        # zone the server or database is configured with.
        connect_args={
            "server_settings": {"timezone": "UTC"},
            **driver_options(get_settings().db_pooler if pooler is None else pooler),
        },
    )


def driver_options(pooler: str) -> dict[str, Any]:
    """The asyncpg options for what stands between the service and PostgreSQL.

    Straight to PostgreSQL (``none``), asyncpg prepares each statement once per connection
    under a name and SQLAlchemy keeps them: a read sends only Bind and Execute.

    PgBouncer in transaction pool mode (``pgbouncer``) hands the client a different server
    connection from one transaction to the next, where a statement prepared on the last one
    does not exist ("prepared statement ... does not exist"), or where another client's of
    the same name does ("already exists"). Both caches are therefore off: asyncpg then
    uses the unnamed statement, parsed and described first (a round trip more than a
    cached statement) and parsed again in the same round trip as the Bind that uses it,
    so no server connection keeps anything past the transaction. (PgBouncer 1.21 and later
    can carry named statements across with ``max_prepared_statements``; with this setting
    the service does not need it, and works with older ones.) The time zone given at
    connect is one of the parameters PgBouncer keeps per client and sets on every server
    connection it lends, so it still holds."""
    if pooler == "pgbouncer":
        return {"statement_cache_size": 0, "prepared_statement_cache_size": 0}
    return {}


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that never begin a transaction by themselves (``autobegin=False``): every
    use case opens its transaction where it starts, ``async with session.begin():``, and
    the block ends it, so no order of calls can leave one open; a query outside such a
    block is an error at once, not a connection held until the request ends."""
    configure_mappers()  # before the first request, which may build a row without a query
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, autobegin=False)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement compiled once to PostgreSQL's text, with its parameters' names in order."""

    sql: str
    names: tuple[str, ...]


def prepared(statement: ClauseElement) -> Prepared:
    done = statement.compile(dialect=_ASYNCPG)
    return Prepared(str(done), tuple(getattr(done, "positiontup", None) or ()))


_PARAMETER = re.compile(r"\$([0-9]+)")


def one_statement(parts: Sequence[tuple[str, Prepared]], result: str) -> Prepared:
    """Several writes sent as one statement, so that they cost one round trip: each part
    (an INSERT, UPDATE or DELETE with no WITH of its own) becomes a CTE under its name,
    and ``result`` is the SELECT the statement answers with (it may read the parts'
    RETURNING). PostgreSQL runs every data-modifying CTE once, to completion, read or not.
    A part's parameters are renamed ``name.parameter`` (``named`` fills them in)."""
    ctes: list[str] = []
    names: list[str] = []
    for name, part in parts:
        ctes.append(f"{name} AS ({_PARAMETER.sub(partial(_shifted, len(names)), part.sql)})")
        names += [f"{name}.{parameter}" for parameter in part.names]
    return Prepared(f"WITH {', '.join(ctes)} {result}", tuple(names))


def parameter_type(column: Column[Any]) -> str:
    """The type a statement casts ``column``'s parameter to: the column's own, but a string
    column's without its length. An explicit cast to ``VARCHAR(n)`` cuts a longer value
    short without a word (and an audit row so cut would no longer match its hash), where
    assigning plain text to the column refuses it."""
    kind = column.type
    if isinstance(getattr(kind, "impl", kind), String):  # SQLModel's strings wrap a String
        kind = String()
    return str(kind.compile(dialect=_ASYNCPG))


def array_parameters(columns: Any, names: Sequence[str], first: int = 1) -> str:
    """``$first::type[], ...``: one array parameter for each of ``names``, a column of
    ``columns`` (a table's ``c``), cast to that column's ``parameter_type``; for ``unnest``."""
    return ", ".join(f"${first + i}::{parameter_type(columns[name])}[]" for i, name in enumerate(names))


def rows_inserted(table: Table, columns: Sequence[str], suffix: str = "") -> Prepared:
    """An INSERT of any number of rows in one statement: one array parameter per column,
    named after it, unnested side by side (fill them with ``columns_of``); ``suffix`` is
    what follows (ON CONFLICT, RETURNING)."""
    arrays = array_parameters(table.c, columns)
    sql = f"INSERT INTO {_ASYNCPG.identifier_preparer.format_table(table)} ({', '.join(columns)}) "
    sql += f"SELECT * FROM unnest({arrays})"
    return Prepared(f"{sql} {suffix}" if suffix else sql, tuple(columns))


def columns_of(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> dict[str, list[Any]]:
    """``rows`` as the array parameters of ``rows_inserted``."""
    return {name: [row[name] for row in rows] for name in columns}


def _shifted(by: int, parameter: re.Match[str]) -> str:
    return f"${int(parameter[1]) + by}"


def named(part: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` of a part of ``one_statement`` under their names there."""
    return {f"{part}.{name}": value for name, value in values.items()}


def bound_engine(session: AsyncSession) -> Engine:
    """The engine a session of ``make_session_factory`` is bound to, read from its sync
    session: ``AsyncSession.bind`` builds a translation map on each session's first use,
    a cost on the hottest read."""
    bind = session.sync_session.bind
    assert isinstance(bind, Engine)  # the factory binds sessions to the engine
    return bind


def factory_engine(sessions: async_sessionmaker[AsyncSession]) -> Engine:
    """The engine the sessions of ``make_session_factory`` are bound to, without making a
    session: for a read that only borrows a pooled connection (``single_statement``), an
    ``AsyncSession`` built and dropped cost more than its query's Python side."""
    bind = sessions.kw["bind"]
    assert isinstance(bind, AsyncEngine)  # make_session_factory binds it
    return bind.sync_engine


class Lent:
    """A pooled connection lent for one statement (``single_statement``)."""

    __slots__ = ("_fairy",)

    def __init__(self, fairy: PoolProxiedConnection) -> None:
        self._fairy = fairy

    @property
    def driver(self) -> asyncpg.Connection:
        return cast(asyncpg.Connection, self._fairy.driver_connection)

    async def invalidate(self, error: Exception | None) -> None:
        """Close it and keep it out of the pool."""
        await greenlet_spawn(self._fairy.invalidate, error)


@asynccontextmanager
async def single_statement(sync: Engine) -> AsyncIterator[Lent]:
    """A pooled connection for a read that is one statement, run with ``fetch_one``
    outside any transaction (it sees one snapshot either way, and BEGIN and ROLLBACK
    are two round trips saved). No ORM session, and no SQLAlchemy ``Connection`` either:
    the connection comes straight from the engine's pool (same size, same wait and 503
    when it is exhausted, same recycling), and goes back to it. For the most frequent
    read, the objects around a pooled connection cost more than the query. ``sync`` is
    the engine whose pool lends it (``bound_engine`` of a session, ``factory_engine`` of
    a session factory)."""
    dbapi_error = sync.dialect.loaded_dbapi.Error
    try:
        fairy = await greenlet_spawn(sync.raw_connection)
    except dbapi_error as error:  # refused, or the database starting up: as SQLAlchemy hands them on
        lost = sync.dialect.is_disconnect(error, None, None)
        raise DBAPIError.instance(None, None, error, dbapi_error, connection_invalidated=lost) from error
    try:
        yield Lent(fairy)
    finally:
        # Checking in runs no statement (nothing was begun), so it cannot be cut short.
        await greenlet_spawn(fairy.close)


async def fetch_one(lent: Lent, statement: Prepared, values: dict[str, Any]) -> asyncpg.Record | None:
    """Run a statement compiled once (``prepared``) straight through asyncpg: going
    through SQLAlchemy's execution cost a tenth of a case read. Values go to asyncpg as
    they are (``uuid.UUID``, ``datetime``, ``str``).

    Errors are handed on as SQLAlchemy's, so that ``api/problems.py`` sorts them as it
    does every other (a lost connection or a restarting database: 503, a bad statement:
    500), and the connection is dropped from the pool instead of being lent again.
    Unlike SQLAlchemy, this drops only that connection, not every connection the pool
    held: after a database restart each dead pooled connection fails one read."""
    row: asyncpg.Record | None = await _on_driver(lent, statement, values, many=False)
    return row


async def fetch_all(lent: Lent, statement: Prepared, values: dict[str, Any]) -> list[asyncpg.Record]:
    """``fetch_one`` for a statement whose every row is wanted (a page of a list)."""
    rows: list[asyncpg.Record] = await _on_driver(lent, statement, values, many=True)
    return rows


async def _on_driver(lent: Lent, statement: Prepared, values: dict[str, Any], *, many: bool) -> Any:
    driver = lent.driver
    arguments = [values[name] for name in statement.names]
    try:
        if many:
            return await driver.fetch(statement.sql, *arguments)
        return await driver.fetchrow(statement.sql, *arguments)
    except BaseException as error:
        # Whatever went wrong (the database gone, the task cancelled mid-query), the
        # connection may be half-way through a conversation: it is never lent again.
        await lent.invalidate(error if isinstance(error, Exception) else None)
        if not isinstance(error, Exception):
            raise
        lost = driver.is_closed() or isinstance(error, _LOST)
        raise DBAPIError(statement.sql, None, error, connection_invalidated=lost) from error


_LOST = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InternalClientError,
)
"""Driver errors that mean the connection, not the statement, failed."""


class InTransaction:
    """The driver's connection of a session's open transaction (``in_transaction``):
    statements compiled once (``prepared``) run straight through asyncpg, in the same
    transaction as whatever the session ran or runs, without SQLAlchemy's per-statement
    work (building the cache key, the result objects, the greenlet bridge), which cost
    the hot writes more than their statements. Errors come out as SQLAlchemy's, as
    ``fetch_one``'s do; the session's transaction block then rolls back as usual."""

    __slots__ = ("_adapted", "_connection", "_fairy")

    def __init__(self, adapted: Any, connection: AsyncConnection, fairy: PoolProxiedConnection) -> None:
        self._adapted = adapted
        self._connection = connection
        self._fairy = fairy

    async def fetch_one(self, statement: Prepared, values: dict[str, Any]) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self._run(statement, values, "fetchrow")
        return row

    async def fetch_all(self, statement: Prepared, values: dict[str, Any]) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._run(statement, values, "fetch")
        return rows

    async def execute(self, statement: Prepared, values: dict[str, Any]) -> None:
        await self._run(statement, values, "execute")

    async def _run(self, statement: Prepared, values: dict[str, Any], how: str) -> Any:
        driver: asyncpg.Connection = self._adapted._connection
        arguments = [values[name] for name in statement.names]
        return await self._guarded(statement.sql, getattr(driver, how)(statement.sql, *arguments))

    async def _begin(self) -> None:
        """Begin the transaction on the server, as SQLAlchemy's adapter would with the first statement."""
        await self._guarded("BEGIN", self._adapted._start_transaction())

    async def _guarded(self, sql: str, work: Awaitable[Any]) -> Any:
        try:
            return await work
        except Exception as error:
            raise await _failed(self._adapted, self._connection, self._fairy, sql, error) from error
        except BaseException:
            # Cancelled mid-statement: the connection may be half-way through a conversation,
            # so it is never lent again (as ``fetch_one`` does).
            await self._connection.invalidate()
            raise


async def _failed(
    adapted: Any, connection: AsyncConnection, fairy: PoolProxiedConnection, sql: str, error: Exception
) -> Exception:
    """The SQLAlchemy error SQLAlchemy itself would raise for this driver error
    (``IntegrityError`` for a constraint, ``DBAPIError`` with ``connection_invalidated``
    when the connection is gone), after doing what SQLAlchemy does when a connection is
    lost: this connection is closed and never lent again, and every connection the pool
    lent before now is replaced at its next checkout (they met the same restart)."""
    dialect = connection.dialect
    try:
        adapted._handle_exception(error)  # raises the DBAPI-level error asyncpg's maps to
    except Exception as dbapi_error:
        driver_error = error.__cause__ if isinstance(error, dialect.loaded_dbapi.Error) else error
        lost = dialect.is_disconnect(cast(Any, dbapi_error), None, None) or isinstance(driver_error, _LOST)
        if lost:
            connection.sync_engine.pool._invalidate(fairy, dbapi_error, _checkin=False)
            await connection.invalidate(dbapi_error)
        return DBAPIError.instance(sql, None, dbapi_error, dialect.loaded_dbapi.Error, connection_invalidated=lost)
    return error  # pragma: no cover - _handle_exception always raises


async def in_transaction(session: AsyncSession) -> InTransaction:
    """The driver's connection of the transaction the session has begun (``async with
    session.begin():``), begun on the server now if no statement has run in it yet
    (SQLAlchemy sends BEGIN with its first statement). Only for statements: the ORM's
    objects know nothing of what runs here, so nothing written this way may also be
    left for the session to flush."""
    kept = for_this_transaction(session)
    found = kept.get(_HELD)
    if found is not None:
        return found  # type: ignore[no-any-return]
    connection = await session.connection()
    fairy = await connection.get_raw_connection()
    # SQLAlchemy's asyncpg adapter, which begins its transaction with the first statement.
    adapted: Any = fairy.dbapi_connection
    found = InTransaction(adapted, connection, fairy)
    if adapted._transaction is None:
        await found._begin()
    kept[_HELD] = found
    return found


_HELD = "in_transaction"


def for_this_transaction(session: AsyncSession) -> dict[str, Any]:
    """Values a use case keeps for the transaction the session has begun, and for no
    later one: a new transaction finds the dictionary empty (the driver connection of
    ``in_transaction``, the audit chain ``services/audit.hold_chain`` took)."""
    transaction = session.sync_session.get_transaction()
    assert transaction is not None, "begin the use case's transaction first"
    kept = session.info.get(_KEPT)
    if kept is None or kept[0] is not transaction:
        kept = session.info[_KEPT] = (transaction, {})
    values: dict[str, Any] = kept[1]
    return values


_KEPT = "banshi.this_transaction"


def jsonb_text(value: Any) -> str:
    """A JSON value as the text a ``jsonb`` parameter of a statement run on the driver takes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
