"""Files attached to a case: what they are, who gave them and where the bytes are kept."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index
from sqlmodel import Field, SQLModel

from service.models.base import in_check, timestamp
from service.models.cases import VISIBILITIES


class Attachment(SQLModel, table=True):
    """One uploaded file. The bytes live in the attachment store under ``storage_key``;
    the row holds the type found in the content (never the one declared by the
    client), the cleaned-up name and a SHA-256 of the bytes as received."""

    __tablename__ = "attachment"
    __table_args__ = (
        CheckConstraint(in_check("visibility", VISIBILITIES), name="visibility"),
        CheckConstraint("size_bytes > 0", name="size_bytes"),
        Index("ix_attachment_case_id_uploaded_at", "case_id", "uploaded_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id")
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=128)
    size_bytes: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=255, unique=True)
    visibility: str = Field(max_length=8)
    uploaded_by: uuid.UUID = Field(foreign_key="account.id")
    uploaded_by_worker: bool = False
    """Given by the worker (shown to staff as the worker's material)."""
    uploaded_at: datetime = timestamp()
    answer_event_id: int | None = Field(default=None, foreign_key="case_event.id", sa_type=BigInteger)
    """The worker's answer to a request for materials that this file belongs to."""
