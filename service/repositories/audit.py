"""Writing and reading the audit trail. A writer takes a chain (``take_chain``), which
holds the chain's end locked until the commit, so that positions in a chain follow
commit order; callers append as the last step of their transaction to hold it briefly."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.db import Prepared, columns_of, in_transaction, jsonb_text, named, one_statement, rows_inserted
from service.domain.audit_chain import LEGACY_CHAIN, Head
from service.domain.filters import AuditFilter
from service.models import AuditChain, AuditEvent
from service.repositories.filters import between, equal_to, page


@dataclass(frozen=True, slots=True)
class Taken:
    """A chain held by this transaction: its id, its end, and the numbers in the trail of
    the rows to be appended to it (rising, so that along each chain the numbers rise)."""

    chain: int
    last_seq: int
    last_hash: bytes
    seqs: tuple[int, ...]


# A chain no other transaction holds, picked at random so that writers spread over the
# chains; SKIP LOCKED passes over the held ones without waiting. The trail numbers are
# taken once the chain is held, so along each chain the numbers rise.
_NUMBERS = "ARRAY(SELECT nextval('audit_event_seq_seq') FROM generate_series(1, $2) ORDER BY 1) AS seqs"
_TAKE_FREE = Prepared(
    "WITH free AS (SELECT id, last_seq, last_hash FROM audit_chain WHERE id <> $1 "
    f"ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED) SELECT id, last_seq, last_hash, {_NUMBERS} FROM free",
    ("legacy", "count"),
)
_TAKE_ONE = Prepared(
    "WITH held AS (SELECT id, last_seq, last_hash FROM audit_chain WHERE id = $1 FOR UPDATE) "
    f"SELECT id, last_seq, last_hash, {_NUMBERS} FROM held",
    ("chain", "count"),
)
_CHAINS = Prepared("SELECT id FROM audit_chain WHERE id <> $1", ("legacy",))


async def take_chain(session: AsyncSession, count: int = 1) -> Taken:
    """Hold a chain until this transaction ends, with the trail numbers of ``count`` rows:
    a free chain at once, or, when every chain is held, wait for one of them. Both
    statements run straight on the transaction's driver connection (``db.in_transaction``):
    every write appends, so every write pays for these two."""
    held = await in_transaction(session)
    row = await held.fetch_one(_TAKE_FREE, {"legacy": LEGACY_CHAIN, "count": count})
    if row is None:
        ids = [r[0] for r in await held.fetch_all(_CHAINS, {"legacy": LEGACY_CHAIN})]
        if not ids:
            raise RuntimeError("the audit trail has no chain to write to (migration 0012 makes them)")
        chain = random.choice(ids)  # noqa: S311 - spreading, not a secret
        row = await held.fetch_one(_TAKE_ONE, {"chain": chain, "count": count})
        assert row is not None  # the chain exists: it was just listed, and chains are never removed
    return Taken(chain=int(row[0]), last_seq=int(row[1]), last_hash=bytes(row[2]), seqs=tuple(row[3]))


# The chain's new end and the rows, as parts of one statement (``db.one_statement``):
# alone (``append``) or with other writes of a use case that saves a round trip by it.
_CHAIN_MOVED = Prepared(
    "UPDATE audit_chain SET last_seq = $1, last_hash = $2 WHERE id = $3", ("chain_seq", "hash", "chain")
)
_ROW_COLUMNS = (
    "seq",
    "chain",
    "chain_seq",
    "at",
    "actor_account_id",
    "actor_username",
    "actor_role",
    "client_addr",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "details",
    "prev_hash",
    "hash",
)
APPENDED: tuple[tuple[str, Prepared], ...] = (
    ("chain_moved", _CHAIN_MOVED),
    ("appended", rows_inserted(AuditEvent.__table__, _ROW_COLUMNS)),  # type: ignore[attr-defined]
)
"""The parts that append rows to one held chain: give them ``appended_values``."""
_APPEND = one_statement(APPENDED, "SELECT 1")


def appended_values(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The values of ``APPENDED``'s parameters for rows linked one after the other to the
    end of the chain this transaction took (``services/audit.linked_all``)."""
    written = [{**row, "details": jsonb_text(row["details"])} for row in rows]
    last = rows[-1]
    moved = {name: last[name] for name in _CHAIN_MOVED.names}
    return named("chain_moved", moved) | named("appended", columns_of(written, _ROW_COLUMNS))


async def append(session: AsyncSession, row: Mapping[str, Any]) -> None:
    """Write a row to the chain this transaction took, and move the chain's end to it."""
    await (await in_transaction(session)).execute(_APPEND, appended_values([row]))


async def list_events(
    session: AsyncSession, where: AuditFilter, limit: int, offset: int
) -> tuple[Sequence[AuditEvent], int]:
    query = equal_to(
        select(AuditEvent),
        [
            (AuditEvent.actor_account_id, where.actor_account_id),
            (AuditEvent.action, where.action),
            (AuditEvent.target_type, where.target_type),
            (AuditEvent.target_id, where.target_id),
            (AuditEvent.outcome, where.outcome),
        ],
    )
    query = between(query, AuditEvent.at, where.at_from, where.at_to)
    return await page(session, query, [col(AuditEvent.seq).desc()], limit, offset)


async def same_snapshot(session: AsyncSession) -> None:
    """Make every later statement of this transaction see one snapshot (the first statement
    of the transaction): the chains' rows and their recorded ends are read as of one moment."""
    await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))


async def stream_chains(session: AsyncSession, batch: int = 2000) -> AsyncIterator[AuditEvent]:
    """Every row, chain by chain in chain order, fetched in batches through a server-side cursor."""
    result = await session.stream_scalars(
        select(AuditEvent).order_by(col(AuditEvent.chain), col(AuditEvent.chain_seq)).execution_options(yield_per=batch)
    )
    async for row in result:
        yield row


async def chain_heads(session: AsyncSession) -> list[Head]:
    rows = await session.execute(select(col(AuditChain.id), col(AuditChain.last_seq), col(AuditChain.last_hash)))
    return [Head(chain=int(i), last_seq=int(s), last_hash=bytes(h)) for i, s, h in rows]
