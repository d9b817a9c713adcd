"""Appending to, reading and verifying the audit trail."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from schemas.audit import AuditEventOut, AuditPage, ChainBreak, ChainReport
from service.db import for_this_transaction
from service.domain.access import Caller, Principal
from service.domain.audit_chain import ChainCheck, Entry, link_hash
from service.domain.filters import AuditFilter
from service.models import AuditEvent
from service.repositories import audit as audit_repo
from service.security.kit import SecurityKit
from service.services.context import Context


async def append(
    session: AsyncSession,
    kit: SecurityKit,
    caller: Caller | None,
    action: str,
    now: datetime,
    *,
    target_type: str = "",
    target_id: object = "",
    outcome: str = "success",
    details: Mapping[str, Any] | None = None,
) -> None:
    """Add one row to a chain inside the caller's transaction. Call it as the last step
    of a use case: the chain is held from here until the commit (any other writer takes
    another chain meanwhile)."""
    draft = Draft(caller, action, now, target_type, target_id, outcome, details)
    await audit_repo.append(session, (await linked_all(session, kit, [draft]))[0])


@dataclass(frozen=True, slots=True)
class Draft:
    """A row of the trail before it is linked to a chain (``linked_all``): ``append``'s
    fields."""

    caller: Caller | None
    action: str
    now: datetime
    target_type: str = ""
    target_id: object = ""
    outcome: str = "success"
    details: Mapping[str, Any] | None = None


async def linked_all(session: AsyncSession, kit: SecurityKit, drafts: Sequence[Draft]) -> list[dict[str, Any]]:
    """``drafts`` linked one after the other to the end of this transaction's chain (taken
    now unless ``hold_chain`` took it for as many rows), not written: ``append`` writes one;
    a use case that writes them with other rows gives them to ``audit_repo.APPENDED``."""
    taken = _held_chain(session) or await audit_repo.take_chain(session, len(drafts))
    assert len(taken.seqs) == len(drafts), "hold the chain for as many rows as are linked"
    rows: list[dict[str, Any]] = []
    prev = taken.last_hash
    for place, (draft, seq) in enumerate(zip(drafts, taken.seqs, strict=True), 1):
        caller = draft.caller
        principal = caller if isinstance(caller, Principal) else None
        entry = Entry(
            seq=seq,
            chain=taken.chain,
            chain_seq=taken.last_seq + place,
            at=draft.now,
            actor_account_id=principal.account_id if principal else None,
            actor_username=(principal.username if principal else caller.username if caller else "")[:64],
            actor_role=principal.role.value if principal else "",
            client_addr=(caller.client_addr if caller else "")[:64],
            action=draft.action,
            target_type=draft.target_type,
            target_id=str(draft.target_id)[:64],
            outcome=draft.outcome,
            details=dict(draft.details or {}),
        )
        link = link_hash(kit.keys.audit_key, prev, entry)
        rows.append(dataclasses.asdict(entry) | {"prev_hash": prev, "hash": link})
        prev = link
    return rows


async def hold_chain(session: AsyncSession, count: int = 1) -> None:
    """Take this transaction's chain now, for ``count`` rows, rather than at ``append``:
    for a use case that later holds a lock every other writer of its kind waits on (the
    day's case-number counter), so that taking a chain is not one more round trip under
    that lock."""
    for_this_transaction(session)[_CHAIN] = await audit_repo.take_chain(session, count)


def _held_chain(session: AsyncSession) -> audit_repo.Taken | None:
    taken: audit_repo.Taken | None = for_this_transaction(session).pop(_CHAIN, None)
    return taken


_CHAIN = "audit_chain"


async def record(ctx: Context, session: AsyncSession, action: str, **fields: Any) -> None:
    """``append`` for a signed-in caller's use case."""
    await append(session, ctx.kit, ctx.caller, action, ctx.now, **fields)


async def record_alone(
    session: AsyncSession, kit: SecurityKit, caller: Caller | None, action: str, now: datetime, **fields: Any
) -> None:
    """Append in a transaction of its own: for refusals, whose own work is rolled back."""
    async with session.begin():
        await append(session, kit, caller, action, now, **fields)


def _out(row: AuditEvent) -> AuditEventOut:
    return AuditEventOut(**dataclasses.asdict(_entry(row)), hash=bytes(row.hash).hex())


def _entry(row: AuditEvent) -> Entry:
    return Entry(
        seq=row.seq,
        chain=row.chain,
        chain_seq=row.chain_seq,
        at=row.at,
        actor_account_id=row.actor_account_id,
        actor_username=row.actor_username,
        actor_role=row.actor_role,
        client_addr=row.client_addr,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        outcome=row.outcome,
        details=row.details,
    )


async def list_audit(session: AsyncSession, ctx: Context, where: AuditFilter, limit: int, offset: int) -> AuditPage:
    """Reading the trail is itself recorded, with the filters used."""
    async with session.begin():
        rows, total = await audit_repo.list_events(session, where, limit, offset)
        page = AuditPage(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)
        filters = {k: str(v) for k, v in dataclasses.asdict(where).items() if v is not None}
        await record(ctx, session, "audit.read", details={"filters": filters, "limit": limit, "offset": offset})
    return page


async def verify_chain(session: AsyncSession, ctx: Context) -> ChainReport:
    """Walk every chain in order, check each against its recorded end, and report the
    first broken row of each chain that has one (all chains are checked to the end or
    their first break)."""
    check = ChainCheck(ctx.kit.keys.audit_key)
    async with session.begin():
        await audit_repo.same_snapshot(session)
        heads = await audit_repo.chain_heads(session)
        async for row in audit_repo.stream_chains(session):
            check.row(_entry(row), bytes(row.prev_hash), bytes(row.hash))
    breaks = check.breaks(heads)
    first = min(breaks, key=lambda b: (b.seq is None, b.seq or 0, b.chain)) if breaks else None
    report = ChainReport(
        intact=not breaks,
        rows_checked=check.rows_checked,
        chains_checked=len(heads),
        first_broken_seq=first.seq if first else None,
        problem=first.problem if first else None,
        breaks=[ChainBreak(chain=b.chain, chain_seq=b.chain_seq, seq=b.seq, problem=b.problem) for b in breaks],
    )
    async with session.begin():
        await record(
            ctx,
            session,
            "audit.verify",
            outcome="success" if report.intact else "failure",
            details={
                "rows_checked": check.rows_checked,
                "first_broken_seq": report.first_broken_seq,
                "broken_chains": [b.chain for b in breaks],
            },
        )
    return report
