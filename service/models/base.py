"""Shared column helpers and the constraint naming convention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData
from sqlalchemy import inspect as sa_inspect
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


Table = TypeVar("Table", bound=SQLModel)


def from_row(table: type[Table], values: dict[str, Any]) -> Table:
    """A table object from a row the database returned with every column: what
    ``table.model_construct(**values)`` makes, without its walk over each field's aliases
    and defaults (10 us for a case, as much as the rest of a case read's own work in the
    process). The object belongs to no session: read it, never add it to one.
    ``tests/test_models.py`` holds it equal to ``model_construct``."""
    instance: Table = table.__new__(table)
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


def fresh(table: type[Table], **values: Any) -> Table:
    """What ``table(**values)`` makes (the fields' defaults filled in, the ORM's attribute
    tracking set up, so that setting an attribute works as on any object), without the
    constructor's instrumented assignment of every field one by one: about 40 us for a
    case against 170 to 200 us, paid by every creation and every move. For objects the
    hot writes build and write with their own statements (``repositories/cases``), never
    added to a session. ``tests/test_models.py`` holds it equal to the constructor."""
    instance = table.model_construct(**values)
    sa_inspect(table).class_manager.setup_instance(instance)
    return instance


def utcnow() -> datetime:
    return datetime.now(UTC)


def timestamp(*, nullable: bool = False, index: bool = False, **kwargs: Any) -> Any:
    """A ``timestamptz`` column."""
    return Field(sa_type=DateTime(timezone=True), nullable=nullable, index=index, **kwargs)


def in_check(column: str, values: object) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)  # type: ignore[attr-defined]
    return f"{column} IN ({quoted})"
