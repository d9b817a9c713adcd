"""Supervision notices (督办) end to end: issued on a late case, told to the department's
liaisons and the case's steward, answered and the issuer told; left unanswered, raised to
the city by the reminder pass once, then recorded as unanswered; refused where the rules
say; and counted in the officials' metrics with the cases behind each number.

Times are Asia/Shanghai; now is Tue 2026-06-02 10:00 (``tests/conftest.clock``). WL-01
promises 14 working days, so a case accepted on 05-06 10:00 ran out of time on 05-25 and
one accepted on 05-14 10:00 is due 06-03 10:00: due soon now.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.metrics import FigureName
from schemas.supervision import ReplyWorkingDays
from service.config import Settings
from service.db import make_engine, make_session_factory
from service.domain.case_number import format_case_number
from service.domain.metrics import SUPERVISION_COUNTERS, supervision_figure
from service.domain.notices import Kind
from service.domain.supervision import (
    MAX_REPLY_WORKING_DAYS,
    MIN_REPLY_WORKING_DAYS,
    Level,
    escalation_of,
    not_supervisable,
    replied_on_time,
)
from service.domain.time_limit import DAY
from service.domain.workflow import Status
from service.security.keys import generate_env, keys_from
from service.security.pii import PiiCipher
from service.services.reminders import PassResult, run_pass
from tests.conftest import Clock
from tests.factory import Api

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 2, 10, 0, tzinfo=CST)
LATE = datetime(2026, 5, 6, 10, 0, tzinfo=CST)
"""Accepted then: overdue now."""
SOON = datetime(2026, 5, 14, 10, 0, tzinfo=CST)
"""Accepted then: due soon now."""
ESCALATED = Kind.SUPERVISION_ESCALATED.value
SUPERVISION_LINES = {"supervise", "reply_supervision", "escalate_supervision", "supervision_unanswered"}
PII = PiiCipher(keys_from(generate_env()) or pytest.fail("no keys"))
Sessions = async_sessionmaker[AsyncSession]


@dataclass
class People:
    admin: Api
    steward: Api
    steward_record: dict[str, Any]
    worker: Api
    worker_record: dict[str, Any]
    housing: Api
    """A liaison of the housing department, which leads WL-01."""
    district: Api
    """An official of Yubei, where the worker lives."""
    city: Api
    """A city official (no district)."""
    city_account: dict[str, Any]
    clock: Clock


@pytest.fixture
async def people(client: AsyncTestClient[Litestar], clock: Clock) -> People:
    admin = Api(client)
    steward, staff = await admin.steward_account("李专员")
    record = await admin.worker(staff["id"], name="张三明")
    worker = await admin.account("worker", worker_id=record["id"])
    housing, _ = await admin.liaison_account("housing")
    district = await admin.account("official", district_code="yubei")
    city = await admin.account("official")
    city_account = await city.ok("GET", "/auth/me")
    return People(admin, steward, staff, worker, record, housing, district, city, city_account, clock)


@pytest.fixture
async def sessions(settings: Settings) -> Any:
    """Sessions of the test's own for the reminder pass (the app's engine lives on the
    client's loop)."""
    engine = make_engine(settings.database_url or "", pool_size=2)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


async def _pass(sessions: Sessions, now: datetime) -> PassResult:
    async with sessions() as session:
        return await run_pass(session, now, PII)


async def accepted_at(people: People, moment: datetime, worker: dict[str, Any] | None = None) -> dict[str, Any]:
    """A case of the worker (or another) accepted at ``moment``; the clock is back at now."""
    people.clock.set(moment - timedelta(hours=1))
    case: dict[str, Any] = await people.admin.case(worker_id=(worker or people.worker_record)["id"])
    people.clock.set(moment)
    case = await people.admin.move(case, "accept")
    people.clock.set(NOW)
    return case


async def issue(api: Api, case: dict[str, Any], days: int = 3, status: int = 201, **more: Any) -> dict[str, Any]:
    body = {
        "case_no": case["case_no"],
        "reason": "超期未办结，请说明原因并加快办理",
        "reply_working_days": days,
        **more,
    }
    result: dict[str, Any] = await api.ok("POST", "/supervisions", status, json=body)
    return result


async def inbox(api: Api) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await api.ok("GET", "/notifications"))["items"]
    return items


async def kinds(api: Api) -> list[str]:
    return [n["kind"] for n in await inbox(api)]


async def lines(api: Api, case: dict[str, Any]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = (await api.ok("GET", f"/cases/{case['id']}/events"))["items"]
    return [e for e in events if e["action"] in SUPERVISION_LINES]


async def test_a_notice_is_told_to_the_handling_side_answered_and_the_issuer_told(people: People) -> None:
    case = await accepted_at(people, LATE)
    notice = await issue(people.district, case)
    assert (notice["level"], notice["status"], notice["case_no"]) == ("district", "open", case["case_no"])
    assert datetime.fromisoformat(notice["reply_due_at"]) == datetime(2026, 6, 5, 10, 0, tzinfo=CST)
    assert notice["department_code"] == "housing" and notice["district_code"] == "yubei"

    for handler in (people.housing, people.steward):
        told = (await inbox(handler))[0]
        assert told["kind"] == "case.supervised" and told["case_id"] == case["id"]
        assert "超期未办结，请说明原因并加快办理" in told["body"] and case["case_no"] in told["title"]
        assert "请于 2026-06-05 10:00 前回复办理情况" in told["body"]
    assert "case.supervised" not in await kinds(people.worker)
    assert await kinds(people.city) == []

    # On the staff's timeline, internal; nowhere in the worker's view.
    [line] = await lines(people.steward, case)
    assert (line["action"], line["visibility"], line["from_status"]) == ("supervise", "internal", line["to_status"])
    mine = await people.worker.ok("GET", f"/my/cases/{case['id']}")
    assert not {e["action"] for e in mine["timeline"]} & SUPERVISION_LINES
    assert "督办" not in str(mine)

    # One notice waits for its reply at a time.
    problem = await people.admin.problem(
        "POST", "/supervisions", 409, json={"case_no": case["case_no"], "reason": "再次"}
    )
    assert problem["errors"][0]["field"] == "case_no" and "waiting for a reply" in problem["detail"]

    people.clock.set(NOW + timedelta(hours=3))
    answered = await people.housing.ok(
        "POST", f"/supervisions/{notice['id']}/reply", json={"reply": "已协调，预计本周办结"}
    )
    assert (answered["status"], answered["replied_on_time"], answered["reply"]) == (
        "replied",
        True,
        "已协调，预计本周办结",
    )
    assert await kinds(people.district) == ["case.supervision_replied"]
    assert (await inbox(people.district))[0]["body"].endswith("的督办已回复：已协调，预计本周办结")
    assert await kinds(people.city) == []  # a district-level notice is the district's
    assert [e["action"] for e in await lines(people.admin, case)] == ["supervise", "reply_supervision"]
    again = await people.steward.problem("POST", f"/supervisions/{notice['id']}/reply", 409, json={"reply": "补充"})
    assert "replied to already" in again["detail"]

    # Answered, the case can be supervised again; the notices read back as they were given.
    await issue(people.city, case)
    listed = await people.district.ok("GET", f"/supervisions?case_no={case['case_no']}")
    assert [n["status"] for n in listed["items"]] == ["open", "replied"] and listed["total"] == 2
    assert (await people.steward.ok("GET", f"/supervisions/{notice['id']}"))["replied_by"] is not None


async def test_an_unanswered_notice_rises_to_the_city_once_then_is_recorded_unanswered(
    people: People, sessions: Sessions
) -> None:
    case = await accepted_at(people, LATE)
    notice = await issue(people.district, case, days=1)
    deadline = datetime(2026, 6, 3, 10, 0, tzinfo=CST)
    assert datetime.fromisoformat(notice["reply_due_at"]) == deadline

    before = await _pass(sessions, deadline - timedelta(minutes=1))
    assert before.ran and before.told[ESCALATED] == 0

    # Two passes at once, and another after: the notice rises once.
    moment = deadline + timedelta(minutes=1)
    passes = await asyncio.gather(_pass(sessions, moment), _pass(sessions, moment))
    # The issuer and the city official, the department's liaison and the case's steward.
    assert sum(p.told.get(ESCALATED, 0) for p in passes) == 4
    assert (await _pass(sessions, moment + timedelta(minutes=5))).told[ESCALATED] == 0

    risen = await people.city.ok("GET", f"/supervisions/{notice['id']}")
    assert (risen["level"], risen["status"]) == ("city", "open")
    assert datetime.fromisoformat(risen["escalated_at"]) == moment
    new_deadline = datetime(2026, 6, 4, 10, 1, tzinfo=CST)
    assert datetime.fromisoformat(risen["reply_due_at"]) == new_deadline
    told = (await inbox(people.city))[0]
    assert told["kind"] == ESCALATED and "2026-06-04 10:01" in told["body"] and case["case_no"] in told["title"]
    for watching in (people.district, people.housing, people.steward):
        assert (await kinds(watching))[0] == ESCALATED
    assert ESCALATED not in await kinds(people.worker)
    assert [e["action"] for e in await lines(people.admin, case)] == ["supervise", "escalate_supervision"]

    # At city level, a deadline missed again is recorded, and rises no further.
    after = await _pass(sessions, new_deadline + timedelta(minutes=1))
    assert after.told[ESCALATED] == 0
    assert (await _pass(sessions, new_deadline + timedelta(hours=1))).told[ESCALATED] == 0
    unanswered = await people.district.ok("GET", f"/supervisions/{notice['id']}")
    assert (unanswered["level"], unanswered["status"]) == ("city", "unanswered")
    assert [e["action"] for e in await lines(people.admin, case)] == [
        "supervise",
        "escalate_supervision",
        "supervision_unanswered",
    ]

    # A late reply is still taken, and the supervisors (the city now) are told.
    people.clock.set(new_deadline + timedelta(hours=2))
    answered = await people.steward.ok("POST", f"/supervisions/{notice['id']}/reply", json={"reply": "已办结在即"})
    assert (answered["status"], answered["replied_on_time"]) == ("replied", False)
    assert (await kinds(people.city))[0] == "case.supervision_replied"
    assert (await kinds(people.district))[0] == "case.supervision_replied"


async def test_a_city_level_notice_is_not_escalated_and_a_holiday_waits(people: People, sessions: Sessions) -> None:
    case = await accepted_at(people, LATE)
    people.clock.set(datetime(2026, 9, 30, 10, 0, tzinfo=CST))  # the last working day before National Day
    notice = await issue(people.admin, case, days=1)
    assert notice["level"] == "city"
    assert datetime.fromisoformat(notice["reply_due_at"]) == datetime(2026, 10, 8, 10, 0, tzinfo=CST)
    held = await _pass(sessions, datetime(2026, 10, 8, 9, 0, tzinfo=CST))
    assert held.told[ESCALATED] == 0
    assert (await people.admin.ok("GET", f"/supervisions/{notice['id']}"))["status"] == "open"
    await _pass(sessions, datetime(2026, 10, 8, 10, 30, tzinfo=CST))
    recorded = await people.admin.ok("GET", f"/supervisions/{notice['id']}")
    assert (recorded["status"], recorded["escalated_at"]) == ("unanswered", None)
    # The city officials hear of it in nothing but their morning digests.
    assert [k for k in await kinds(people.city) if not k.startswith("official.")] == []


async def test_who_may_issue_and_on_which_cases(people: People) -> None:
    late = await accepted_at(people, LATE)
    for role in (people.steward, people.housing, people.worker):
        await issue(role, late, status=403)

    # Due soon is enough; on track, not yet accepted or finished is not.
    soon = await accepted_at(people, SOON)
    assert (await issue(people.district, soon))["status"] == "open"
    on_track = await accepted_at(people, NOW - timedelta(hours=1))
    problem = await people.district.problem(
        "POST", "/supervisions", 409, json={"case_no": on_track["case_no"], "reason": "督办"}
    )
    assert problem["errors"][0]["field"] == "case_no" and "neither overdue nor due soon" in problem["detail"]
    waiting = await people.admin.case(worker_id=people.worker_record["id"])
    await people.district.problem("POST", "/supervisions", 409, json={"case_no": waiting["case_no"], "reason": "督办"})
    done = await accepted_at(people, LATE)
    done = await people.admin.move(done, "start")
    done = await people.admin.move(done, "resolve", outcome="已办结")
    problem = await people.district.problem(
        "POST", "/supervisions", 409, json={"case_no": done["case_no"], "reason": "督办"}
    )
    assert "the case is resolved" in problem["detail"] and problem["errors"][0]["field"] == "case_no"

    # Out of a district official's district, the case does not exist for them.
    jiangbei = await people.admin.account("official", district_code="jiangbei")
    await jiangbei.problem("POST", "/supervisions", 404, json={"case_no": late["case_no"], "reason": "督办"})
    assert (await jiangbei.ok("GET", "/supervisions"))["total"] == 0

    # The reply period, the case number and the reason are checked, naming the field.
    for days in (MIN_REPLY_WORKING_DAYS - 1, MAX_REPLY_WORKING_DAYS + 1):
        body = {"case_no": late["case_no"], "reason": "督办", "reply_working_days": days}
        problem = await people.district.problem("POST", "/supervisions", 400, json=body)
        assert problem["errors"][0]["field"] == "reply_working_days", problem
    for body, field in (
        ({"case_no": "BS-2026", "reason": "督办"}, "case_no"),
        ({"case_no": late["case_no"]}, "reason"),
        ({"case_no": late["case_no"], "reason": ""}, "reason"),
        ({"case_no": late["case_no"], "reason": "督办", "level": "city"}, "level"),
    ):
        problem = await people.district.problem("POST", "/supervisions", 400, json=body)
        assert problem["errors"][0]["field"] == field, problem
    wrong_digit = late["case_no"][:-1] + str((int(late["case_no"][-1]) + 1) % 10)
    problem = await people.district.problem(
        "POST", "/supervisions", 400, json={"case_no": wrong_digit, "reason": "督办"}
    )
    assert problem["errors"][0]["field"] == "case_no"
    never = {"case_no": format_case_number(date(2026, 1, 1), 999_999), "reason": "督办"}
    await people.district.problem("POST", "/supervisions", 404, json=never)

    # Replying is for the case's steward and its department's liaisons.
    notice = await issue(people.district, late)
    other_steward, other = await people.admin.steward_account("王专员")
    await other_steward.problem("POST", f"/supervisions/{notice['id']}/reply", 404, json={"reply": "答复"})
    education, _ = await people.admin.liaison_account("education")
    await education.problem("POST", f"/supervisions/{notice['id']}/reply", 404, json={"reply": "答复"})
    await people.district.problem("POST", f"/supervisions/{notice['id']}/reply", 403, json={"reply": "答复"})
    await people.worker.problem("GET", f"/supervisions/{notice['id']}", 403)
    # The worker's steward reads a notice on a case another steward handles, and leaves the answer to them.
    people.clock.set(LATE - timedelta(hours=1))
    handled = await people.admin.case(worker_id=people.worker_record["id"], steward_id=other["id"])
    people.clock.set(LATE)
    handled = await people.admin.move(handled, "accept")
    people.clock.set(NOW)
    theirs = await issue(people.district, handled)
    assert (await people.steward.ok("GET", f"/supervisions/{theirs['id']}"))["status"] == "open"
    refused = await people.steward.problem("POST", f"/supervisions/{theirs['id']}/reply", 403, json={"reply": "答复"})
    assert "steward" in refused["detail"]
    await other_steward.ok("POST", f"/supervisions/{theirs['id']}/reply", json={"reply": "答复"})


@pytest.mark.parametrize(
    ("status", "due", "remaining", "verdict"),
    [
        (Status.IN_PROGRESS, NOW, 0.0, None),  # overdue at the due instant itself
        (Status.IN_PROGRESS, NOW + timedelta(seconds=1), 1.0, None),  # due soon
        (Status.ACCEPTED, NOW + timedelta(days=10), 8 * DAY, "neither overdue nor due soon"),
        (Status.AWAITING_MATERIALS, NOW - timedelta(days=1), -DAY, None),  # paused after it ran out
        (Status.AWAITING_MATERIALS, NOW + timedelta(days=1), DAY, "neither overdue nor due soon"),
        (Status.SUBMITTED, None, None, "neither overdue nor due soon"),
        (Status.RESOLVED, NOW - timedelta(days=1), -DAY, "the case is resolved"),
        (Status.CLOSED, NOW - timedelta(days=1), -DAY, "the case is closed"),
    ],
)
def test_which_cases_may_be_supervised(
    status: Status, due: datetime | None, remaining: float | None, verdict: str | None
) -> None:
    soon = None if due is None else due - timedelta(days=2)
    why = not_supervisable(status, due, soon, remaining, NOW)
    assert (why is None) == (verdict is None) and (verdict is None or verdict in (why or "")), why


def test_levels_escalation_and_time_of_a_reply() -> None:
    assert escalation_of(Level.DISTRICT) is Level.CITY and escalation_of(Level.CITY) is None
    deadline = NOW + timedelta(days=1)
    assert replied_on_time(deadline, deadline, None)
    assert not replied_on_time(deadline + timedelta(seconds=1), deadline, None)
    assert not replied_on_time(NOW, deadline, NOW - timedelta(hours=1))  # escalated first: late


def test_the_api_takes_the_reply_periods_the_rules_allow() -> None:
    _, meta = get_args(ReplyWorkingDays)
    assert (meta.ge, meta.le) == (MIN_REPLY_WORKING_DAYS, MAX_REPLY_WORKING_DAYS)
    assert {supervision_figure(c) for c in SUPERVISION_COUNTERS} <= set(get_args(FigureName))


async def test_the_metrics_count_notices_by_the_day_issued_with_their_cases(people: People, sessions: Sessions) -> None:
    admin = people.admin
    north = await admin.ok(
        "POST", "/staff", 201, json={"name": "江北管家", "role": "steward", "district_code": "jiangbei"}
    )
    jiangbei_worker = await admin.worker(north["id"], district_code="jiangbei")
    on_time, late, unanswered = [await accepted_at(people, LATE) for _ in range(3)]
    elsewhere = await accepted_at(people, LATE, jiangbei_worker)
    quiet = await accepted_at(people, LATE)  # overdue, never supervised

    a = await issue(people.district, on_time)
    b = await issue(people.district, late, days=1)
    await issue(people.city, unanswered, days=1)
    jiangbei = await admin.account("official", district_code="jiangbei")
    await issue(jiangbei, elsewhere)
    people.clock.set(NOW + timedelta(hours=1))
    await people.housing.ok("POST", f"/supervisions/{a['id']}/reply", json={"reply": "已办理"})
    await _pass(sessions, datetime(2026, 6, 3, 10, 1, tzinfo=CST))  # b rises, c is recorded unanswered
    people.clock.set(datetime(2026, 6, 3, 11, 0, tzinfo=CST))
    await people.steward.ok("POST", f"/supervisions/{b['id']}/reply", json={"reply": "已办理"})

    expected = {
        "issued": 4,
        "replied_on_time": 1,
        "replied_late": 1,
        "on_time_rate": 0.5,
        "escalated": 1,
        "open": 2,
        "unanswered": 1,
    }
    figures = await admin.ok("GET", "/metrics/supervision?period=2026")
    assert {k: figures[k] for k in expected} == expected
    behind = {
        "supervised": [on_time, late, unanswered, elsewhere],
        "supervision_replied_on_time": [on_time],
        "supervision_replied_late": [late],
        "supervision_escalated": [late],
        "supervision_open": [unanswered, elsewhere],
        "supervision_unanswered": [unanswered],
    }
    for figure, cases in behind.items():
        page = await admin.ok("GET", f"/metrics/cases?period=2026&figure={figure}")
        assert sorted(c["case_no"] for c in page["items"]) == sorted(c["case_no"] for c in cases), figure
        counter = next(c for c in SUPERVISION_COUNTERS if supervision_figure(c) == figure)
        assert page["total"] == figures[counter], figure
    assert quiet["case_no"] not in str(await admin.ok("GET", "/metrics/cases?period=2026&figure=supervised"))

    # The period is the day a notice was issued, not the day its case came in (May).
    assert (await admin.ok("GET", "/metrics/supervision?period=2026-05"))["issued"] == 0
    assert (await admin.ok("GET", "/metrics/supervision?period=2026-06"))["issued"] == 4
    # Scoped like every figure: a district official sees their district.
    mine = await jiangbei.ok("GET", "/metrics/supervision?period=2026")
    assert (mine["scope"]["district_code"], mine["issued"], mine["open"]) == ("jiangbei", 1, 1)
    listed = await jiangbei.ok("GET", "/metrics/cases?period=2026&figure=supervised")
    assert [c["case_no"] for c in listed["items"]] == [elsewhere["case_no"]]
    problem = await jiangbei.problem("GET", "/metrics/supervision?district=yubei", 403)
    assert problem["errors"][0]["field"] == "query.district"
    yubei = await people.district.ok("GET", "/metrics/supervision?period=2026")
    assert (yubei["issued"], yubei["escalated"]) == (3, 1)
    liaison = await people.housing.ok("GET", "/metrics/supervision?period=2026")
    assert liaison["scope"]["department_code"] == "housing" and liaison["issued"] == 4
    assert "张三明" not in str(figures) + str(listed)


async def test_the_lines_and_the_table_agree_in_the_database(people: People, sessions: Sessions) -> None:
    """Each issue, reply and escalation writes its line in the transaction that changes the notice."""
    case = await accepted_at(people, LATE)
    notice = await issue(people.district, case, days=1)
    await _pass(sessions, datetime(2026, 6, 3, 10, 1, tzinfo=CST))
    async with sessions() as session, session.begin():
        rows = (
            await session.execute(
                text(
                    "SELECT e.action, e.details->>'supervision_id', e.details->>'level', e.actor_id IS NULL "
                    "FROM case_event e WHERE e.case_id = :case AND e.action LIKE '%supervis%' ORDER BY e.id"
                ),
                {"case": case["id"]},
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("supervise", notice["id"], "district", True),  # an official is no member of staff
        ("escalate_supervision", notice["id"], "city", True),
    ]
