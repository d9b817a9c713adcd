"""Reminders from the clock: a case entering due-soon (yellow) or running out of time
(red) is told to its steward, once per case, threshold and due time.

A pass is run by every service process every ``BANSHI_REMINDER_SECONDS`` (and by
``banshi reminders`` on demand). Passes are safe to run anywhere and often: one runs at a
time (a transaction-level advisory lock; a process that finds it taken skips its turn),
and each reminder has a unique ``dedupe_key``, so a case is never reminded twice of one
threshold even when passes overlap. A pass does nothing on a day that is not a working
day on the calendar, so nobody is told "overdue" on a holiday morning (a due time can
fall at midnight at the end of the last working day before a holiday); the reminders
wait for the next working day. A case paused for materials shows no due state, and is
reminded when its clock runs again, for its new due time.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.domain.notices import REMINDERS, Facts, Kind, render
from service.domain.time_limit import CST, local_day
from service.repositories import notifications as notifications_repo
from service.repositories import reminders as repo
from service.services.calendar import load_calendar

BATCH = 5_000
"""Cases read and reminders written per statement."""


@dataclass
class PassResult:
    ran: bool
    """False when another process held the pass, or the day is not a working day."""
    reason: str = ""
    told: dict[str, int] = field(default_factory=dict)


async def run_pass(session: AsyncSession, now: datetime) -> PassResult:
    """One reminder pass as of ``now``, in one transaction."""
    async with session.begin():
        if not await repo.take_pass_lock(session):
            return PassResult(ran=False, reason="another pass is running")
        calendar = await load_calendar(session)
        if not calendar.is_working_day(local_day(now)):
            return PassResult(ran=False, reason=f"{local_day(now)} is not a working day")
        result = PassResult(ran=True)
        for kind in REMINDERS:
            result.told[kind.value] = await _remind(session, kind, now)
        return result


async def _remind(session: AsyncSession, kind: Kind, now: datetime) -> int:
    told = 0
    while crossings := await repo.crossings(session, kind, now, BATCH):
        rows: list[dict[str, Any]] = []
        for crossing in crossings:
            due = crossing.due_at.astimezone(CST).strftime("%Y-%m-%d %H:%M")
            key = f"{kind.value}:{crossing.case_id}:{crossing.due_at.isoformat()}:{crossing.steward_id}"
            title, body = render(kind, Facts(case_no=crossing.case_no, item_title=crossing.item_title, due=due))
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "dedupe_key": key,
                    "kind": kind.value,
                    "staff_id": crossing.steward_id,
                    "case_id": crossing.case_id,
                    "threshold_at": crossing.due_at,
                    "title": title,
                    "body": body,
                    "created_at": now,
                }
            )
        written = await notifications_repo.insert_new(session, rows)
        told += written
        if len(crossings) < BATCH or written == 0:
            break
    return told


async def keep_reminding(
    sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime], every_seconds: float
) -> None:
    """Run a pass every ``every_seconds`` until cancelled. A pass that fails (the database
    away, say) is logged and tried again at the next turn."""
    log = logging.getLogger("banshi.reminders")
    while True:
        await asyncio.sleep(every_seconds)
        try:
            async with sessions() as session:
                result = await run_pass(session, clock())
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("reminder pass failed: %s: %s", type(error).__name__, error)
            continue
        if result.ran and any(result.told.values()):
            log.info("reminders told: %s", result.told)
