"""Pieces every list query shares: equality filters, a half-open time range, a page with its total."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col


def equal_to(query: Select[Any], pairs: Iterable[tuple[Any, object]]) -> Select[Any]:
    """``column = value`` for each pair whose value is given (not None)."""
    for column, value in pairs:
        if value is not None:
            query = query.where(col(column) == value)
    return query


def between(query: Select[Any], column: Any, start: datetime | None, end: datetime | None) -> Select[Any]:
    """``start <= column < end``, each bound only when given."""
    if start is not None:
        query = query.where(col(column) >= start)
    if end is not None:
        query = query.where(col(column) < end)
    return query


async def page(
    session: AsyncSession, query: Select[Any], order_by: Sequence[Any], limit: int, offset: int
) -> tuple[Sequence[Any], int]:
    """One page of ``query`` in ``order_by`` order, and how many rows match in all."""
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(*order_by).limit(limit).offset(offset))
    return rows.all(), total or 0
