"""Writing and reading the audit trail. Appending takes a transaction-scoped lock so
that chain positions follow commit order; callers append as the last step of their
transaction to hold it briefly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.domain.filters import AuditFilter
from service.models import AuditEvent
from service.repositories.filters import between, equal_to, page

# pg_advisory_xact_lock key for the chain ("audit" in ASCII).
_CHAIN_LOCK = 0x6175646974


async def lock_chain(session: AsyncSession) -> None:
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})


async def chain_head(session: AsyncSession) -> tuple[int, bytes] | None:
    row = (
        await session.execute(
            select(col(AuditEvent.seq), col(AuditEvent.hash)).order_by(col(AuditEvent.seq).desc()).limit(1)
        )
    ).first()
    return None if row is None else (int(row[0]), bytes(row[1]))


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


async def stream_chain(session: AsyncSession, batch: int = 2000) -> AsyncIterator[AuditEvent]:
    """Every row in chain order, fetched in batches through a server-side cursor."""
    result = await session.stream_scalars(
        select(AuditEvent).order_by(col(AuditEvent.seq)).execution_options(yield_per=batch)
    )
    async for row in result:
        yield row
