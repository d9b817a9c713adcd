"""The audit trail: append-only, hash-chained rows.

``seq`` is the position in the chain, handed out under a lock; ``hash`` is
HMAC-SHA256 (audit key) over the previous row's hash and this row's content.
The database refuses UPDATE, DELETE and TRUNCATE on the table (see the migration), and
the service's own role may only read and insert its rows (``adapters/privileges.py``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, LargeBinary
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from service.models.base import in_check, timestamp

OUTCOMES = ("success", "failure", "denied")


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint(in_check("outcome", OUTCOMES), name="outcome"),
        Index("ix_audit_event_target", "target_type", "target_id"),
    )

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
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
