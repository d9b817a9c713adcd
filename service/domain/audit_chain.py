"""The audit trail's hash chains. Pure: the key comes in, bytes go out.

The trail is several chains, so that audited writes need not wait for one another: each
writer appends to a chain no other open transaction holds. In each chain, a row's hash is
HMAC-SHA256(audit key, previous hash in the chain || canonical content), where the
canonical content is the row's fields as sorted, compact JSON, its number in the trail
(``seq``), its chain and its position in the chain included. Anyone editing, removing,
reordering or inserting a row without the key breaks its chain from that row on; a row
moved to another chain or another position no longer matches its hash; rows cut off a
chain's end are missed against the chain's recorded end (``Head``).

Chain 0 is the single chain of the trail before it had several (migration 0012): its
rows were hashed without ``chain`` and ``chain_seq`` (their position was ``seq``), and
are checked the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

GENESIS = bytes(32)
LEGACY_CHAIN = 0
"""The chain of the rows written before the trail had several; it takes no new rows."""


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    chain: int
    chain_seq: int
    at: datetime
    actor_account_id: uuid.UUID | None
    actor_username: str
    actor_role: str
    client_addr: str
    action: str
    target_type: str
    target_id: str
    outcome: str
    details: Mapping[str, Any]


def canonical(entry: Entry) -> bytes:
    content: dict[str, Any] = {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_account_id": str(entry.actor_account_id) if entry.actor_account_id else None,
        "actor_username": entry.actor_username,
        "actor_role": entry.actor_role,
        "client_addr": entry.client_addr,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "outcome": entry.outcome,
        "details": dict(entry.details),
    }
    if entry.chain != LEGACY_CHAIN:
        content["chain"] = entry.chain
        content["chain_seq"] = entry.chain_seq
    return msgspec.json.encode(content, order="sorted")


def link_hash(key: bytes, prev_hash: bytes, entry: Entry) -> bytes:
    return hmac.new(key, prev_hash + canonical(entry), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Head:
    """A chain's end as recorded when its last row was written."""

    chain: int
    last_seq: int
    last_hash: bytes


@dataclass(frozen=True, slots=True)
class Break:
    """Where a chain stops being trustworthy: ``chain_seq`` is the first position that
    fails; ``seq`` the trail number of the row found there, if there is one."""

    chain: int
    chain_seq: int
    seq: int | None
    problem: str


@dataclass(slots=True)
class _Walked:
    next_seq: int = 1
    prev_hash: bytes = GENESIS
    last_trail_seq: int = 0
    broken: Break | None = None


@dataclass(slots=True)
class ChainCheck:
    """Checks the rows of every chain, fed in chain order (``chain``, then ``chain_seq``),
    then the chains' recorded ends. Every chain is checked to its end or its first
    break, so one broken chain does not hide another."""

    key: bytes
    rows_checked: int = 0
    _chains: dict[int, _Walked] = field(default_factory=dict)

    def row(self, entry: Entry, prev_hash: bytes, hash_: bytes) -> None:
        walked = self._chains.setdefault(entry.chain, _Walked())
        if walked.broken is not None:
            return
        problem = self._problem(walked, entry, prev_hash, hash_)
        if problem is not None:
            walked.broken = Break(entry.chain, walked.next_seq, entry.seq, problem)
            return
        self.rows_checked += 1
        walked.next_seq += 1
        walked.prev_hash = hash_
        walked.last_trail_seq = entry.seq

    def _problem(self, walked: _Walked, entry: Entry, prev_hash: bytes, hash_: bytes) -> str | None:
        if entry.chain_seq != walked.next_seq:
            return f"row {walked.next_seq} of chain {entry.chain} is missing (next row is {entry.chain_seq})"
        if prev_hash != walked.prev_hash:
            return "the row does not point at the hash of the row before it in its chain"
        if not hmac.compare_digest(hash_, link_hash(self.key, prev_hash, entry)):
            return "the row's content does not match its hash"
        if entry.seq <= walked.last_trail_seq:
            return "the row's number in the trail is not after the row before it in its chain"
        return None

    def breaks(self, heads: list[Head]) -> list[Break]:
        """Every chain's first break, the chains' recorded ends included, by chain."""
        found = {chain: w.broken for chain, w in self._chains.items() if w.broken is not None}
        ends = {head.chain: head for head in heads}
        for chain in self._chains:
            if chain not in found and chain not in ends:
                found[chain] = Break(chain, 1, None, f"chain {chain} has rows but no recorded end")
        for head in heads:
            if head.chain in found:
                continue
            walked = self._chains.get(head.chain, _Walked())
            last = walked.next_seq - 1
            if last < head.last_seq:
                found[head.chain] = Break(
                    head.chain,
                    last + 1,
                    None,
                    f"rows {last + 1} to {head.last_seq} of chain {head.chain} are missing "
                    "(the chain's recorded end is further on)",
                )
            elif last > head.last_seq:
                found[head.chain] = Break(
                    head.chain, head.last_seq + 1, None, f"chain {head.chain} goes on past its recorded end"
                )
            elif not hmac.compare_digest(walked.prev_hash, head.last_hash):
                found[head.chain] = Break(
                    head.chain, last, walked.last_trail_seq, f"chain {head.chain} does not end in its recorded hash"
                )
        return [found[chain] for chain in sorted(found)]
