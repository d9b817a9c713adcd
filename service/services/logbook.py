"""Logging new cases: their numbers, taken together.

A case number is the day's next one, given in commit order without gaps, so the day's
counter row is locked from the statement that takes a number to the commit, and every
other creation of the day waits for that commit. Each process therefore logs the cases
that are ready (read, checked and built by their own requests: ``services/cases.ready_case``)
through its logbook: while one transaction holds the day's number, the cases that become
ready meanwhile wait in line, and the next transaction logs all of them at once, in the
order they came: their numbers in one statement, their notices, audit rows (one after the
other on one held chain) and kept answers in another, one commit. Under load the lock is
taken once for many cases; alone, a case is logged at once, as before.

A transaction refused for a case's own data (a constraint, a value) logs nothing; when it
held several cases, each is then logged alone in a transaction of its own, so that one case
that cannot be written (its worker removed meanwhile, say) does not fail the others. Any
other failure (the connection lost, perhaps during the commit; no connection to be had; a
deadlock; a timeout) is answered to every case of that transaction as it is (503), never
tried again here: a lost commit may have written them. A request that stops waiting (its
client went away) does not stop its case: once in line it is logged like the others.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import logging
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from schemas import cases as api
from service.adapters.telemetry import LOGGED_TOGETHER
from service.db import bound_engine, make_session_factory
from service.domain.time_limit import local_day
from service.models import Case, CaseEvent, WorkListItem
from service.repositories import cases as case_repo
from service.repositories.cases import FirstAnswer
from service.repositories.notifications import NoticeFacts
from service.services import audit, notices
from service.services.context import Context

_log = logging.getLogger(__name__)

BATCH = 64
"""The most cases one transaction logs."""


@dataclass(frozen=True, slots=True)
class Logged:
    case: Case
    query_code: str
    """Exists nowhere else once the case is logged: only its keyed hash is stored."""
    item_code: str
    line: CaseEvent
    """The first line of the case's timeline."""
    answer: api.CaseOut | None = None
    """The answer kept with the case (``KeepAnswer``)."""


@dataclass(frozen=True, slots=True)
class KeepAnswer:
    """A creation sent with an ``Idempotency-Key``: its answer, rendered by ``render`` once
    the case has its number, is kept in the statement that finishes logging it."""

    key: str
    request_hash: str
    render: Callable[[Logged], api.CaseOut]


@dataclass(frozen=True, slots=True)
class Ready:
    """A case read, checked and built, waiting for its number."""

    ctx: Context
    case: Case
    line: CaseEvent
    """Its first line, with the id taken for it."""
    query_code: str
    item: WorkListItem
    """Its work-list item, read with its references."""
    told: NoticeFacts | None
    """What its notices are written from, read with its references."""
    keep: KeepAnswer | None = None

    @property
    def key(self) -> tuple[uuid.UUID, str] | None:
        return None if self.keep is None else (self.ctx.caller.account_id, self.keep.key)


Outcome = Logged | FirstAnswer
"""A case logged, or what its ``Idempotency-Key`` got first (another request with the key
was logged while this one waited)."""


@dataclass(frozen=True, slots=True)
class _Waiting:
    ready: Ready
    outcome: asyncio.Future[Outcome]


class Logbook:
    """One per engine and process: the cases waiting for their numbers, and the task that
    logs them (running only while there are some)."""

    def __init__(self, engine: AsyncEngine) -> None:
        # Weakly: the logbook is kept by the engine's sync engine (``_books``) and must not
        # keep it alive.
        self._engine = weakref.ref(engine)
        self._waiting: list[_Waiting] = []
        self._runner: asyncio.Task[None] | None = None
        self._current: list[_Waiting] = []

    async def log(self, ready: Ready) -> Outcome:
        outcome: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        # An outcome nobody waits for any more (the request was cancelled) is still retrieved.
        outcome.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._waiting.append(_Waiting(ready, outcome))
        if self._runner is None or self._runner.done():
            # Its own context: the log lines of a batch carry no one request's id.
            self._runner = asyncio.create_task(self._run(), context=contextvars.Context())
        return await asyncio.shield(outcome)

    async def _run(self) -> None:
        try:
            while self._waiting:
                self._current = self._next_batch()
                await self._log(self._current)
                self._current = []
        finally:
            # Reached with cases unanswered only when this task was cancelled (the process
            # is stopping): the batch in hand, even half-way through trying its cases
            # alone, and those still waiting.
            self._runner = None
            for waiting in [*self._current, *self._waiting]:
                if not waiting.outcome.done():
                    waiting.outcome.set_exception(_stopped())
            self._current = []
            self._waiting.clear()

    def _next_batch(self) -> list[_Waiting]:
        """The first waiting case and those after it of the same day, in order, with no
        ``Idempotency-Key`` twice (a second use of a key waits for the first to commit)."""
        day = local_day(self._waiting[0].ready.ctx.now)
        batch: list[_Waiting] = []
        keys: set[tuple[uuid.UUID, str]] = set()
        left: list[_Waiting] = []
        for waiting in self._waiting:
            key = waiting.ready.key
            if len(batch) < BATCH and local_day(waiting.ready.ctx.now) == day and (key is None or key not in keys):
                batch.append(waiting)
                if key is not None:
                    keys.add(key)
            else:
                left.append(waiting)
        self._waiting = left
        return batch

    async def _log(self, batch: Sequence[_Waiting]) -> None:
        try:
            outcomes = await self._write([waiting.ready for waiting in batch])
        except (IntegrityError, DataError) as error:
            # A statement refused a case's own data (its worker removed meanwhile, say):
            # nothing was committed, and trying each case alone makes that one fail alone.
            if len(batch) == 1:
                _answer(batch[0], error)
                return
            _log.warning("%d cases could not be logged together (%s): each is logged alone", len(batch), _kind(error))
            for waiting in batch:
                await self._log([waiting])
            return
        except Exception as error:
            # Anything else (the connection lost, perhaps during the commit; no connection
            # to be had; a deadlock or a timeout) is every case's: trying them one by one
            # could log twice what a lost commit wrote, and would wait as long again for
            # each. Each request gets the error (503 for these, ``api/problems``).
            for waiting in batch:
                _answer(waiting, error)
            return
        LOGGED_TOGETHER.observe(sum(isinstance(outcome, Logged) for outcome in outcomes))
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if not waiting.outcome.done():
                waiting.outcome.set_result(outcome)

    async def _write(self, batch: Sequence[Ready]) -> list[Outcome]:
        engine = self._engine()
        if engine is None:
            raise _stopped()
        async with make_session_factory(engine)() as session, session.begin():
            keys = [key for ready in batch if (key := ready.key) is not None]
            first: dict[tuple[uuid.UUID, str], FirstAnswer] = {}
            if keys:
                await case_repo.lock_idempotency_keys(session, keys)
                first = await case_repo.first_answers(session, keys)
            new = [ready for ready in batch if ready.key not in first]
            logged = iter(await log_ready(session, new) if new else [])
            return [first[key] if (key := ready.key) in first else next(logged) for ready in batch]


def _answer(waiting: _Waiting, error: BaseException) -> None:
    if not waiting.outcome.done():
        waiting.outcome.set_exception(error)


def _kind(error: BaseException) -> str:
    """What a refusal was, without its text: the database's message and detail carry the
    refused row's values (a case's title and description)."""
    state = getattr(getattr(error, "orig", None), "sqlstate", None)
    return f"{type(error).__name__} {state}" if state else type(error).__name__


def _stopped() -> Exception:
    """For a case the process stopped logging before answering: the request is answered
    503 with ``Retry-After`` like a lost database connection (``api/problems``). The case
    may have been written if the commit was under way: a retry with the same
    ``Idempotency-Key`` finds it."""
    return ConnectionAbortedError("the service stopped before the case's logging was answered; try again")


async def log_ready(session: AsyncSession, batch: Sequence[Ready]) -> list[Logged]:
    """Log ``batch`` (cases of one day) inside the caller's transaction: an audit chain held
    for them first, then their numbers with the cases and their first lines in one statement
    (``case_repo.log_cases``), then what needed the numbers in one more: the notices, the
    audit rows and the kept answers (``case_repo.finish_logging``). Two round trips and the
    commit under the day's counter, whatever the number of cases (and, with e-mail, text
    messages or webhooks on, what planning their deliveries reads and writes, per case)."""
    kit = batch[0].ctx.kit
    await audit.hold_chain(session, len(batch))
    day = local_day(batch[0].ctx.now)
    await case_repo.log_cases(session, day, [ready.case for ready in batch], [ready.line for ready in batch])
    logged: list[Logged] = []
    planned: list[notices.Planned] = []
    drafts: list[audit.Draft] = []
    answers: list[dict[str, Any]] = []
    for ready in batch:
        ctx, case = ready.ctx, ready.case
        told = await notices.plan(session, ctx, case, ready.line, query_code=ready.query_code, read_ahead=ready.told)
        if told is not None:
            planned.append(told)
        details = {"case_no": case.case_no}
        drafts.append(audit.Draft(ctx.caller, "case.create", ctx.now, "case", case.id, details=details))
        one = Logged(case=case, query_code=ready.query_code, item_code=ready.item.code, line=ready.line)
        if ready.keep is not None:
            one = dataclasses.replace(one, answer=ready.keep.render(one))
            response = msgspec.json.encode(one.answer)
            account = ctx.caller.account_id
            answers.append(case_repo.first_answer(account, ready.keep.key, ready.keep.request_hash, case.id, response))
        logged.append(one)
    rows = await audit.linked_all(session, kit, drafts)
    notice_rows = [row for told in planned for row in told.batch.rows]
    written = await case_repo.finish_logging(session, notice_rows, rows, answers)
    for told in planned:
        await told.batch.sent(session, kit.pii, told.outlook, written)
    return logged


_books: weakref.WeakKeyDictionary[Engine, Logbook] = weakref.WeakKeyDictionary()


def waiting(engine: Engine) -> int:
    """How many cases wait in this process's logbook for ``engine`` (not yet in a transaction)."""
    book = _books.get(engine)
    return 0 if book is None else len(book._waiting)


def logbook_of(session: AsyncSession) -> Logbook:
    """The logbook of the engine ``session`` is bound to, in this process."""
    engine = bound_engine(session)
    book = _books.get(engine)
    if book is None:
        bind = session.bind
        assert isinstance(bind, AsyncEngine)  # the factory binds sessions to the engine
        book = _books[engine] = Logbook(bind)
    return book
