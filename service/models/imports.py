"""Imports of ledgers (台账): one row per file brought in or checked, with its progress."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from service.models.base import in_check, timestamp, utcnow

IMPORT_KINDS = ("workers", "cases")
IMPORT_STATUSES = ("queued", "running", "checked", "imported", "refused", "failed")


class ImportJob(SQLModel, table=True):
    """One file given to the import: what it was, who gave it, how far it got and what
    became of its rows. ``problems`` keeps the first problems found; the report
    workbook (``report_key`` in the file store) has every row."""

    __tablename__ = "import_job"
    __table_args__ = (
        CheckConstraint(in_check("kind", IMPORT_KINDS), name="kind"),
        CheckConstraint(in_check("status", IMPORT_STATUSES), name="status"),
        Index("ix_import_job_account_id_created_at", "account_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=16)
    status: str = Field(default="queued", max_length=16)
    dry_run: bool = True
    partial: bool = False
    file_name: str = Field(max_length=255)
    file_format: str | None = Field(default=None, max_length=16)
    file_encoding: str | None = Field(default=None, max_length=16)
    file_sha256: str = Field(max_length=64)
    file_bytes: int
    account_id: uuid.UUID = Field(foreign_key="account.id")
    rows_total: int | None = None
    rows_read: int = 0
    rows_valid: int = 0
    rows_invalid: int = 0
    rows_existing: int = 0
    rows_imported: int = 0
    problems: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB)
    failure: str | None = Field(default=None, max_length=500)
    report_key: str | None = Field(default=None, max_length=128)
    created_at: datetime = timestamp(default_factory=utcnow)
    started_at: datetime | None = timestamp(default=None, nullable=True)
    heartbeat_at: datetime | None = timestamp(default=None, nullable=True)
    finished_at: datetime | None = timestamp(default=None, nullable=True)
