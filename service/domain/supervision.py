"""Supervision notices (督办): who may issue and answer one, on which cases, by when, and
what happens to one nobody answers. Pure: no I/O.

An official or an administrator issues a notice on a case that is still unfinished and
is late or about to be: past due (``domain/due.py``, so a case paused for materials after
its time ran out still qualifies) or showing due-soon. The notice asks the handling side
for a written reply within a number of working days (``DEFAULT_REPLY_WORKING_DAYS``,
``MIN_`` to ``MAX_REPLY_WORKING_DAYS``), counted on the working-day calendar from the
moment it is issued. A case has at most one notice awaiting a reply at a time: a second
one while the first waits would only split the answers.

Replying belongs to the people who handle the case: a liaison of the department the case
is with now, or the case's own steward. A steward who only reaches the case through the
worker it belongs to reads the notice but does not answer for another steward.

The level of a notice is its issuer's: a district official (an official account with a
district) issues at district level; a city official (no district) and an administrator at
city level. A notice still unanswered when its reply deadline passes:

- at district level, rises to city level once: the city officials are told, a timeline
  line records it, and a new deadline of the same number of working days runs from then;
- at city level, rises no further: it is recorded as overdue-unanswered (status
  ``unanswered``), with a timeline line; nobody is told again, since the city officials
  already watch it. It can still be answered; the answer counts as late.

A reply is on time when it comes by the first deadline, before any escalation; every
other reply is late. The reminder pass does the escalating, so it happens on the first
working morning after the deadline (``services/reminders.py``).

Every line a notice writes on the timeline is internal and leaves the status as it is,
so a worker never sees it (``domain/visibility.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from service.domain.access import Principal, Role
from service.domain.calendar import WorkingCalendar
from service.domain.due import UNFINISHED, due_state_of, past_due
from service.domain.time_limit import DAY, DueState, add_working_seconds
from service.domain.workflow import Status

DEFAULT_REPLY_WORKING_DAYS = 3
MIN_REPLY_WORKING_DAYS = 1
MAX_REPLY_WORKING_DAYS = 10


class Level(StrEnum):
    DISTRICT = "district"
    CITY = "city"


class SupervisionStatus(StrEnum):
    OPEN = "open"
    """Waiting for a reply, its deadline not yet passed at its current level (or passed and
    not yet acted on by the reminder pass)."""
    REPLIED = "replied"
    UNANSWERED = "unanswered"
    """A city-level notice whose deadline passed unanswered (overdue-unanswered)."""


AWAITING_REPLY: frozenset[SupervisionStatus] = frozenset({SupervisionStatus.OPEN, SupervisionStatus.UNANSWERED})
"""The statuses in which a reply is still wanted (and accepted)."""


class TimelineAction(StrEnum):
    """The timeline lines a notice writes (``models/cases.EVENT_ACTIONS``)."""

    ISSUE = "supervise"
    REPLY = "reply_supervision"
    ESCALATE = "escalate_supervision"
    UNANSWERED = "supervision_unanswered"


def level_of(issuer: Principal) -> Level:
    """The level a caller issues at: a district official's notices start at district level."""
    if issuer.role is Role.OFFICIAL and issuer.district_code is not None:
        return Level.DISTRICT
    return Level.CITY


def reply_days_problem(days: int) -> str | None:
    """Why ``days`` cannot be a notice's reply period, or None when it can."""
    if not MIN_REPLY_WORKING_DAYS <= days <= MAX_REPLY_WORKING_DAYS:
        return f"must be between {MIN_REPLY_WORKING_DAYS} and {MAX_REPLY_WORKING_DAYS} working days"
    return None


def not_supervisable(
    status: Status,
    due_at: datetime | None,
    due_soon_at: datetime | None,
    clock_remaining_seconds: float | None,
    now: datetime,
) -> str | None:
    """Why a case in this state cannot be supervised now, or None when it can: it must be
    unfinished, and past due or showing due-soon (the same verdicts the case page and the
    officials' figures give)."""
    if status not in UNFINISHED:
        return f"the case is {status.value}: only an unfinished case is supervised"
    if past_due(status, due_at, clock_remaining_seconds, now):
        return None
    if due_state_of(status, due_at, due_soon_at, now) is DueState.DUE_SOON:
        return None
    return "the case is neither overdue nor due soon"


def reply_due(start: datetime, days: int, calendar: WorkingCalendar) -> datetime:
    """The reply deadline of a period of ``days`` working days running from ``start``."""
    return add_working_seconds(start, days * DAY, calendar)


def may_reply(caller: Principal, case_steward_id: uuid.UUID, case_department_code: str) -> bool:
    """Whether the caller answers for the case: its steward, or a liaison of its department now."""
    match caller.role:
        case Role.STEWARD:
            return caller.staff_id == case_steward_id
        case Role.LIAISON:
            return caller.department_code == case_department_code
    return False


def replied_on_time(replied_at: datetime, reply_due_at: datetime, escalated_at: datetime | None) -> bool:
    """By the first deadline: before any escalation, and no later than the deadline."""
    return escalated_at is None and replied_at <= reply_due_at


def escalation_of(level: Level) -> Level | None:
    """The level an unanswered notice rises to; None at the top (recorded as unanswered)."""
    match level:
        case Level.DISTRICT:
            return Level.CITY
        case Level.CITY:
            return None
    raise AssertionError(level)


@dataclass(frozen=True, slots=True)
class Supervisors:
    """Who watches a notice a timeline line is about: the account that issued it, and the
    city officials once it is at city level."""

    issued_by: uuid.UUID
    city: bool


def line_details(supervision_id: uuid.UUID, issued_by: uuid.UUID, level: Level, **more: Any) -> dict[str, Any]:
    """The details every supervision line records: which notice, who issued it, its level
    now (what ``supervisors_of`` reads back when the line's notices are written)."""
    return {"supervision_id": str(supervision_id), "issued_by": str(issued_by), "level": level.value, **more}


def supervisors_of(details: Mapping[str, Any]) -> Supervisors:
    return Supervisors(uuid.UUID(str(details["issued_by"])), details.get("level") == Level.CITY.value)
