"""The job queue: Procrastinate, on the service's own PostgreSQL (its schema is frozen
into migration 0007). Jobs are queued in the transaction of the change that causes them
(``repositories/deliveries.queue_jobs``); this module runs them.

A worker that dies mid-job leaves the job ``doing`` with a heartbeat that stops; every
worker looks for such jobs each ``RECOVER_EVERY_SECONDS`` and queues them again, so
they run once more (a delivery already recorded as sent is not sent again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import procrastinate

from service.domain.deliveries import QUEUE, TASK

log = logging.getLogger("banshi.queue")

RECOVER_EVERY_SECONDS = 10.0

POLL_SECONDS = 1.0
"""How often a worker that cannot LISTEN (behind PgBouncer) looks for queued jobs."""


def libpq_url(url: str) -> str:
    """The service's SQLAlchemy URL as libpq (psycopg) takes it."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def make_queue(
    database_url: str, deliver: Callable[[str], Awaitable[None]], *, pooler: str = "none"
) -> procrastinate.App:
    """A Procrastinate app on ``database_url`` whose one task sends one delivery.

    Behind PgBouncer in transaction mode (``pooler``), psycopg never prepares a named
    statement (by default it does for a query run five times on a connection), since the
    next transaction may run on a server connection that has not got it."""
    options: dict[str, Any] = {}
    if pooler == "pgbouncer":
        options["kwargs"] = {"prepare_threshold": None}
    connector = procrastinate.PsycopgConnector(conninfo=libpq_url(database_url), min_size=1, max_size=4, **options)
    app = procrastinate.App(connector=connector)

    async def deliver_task(delivery_id: str) -> None:
        await deliver(delivery_id)

    app.task(name=TASK, queue=QUEUE)(deliver_task)
    return app


async def run_worker(
    app: procrastinate.App,
    *,
    concurrency: int = 4,
    heartbeat_seconds: float = 5.0,
    stalled_after_seconds: float = 30.0,
    recover_every_seconds: float = RECOVER_EVERY_SECONDS,
    listen: bool = True,
) -> None:
    """Run the queue's worker until cancelled, taking up again the jobs of workers that died.

    ``listen``: wake on PostgreSQL's NOTIFY when a job is queued. LISTEN belongs to a
    session, which PgBouncer in transaction mode does not keep, so behind it (``False``)
    the worker looks for jobs every ``POLL_SECONDS`` instead: a notice leaves up to that
    much later, for one cheap query per worker per interval."""
    async with app.open_async():
        recovering = asyncio.create_task(_recover(app, stalled_after_seconds, recover_every_seconds))
        try:
            options: dict[str, Any] = {
                "queues": [QUEUE],
                "concurrency": concurrency,
                "install_signal_handlers": False,
                "update_heartbeat_interval": heartbeat_seconds,
                "stalled_worker_timeout": stalled_after_seconds,
                "delete_jobs": "successful",
                "listen_notify": listen,
                "fetch_job_polling_interval": 5.0 if listen else POLL_SECONDS,
            }
            await app.run_worker_async(**options)
        finally:
            recovering.cancel()


async def _recover(app: procrastinate.App, stalled_after: float, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after):
                log.warning("taking up job %s again: its worker stopped beating", job.id)
                await app.job_manager.retry_job(job)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("looking for stalled jobs failed: %s: %s", type(error).__name__, error)
