"""The national five-level satisfaction scale (好差评) and the follow-up it can open."""

from __future__ import annotations

from enum import StrEnum

from service.domain.due import RESOLVED
from service.domain.workflow import Status


class Level(StrEnum):
    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied"


LEVEL_LABELS_ZH: dict[Level, str] = {
    Level.VERY_SATISFIED: "非常满意",
    Level.SATISFIED: "满意",
    Level.BASICALLY_SATISFIED: "基本满意",
    Level.DISSATISFIED: "不满意",
    Level.VERY_DISSATISFIED: "非常不满意",
}

RATEABLE: frozenset[Status] = RESOLVED
"""A case is rated once it is resolved (archived or not); each resolution once."""


def may_rate(status: Status, rating: str | None) -> bool:
    """Whether the current resolution can be rated now: resolved, and not rated yet (a
    reopen clears the rating, so the next resolution is rated afresh)."""
    return status in RATEABLE and rating is None


FOLLOW_UP_WORKING_DAYS = 15
"""A rating of 不满意 or worse must be answered by the steward within this many working days."""


def is_satisfied(level: Level) -> bool:
    """The three upper levels count as satisfied in the satisfaction rate."""
    return level in (Level.VERY_SATISFIED, Level.SATISFIED, Level.BASICALLY_SATISFIED)


def needs_follow_up(level: Level) -> bool:
    return not is_satisfied(level)
