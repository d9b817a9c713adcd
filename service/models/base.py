"""Shared column helpers and the constraint naming convention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLModel.metadata = MetaData(naming_convention=NAMING_CONVENTION)
metadata = SQLModel.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


def timestamp(*, nullable: bool = False, index: bool = False, **kwargs: Any) -> Any:
    """A ``timestamptz`` column."""
    return Field(sa_type=DateTime(timezone=True), nullable=nullable, index=index, **kwargs)


def in_check(column: str, values: object) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)  # type: ignore[attr-defined]
    return f"{column} IN ({quoted})"
