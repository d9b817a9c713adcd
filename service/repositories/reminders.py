"""Queries of a reminder pass: the cases that have crossed a threshold and whose steward
has not been reminded for their present due time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.notices import Kind
from service.domain.time_limit import DueState
from service.repositories.due import due_state_is

PASS_LOCK = 0x42534E52  # "BSNR": one reminder pass at a time, across processes
_STATE = {Kind.DUE_SOON: DueState.DUE_SOON, Kind.OVERDUE: DueState.OVERDUE}


@dataclass(frozen=True, slots=True)
class Crossing:
    case_id: uuid.UUID
    case_no: str
    steward_id: uuid.UUID
    due_at: datetime
    item_title: str


async def take_pass_lock(session: AsyncSession) -> bool:
    """Whether this transaction may run the pass (another process may be running one)."""
    return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PASS_LOCK}))


async def crossings(session: AsyncSession, kind: Kind, now: datetime, batch: int) -> list[Crossing]:
    """Up to ``batch`` cases that show the due state of ``kind`` at ``now`` and have no
    reminder of that kind for their present due time, the earliest due first."""
    query = text(
        f"""
        SELECT c.id, c.case_no, c.steward_id, c.due_at, i.title_zh
        FROM "case" c JOIN work_list_item i ON i.id = c.item_id
        WHERE {due_state_is(_STATE[kind])}
          AND NOT EXISTS (
            SELECT 1 FROM notification n
            WHERE n.case_id = c.id AND n.kind = :kind AND n.threshold_at = c.due_at
          )
        ORDER BY c.due_at, c.id
        LIMIT :batch
        """
    )
    rows = await session.execute(query, {"now": now, "kind": kind.value, "batch": batch})
    return [Crossing(*row) for row in rows.all()]
