"""What operators read: the case gauges and whether the schema is at this release's head."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.repositories import operations as repo


async def case_gauges(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Cases by state for the Prometheus gauge ``banshi_cases``."""
    async with session.begin():
        return dataclasses.asdict(await repo.case_counts(session, now))


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The database's Alembic revision."""
    async with engine.connect() as connection:
        return await repo.schema_revision(connection)
