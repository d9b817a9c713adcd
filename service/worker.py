"""The delivery worker: sends what notices put on the queue (e-mail, text messages,
webhooks) and runs the reminder passes. ``banshi worker`` runs it alone, as many copies
as wanted; ``banshi serve`` runs one inside itself unless ``BANSHI_DELIVERY_WORKER`` is
``separate``, so the embedded default needs no second command."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.adapters.outbound import Outbound, outbound_from_environment
from service.adapters.queue import make_queue, run_worker
from service.api.background import keep_reminding
from service.config import Settings, security_kit
from service.db import make_engine, make_session_factory
from service.models.base import utcnow
from service.security.kit import SecurityKit
from service.services.deliveries import send_one

log = logging.getLogger("banshi.worker")


async def deliver_forever(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    kit: SecurityKit,
    outbound: Outbound,
    clock: Callable[[], datetime] = utcnow,
    *,
    concurrency: int = 4,
    heartbeat_seconds: float = 5.0,
    stalled_after_seconds: float = 30.0,
    recover_every_seconds: float = 10.0,
    pooler: str = "none",
) -> None:
    """Take deliveries off the queue until cancelled."""

    async def deliver(delivery_id: str) -> None:
        outcome = await send_one(sessions, kit, outbound, uuid.UUID(delivery_id), clock)
        log.info("delivery %s: %s", delivery_id, outcome)

    queue = make_queue(database_url, deliver, pooler=pooler)
    await run_worker(
        queue,
        concurrency=concurrency,
        heartbeat_seconds=heartbeat_seconds,
        stalled_after_seconds=stalled_after_seconds,
        recover_every_seconds=recover_every_seconds,
        listen=pooler == "none",
    )


async def run(settings: Settings, *, concurrency: int, stalled_after_seconds: float) -> None:
    """``banshi worker``: deliveries and reminder passes until SIGTERM or Ctrl-C."""
    assert settings.database_url is not None
    engine = make_engine(settings.database_url, pool_size=concurrency + 1, pooler=settings.db_pooler)
    sessions = make_session_factory(engine)
    kit = security_kit(settings)
    outbound = outbound_from_environment(dict(settings.outbound_env))
    tasks = [
        asyncio.create_task(
            deliver_forever(
                settings.database_url,
                sessions,
                kit,
                outbound,
                concurrency=concurrency,
                heartbeat_seconds=max(stalled_after_seconds / 6, 0.5),
                stalled_after_seconds=stalled_after_seconds,
                recover_every_seconds=max(stalled_after_seconds / 3, 1.0),
                pooler=settings.db_pooler,
            )
        )
    ]
    if settings.reminder_seconds > 0:
        tasks.append(asyncio.create_task(keep_reminding(sessions, utcnow, kit.pii, settings.reminder_seconds)))
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await outbound.close()
        await engine.dispose()
