"""The case workflow: statuses, their categories and the one table of allowed moves."""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never


class Status(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    AWAITING_MATERIALS = "awaiting_materials"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Category(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    DONE = "done"
    TERMINATED = "terminated"


class Action(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    START = "start"
    REQUEST_MATERIALS = "request_materials"
    RECEIVE_MATERIALS = "receive_materials"
    TRANSFER = "transfer"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    WITHDRAW = "withdraw"


STATUS_LABELS_ZH: dict[Status, str] = {
    Status.SUBMITTED: "已提交",
    Status.ACCEPTED: "已受理",
    Status.IN_PROGRESS: "办理中",
    Status.AWAITING_MATERIALS: "待补件",
    Status.RESOLVED: "已办结",
    Status.CLOSED: "已归档",
    Status.REJECTED: "不予受理",
    Status.WITHDRAWN: "已撤回",
}


def category_of(status: Status) -> Category:
    match status:
        case Status.SUBMITTED | Status.ACCEPTED | Status.IN_PROGRESS:
            return Category.OPEN
        case Status.AWAITING_MATERIALS:
            return Category.PAUSED
        case Status.RESOLVED | Status.CLOSED:
            return Category.DONE
        case Status.REJECTED | Status.WITHDRAWN:
            return Category.TERMINATED
        case _:
            assert_never(status)


def statuses_in(category: Category) -> list[Status]:
    return [s for s in Status if category_of(s) is category]


# (from, action) -> to. This table is the whole workflow: nothing else decides
# whether a move is legal. A transfer keeps the status (the case changes hands,
# not stage); reopen is further limited by a window checked in the service.
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.SUBMITTED, Action.ACCEPT): Status.ACCEPTED,
    (Status.SUBMITTED, Action.REJECT): Status.REJECTED,
    (Status.SUBMITTED, Action.WITHDRAW): Status.WITHDRAWN,
    (Status.ACCEPTED, Action.START): Status.IN_PROGRESS,
    (Status.ACCEPTED, Action.REQUEST_MATERIALS): Status.AWAITING_MATERIALS,
    (Status.ACCEPTED, Action.TRANSFER): Status.ACCEPTED,
    (Status.ACCEPTED, Action.WITHDRAW): Status.WITHDRAWN,
    (Status.IN_PROGRESS, Action.REQUEST_MATERIALS): Status.AWAITING_MATERIALS,
    (Status.IN_PROGRESS, Action.TRANSFER): Status.IN_PROGRESS,
    (Status.IN_PROGRESS, Action.RESOLVE): Status.RESOLVED,
    (Status.IN_PROGRESS, Action.WITHDRAW): Status.WITHDRAWN,
    (Status.AWAITING_MATERIALS, Action.RECEIVE_MATERIALS): Status.IN_PROGRESS,
    (Status.AWAITING_MATERIALS, Action.WITHDRAW): Status.WITHDRAWN,
    (Status.RESOLVED, Action.REOPEN): Status.IN_PROGRESS,
    (Status.RESOLVED, Action.CLOSE): Status.CLOSED,
}


def allowed_actions(status: Status) -> list[Action]:
    return [action for (source, action) in TRANSITIONS if source is status]


def target_of(status: Status, action: Action) -> Status | None:
    return TRANSITIONS.get((status, action))


def clock_runs_in(status: Status) -> bool:
    """Whether the promised time limit counts down while a case is in this status.

    Waiting for the worker's materials does not count (补正期间不计入办理时限), and
    neither does the time a case spends resolved before it is reopened.
    """
    match status:
        case Status.ACCEPTED | Status.IN_PROGRESS:
            return True
        case (
            Status.SUBMITTED
            | Status.AWAITING_MATERIALS
            | Status.RESOLVED
            | Status.CLOSED
            | Status.REJECTED
            | Status.WITHDRAWN
        ):
            return False
        case _:
            assert_never(status)
