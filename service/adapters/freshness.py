"""Which committed writes make a process-local cache stale.

A few things are read on nearly every request and change rarely: who a bearer token
belongs to, and the working-day calendar. Each process keeps them for a few seconds
(``security/signed_in.py``, ``services/calendar.py``). A cache names the tables it
depends on with a ``Watch``; any transaction in this process that writes one of those
tables, through the ORM or a bulk statement, bumps the watch's generation when it
commits, and every entry taken before that is stale at once. Writes made by other
processes are seen when the entry's few seconds are up.

A cache takes ``watch.generation`` before it reads the database and stores what it
read only if the generation is still the same, so a read that overlapped a commit
never stores the old rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

_TOUCHED = "banshi.touched_tables"


class Watch:
    """The tables one cache depends on, and how many commits have changed them."""

    def __init__(self, *tables: str) -> None:
        self.tables = frozenset(tables)
        self.generation = 0


_watches: list[Watch] = []


def watch(*tables: str) -> Watch:
    w = Watch(*tables)
    _watches.append(w)
    return w


def _touched(session: Session) -> set[str]:
    touched: set[str] = session.info.setdefault(_TOUCHED, set())
    return touched


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(inspect(obj).mapper.local_table, "name", None)
        if table is not None:
            _touched(session).add(table)


KEEPS_CACHES = {"keeps_caches": True}
"""Execution options of a write that no cache depends on (marking a session as used)."""


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and not state.execution_options.get("keeps_caches"):
        table: Any = getattr(state.statement, "table", None)
        name = getattr(table, "name", None)
        if name is not None:
            _touched(state.session).add(name)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    touched = session.info.pop(_TOUCHED, None)
    if touched:
        for w in _watches:
            if w.tables & touched:
                w.generation += 1


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_TOUCHED, None)
