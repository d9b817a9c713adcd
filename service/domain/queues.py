"""The work queues of a staff member's cases: what waits for whom, by the rules stated
elsewhere in ``domain/``. Pure: no I/O.

A queue's list (``GET /cases?queue=``) and its count (``GET /cases/queues``) are built
from the one condition ``repositories/queues.py`` makes of each queue here, so the two
always agree:

- ``overdue``, ``due_soon``, ``on_track``, ``paused``: the due state a case shows
  (``domain/due.py``), the same as the case list's ``due_state`` filter. Together with
  ``new`` they split the open queue: a submitted case has no clock yet, a running one
  shows one of the first three, a paused one ``paused``.
- ``new``: submitted and not yet accepted (or rejected).
- ``materials_answered``: waiting for materials that the worker has sent; the clock is
  still stopped until someone confirms receipt (``receive_materials``).
- ``open``: not finished (``domain.due.UNFINISHED``), paused cases included. This is not
  the category ``open`` of the workflow, which leaves the paused cases out.
"""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never

from service.domain.due import PAUSED
from service.domain.time_limit import DueState
from service.domain.workflow import Status


class Queue(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    ON_TRACK = "on_track"
    PAUSED = "paused"
    NEW = "new"
    MATERIALS_ANSWERED = "materials_answered"
    OPEN = "open"


NEW: frozenset[Status] = frozenset({Status.SUBMITTED})
"""Requests nobody has accepted or rejected yet."""
WAITING_FOR_MATERIALS: frozenset[Status] = PAUSED
"""The statuses in which a case waits for the worker's materials."""


def due_state_of(queue: Queue) -> DueState | None:
    """The due state a queue holds the cases of, for the queues that are one."""
    match queue:
        case Queue.OVERDUE:
            return DueState.OVERDUE
        case Queue.DUE_SOON:
            return DueState.DUE_SOON
        case Queue.ON_TRACK:
            return DueState.ON_TRACK
        case Queue.PAUSED:
            return DueState.PAUSED
        case Queue.NEW | Queue.MATERIALS_ANSWERED | Queue.OPEN:
            return None
        case _:
            assert_never(queue)
