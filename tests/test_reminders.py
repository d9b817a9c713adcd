"""Reminders from the clock, with the clock moved across the 2026 National Day holidays:
a case enters due-soon and runs out of time on the working-day calendar, its steward is
reminded exactly once per threshold even with two passes running at once, and nobody
is told "overdue" on a holiday."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.db import make_engine, make_session_factory
from service.domain.notices import REMIND_FROM_HOUR
from service.domain.time_limit import CST, DAY, add_working_seconds
from service.repositories.reminders import PASS_LOCK
from service.security.keys import generate_env, keys_from
from service.security.pii import PiiCipher
from service.services.calendar import load_calendar
from service.services.reminders import run_pass
from tests.conftest import Clock
from tests.factory import Api

DUE = datetime(2026, 10, 1, 0, 0, tzinfo=CST)
"""Midnight at the end of 30 September, the last working day before the holidays."""


Sessions = async_sessionmaker[AsyncSession]
PII = PiiCipher(keys_from(generate_env()) or pytest.fail("no keys"))
"""Seals what a pass sends out; these tests read the notices, not the sealed messages."""


@pytest.fixture
async def sessions(settings: Settings) -> Any:
    """Sessions of this test's own (the app's engine lives on the test client's loop), two
    connections, so that two passes can run at once as two processes would."""
    engine = make_engine(settings.database_url or "", pool_size=2)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


async def _calendar(sessions: Sessions) -> Any:
    async with sessions() as session, session.begin():
        return await load_calendar(session)


async def _pass(sessions: Sessions, now: datetime) -> Any:
    async with sessions() as session:
        return await run_pass(session, now, PII)


async def _reminders(sessions: Sessions, case_id: str) -> list[tuple[str, datetime]]:
    async with sessions() as session, session.begin():
        rows = await session.execute(
            text(
                "SELECT kind, created_at FROM notification WHERE case_id = :id AND kind IN "
                "('case.due_soon', 'case.overdue') ORDER BY seq"
            ),
            {"id": case_id},
        )
        return [(kind, at) for kind, at in rows.all()]


def _next_reminding_moment(moment: datetime, calendar: Any) -> datetime:
    """The first instant from ``moment`` at which a pass tells anyone (a working day, from
    eight), plus a minute."""
    local = moment.astimezone(CST)
    while not calendar.is_working_day(local.date()):
        local = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=CST)
    return max(local, datetime.combine(local.date(), time(REMIND_FROM_HOUR), tzinfo=CST)) + timedelta(minutes=1)


async def _accepted_at(api: Api, clock: Clock, moment: datetime) -> dict[str, Any]:
    clock.set(moment - timedelta(hours=1))
    case: dict[str, Any] = await api.case()
    clock.set(moment)
    return await api.move(case, "accept")


async def test_due_soon_and_overdue_are_told_once_and_never_on_a_holiday(
    client: AsyncTestClient[Litestar], sessions: Sessions, clock: Clock
) -> None:
    admin = Api(client)
    calendar = await _calendar(sessions)
    # Accepted exactly 14 working days before the holidays begin: due at their first midnight.
    case = await _accepted_at(admin, clock, add_working_seconds(DUE, -14 * DAY, calendar))
    assert datetime.fromisoformat(case["due"]["due_at"]) == DUE
    async with sessions() as session, session.begin():
        due_soon_at = await session.scalar(text('SELECT due_soon_at FROM "case" WHERE id = :id'), {"id": case["id"]})
    assert due_soon_at is not None and due_soon_at < DUE

    await _pass(sessions, due_soon_at - timedelta(minutes=1))
    assert await _reminders(sessions, case["id"]) == []

    yellow = _next_reminding_moment(due_soon_at, calendar)
    first = await _pass(sessions, yellow)
    assert first.ran and first.told["case.due_soon"] == 1
    assert (await _pass(sessions, yellow + timedelta(minutes=1))).told["case.due_soon"] == 0
    assert [k for k, _ in await _reminders(sessions, case["id"])] == ["case.due_soon"]

    # While one process's pass holds the lock, another's skips its turn.
    async with sessions() as holder, holder.begin():
        await holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PASS_LOCK})
        skipped = await _pass(sessions, yellow + timedelta(minutes=2))
    assert not skipped.ran and skipped.reason == "another pass is running"

    # The time runs out at midnight, on a holiday: every pass through the holidays waits.
    for moment in (
        DUE + timedelta(seconds=1),
        datetime(2026, 10, 1, 9, 0, tzinfo=CST),
        datetime(2026, 10, 7, 18, 0, tzinfo=CST),
    ):
        held = await _pass(sessions, moment)
        assert not held.ran and "not a working day" in held.reason, moment
    assert [k for k, _ in await _reminders(sessions, case["id"])] == ["case.due_soon"]

    # Nor at midnight on the first working day after them: the steward is told from eight.
    night = await _pass(sessions, datetime(2026, 10, 8, 0, 1, tzinfo=CST))
    assert not night.ran and "from 8:00" in night.reason
    back = datetime(2026, 10, 8, 8, 0, tzinfo=CST)  # the first working morning after the holidays
    passes = await asyncio.gather(_pass(sessions, back), _pass(sessions, back))
    assert sum(r.told.get("case.overdue", 0) for r in passes) == 1
    again = await _pass(sessions, back + timedelta(hours=1))
    assert again.ran and not any(again.told.values()), again.told
    told = await _reminders(sessions, case["id"])
    assert [k for k, _ in told] == ["case.due_soon", "case.overdue"]
    assert told[1][1] == back.astimezone(UTC)

    # The steward reads them in the inbox, newest first, with the due time as the pages show it.
    steward_id = case["steward_id"]
    async with sessions() as session, session.begin():
        bodies = (
            await session.execute(
                text("SELECT kind, body FROM notification WHERE staff_id = :s ORDER BY seq DESC"), {"s": steward_id}
            )
        ).all()
    assert [k for k, _ in bodies] == ["case.overdue", "case.due_soon"]
    assert "2026-10-01 00:00" in bodies[0][1] and case["case_no"] in bodies[0][1]


async def test_a_case_paused_for_materials_is_not_reminded_and_a_resolved_one_neither(
    client: AsyncTestClient[Litestar], sessions: Sessions, clock: Clock
) -> None:
    admin = Api(client)
    calendar = await _calendar(sessions)
    start = add_working_seconds(DUE, -14 * DAY, calendar)
    paused = await _accepted_at(admin, clock, start)
    clock.set(start + timedelta(hours=2))
    await admin.move(paused, "request_materials", materials="请补充学历证明")
    done = await _accepted_at(admin, clock, start + timedelta(hours=3))
    clock.set(start + timedelta(hours=4))
    done = await admin.move(done, "start")
    await admin.move(done, "resolve", outcome="已办结")

    result = await _pass(sessions, datetime(2026, 10, 8, 8, 0, tzinfo=CST))
    assert result.ran
    assert await _reminders(sessions, paused["id"]) == []
    assert await _reminders(sessions, done["id"]) == []


async def _kinds_for(sessions: Sessions, case_id: str, kind: str) -> list[datetime]:
    async with sessions() as session, session.begin():
        rows = await session.execute(
            text("SELECT threshold_at FROM notification WHERE case_id = :id AND kind = :kind ORDER BY seq"),
            {"id": case_id, "kind": kind},
        )
        return [at for (at,) in rows.all()]


async def test_a_case_nobody_accepts_within_a_working_day_is_told_after_the_holidays(
    client: AsyncTestClient[Litestar], sessions: Sessions, clock: Clock
) -> None:
    admin = Api(client)
    logged_at = datetime(2026, 9, 30, 10, 0, tzinfo=CST)  # the last working day before the holidays
    clock.set(logged_at)
    waiting = await admin.case()
    taken = await admin.case()
    clock.set(logged_at + timedelta(hours=1))
    await admin.move(taken, "accept")

    # A working day after 30 September 10:00 is 8 October 10:00: the holidays do not count.
    assert (await _pass(sessions, datetime(2026, 10, 8, 9, 59, tzinfo=CST))).told["case.unaccepted"] == 0
    late = await _pass(sessions, datetime(2026, 10, 8, 10, 1, tzinfo=CST))
    assert late.told["case.unaccepted"] == 1
    assert await _kinds_for(sessions, waiting["id"], "case.unaccepted") == [datetime(2026, 10, 8, 10, 0, tzinfo=CST)]
    assert (await _pass(sessions, datetime(2026, 10, 9, 10, 0, tzinfo=CST))).told["case.unaccepted"] == 0
    assert await _kinds_for(sessions, taken["id"], "case.unaccepted") == []


async def test_an_open_follow_up_is_told_three_working_days_before_it_runs_out(
    client: AsyncTestClient[Litestar], sessions: Sessions, clock: Clock
) -> None:
    admin = Api(client)
    calendar = await _calendar(sessions)
    start = datetime(2026, 11, 2, 10, 0, tzinfo=CST)
    case = await _accepted_at(admin, clock, start)
    case = await admin.move(case, "start")
    case = await admin.move(case, "resolve", outcome="已办结")
    rating = await admin.ok("POST", f"/cases/{case['id']}/ratings", 201, json={"level": "dissatisfied"})
    follow_up_due = datetime.fromisoformat(rating["follow_up_due_at"])
    warn_at = add_working_seconds(follow_up_due, -3 * DAY, calendar)

    before = await _pass(sessions, warn_at - timedelta(minutes=1))
    assert before.ran and before.told["case.follow_up_due_soon"] == 0
    during = await _pass(sessions, warn_at + timedelta(minutes=1))
    assert during.told["case.follow_up_due_soon"] == 1
    assert await _kinds_for(sessions, case["id"], "case.follow_up_due_soon") == [follow_up_due]
    assert (await _pass(sessions, warn_at + timedelta(hours=2))).told["case.follow_up_due_soon"] == 0


async def test_each_liaison_gets_one_morning_digest_of_the_departments_late_cases(
    client: AsyncTestClient[Litestar], sessions: Sessions, clock: Clock
) -> None:
    admin = Api(client)
    calendar = await _calendar(sessions)
    _, housing = await admin.liaison_account("housing")  # the lead department of WL-01
    _, education = await admin.liaison_account("education")
    late = await _accepted_at(admin, clock, add_working_seconds(DUE, -14 * DAY, calendar))
    morning = datetime(2026, 10, 8, 7, 59, tzinfo=CST)

    assert not (await _pass(sessions, morning)).ran  # before eight
    first = await _pass(sessions, morning + timedelta(minutes=2))
    assert first.told["department.digest"] == 1
    assert (await _pass(sessions, morning + timedelta(hours=3))).told["department.digest"] == 0
    async with sessions() as session, session.begin():
        digests = (
            await session.execute(
                text("SELECT staff_id, title, body FROM notification WHERE kind = 'department.digest'")
            )
        ).all()
    assert [str(staff_id) for staff_id, _, _ in digests] == [housing["id"]]
    assert education["id"] not in {str(s) for s, _, _ in digests}
    _, title, body = digests[0]
    assert "2026-10-08" in title
    assert "超期办件 1 件" in body and late["case_no"] in body
    # The next working morning brings the next digest.
    assert (await _pass(sessions, datetime(2026, 10, 9, 8, 30, tzinfo=CST))).told["department.digest"] == 1


async def test_officials_get_a_daily_and_a_weekly_digest_of_their_scope(
    client: AsyncTestClient[Litestar], sessions: Sessions, clock: Clock
) -> None:
    """The first working morning after the 2026 National Day holidays (Thursday 8
    October) is also the first working day of its week: each official gets both digests,
    of their own district or of the city, and the city's names the items behind target."""
    admin = Api(client)
    calendar = await _calendar(sessions)
    city = await admin.account("official")
    yubei = await admin.account("official", district_code="yubei")
    jiangbei = await admin.account("official", district_code="jiangbei")
    late = await _accepted_at(admin, clock, add_working_seconds(DUE, -14 * DAY, calendar))
    morning = datetime(2026, 10, 8, 8, 5, tzinfo=CST)

    told = (await _pass(sessions, morning)).told
    assert (told["official.daily_digest"], told["official.weekly_digest"]) == (3, 3)
    again = (await _pass(sessions, morning + timedelta(hours=2))).told
    assert (again["official.daily_digest"], again["official.weekly_digest"]) == (0, 0)

    async def mine(api: Api, kind: str) -> dict[str, Any]:
        items = [n for n in (await api.ok("GET", "/notifications"))["items"] if n["kind"] == kind]
        assert len(items) == 1, items
        only: dict[str, Any] = items[0]
        return only

    daily_city = await mine(city, "official.daily_digest")
    assert daily_city["title"] == "全市办件日报（2026-10-08）"
    assert "全市超期未办结 1 件，其中上一工作日以来新超期 1 件：" + late["case_no"] in daily_city["body"]
    assert "进度落后于年度目标的事项：" in daily_city["body"] and "人才住房保障（已办结 0 件" in daily_city["body"]
    daily_yubei = await mine(yubei, "official.daily_digest")
    assert daily_yubei["title"].startswith("渝北区办件日报") and late["case_no"] in daily_yubei["body"]
    assert "年度目标" not in daily_yubei["body"]  # the targets are the city's
    daily_jiangbei = await mine(jiangbei, "official.daily_digest")
    assert "超期未办结 0 件，其中上一工作日以来新超期 0 件。" in daily_jiangbei["body"]

    weekly_yubei = await mine(yubei, "official.weekly_digest")
    assert weekly_yubei["title"] == "渝北区办件周报（2026-09-28 至 2026-10-04）"
    assert "超期未办结 1 件" in weekly_yubei["body"]

    # Friday is no week's first working day; the next Monday is.
    friday = (await _pass(sessions, datetime(2026, 10, 9, 8, 30, tzinfo=CST))).told
    assert (friday["official.daily_digest"], friday["official.weekly_digest"]) == (3, 0)
    monday = (await _pass(sessions, datetime(2026, 10, 12, 8, 30, tzinfo=CST))).told
    assert (monday["official.daily_digest"], monday["official.weekly_digest"]) == (3, 3)
    friday_city = [n for n in (await city.ok("GET", "/notifications"))["items"] if n["kind"] == "official.daily_digest"]
    assert "其中上一工作日以来新超期 0 件" in friday_city[1]["body"]  # no longer new on Friday


async def test_a_reminder_is_written_once_whoever_writes_it(sessions: Sessions) -> None:
    """The unique dedupe key, for passes that overlap without the lock (another release,
    a restarted process): the second write of the same reminder writes nothing."""
    from service.repositories.notifications import insert_new

    async with sessions() as session, session.begin():
        steward = await session.scalar(text("SELECT id FROM staff LIMIT 1"))
        if steward is None:
            steward = await session.scalar(
                text(
                    "INSERT INTO staff (id, name, role, active, created_at, updated_at) "
                    "VALUES (gen_random_uuid(), '王管家', 'steward', true, now(), now()) RETURNING id"
                )
            )
        row = {"kind": "case.overdue", "staff_id": steward, "title": "t", "body": "b", "created_at": DUE}
        first = await insert_new(session, [{**row, "id": uuid.uuid4(), "dedupe_key": "case.overdue:x:y:z"}])
        second = await insert_new(session, [{**row, "id": uuid.uuid4(), "dedupe_key": "case.overdue:x:y:z"}])
    assert (len(first), len(second)) == (1, 0)
