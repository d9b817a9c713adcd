"""The workflow table: which moves are allowed, where they lead, and when the clock runs."""

from __future__ import annotations

import itertools

import pytest

from service.domain.workflow import (
    STATUS_LABELS_ZH,
    TRANSITIONS,
    Action,
    Category,
    Status,
    allowed_actions,
    category_of,
    clock_runs_in,
    statuses_in,
    target_of,
)

# The workflow written out by hand, status by status: {from: {action: to}}.
EXPECTED_MOVES: dict[str, dict[str, str]] = {
    "submitted": {
        "accept": "accepted",
        "reject": "rejected",
        "withdraw": "withdrawn",
    },
    "accepted": {
        "start": "in_progress",
        "request_materials": "awaiting_materials",
        "transfer": "accepted",
        "withdraw": "withdrawn",
    },
    "in_progress": {
        "request_materials": "awaiting_materials",
        "transfer": "in_progress",
        "resolve": "resolved",
        "withdraw": "withdrawn",
    },
    "awaiting_materials": {
        "receive_materials": "in_progress",
        "withdraw": "withdrawn",
    },
    "resolved": {
        "reopen": "in_progress",
        "close": "closed",
    },
    "closed": {},
    "rejected": {},
    "withdrawn": {},
}

EXPECTED_CATEGORY = {
    "submitted": "open",
    "accepted": "open",
    "in_progress": "open",
    "awaiting_materials": "paused",
    "resolved": "done",
    "closed": "done",
    "rejected": "terminated",
    "withdrawn": "terminated",
}

ALL_PAIRS = list(itertools.product(Status, Action))
ALLOWED_PAIRS = [(s, a) for s, a in ALL_PAIRS if a.value in EXPECTED_MOVES[s.value]]
REFUSED_PAIRS = [(s, a) for s, a in ALL_PAIRS if a.value not in EXPECTED_MOVES[s.value]]


def test_the_expected_table_covers_every_status() -> None:
    assert {s.value for s in Status} == set(EXPECTED_MOVES) == set(EXPECTED_CATEGORY)
    # 8 statuses x 10 actions, 15 of them allowed.
    assert len(ALL_PAIRS) == 80
    assert len(ALLOWED_PAIRS) == 15
    assert len(REFUSED_PAIRS) == 65


@pytest.mark.parametrize(("status", "action"), ALLOWED_PAIRS, ids=lambda v: str(v))
def test_allowed_move_goes_to_expected_status(status: Status, action: Action) -> None:
    expected = Status(EXPECTED_MOVES[status.value][action.value])
    assert target_of(status, action) is expected
    assert action in allowed_actions(status)


@pytest.mark.parametrize(("status", "action"), REFUSED_PAIRS, ids=lambda v: str(v))
def test_other_moves_are_refused(status: Status, action: Action) -> None:
    assert target_of(status, action) is None
    assert action not in allowed_actions(status)


def test_transition_table_has_nothing_beyond_the_expected_moves() -> None:
    written_out = {
        (Status(source), Action(action)): Status(target)
        for source, moves in EXPECTED_MOVES.items()
        for action, target in moves.items()
    }
    assert dict(TRANSITIONS) == written_out


@pytest.mark.parametrize("status", list(Status))
def test_allowed_actions_lists_each_action_once(status: Status) -> None:
    actions = allowed_actions(status)
    assert len(actions) == len(set(actions))
    assert {a.value for a in actions} == set(EXPECTED_MOVES[status.value])


@pytest.mark.parametrize("status", list(Status))
def test_category_of_each_status(status: Status) -> None:
    assert category_of(status) is Category(EXPECTED_CATEGORY[status.value])


@pytest.mark.parametrize(
    ("category", "members"),
    [
        (Category.OPEN, {Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS}),
        (Category.PAUSED, {Status.AWAITING_MATERIALS}),
        (Category.DONE, {Status.RESOLVED, Status.CLOSED}),
        (Category.TERMINATED, {Status.REJECTED, Status.WITHDRAWN}),
    ],
)
def test_statuses_in_category(category: Category, members: set[Status]) -> None:
    found = statuses_in(category)
    assert set(found) == members
    assert len(found) == len(members)


@pytest.mark.parametrize("status", [Status.CLOSED, Status.REJECTED, Status.WITHDRAWN])
def test_terminal_statuses_have_no_moves(status: Status) -> None:
    assert allowed_actions(status) == []
    assert all(target_of(status, action) is None for action in Action)


def test_terminal_statuses_are_exactly_those_without_moves() -> None:
    without_moves = {s for s in Status if not allowed_actions(s)}
    assert without_moves == {Status.CLOSED, Status.REJECTED, Status.WITHDRAWN}


def test_every_status_except_submitted_is_reachable() -> None:
    reachable = {target for target in TRANSITIONS.values()}
    assert reachable == set(Status) - {Status.SUBMITTED}


@pytest.mark.parametrize(
    ("status", "runs"),
    [
        (Status.SUBMITTED, False),
        (Status.ACCEPTED, True),
        (Status.IN_PROGRESS, True),
        (Status.AWAITING_MATERIALS, False),
        (Status.RESOLVED, False),
        (Status.CLOSED, False),
        (Status.REJECTED, False),
        (Status.WITHDRAWN, False),
    ],
)
def test_clock_runs_only_while_accepted_or_in_progress(status: Status, runs: bool) -> None:
    assert clock_runs_in(status) is runs


def test_transfer_keeps_the_status() -> None:
    for status in Status:
        target = target_of(status, Action.TRANSFER)
        assert target is None or target is status
    assert {s for s in Status if target_of(s, Action.TRANSFER) is not None} == {Status.ACCEPTED, Status.IN_PROGRESS}


def test_every_status_has_a_chinese_label() -> None:
    assert set(STATUS_LABELS_ZH) == set(Status)
    assert STATUS_LABELS_ZH[Status.AWAITING_MATERIALS] == "待补件"
    assert len(set(STATUS_LABELS_ZH.values())) == len(Status)
