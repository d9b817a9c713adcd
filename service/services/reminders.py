"""Reminders from the clock, told to the case's steward once per case, kind and instant:
a case entering due-soon (yellow) or running out of time (red), one nobody has accepted
a working day after it was logged, and a follow-up that runs out within three working
days.

A pass is run by every service process every ``BANSHI_REMINDER_SECONDS`` (and by
``banshi reminders`` on demand). Passes are safe to run anywhere and often: one runs at a
time (a transaction-level advisory lock; a process that finds it taken skips its turn),
and each reminder has a unique ``dedupe_key``, so a case is never reminded twice of one
threshold even when passes overlap. A pass does nothing on a day that is not a working
day on the calendar, nor before 08:00 (``REMIND_FROM_HOUR``), so nobody is told "overdue"
on a holiday or at midnight (a due time can fall at the midnight that ends the last
working day before a holiday); the reminders wait for the next working morning. A case
paused for materials shows no due state, and is reminded when its clock runs again, for
its new due time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.notices import (
    DIGEST_CASES_NAMED,
    DIGESTS,
    FOLLOW_UP_WARNING_WORKING_DAYS,
    REMIND_FROM_HOUR,
    REMINDERS,
    UNACCEPTED_AFTER_WORKING_DAYS,
    Facts,
    Kind,
    Recipient,
    render,
    render_digest,
)
from service.domain.time_limit import CST, DAY, add_working_seconds, local_day
from service.repositories import reminders as repo
from service.repositories.reminders import Crossing
from service.security.pii import PiiCipher
from service.services import deliveries, digests, notices
from service.services.calendar import load_calendar
from service.services.supervision import escalate_unanswered

BATCH = 5_000
"""Cases read and reminders written per statement."""


@dataclass
class PassResult:
    ran: bool
    """False when another process held the pass, or the day is not a working day."""
    reason: str = ""
    told: dict[str, int] = field(default_factory=dict)


async def run_pass(session: AsyncSession, now: datetime, pii: PiiCipher) -> PassResult:
    """One reminder pass as of ``now``, in one transaction (with what goes out of it:
    ``pii`` seals the messages, ``services/deliveries.py``)."""
    async with session.begin():
        if not await repo.take_pass_lock(session):
            return PassResult(ran=False, reason="another pass is running")
        calendar = await load_calendar(session)
        if not calendar.is_working_day(local_day(now)):
            return PassResult(ran=False, reason=f"{local_day(now)} is not a working day")
        if now.astimezone(CST).hour < REMIND_FROM_HOUR:
            return PassResult(ran=False, reason=f"reminders are told from {REMIND_FROM_HOUR}:00")
        result = PassResult(ran=True)
        outlook = await deliveries.outlook(session, {*REMINDERS, *DIGESTS})
        remind = partial(_remind, session, pii, outlook)
        for kind in (Kind.DUE_SOON, Kind.OVERDUE):
            result.told[kind.value] = await remind(
                kind, now, partial(repo.due_crossings, session, kind, now, BATCH), _its_own_time
            )
        # Still submitted a working day after it was logged (a calendar day is the least that takes).
        late = UNACCEPTED_AFTER_WORKING_DAYS * DAY
        result.told[Kind.UNACCEPTED.value] = await remind(
            Kind.UNACCEPTED,
            now,
            lambda: repo.unaccepted(session, now - timedelta(seconds=late), BATCH),
            lambda c: _if_passed(add_working_seconds(c.at, late, calendar), now),
        )
        # A follow-up that runs out within the warning (no more than a month of calendar days).
        warning = FOLLOW_UP_WARNING_WORKING_DAYS * DAY
        result.told[Kind.FOLLOW_UP_DUE_SOON.value] = await remind(
            Kind.FOLLOW_UP_DUE_SOON,
            now,
            lambda: repo.open_follow_ups(session, now, now + timedelta(days=31), BATCH),
            lambda c: c.at if add_working_seconds(c.at, -warning, calendar) <= now else None,
        )
        result.told[Kind.DEPARTMENT_DIGEST.value] = await _digest(session, pii, outlook, now)
        result.told[Kind.OFFICIAL_DAILY_DIGEST.value] = await digests.daily(session, pii, outlook, now, calendar)
        result.told[Kind.OFFICIAL_WEEKLY_DIGEST.value] = await digests.weekly(session, pii, outlook, now, calendar)
        result.told[Kind.SUPERVISION_ESCALATED.value] = await escalate_unanswered(session, pii, now)
        return result


async def _digest(session: AsyncSession, pii: PiiCipher, outlook: deliveries.Outlook, now: datetime) -> int:
    """The departments' morning digests, written once a working day by the first pass (from
    ``REMIND_FROM_HOUR``): as of that pass, to each liaison of each department with cases due
    soon or overdue."""
    local = now.astimezone(CST)
    day_start = datetime.combine(local.date(), datetime.min.time(), tzinfo=CST)
    if await repo.digest_written(session, Kind.DEPARTMENT_DIGEST, day_start):
        return 0
    batch = notices.Batch(now)
    for load in await repo.department_loads(session, now, DIGEST_CASES_NAMED):
        title, body = render_digest(
            local.date().isoformat(), local.strftime("%H:%M"), load.overdue, load.due_soon, load.first_case_nos
        )
        event = deliveries.Event(f"{Kind.DEPARTMENT_DIGEST.value}:{load.department_code}:{local.date()}")
        for liaison_id in load.liaison_ids:
            batch.add(
                Kind.DEPARTMENT_DIGEST, Recipient(staff_id=liaison_id), event, title, body, threshold_at=day_start
            )
    return await batch.write(session, pii, outlook)


def _its_own_time(crossing: Crossing) -> datetime:
    return crossing.at


def _if_passed(moment: datetime, now: datetime) -> datetime | None:
    return moment if moment <= now else None


async def _remind(
    session: AsyncSession,
    pii: PiiCipher,
    outlook: deliveries.Outlook,
    kind: Kind,
    now: datetime,
    find: Callable[[], Awaitable[list[Crossing]]],
    threshold: Callable[[Crossing], datetime | None],
) -> int:
    """Write a reminder of ``kind`` for each case ``find`` gives whose ``threshold`` (the
    instant the reminder is for) has come; None means not yet."""
    told = 0
    while found := await find():
        batch = notices.Batch(now)
        for crossing in found:
            at = threshold(crossing)
            if at is None:
                continue
            due = crossing.at.astimezone(CST).strftime("%Y-%m-%d %H:%M")
            facts = Facts(case_no=crossing.case_no, item_title=crossing.item_title, due=due)
            title, body = render(kind, facts, outlook.texts)
            event = deliveries.Event(f"{kind.value}:{crossing.case_id}:{at.isoformat()}")
            who = Recipient(staff_id=crossing.steward_id)
            batch.add(kind, who, event, title, body, facts=facts, case_id=crossing.case_id, threshold_at=at)
        written = await batch.write(session, pii, outlook)
        told += written
        if len(found) < BATCH or written == 0:
            break
    return told
