"""The audit trail: append-only rows in several hash chains.

``seq`` numbers a row across the whole trail (a sequence: a rolled-back write leaves a
gap); ``chain`` and ``chain_seq`` are its chain and its gapless position there, handed
out under the lock on the chain's ``AuditChain`` row; ``hash`` is HMAC-SHA256 (audit
key) over the previous row's hash in the chain and this row's content. The database
refuses UPDATE, DELETE and TRUNCATE on the trail, and lets a chain's end only move
forward one row at a time (migrations 0002 and 0012). The service's own role may only read and insert
the trail's rows (``adapters/privileges.py``); it moves a chain's end by UPDATE, which the trigger holds.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, LargeBinary, SmallInteger, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from service.models.base import in_check, timestamp

OUTCOMES = ("success", "failure", "denied")


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint(in_check("outcome", OUTCOMES), name="outcome"),
        Index("ix_audit_event_target", "target_type", "target_id"),
        UniqueConstraint("chain", "chain_seq"),
    )

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    """From the sequence ``audit_event_seq_seq``, taken once the row's chain is held."""
    chain: int = Field(sa_column=Column(SmallInteger, nullable=False))
    chain_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    at: datetime = timestamp(index=True)
    actor_account_id: uuid.UUID | None = Field(default=None, index=True)
    actor_username: str = Field(default="", max_length=64)
    actor_role: str = Field(default="", max_length=16)
    client_addr: str = Field(default="", max_length=64)
    action: str = Field(max_length=64, index=True)
    target_type: str = Field(default="", max_length=32)
    target_id: str = Field(default="", max_length=64)
    outcome: str = Field(max_length=16)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)
    prev_hash: bytes = Field(sa_type=LargeBinary)
    hash: bytes = Field(sa_type=LargeBinary)


class AuditChain(SQLModel, table=True):
    """The end of one chain of the trail: its last row's position and hash. Its row is
    the chain's lock: a writer holds it from taking the position to its commit."""

    __tablename__ = "audit_chain"
    __table_args__ = (
        CheckConstraint("id >= 0", name="id"),
        CheckConstraint("last_seq >= 0", name="last_seq"),
    )

    id: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    last_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_hash: bytes = Field(sa_type=LargeBinary)
