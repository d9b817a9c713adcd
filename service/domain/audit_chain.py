"""The audit trail's hash chain. Pure: the key comes in, bytes go out.

Each row's hash is HMAC-SHA256(audit key, previous hash || canonical content), where
the canonical content is the row's fields as sorted, compact JSON. Anyone editing,
removing or inserting a row without the key breaks the chain from that row on.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

GENESIS = bytes(32)


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
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
    return msgspec.json.encode(
        {
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
        },
        order="sorted",
    )


def link_hash(key: bytes, prev_hash: bytes, entry: Entry) -> bytes:
    return hmac.new(key, prev_hash + canonical(entry), hashlib.sha256).digest()


def link_problem(
    key: bytes, expected_seq: int, expected_prev: bytes, prev_hash: bytes, hash_: bytes, entry: Entry
) -> str | None:
    """Why this row does not continue the chain, or None if it does."""
    if entry.seq != expected_seq:
        return f"row {expected_seq} is missing (next row is {entry.seq})"
    if prev_hash != expected_prev:
        return "the row does not point at the hash of the row before it"
    if not hmac.compare_digest(hash_, link_hash(key, prev_hash, entry)):
        return "the row's content does not match its hash"
    return None
