"""Work the service process does besides answering requests: the reminder passes
(``services/reminders.py``) and the ledger imports a request starts, started and
stopped with the app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

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


class BackgroundJobs:
    """Jobs a request starts and the process runs after answering it (ledger imports).
    The app's shutdown cancels those still running; each records that it was stopped."""

    def __init__(self) -> None:
        self.running: set[asyncio.Task[object]] = set()

    def start(self, work: Coroutine[Any, Any, object]) -> None:
        task: asyncio.Task[object] = asyncio.create_task(work)
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def wait(self) -> None:
        """Until every job started so far has ended (tests, and a graceful stop)."""
        while self.running:
            await asyncio.gather(*list(self.running), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self.running):
            task.cancel()
        await asyncio.gather(*list(self.running), return_exceptions=True)
