"""The load: checks, preparation, and the rows sent with COPY.

Rows go in with COPY, in batches, in one transaction with
``session_replication_role = replica``, which turns off the tally trigger and the
foreign-key checks for the load; the generator writes consistent rows only, and the
tallies are refilled afterwards by migration 0003's ``tally_rebuild()``.
"""

from __future__ import annotations

import asyncio
import gc
import random
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlmodel import col

from service.demo.arrivals import case_batches
from service.demo.cases import CaseMaker, Item
from service.demo.options import FIRST_DAY, DemoDataRefused, DemoOptions
from service.demo.people import People, staff_rows, worker_homes, worker_rows
from service.demo.vocabulary import (
    ASSIGNMENT_COLUMNS,
    CASE_COLUMNS,
    EVENT_COLUMNS,
    RATING_COLUMNS,
    STAFF_COLUMNS,
    WORKER_COLUMNS,
)
from service.demo.working_time import US, WorkingTime
from service.domain.access import Role
from service.domain.calendar import WorkingCalendar
from service.domain.time_limit import CST
from service.security.kit import SecurityKit

SHIPPED_LIST_YEAR = 2026
"""The work list shipped with the service; the other years get copies of its items."""
ACCOUNT = "demo-data"
"""The account the ratings and follow-up answers are recorded under."""
_PG_EPOCH_US = 946_684_800 * US  # 2000-01-01 UTC, where PostgreSQL counts timestamps from


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _refuse_unless_empty(connection: Any) -> None:
    if await connection.fetchval("SELECT to_regprocedure('tally_rebuild()') IS NULL"):
        raise DemoDataRefused("the database is not migrated: run `banshi db upgrade` first")
    if not await connection.fetchval("SELECT EXISTS (SELECT 1 FROM district)"):
        raise DemoDataRefused("the reference data is missing: run `banshi load-reference` first")
    if await connection.fetchval('SELECT EXISTS (SELECT 1 FROM "case") OR EXISTS (SELECT 1 FROM worker)'):
        raise DemoDataRefused("the database already holds cases or workers: demo data goes into a fresh one")


async def _prepare(url: str, kit: SecurityKit) -> tuple[WorkingCalendar, uuid.UUID]:
    """The calendar, and the account ratings are recorded under (made once, by the
    accounts service, with a password nobody is told)."""
    from service.db import make_engine, make_session_factory
    from service.models import Account
    from service.models.base import utcnow
    from service.services.accounts import bootstrap_account
    from service.services.calendar import load_calendar

    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            async with session.begin():
                calendar = await load_calendar(session)
                account_id = await session.scalar(select(col(Account.id)).where(col(Account.username) == ACCOUNT))
            if account_id is None:
                password = "Demo-" + secrets.token_urlsafe(24)
                created = await bootstrap_account(
                    session, kit, Role.ADMIN, ACCOUNT, password, utcnow(), must_change_password=True
                )
                account_id = created.id
            return calendar, account_id
    finally:
        await engine.dispose()


async def _items(connection: Any, years: Sequence[int]) -> dict[int, list[Item]]:
    """Each year's work-list items; a year without any gets copies of the shipped list's,
    with ids made the way ``services/reference.py`` makes them."""
    shipped = await connection.fetch(
        "SELECT code, category, title_zh, title_en, lead_department_code, promised_working_days, annual_target, "
        "target_unit, active FROM work_list_item WHERE year = $1 ORDER BY code",
        SHIPPED_LIST_YEAR,
    )
    for year in years:
        await connection.executemany(
            "INSERT INTO work_list_item (id, year, code, category, title_zh, title_en, lead_department_code, "
            "promised_working_days, annual_target, target_unit, active, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now()) ON CONFLICT (year, code) DO NOTHING",
            [
                (uuid.uuid5(uuid.NAMESPACE_URL, f"banshi:work-list:{year}:{r['code']}"), year, *r.values())
                for r in shipped
            ],
        )
    items: dict[int, list[Item]] = {}
    for r in await connection.fetch(
        "SELECT id, year, code, category, title_zh, lead_department_code, promised_working_days FROM work_list_item "
        "WHERE year = ANY($1::int[]) AND active ORDER BY year, code",
        list(years),
    ):
        item = Item(
            r["id"], r["code"], r["category"], r["title_zh"], r["lead_department_code"], r["promised_working_days"]
        )
        items.setdefault(r["year"], []).append(item)
    if set(items) != set(years):
        raise DemoDataRefused(f"no active work-list items for {sorted(set(years) - set(items))}")
    return items


async def generate(
    url: str, kit: SecurityKit, options: DemoOptions, echo: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """Fill an empty, migrated database that holds the reference data; returns rows per table."""
    if options.workers < 1 or options.cases < 0 or options.batch_size < 1:
        raise DemoDataRefused("workers and the batch size must be positive, cases not negative")
    if options.now.tzinfo is None or options.now.astimezone(CST).date() <= FIRST_DAY:
        raise DemoDataRefused(f"now must be an instant after {FIRST_DAY}, with its offset")
    clock = time.perf_counter()
    rng = random.Random(options.seed)  # noqa: S311 (reproducible demo data, not secrets)
    collecting = gc.isenabled()
    # Millions of short-lived tuples without cycles: the collector would only scan them again and again.
    gc.disable()
    try:
        return await _generate(url, kit, options, echo, rng, clock)
    finally:
        if collecting:
            gc.enable()


async def _generate(
    url: str, kit: SecurityKit, options: DemoOptions, echo: Callable[[str], None], rng: random.Random, clock: float
) -> dict[str, Any]:
    now = int(options.now.timestamp())
    last_day = options.now.astimezone(CST).date()
    connection = await asyncpg.connect(_dsn(url))
    try:
        await _refuse_unless_empty(connection)
        calendar, rater = await _prepare(url, kit)
        wt = WorkingTime(calendar, date(FIRST_DAY.year - 1, 9, 1), last_day + timedelta(days=4 * 366))
        counts: dict[str, int] = {}
        async with connection.transaction():
            await connection.execute('LOCK TABLE "case", worker IN SHARE ROW EXCLUSIVE MODE')
            await _refuse_unless_empty(connection)
            try:
                await connection.execute("SET LOCAL session_replication_role = replica")
            except asyncpg.InsufficientPrivilegeError as exc:
                raise DemoDataRefused(f"loading needs a superuser connection ({exc})") from exc
            await connection.set_type_codec(
                "timestamptz",
                schema="pg_catalog",
                encoder=lambda us: (us - _PG_EPOCH_US,),
                decoder=lambda value: value[0] + _PG_EPOCH_US,
                format="tuple",
            )
            items = await _items(connection, range(FIRST_DAY.year, last_day.year + 1))
            districts = [r["code"] for r in await connection.fetch("SELECT code FROM district ORDER BY code")]
            departments = [
                r["code"] for r in await connection.fetch("SELECT code FROM department WHERE active ORDER BY code")
            ]
            people = await _load_people(connection, rng, kit, options, districts, departments, counts)
            echo(f"staff {counts['staff']:,}, workers {counts['worker']:,} ({time.perf_counter() - clock:.0f} s)")
            maker = CaseMaker(rng, wt, now, people, departments, rater)
            await _load_cases(
                connection,
                rng,
                maker,
                items,
                options,
                counts,
                lambda text: echo(f"{text} ({time.perf_counter() - clock:.0f} s)"),
            )
            echo(f"rebuilding the tallies ({time.perf_counter() - clock:.0f} s)")
            # Migration 0003's own refill of every tally from the cases, for loads with the trigger off.
            await connection.execute("SELECT tally_rebuild()")
            await connection.execute(
                "SELECT setval(pg_get_serial_sequence('satisfaction_rating', 'id'), "
                "(SELECT coalesce(max(id), 0) + 1 FROM satisfaction_rating), false)"
            )
            for (table,) in await connection.fetch(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE '%\\_tally' "
                "AND relnamespace = 'public'::regnamespace ORDER BY relname"
            ):
                counts[table] = await connection.fetchval(f"SELECT count(*) FROM {table}")
        echo(f"analysing ({time.perf_counter() - clock:.0f} s)")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return {"elapsed_seconds": round(time.perf_counter() - clock, 1), "rows": counts}


async def _load_people(
    connection: Any,
    rng: random.Random,
    kit: SecurityKit,
    options: DemoOptions,
    districts: list[str],
    departments: list[str],
    counts: dict[str, int],
) -> People:
    homes = worker_homes(rng, districts, options.workers)
    people, staff = staff_rows(rng, homes, districts, departments)
    await connection.copy_records_to_table("staff", records=staff, columns=STAFF_COLUMNS)
    rows = worker_rows(rng, kit, people, homes)
    while batch := [row for _, row in zip(range(options.batch_size), rows, strict=False)]:
        await connection.copy_records_to_table("worker", records=[w for w, _ in batch], columns=WORKER_COLUMNS)
        assignments = [a for _, a in batch]
        await connection.copy_records_to_table("steward_assignment", records=assignments, columns=ASSIGNMENT_COLUMNS)
    counts.update(staff=len(staff), worker=len(people.workers), steward_assignment=len(people.workers))
    return people


async def _load_cases(
    connection: Any,
    rng: random.Random,
    maker: CaseMaker,
    items: dict[int, list[Item]],
    options: DemoOptions,
    counts: dict[str, int],
    echo: Callable[[str], None],
) -> None:
    """Generates the next batch in a thread while the last one is copied: the database
    works on one while Python works on the other."""
    counts.update(case=0, case_event=0, satisfaction_rating=0)
    counters: list[tuple[date, int]] = []
    batches = case_batches(rng, maker, items, options, counters)
    copying: asyncio.Task[None] | None = None
    while True:
        batch = await asyncio.to_thread(next, batches, None)
        if copying is not None:
            await copying
            echo(f"cases {counts['case']:,}/{options.cases:,}")
        if batch is None:
            break
        copying = asyncio.create_task(_copy_cases(connection, *batch, counts))
    await connection.executemany(
        "INSERT INTO case_number_counter (day, last_value) VALUES ($1, $2) ON CONFLICT (day) "
        "DO UPDATE SET last_value = GREATEST(case_number_counter.last_value, EXCLUDED.last_value)",
        counters,
    )
    counts["case_number_counter"] = len(counters)


async def _copy_cases(
    connection: Any,
    cases: list[tuple[Any, ...]],
    events: list[tuple[Any, ...]],
    ratings: list[tuple[Any, ...]],
    counts: dict[str, int],
) -> None:
    await connection.copy_records_to_table("case", records=cases, columns=CASE_COLUMNS)
    await connection.copy_records_to_table("case_event", records=events, columns=EVENT_COLUMNS)
    await connection.copy_records_to_table("satisfaction_rating", records=ratings, columns=RATING_COLUMNS)
    counts["case"] += len(cases)
    counts["case_event"] += len(events)
    counts["satisfaction_rating"] += len(ratings)
