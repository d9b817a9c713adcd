from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from schemas.base import Output


class AuditEventOut(Output, kw_only=True):
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
    details: dict[str, Any]
    hash: str


class AuditPage(Output, kw_only=True):
    items: list[AuditEventOut]
    total: int
    limit: int
    offset: int


class ChainBreak(Output, kw_only=True):
    """Where one chain stops being trustworthy: the first position in it that fails, and
    the trail number of the row found there (none when rows are missing at its end)."""

    chain: int
    chain_seq: int
    seq: int | None
    problem: str


class ChainReport(Output, kw_only=True):
    intact: bool
    rows_checked: int
    chains_checked: int
    first_broken_seq: int | None
    """The lowest trail number among the broken rows (``breaks`` has every chain's)."""
    problem: str | None
    breaks: list[ChainBreak]
