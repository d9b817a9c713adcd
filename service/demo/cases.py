"""Cases taken through the workflow up to "now", and the rows they leave.

Each case goes through the moves the workflow allows, and its stage times, due times
and clock are what ``services/cases.py`` and ``services/deadlines.py`` store after
the same moves.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from service.demo.people import People
from service.demo.vocabulary import (
    DESCRIPTIONS,
    FOLLOW_UP_ANSWERS,
    LEVELS_LATE,
    LEVELS_ON_TIME,
    MATERIALS,
    OUTCOMES,
    PAUSES,
    RATING_COMMENTS,
    REJECT_REASONS,
    REOPEN_REASONS,
    TITLE_ENDINGS,
    TRANSFER_REASONS,
    WITHDRAW_REASONS,
)
from service.demo.working_time import OFFICE_HOURS, OFFICE_OPEN, US, WorkingTime
from service.domain.satisfaction import FOLLOW_UP_WORKING_DAYS, Level, needs_follow_up
from service.domain.time_limit import DAY, due_soon_threshold
from service.domain.workflow import Status

REOPEN_WITHIN_DAYS = 8
"""Generated reopens come at most this many working days after the resolution (the
service allows ``BANSHI_REOPEN_WINDOW_DAYS``, 10 by default)."""


def _us(moment: int | None) -> int | None:
    return None if moment is None else moment * US


_SUBMITTED, _ACCEPTED, _IN_PROGRESS = Status.SUBMITTED.value, Status.ACCEPTED.value, Status.IN_PROGRESS.value
_AWAITING, _RESOLVED, _CLOSED = Status.AWAITING_MATERIALS.value, Status.RESOLVED.value, Status.CLOSED.value
_REJECTED, _WITHDRAWN = Status.REJECTED.value, Status.WITHDRAWN.value
_RUNNING = frozenset({_ACCEPTED, _IN_PROGRESS})


@dataclass(frozen=True, slots=True)
class Item:
    id: uuid.UUID
    code: str
    category: str
    title: str
    department: str
    promised: int


class _Details:
    """Event details as JSON text, made once per distinct value."""

    def __init__(self) -> None:
        self._made: dict[tuple[Any, ...], str] = {}

    def __call__(self, *pairs: Any) -> str:
        text = self._made.get(pairs)
        if text is None:
            text = self._made[pairs] = json.dumps(dict(zip(pairs[::2], pairs[1::2], strict=True)), ensure_ascii=False)
        return text


@dataclass(slots=True, eq=False)
class Case:
    """A case as the service holds it after each move (instants in Unix seconds, due
    times in microseconds), and its timeline."""

    id: uuid.UUID
    item: Item
    department: str
    created_at: int
    updated_at: int
    status: str = _SUBMITTED
    version: int = 1
    promised: int | None = None
    accepted_at: int | None = None
    started_at: int | None = None
    materials_requested_at: int | None = None
    resolved_at: int | None = None
    closed_at: int | None = None
    rejected_at: int | None = None
    withdrawn_at: int | None = None
    due_at: int | None = None
    due_soon_at: int | None = None
    remaining: float | None = None
    resolved_on_time: bool | None = None
    awaited: str | None = None
    outcome: str | None = None
    reject_reason: str | None = None
    withdraw_reason: str | None = None
    resolutions: int = 0
    rating: str | None = None
    run_start: int | None = None
    """When the clock started running, while it runs."""
    used: int = 0
    """Working seconds the clock ran in its finished stretches."""
    events: list[tuple[int, str, str, uuid.UUID | None, str, str, str | None]] = field(default_factory=list)
    """(at, action, to_status, actor, visibility, details, note) of every move and rating."""
    ratings: list[tuple[Any, ...]] = field(default_factory=list)


class CaseMaker:
    """Takes cases through the workflow up to ``now``, the way the service's moves do."""

    def __init__(
        self, rng: random.Random, wt: WorkingTime, now: int, people: People, departments: list[str], rater: uuid.UUID
    ) -> None:
        self.rng, self.wt, self.now = rng, wt, now
        self.people, self.departments, self.rater = people, departments, rater
        self.details = _Details()
        self.next_rating_id = 1

    # -- when things happen (only the stored values must match the service, not these draws)

    def _after(self, moment: int, low: float, high: float) -> int:
        """Office hours on a working day some (``low`` to ``high``, rounded down) working days after ``moment``."""
        rng = self.rng
        days = int(low + (high - low) * rng.random())
        later = self.wt.working_day(moment, days) + OFFICE_OPEN + rng.randrange(OFFICE_HOURS)
        return later if later > moment else moment + 60 + rng.randrange(3600)

    def _when_used(self, case: Case, goal: float) -> int:
        """Office hours on the working day the clock will have run ``goal`` seconds in all."""
        assert case.run_start is not None
        last = case.events[-1][0]
        ahead = int(goal) - case.used
        if ahead <= 0:
            return self._after(last, 0, 0)
        later = self.wt.reached(case.run_start, ahead) + OFFICE_OPEN + self.rng.randrange(OFFICE_HOURS)
        return later if later > last else last + 60 + self.rng.randrange(3600)

    # -- the moves, as ``cases._apply`` and ``deadlines.refresh`` store them

    def _move(self, case: Case, action: str, to: str, at: int, actor: uuid.UUID | None, details: str) -> None:
        case.events.append((at, action, to, actor, "internal" if to == case.status else "public", details, None))
        was_running = case.status in _RUNNING
        case.status = to
        case.version += 1
        case.updated_at = at
        if case.promised is None:
            return
        runs = to in _RUNNING
        budget = case.promised * DAY
        if was_running and not runs:
            assert case.run_start is not None
            case.used += self.wt.seconds(case.run_start, at)
            case.run_start = None
        elif runs and not was_running:
            # A new running stretch moves the due times; a stopped clock keeps the last ones.
            case.run_start = at
            soon_budget = max(budget - due_soon_threshold(case.promised), 0.0)
            case.due_at = self.wt.add(at, budget - case.used)
            case.due_soon_at = self.wt.add(at, max(soon_budget - case.used, 0.0))
        case.remaining = budget - case.used

    def _liaison(self, case: Case) -> uuid.UUID:
        return self.people.liaisons[case.department]

    def _accept(self, case: Case, at: int) -> None:
        case.accepted_at, case.promised = at, case.item.promised
        self._move(
            case, "accept", _ACCEPTED, at, self._liaison(case), self.details("promised_working_days", case.promised)
        )

    def _reject(self, case: Case, at: int) -> None:
        case.rejected_at, case.reject_reason = at, self.rng.choice(REJECT_REASONS)
        self._move(case, "reject", _REJECTED, at, self._liaison(case), self.details("reason", case.reject_reason))

    def _withdraw(self, case: Case, at: int, steward: uuid.UUID) -> None:
        case.withdrawn_at, case.withdraw_reason = at, self.rng.choice(WITHDRAW_REASONS)
        self._move(case, "withdraw", _WITHDRAWN, at, steward, self.details("reason", case.withdraw_reason))

    def _start(self, case: Case, at: int) -> None:
        case.started_at = at
        self._move(case, "start", _IN_PROGRESS, at, self._liaison(case), "{}")

    def _request_materials(self, case: Case, at: int) -> None:
        case.materials_requested_at, case.awaited = at, self.rng.choice(MATERIALS)
        details = self.details("materials", case.awaited)
        self._move(case, "request_materials", _AWAITING, at, self._liaison(case), details)

    def _receive_materials(self, case: Case, at: int) -> None:
        if case.started_at is None:
            case.started_at = at
        details = self.details("materials", case.awaited)
        case.awaited = None
        self._move(case, "receive_materials", _IN_PROGRESS, at, self._liaison(case), details)

    def _transfer(self, case: Case, at: int) -> None:
        actor, previous = self._liaison(case), case.department
        case.department = self.rng.choice([d for d in self.departments if d != previous])
        reason = self.rng.choice(TRANSFER_REASONS)
        details = self.details("from_department", previous, "to_department", case.department, "reason", reason)
        self._move(case, "transfer", case.status, at, actor, details)

    def _resolve(self, case: Case, at: int) -> None:
        case.resolved_at, case.outcome = at, self.rng.choice(OUTCOMES)
        case.resolutions += 1
        case.resolved_on_time = case.due_at is None or at * US <= case.due_at
        details = self.details("outcome", case.outcome, "on_time", case.resolved_on_time)
        self._move(case, "resolve", _RESOLVED, at, self._liaison(case), details)

    def _reopen(self, case: Case, at: int, steward: uuid.UUID) -> None:
        case.resolved_on_time = case.outcome = case.rating = None
        self._move(case, "reopen", _IN_PROGRESS, at, steward, self.details("reason", self.rng.choice(REOPEN_REASONS)))

    def _close(self, case: Case, at: int, steward: uuid.UUID) -> None:
        case.closed_at = at
        self._move(case, "close", _CLOSED, at, steward, "{}")

    def _rate(self, case: Case, at: int, steward: uuid.UUID) -> None:
        """``satisfaction.rate``, and the steward's answer to a poor rating, if one comes."""
        rng = self.rng
        level = (LEVELS_ON_TIME if case.resolved_on_time else LEVELS_LATE).pick(rng)
        on_behalf, comment = rng.random() < 0.6, rng.choice(RATING_COMMENTS)
        due = answered = answer = None
        if needs_follow_up(Level(level)):
            due = self.wt.add(at, FOLLOW_UP_WORKING_DAYS * DAY)
            if rng.random() < 0.8:
                answered, answer = self._after(at, 0.3, 12.0), rng.choice(FOLLOW_UP_ANSWERS)
        case.rating = level
        case.ratings.append(
            (self.next_rating_id, max(case.resolutions, 1), level, comment, at, on_behalf, due, answer, answered)
        )
        self.next_rating_id += 1
        details = self.details("level", level, "on_behalf", on_behalf)
        case.events.append((at, "rate", case.status, steward if on_behalf else None, "public", details, comment))

    # -- a case's life

    def live(self, case: Case, steward: uuid.UUID) -> None:
        """Moves the case along a drawn path; nothing happens after ``now``."""
        rng, now = self.rng, self.now
        roll = rng.random()
        at = self._after(case.created_at, 40.0, 300.0) if roll < 0.004 else self._after(case.created_at, 0.0, 2.5)
        if at > now:
            return
        if roll < 0.045:
            self._reject(case, at)
            return
        if roll < 0.06:
            self._withdraw(case, at, steward)
            return
        self._accept(case, at)
        if rng.random() < 0.06:
            at = self._after(at, 0.0, 2.0)
            if at > now:
                return
            self._transfer(case, at)
        budget, shape = case.item.promised * DAY, rng.random()
        if shape < 0.012:  # stalled: nobody gets round to it
            goal = budget * rng.uniform(3.0, 8.0)
        elif shape < 0.13:  # late
            goal = budget * rng.uniform(1.02, 1.5)
        else:
            goal = budget * rng.triangular(0.08, 0.97, 0.35)
        marks = sorted(goal * rng.uniform(0.05, 0.7) for _ in range(PAUSES.pick(rng)))
        if marks and rng.random() < 0.3:
            at = self._after(at, 0.0, 1.5)  # materials are asked for straight after acceptance
        else:
            at = self._after(at, 0.0, 2.5 if shape >= 0.012 else 60.0)
            if at > now:
                return
            self._start(case, at)
        for mark in marks:
            if case.status == _IN_PROGRESS:
                at = self._when_used(case, mark)
            if at > now:
                return
            self._request_materials(case, at)
            at = self._after(at, 40.0, 200.0) if rng.random() < 0.04 else self._after(at, 0.3, 8.0)
            if at > now:
                return
            if rng.random() < 0.06:
                self._withdraw(case, at, steward)
                return
            self._receive_materials(case, at)
        if rng.random() < 0.012:
            at = self._when_used(case, goal * rng.uniform(0.3, 0.9))
            if at <= now:
                self._withdraw(case, at, steward)
            return
        at = self._when_used(case, goal)
        if at <= now:
            self._resolve(case, at)
            self._after_resolution(case, at, steward)

    def _after_resolution(self, case: Case, resolved: int, steward: uuid.UUID) -> None:
        """Ratings, a reopen within the window (more likely after a poor rating) and the close."""
        rng, now = self.rng, self.now
        last = resolved
        for round_ in (1, 2):
            if rng.random() < 0.5:
                rated = self._after(last, 0.0, 3.0)
                if rated > now:
                    return
                self._rate(case, rated, steward)
                last = rated
            poor = case.rating is not None and needs_follow_up(Level(case.rating))
            if round_ == 2 or rng.random() >= (0.35 if poor else 0.012):
                break
            at = self._after(last, 0.0, 4.0)
            if self.wt.seconds(resolved, at) > REOPEN_WITHIN_DAYS * DAY:
                break
            if at > now:
                return
            self._reopen(case, at, steward)
            last = self._when_used(case, case.used + rng.uniform(0.5, 5.0) * DAY)
            if last > now:
                return
            self._resolve(case, last)
        if rng.random() < 0.75:
            at = self._after(last, 2.0, 25.0)
            if at <= now:
                self._close(case, at, steward)

    # -- rows

    def rows(
        self, case: Case, case_no: str, worker: tuple[uuid.UUID, str, uuid.UUID], channel: str
    ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The case, event and rating rows as they stand at ``now``."""
        worker_id, district, steward = worker
        case_id, rater = case.id, self.rater
        create = self.details("channel", channel)
        events: list[tuple[Any, ...]] = [
            (case_id, case.created_at * US, steward, None, "create", None, _SUBMITTED, None, "public", create)
        ]
        timeline = case.events
        ratings: list[tuple[Any, ...]] = []
        open_follow_ups: list[int] = []
        for rating_id, resolution, level, comment, rated, on_behalf, due, answer, answered in case.ratings:
            if answered is not None and answered > self.now:
                answered = answer = None
            if answered is not None:
                details = json.dumps({"rating_id": rating_id, "on_time": answered * US <= due})
                timeline = [*timeline, (answered, "follow_up", "", steward, "public", details, answer)]
            elif due is not None:
                open_follow_ups.append(due)
            answered_by = (None, None) if answered is None else (answered * US, rater)
            rated_at = rated * US
            ratings.append(
                (rating_id, case_id, resolution, level, comment, rated_at, rater, on_behalf, due, answer, *answered_by)
            )
        if timeline is not case.events:
            timeline.sort(key=lambda event: event[0])
        status = _SUBMITTED
        for at, action, to, actor, visibility, details, note in timeline:
            # A rating or an answer leaves the status as it found it.
            to, account = (status, rater) if action in ("rate", "follow_up") else (to, None)
            events.append((case_id, at * US, actor, account, action, status, to, note, visibility, details))
            status = to
        item, rng = case.item, self.rng
        row = (
            case_id,
            case_no,
            worker_id,
            item.id,
            item.title + rng.choice(TITLE_ENDINGS),
            rng.choice(DESCRIPTIONS),
            channel,
            steward,
            case.department,
            district,
            case.status,
            case.version,
            case.promised,
            steward,
            case.created_at * US,
            case.updated_at * US,
            _us(case.accepted_at),
            _us(case.started_at),
            _us(case.materials_requested_at),
            _us(case.resolved_at),
            _us(case.closed_at),
            _us(case.rejected_at),
            _us(case.withdrawn_at),
            case.due_at,
            case.due_soon_at,
            case.remaining,
            case.resolved_on_time,
            case.awaited,
            case.outcome,
            case.reject_reason,
            case.withdraw_reason,
            case.resolutions,
            case.rating,
            min(open_follow_ups, default=None),
        )
        return row, events, ratings
