"""Work the service process does besides answering requests: the reminder passes
(``services/reminders.py``), started and stopped with the app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.security.pii import PiiCipher
from service.services.reminders import run_pass


async def keep_reminding(
    sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime], pii: PiiCipher, every_seconds: float
) -> None:
    """Run a pass every ``every_seconds`` until cancelled. A pass that fails (the database
    away, say) is logged and tried again at the next turn."""
    log = logging.getLogger("banshi.reminders")
    while True:
        await asyncio.sleep(every_seconds)
        try:
            async with sessions() as session:
                result = await run_pass(session, clock(), pii)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("reminder pass failed: %s: %s", type(error).__name__, error)
            continue
        if result.ran and any(result.told.values()):
            log.info("reminders told: %s", result.told)
