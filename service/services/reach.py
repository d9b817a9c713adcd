"""The case or worker a request names, if its caller reaches it (``repositories/reach.py``)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import NotFound
from service.models import Case, Worker
from service.repositories import cases as case_repo
from service.repositories import people as people_repo
from service.repositories.reach import cases_reached, workers_reached
from service.services.context import Context


async def reached_case(session: AsyncSession, ctx: Context, case_id: uuid.UUID, *, for_update: bool = False) -> Case:
    """The case, locked for the rest of the transaction with ``for_update``. A case out
    of reach answers 404 like one that does not exist."""
    case = await case_repo.get_case(session, case_id, cases_reached(ctx.caller), for_update=for_update)
    if case is None:
        raise NotFound("case", case_id)
    return case


async def reached_worker(
    session: AsyncSession, ctx: Context, worker_id: uuid.UUID, *, for_update: bool = False
) -> Worker:
    """The worker, locked with ``for_update``; one out of reach answers 404."""
    worker = await people_repo.reached_worker(session, worker_id, workers_reached(ctx.caller), for_update=for_update)
    if worker is None:
        raise NotFound("worker", worker_id)
    return worker
