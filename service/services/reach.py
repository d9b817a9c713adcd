"""The case a request names, if its caller reaches it (``repositories/reach.py``)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import NotFound
from service.models import Case
from service.repositories import cases as case_repo
from service.repositories.reach import cases_reached
from service.services.context import Context


async def reached_case(session: AsyncSession, ctx: Context, case_id: uuid.UUID, *, for_update: bool = False) -> Case:
    """The case, locked for the rest of the transaction with ``for_update``. A case out
    of reach answers 404 like one that does not exist."""
    case = await case_repo.get_case(session, case_id, cases_reached(ctx.caller), for_update=for_update)
    if case is None:
        raise NotFound("case", case_id)
    return case
