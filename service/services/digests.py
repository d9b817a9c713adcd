"""The officials' digests (``domain/digests.py``), written by the reminder pass: each
working morning a daily one, and the first working morning of a week a weekly one, to
every active official account, for the official's district or the whole city. Each is
written once per official and day, whichever process's pass comes first."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.calendar import WorkingCalendar
from service.domain.digests import (
    CASES_NAMED,
    ITEMS_NAMED,
    behind_text,
    first_working_day_of_week,
    previous_working_day,
    render_daily,
    render_weekly,
    share_of_year,
)
from service.domain.notices import Kind, Recipient
from service.domain.time_limit import CST
from service.repositories import reminders as repo
from service.repositories.reminders import ScopeDay, ScopeWeek
from service.security.pii import PiiCipher
from service.services import deliveries, notices


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=CST)


async def _behind(session: AsyncSession, today: date, now: datetime) -> str:
    """The sentence naming the items behind their annual target (city officials only)."""
    items = await repo.items_behind(session, _midnight(date(today.year, 1, 1)), now, share_of_year(today), ITEMS_NAMED)
    return behind_text([(i.title, i.resolved, i.annual_target) for i in items])


async def daily(
    session: AsyncSession, pii: PiiCipher, outlook: deliveries.Outlook, now: datetime, calendar: WorkingCalendar
) -> int:
    local = now.astimezone(CST)
    today = local.date()
    if await repo.digest_written(session, Kind.OFFICIAL_DAILY_DIGEST, _midnight(today)):
        return 0
    officials = await repo.officials(session)
    if not officials:
        return 0
    since = _midnight(previous_working_day(today, calendar.is_working_day))
    scopes = await repo.overdue_by_scope(session, now, since, _midnight(today), CASES_NAMED)
    behind = await _behind(session, today, now)
    batch = notices.Batch(now)
    for official in officials:
        code = official.district_code
        scope = scopes.get(code) or ScopeDay(code, await repo.district_name(session, code), 0, 0, [])
        title, body = render_daily(
            scope=scope.scope_name,
            day=today.isoformat(),
            time=local.strftime("%H:%M"),
            overdue=scope.overdue,
            new_overdue=scope.new_overdue,
            case_nos=scope.first_new_case_nos,
            behind=behind if code is None else "",
        )
        event = deliveries.Event(f"{Kind.OFFICIAL_DAILY_DIGEST.value}:{code or 'city'}:{today}")
        who = Recipient(account_id=official.account_id)
        batch.add(Kind.OFFICIAL_DAILY_DIGEST, who, event, title, body, threshold_at=_midnight(today))
    return await batch.write(session, pii, outlook)


async def weekly(
    session: AsyncSession, pii: PiiCipher, outlook: deliveries.Outlook, now: datetime, calendar: WorkingCalendar
) -> int:
    local = now.astimezone(CST)
    today = local.date()
    if not first_working_day_of_week(today, calendar.is_working_day):
        return 0
    if await repo.digest_written(session, Kind.OFFICIAL_WEEKLY_DIGEST, _midnight(today)):
        return 0
    officials = await repo.officials(session)
    if not officials:
        return 0
    monday = today - timedelta(days=today.weekday())
    start, end = monday - timedelta(days=7), monday
    scopes = await repo.week_by_scope(session, now, _midnight(start), _midnight(end))
    behind = await _behind(session, today, now)
    batch = notices.Batch(now)
    for official in officials:
        code = official.district_code
        scope = scopes.get(code) or ScopeWeek(code, await repo.district_name(session, code), 0, 0, 0, 0)
        title, body = render_weekly(
            scope=scope.scope_name,
            start=start.isoformat(),
            end=(end - timedelta(days=1)).isoformat(),
            day=today.isoformat(),
            time=local.strftime("%H:%M"),
            received=scope.received,
            resolved=scope.resolved,
            on_time=scope.resolved_on_time,
            overdue=scope.overdue,
            behind=behind if code is None else "",
        )
        event = deliveries.Event(f"{Kind.OFFICIAL_WEEKLY_DIGEST.value}:{code or 'city'}:{start}")
        who = Recipient(account_id=official.account_id)
        batch.add(Kind.OFFICIAL_WEEKLY_DIGEST, who, event, title, body, threshold_at=_midnight(today))
    return await batch.write(session, pii, outlook)
