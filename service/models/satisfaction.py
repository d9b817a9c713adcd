"""Satisfaction ratings (好差评): one per resolution of a case, with the follow-up a poor one opens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Identity, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.domain.satisfaction import Level
from service.models.base import in_check, timestamp


class SatisfactionRating(SQLModel, table=True):
    __tablename__ = "satisfaction_rating"
    __table_args__ = (
        CheckConstraint(in_check("level", [v.value for v in Level]), name="level"),
        UniqueConstraint("case_id", "resolution", name="uq_satisfaction_rating_case_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    case_id: uuid.UUID = Field(foreign_key="case.id")
    resolution: int
    """Which resolution of the case this rates (1 for the first, 2 after a reopen and a second one)."""
    level: str = Field(max_length=24)
    comment: str | None = Field(default=None, max_length=500)
    rated_at: datetime = timestamp()
    rated_by: uuid.UUID = Field(foreign_key="account.id")
    on_behalf: bool = False
    """Given by the steward on the worker's behalf (代评), not by the worker."""
    follow_up_due_at: datetime | None = timestamp(default=None, nullable=True)
    follow_up_answer: str | None = Field(default=None, max_length=2000)
    follow_up_answered_at: datetime | None = timestamp(default=None, nullable=True)
    follow_up_answered_by: uuid.UUID | None = Field(default=None, foreign_key="account.id")
