"""``banshi demo-data``: generated rows the service itself could have written.

One small database is generated once for the module; the checks read it. Due times,
clocks and ratings are recomputed here with the domain's own day-by-day functions
from each case's event history, and the tallies with the metrics' own raw path.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from service.app import create_app
from service.cli import main
from service.config import get_settings, security_kit
from service.db import make_engine, make_session_factory
from service.demo import DEFAULT_NOW, DemoDataRefused, DemoOptions, WorkingTime, generate
from service.domain.calendar import DayKind, Override, WorkingCalendar, build_calendar
from service.domain.case_number import format_case_number, normalise_case_number
from service.domain.identity import mobile_problem, national_id_problem
from service.domain.metrics import Period
from service.domain.satisfaction import FOLLOW_UP_WORKING_DAYS
from service.domain.time_limit import (
    CST,
    DAY,
    add_working_seconds,
    compute_deadline,
    due_soon_threshold,
    status_changes,
    working_seconds,
)
from service.domain.workflow import Status
from service.repositories.metrics import Scope, count
from service.security.keys import Keys, generate_env
from service.security.kit import SecurityKit
from service.security.pii import PiiCipher
from service.services.calendar import load_calendar
from tests.conftest import Clock, base_settings
from tests.factory import ADMIN_PASSWORD, Api
from tests.postgres import Databases, asyncpg_dsn

WORKERS, CASES = 200, 2000
OPTIONS = DemoOptions(workers=WORKERS, cases=CASES, batch_size=700)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Demo:
    url: str
    kit: SecurityKit
    summary: dict[str, Any]


@pytest.fixture(scope="module")
async def demo(databases: Databases, test_keys: Keys) -> AsyncIterator[Demo]:
    url = await databases.clone()
    kit = security_kit(base_settings(test_keys, url))
    try:
        yield Demo(url, kit, await generate(url, kit, OPTIONS))
    finally:
        await databases.drop(url)


async def fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows: list[asyncpg.Record] = await connection.fetch(query, *args)
        return rows
    finally:
        await connection.close()


async def value(url: str, query: str, *args: Any) -> Any:
    return (await fetch(url, query, *args))[0][0]


@asynccontextmanager
async def session_for(url: str) -> AsyncIterator[AsyncSession]:
    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


def test_working_time_gives_the_domain_instants() -> None:
    """The per-day table against the day-by-day loops, on awkward amounts too: the
    due-soon budgets (float), whole days ending at midnight, negative amounts, zero."""
    calendars = [
        WorkingCalendar(),
        build_calendar(
            [Override(date(2025, 3, 3), DayKind.HOLIDAY, "停"), Override(date(2025, 3, 8), DayKind.WORKDAY, "补")], []
        ),
    ]
    rng = random.Random(7)
    low, high = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp()), int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    for calendar in calendars:
        table = WorkingTime(calendar, date(2024, 9, 1), date(2028, 12, 31))
        for _ in range(3000):
            start = rng.randrange(low, high)
            if rng.random() < 0.3:  # at or near a local midnight, or at 04:48 / 19:12
                start -= (start + 8 * 3600) % 86_400 - rng.choice([0, 1, 17_280, 69_120, 86_399])
            promised = rng.choice([1, 3, 14, 20])
            used = rng.choice([0, 17_280 * rng.randrange(60), rng.randrange(25 * 86_400)])
            amount = rng.choice(
                [
                    0.0,
                    promised * DAY - used,
                    max(promised * DAY - due_soon_threshold(promised), 0.0) - used,
                    float(rng.randrange(-40 * 86_400, 40 * 86_400)),
                    86_400.0 * rng.randrange(-10, 10),
                ]
            )
            at = EPOCH + timedelta(seconds=start)
            assert EPOCH + timedelta(microseconds=table.add(start, amount)) == add_working_seconds(
                at, amount, calendar
            ), (at, amount)
            end = start + rng.randrange(50 * 86_400)
            assert table.seconds(start, end) == working_seconds(at, EPOCH + timedelta(seconds=end), calendar)


async def test_rows_of_every_kind(demo: Demo) -> None:
    url = demo.url
    rows = demo.summary["rows"]
    for table in ("case", "case_event", "satisfaction_rating", "worker", "staff", "steward_assignment"):
        assert rows[table] == await value(url, f'SELECT count(*) FROM "{table}"'), table
    assert rows["case"] == CASES
    assert rows["worker"] == rows["steward_assignment"] == WORKERS
    statuses = {r[0] for r in await fetch(url, 'SELECT DISTINCT status FROM "case"')}
    assert statuses == {s.value for s in Status}
    items = await fetch(url, 'SELECT DISTINCT w.code, w.year FROM "case" c JOIN work_list_item w ON w.id = c.item_id')
    assert {code for code, _ in items} == {f"WL-{n:02d}" for n in range(1, 21)}
    assert {year for _, year in items} == {2025, 2026}
    assert await value(url, 'SELECT count(DISTINCT district_code) FROM "case"') == 41
    # The item row is the one of the year the case was received in.
    assert not await value(
        url,
        'SELECT count(*) FROM "case" c JOIN work_list_item w ON w.id = c.item_id '
        "WHERE w.year <> extract(year FROM c.received_on)",
    )
    mix = dict(await fetch(url, 'SELECT status, count(*) FROM "case" GROUP BY 1'))
    assert mix["closed"] + mix["resolved"] > CASES * 0.75
    late = await value(
        url, "SELECT count(*) FROM \"case\" WHERE status IN ('resolved', 'closed') AND NOT resolved_on_time"
    )
    assert 0.03 * CASES < late < 0.25 * CASES
    moves = dict(await fetch(url, "SELECT action, count(DISTINCT case_id) FROM case_event GROUP BY 1"))
    assert moves["transfer"] and moves["request_materials"] and moves["reopen"] and moves["follow_up"]
    assert await value(
        url,
        "SELECT count(*) FROM (SELECT case_id FROM case_event WHERE action = 'request_materials' "
        "GROUP BY 1 HAVING count(*) = 2) twice",
    )


async def test_people(demo: Demo) -> None:
    url = demo.url
    stewards = await fetch(url, "SELECT id, district_code FROM staff WHERE role = 'steward'")
    assert {d for _, d in stewards} == {r[0] for r in await fetch(url, "SELECT code FROM district")}
    liaisons = await fetch(url, "SELECT department_code FROM staff WHERE role = 'liaison'")
    assert sorted(r[0] for r in liaisons) == sorted(r[0] for r in await fetch(url, "SELECT code FROM department"))
    assert not await value(
        url,
        "SELECT count(*) FROM worker w JOIN staff s ON s.id = w.steward_id "
        "WHERE s.role <> 'steward' OR s.district_code <> w.district_code",
    )
    assert not await value(
        url,
        "SELECT count(*) FROM worker w LEFT JOIN steward_assignment a ON a.worker_id = w.id "
        "AND a.steward_id = w.steward_id WHERE a.id IS NULL",
    )
    # Cases belong to their worker's district and steward.
    assert not await value(
        url,
        'SELECT count(*) FROM "case" c JOIN worker w ON w.id = c.worker_id '
        "WHERE c.district_code <> w.district_code OR c.steward_id <> w.steward_id",
    )


async def test_personal_data_opens_with_the_service_keys(demo: Demo) -> None:
    pii: PiiCipher = demo.kit.pii
    workers = await fetch(
        demo.url, "SELECT id, national_id_sealed, national_id_index, mobile_sealed, mobile_index FROM worker"
    )
    seen: set[str] = set()
    for worker_id, id_sealed, id_index, mobile_sealed, mobile_index in workers:
        national_id = pii.open(id_sealed, f"worker:{worker_id}:national_id")
        mobile = pii.open(mobile_sealed, f"worker:{worker_id}:mobile")
        assert national_id_problem(national_id) is None
        assert mobile_problem(mobile) is None
        assert pii.index(national_id, "national_id") == id_index
        assert pii.index(mobile, "mobile") == mobile_index
        seen.add(national_id)
    assert len(seen) == WORKERS


async def test_case_numbers_and_daily_counters(demo: Demo) -> None:
    cases = await fetch(demo.url, 'SELECT case_no, received_on FROM "case"')
    by_day: dict[date, list[int]] = {}
    for case_no, received_on in cases:
        assert normalise_case_number(case_no) == case_no
        assert case_no[3:11] == f"{received_on:%Y%m%d}"
        by_day.setdefault(received_on, []).append(int(case_no[12:18]))
    numbers = {case_no for case_no, _ in cases}
    for day, sequences in by_day.items():
        assert sorted(sequences) == list(range(1, len(sequences) + 1))
        assert format_case_number(day, len(sequences)) in numbers
    counters = dict(await fetch(demo.url, "SELECT day, last_value FROM case_number_counter"))
    assert counters == {day: len(sequences) for day, sequences in by_day.items()}
    # Numbers follow the order cases were received in.
    ordered = [r[0] for r in await fetch(demo.url, 'SELECT case_no FROM "case" ORDER BY created_at, case_no')]
    assert ordered == sorted(ordered)


async def test_tallies_are_the_sums_of_the_cases(demo: Demo) -> None:
    period = Period(date(2025, 1, 1), date(2026, 12, 1), "two years")
    async with session_for(demo.url) as session:
        for group in (None, "item", "district", "department", "steward"):
            from_tallies = await count(session, period, group, Scope())
            from_cases = await count(session, period, group, Scope(), tallies=False)
            assert from_tallies.by_key == from_cases.by_key, group
        everything = (await count(session, period, None, Scope())).by_key[None].counts
    statuses = dict(await fetch(demo.url, 'SELECT status, count(*) FROM "case" GROUP BY 1'))
    assert everything["received"] == CASES
    assert everything["submitted"] == statuses["submitted"]
    assert everything["in_progress"] == statuses["accepted"] + statuses["in_progress"]
    assert everything["resolved"] == statuses["resolved"] + statuses["closed"]
    assert everything["withdrawn"] == statuses["withdrawn"]
    assert everything["rated"] == await value(demo.url, 'SELECT count(rating) FROM "case"')


async def test_due_times_and_clocks_follow_the_event_history(demo: Demo) -> None:
    """What ``deadlines.refresh`` would have stored after each move, recomputed from the events."""
    async with session_for(demo.url) as session:
        calendar = await load_calendar(session)
    cases = await fetch(
        demo.url,
        "SELECT id, status, version, promised_working_days, due_at, due_soon_at, clock_remaining_seconds, "
        'resolved_on_time, resolved_at, resolutions, accepted_at FROM "case" ORDER BY case_no',
    )
    events = await fetch(
        demo.url,
        "SELECT case_id, at, action, from_status, to_status FROM case_event ORDER BY case_id, id",
    )
    history: dict[Any, list[asyncpg.Record]] = {}
    for event in events:
        history.setdefault(event["case_id"], []).append(event)
    checked = Counter[str]()
    # Every unfinished and reopened case, and some of the others.
    plain = [c for c in cases if c["status"] in ("resolved", "closed") and c["resolutions"] == 1]
    sample = [c for c in cases if c["status"] not in ("resolved", "closed") or c["resolutions"] > 1]
    sample += random.Random(3).sample(plain, 300)
    for case in sample:
        timeline = history[case["id"]]
        assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
        moves = [e for e in timeline if e["action"] not in ("create", "rate", "follow_up")]
        assert case["version"] == 1 + len(moves)
        assert sum(e["action"] == "resolve" for e in timeline) == case["resolutions"]
        promised = case["promised_working_days"]
        if promised is None:
            assert case["due_at"] is case["clock_remaining_seconds"] is case["accepted_at"] is None
            continue
        changes = status_changes([(e["at"], e["to_status"]) for e in timeline if e["from_status"] != e["to_status"]])
        due = soon = on_time = deadline = None
        for upto in range(1, len(changes) + 1):
            if changes[upto - 1].to_status is Status.RESOLVED:
                on_time = due is None or changes[upto - 1].at <= due
            deadline = compute_deadline(promised, changes[:upto], calendar)
            if deadline is not None and deadline.due_at is not None:
                due, soon = deadline.due_at, deadline.due_soon_at
        assert deadline is not None
        assert (case["due_at"], case["due_soon_at"]) == (due, soon), case["id"]
        assert case["clock_remaining_seconds"] == deadline.remaining_seconds
        if case["status"] in ("resolved", "closed"):
            assert case["resolved_on_time"] is on_time
        checked[case["status"]] += 1
    assert set(checked) >= {"accepted", "in_progress", "awaiting_materials", "resolved", "closed", "withdrawn"}


async def test_ratings_and_follow_ups(demo: Demo) -> None:
    async with session_for(demo.url) as session:
        calendar = await load_calendar(session)
    rater = await value(demo.url, "SELECT id FROM account WHERE username = 'demo-data'")
    ratings = await fetch(
        demo.url,
        "SELECT r.*, c.status, c.resolutions, c.rating AS current, c.follow_up_due_at AS case_due, c.resolved_at "
        'FROM satisfaction_rating r JOIN "case" c ON c.id = r.case_id ORDER BY r.id',
    )
    assert ratings and all(r["rated_by"] == rater for r in ratings)
    open_due: dict[Any, list[datetime]] = {}
    answered = 0
    for r in ratings:
        assert r["status"] in ("resolved", "closed")
        assert 1 <= r["resolution"] <= r["resolutions"]
        if r["resolution"] == r["resolutions"]:
            assert r["current"] == r["level"] and r["rated_at"] >= r["resolved_at"]
        if r["level"] in ("dissatisfied", "very_dissatisfied"):
            assert r["follow_up_due_at"] == add_working_seconds(r["rated_at"], FOLLOW_UP_WORKING_DAYS * DAY, calendar)
            if r["follow_up_answered_at"] is None:
                open_due.setdefault(r["case_id"], []).append(r["follow_up_due_at"])
            else:
                answered += 1
                assert r["follow_up_answered_by"] == rater and r["follow_up_answer"]
        else:
            assert r["follow_up_due_at"] is None
    assert answered and open_due
    cases_due = dict(
        await fetch(demo.url, 'SELECT id, follow_up_due_at FROM "case" WHERE follow_up_due_at IS NOT NULL')
    )
    assert cases_due == {case_id: min(dues) for case_id, dues in open_due.items()}
    assert await value(demo.url, "SELECT count(*) FROM case_event WHERE action = 'rate'") == len(ratings)
    assert await value(demo.url, "SELECT count(*) FROM case_event WHERE action = 'follow_up'") == answered
    # The identity goes on from the loaded ids.
    assert await value(demo.url, "SELECT nextval(pg_get_serial_sequence('satisfaction_rating', 'id'))") > len(ratings)


async def test_a_database_with_cases_is_refused(demo: Demo) -> None:
    with pytest.raises(DemoDataRefused, match="already holds"):
        await generate(demo.url, demo.kit, OPTIONS)


async def test_the_same_seed_gives_the_same_data(demo: Demo, databases: Databases) -> None:
    url = await databases.clone()
    try:
        await generate(url, demo.kit, OPTIONS)
        # Everything but the sealed values and the account the ratings are recorded under.
        queries = (
            "SELECT md5(string_agg(c::text, '|' ORDER BY c.case_no)) FROM \"case\" c",
            "SELECT md5(string_agg(concat_ws(',', case_id, at, actor_id, action, from_status, to_status, note, "
            "visibility, details), '|' ORDER BY case_id, id)) FROM case_event",
            "SELECT md5(string_agg(concat_ws(',', id, name, district_code, steward_id, employer, national_id_index), "
            "'|' ORDER BY id)) FROM worker",
            "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM case_tally t",
        )
        for query in queries:
            assert await value(url, query) == await value(demo.url, query), query
    finally:
        await databases.drop(url)


async def test_the_service_carries_on_from_the_generated_rows(databases: Databases, test_keys: Keys) -> None:
    """Moves and a rating through the API on generated cases: the service finds the
    clock where the generator left it, and the tally trigger continues from the rebuilt tallies."""
    url = await databases.clone()
    try:
        settings = base_settings(test_keys, url)
        await generate(url, security_kit(settings), OPTIONS)
        now = DEFAULT_NOW + timedelta(hours=1)
        app = create_app(settings, clock=Clock(now))
        async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
            api = await Api(client).login("admin", ADMIN_PASSWORD)
            moves = {
                "awaiting_materials": {"action": "receive_materials"},
                "in_progress": {"action": "resolve", "outcome": "已办结"},
                "submitted": {"action": "accept"},
            }
            moved: list[Any] = []
            for status, move in moves.items():
                pick = 'SELECT * FROM "case" WHERE status = $1 AND id <> ALL($2::uuid[]) ORDER BY case_no LIMIT 1'
                case = (await fetch(url, pick, status, moved))[0]
                moved.append(case["id"])
                etag = f'"{case["id"]}.{case["version"]}"'
                await api.ok("POST", f"/cases/{case['id']}/transitions", json=move, headers={"If-Match": etag})
                after = (await fetch(url, 'SELECT * FROM "case" WHERE id = $1', case["id"]))[0]
                if status == "awaiting_materials":
                    assert after["clock_remaining_seconds"] == case["clock_remaining_seconds"]
                if status == "in_progress":
                    assert after["resolved_on_time"] is (now <= case["due_at"])
            rated = (
                await fetch(url, "SELECT id, resolutions FROM \"case\" WHERE status = 'resolved' AND rating IS NULL")
            )[0]
            rating = await api.ok("POST", f"/cases/{rated['id']}/ratings", 201, json={"level": "dissatisfied"})
            assert rating["resolution"] == rated["resolutions"]
        period = Period(date(2025, 1, 1), date(2026, 12, 1), "two years")
        async with session_for(url) as session:
            for group in (None, "district", "steward"):
                from_tallies = await count(session, period, group, Scope())
                assert from_tallies.by_key == (await count(session, period, group, Scope(), tallies=False)).by_key
    finally:
        await databases.drop(url)


@pytest.fixture
def keyed_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    for name, setting in {**generate_env(), "DATABASE_URL": database_url, "BANSHI_ARGON2_MEMORY_KIB": "1024"}.items():
        monkeypatch.setenv(name, setting)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_the_command(keyed_env: None, database_url: str) -> None:
    args = ["demo-data", "--workers", "60", "--cases", "300", "--now", "2026-03-02T09:30:00+08:00", "--seed", "9"]
    result = await asyncio.to_thread(CliRunner().invoke, main, args)
    assert result.exit_code == 0, result.output
    assert '"case": 300' in result.output
    last = await value(database_url, 'SELECT max(created_at) FROM "case"')
    assert last < datetime(2026, 3, 2, 9, 30, tzinfo=CST)
    again = await asyncio.to_thread(CliRunner().invoke, main, args)
    assert again.exit_code != 0 and "already holds" in again.output
    bad = await asyncio.to_thread(CliRunner().invoke, main, [*args[:-4], "--now", "2026-03-02T09:30"])
    assert bad.exit_code != 0 and "offset" in bad.output
