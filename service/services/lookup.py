"""The public lookup: a case number and its query code, no account. The completion
notice (``services/completion_notices.py``) is reached the same way, within the same limits.

Abuse is held off by two counters shared across processes (``service/adapters/limits.py``):
lookups per client address, and wrong codes per case number, which lock that number
for a while. A wrong number and a wrong code answer exactly alike, so the lookup does
not tell which case numbers exist; a locked number answers 429 whether it exists or not.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from schemas.worker_side import LookupOut
from service.adapters.limits import Counters
from service.domain.masking import mask_name
from service.domain.workflow import STATUS_LABELS_ZH, Status
from service.errors import DomainError, TooManyRequests
from service.models import Case
from service.repositories import cases as case_repo
from service.repositories import people as people_repo
from service.repositories import reference as reference_repo
from service.security.kit import SecurityKit
from service.services import completion_notices, query_codes
from service.services.calendar import calendar_for_reading
from service.services.completion_notices import CompletionNotice
from service.services.presenters.worker_side import public_due, public_timeline

log = logging.getLogger("banshi.lookup")
Shown = TypeVar("Shown")


class NoMatch(DomainError):
    """The same answer for an unknown number and a wrong code."""

    status = 404
    code = "not_found"
    title = "Not found"

    def __init__(self) -> None:
        super().__init__("no case matches this case number and query code", field="query.code")


@dataclass(frozen=True, slots=True)
class LookupLimits:
    per_address: int
    address_window_seconds: int
    lock_threshold: int
    lock_seconds: int


async def lookup(
    session: AsyncSession,
    kit: SecurityKit,
    counters: Counters,
    limits: LookupLimits,
    *,
    case_no: str,
    code: str,
    client_addr: str,
    now: datetime,
) -> LookupOut:
    async def show(case: Case) -> LookupOut:
        return await _shown(session, case, now)

    return await _by_code(session, kit, counters, limits, case_no, code, client_addr, show)


async def completion_notice(
    session: AsyncSession,
    kit: SecurityKit,
    counters: Counters,
    limits: LookupLimits,
    *,
    case_no: str,
    code: str,
    client_addr: str,
    reopen_window_days: int,
) -> CompletionNotice:
    """The completion notice by case number and code, counted against the lookup's own
    limits (a wrong code here is a wrong code there), with the worker's name masked."""

    async def show(case: Case) -> CompletionNotice:
        return await completion_notices.notice_of(session, case, reopen_window_days, masked=True)

    return await _by_code(session, kit, counters, limits, case_no, code, client_addr, show)


async def _by_code(
    session: AsyncSession,
    kit: SecurityKit,
    counters: Counters,
    limits: LookupLimits,
    case_no: str,
    code: str,
    client_addr: str,
    show: Callable[[Case], Awaitable[Shown]],
) -> Shown:
    """What ``show`` makes of the case with this number, if the code is its current one,
    within the limits per address and per case number."""
    spent = await counters.hit(f"lookup:address:{client_addr}", limits.address_window_seconds)
    if spent.hits > limits.per_address:
        raise TooManyRequests("too many lookups from this address; try again later", spent.seconds_left)
    number = case_no.strip().upper()
    lock_key = query_codes.lockout_key(number)
    wrong = await counters.peek(lock_key)
    if wrong.hits >= limits.lock_threshold:
        raise TooManyRequests("too many wrong query codes for this case number; try again later", wrong.seconds_left)
    async with session.begin():
        case = await case_repo.case_by_number(session, number)
        shown = await show(case) if case is not None and query_codes.matches(kit, case, code) else None
    if shown is None:  # counted after the transaction: no connection waits on the shared counters
        failed = await counters.hit(lock_key, limits.lock_seconds)
        if failed.hits >= limits.lock_threshold:
            await counters.extend(lock_key, limits.lock_seconds)
            log.warning("lookup locked for case number %s after %d wrong codes", number, failed.hits)
        raise NoMatch()
    return shown


async def _shown(session: AsyncSession, case: Case, now: datetime) -> LookupOut:
    """What the lookup shows of a case whose number and code matched."""
    item = await reference_repo.get_item(session, case.item_id)
    worker = await people_repo.get_worker(session, case.worker_id)
    assert item is not None  # foreign key
    assert worker is not None  # foreign key
    calendar = await calendar_for_reading(session)
    status = Status(case.status)
    return LookupOut(
        case_no=case.case_no,
        item_code=item.code,
        item_title=item.title_zh,
        status=status.value,
        status_label=STATUS_LABELS_ZH[status],
        received_at=case.created_at,
        due=public_due(case, item.promised_working_days, calendar, now),
        awaited_materials=case.awaited_materials if status is Status.AWAITING_MATERIALS else None,
        worker_name_masked=mask_name(worker.name),
        timeline=public_timeline(await case_repo.events_of(session, case.id)),
    )
