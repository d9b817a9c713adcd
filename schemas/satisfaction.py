"""Satisfaction ratings (好差评) and the follow-up a poor rating opens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schemas.base import LINES, Input, Output, ShortText

LevelName = Literal["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"]


class RatingIn(Input, kw_only=True):
    level: LevelName
    """非常满意, 满意, 基本满意, 不满意, 非常不满意."""
    comment: ShortText | None = None


class FollowUpIn(Input, kw_only=True):
    answer: Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=LINES)]
    """What the steward did about the rating, as told to the worker."""


class RatingOut(Output, kw_only=True):
    id: int
    case_id: uuid.UUID
    case_no: str
    resolution: int
    """Which resolution of the case is rated (2 after a reopen and a second resolution)."""
    level: LevelName
    level_zh: str
    comment: str | None
    rated_at: datetime
    on_behalf: bool
    """Given by the steward on the worker's behalf."""
    follow_up_due_at: datetime | None
    """When a poor rating must be answered by (15 working days); null when none is needed."""
    follow_up_state: Literal["none", "open", "overdue", "answered"]
    follow_up_answer: str | None
    follow_up_answered_at: datetime | None


class RatingPage(Output, kw_only=True):
    items: list[RatingOut]
    total: int
    limit: int
    offset: int
