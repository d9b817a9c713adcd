"""Request-scoped dependencies: the database session, the acting staff member, paging."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import Settings
from service.db import session_scope


async def provide_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    async for session in session_scope(state.session_factory):
        yield session


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_actor(
    x_staff_id: Annotated[
        uuid.UUID | None,
        HeaderParameter(
            name="X-Staff-Id",
            required=False,
            description="The acting staff member. Replaced by the signed-in account once accounts exist.",
        ),
    ] = None,
) -> uuid.UUID | None:
    return x_staff_id


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    offset: int


MAX_PAGE_SIZE = 200


def provide_paging(
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=MAX_PAGE_SIZE, description="Page size.")] = 50,
    offset: Annotated[int, QueryParameter(name="offset", ge=0, le=10_000_000)] = 0,
) -> Paging:
    return Paging(limit=limit, offset=offset)


# Handlers name their dependencies explicitly (Litestar 3 drops inferred ones).
Db = NamedDependency[AsyncSession]
Actor = NamedDependency[uuid.UUID | None]
Now = NamedDependency[datetime]
Page = NamedDependency[Paging]
Config = NamedDependency[Settings]
