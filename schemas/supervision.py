"""Supervision notices (督办): issuing one, answering it, reading them.

No shape here carries a person's name, ID number or phone number: officials read these.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from schemas.base import ONE_LINE, Input, Output, Reason

SupervisionLevel = Literal["district", "city"]
SupervisionStatusName = Literal["open", "replied", "unanswered"]
ReplyWorkingDays = Annotated[
    int,
    msgspec.Meta(ge=1, le=10, description="Working days the handling side has to reply (1 to 10)."),
]
CaseNumber = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=32,
        pattern=ONE_LINE,
        description="The case number (受理编号) as the officials' case lists show it, e.g. BS-20260301-000001-7.",
    ),
]


class SupervisionIn(Input, kw_only=True):
    case_no: CaseNumber
    reason: Reason
    """Why the case is supervised, and what is expected (told to the liaisons and the steward)."""
    reply_working_days: ReplyWorkingDays = 3


class SupervisionReplyIn(Input, kw_only=True):
    reply: Reason
    """How the case stands and what is being done (told to whoever supervises it)."""


class SupervisionOut(Output, kw_only=True):
    id: uuid.UUID
    case_id: uuid.UUID
    case_no: str
    district_code: str
    department_code: str
    """The department handling the case now."""
    level: SupervisionLevel
    """The level now: a district-level notice rises to city level when its deadline passes unanswered."""
    status: SupervisionStatusName
    """open: waiting for the reply; replied; unanswered: a city-level notice whose deadline passed."""
    issued_by: uuid.UUID
    """The account that issued it."""
    issued_at: datetime
    reason: str
    reply_working_days: int
    reply_due_at: datetime
    """The deadline now (a new one runs from an escalation)."""
    replied_at: datetime | None
    replied_by: uuid.UUID | None
    """The account that replied."""
    reply: str | None
    replied_on_time: bool | None
    """By the first deadline, before any escalation."""
    escalated_at: datetime | None
    unanswered_at: datetime | None


class SupervisionPage(Output, kw_only=True):
    items: list[SupervisionOut]
    total: int
    limit: int
    offset: int
