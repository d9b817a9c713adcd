"""The writes that run straight on the driver (``db.in_transaction``): what they leave in
the tallies, the calendar they compute with, and what a failing statement does."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import Prepared, in_transaction
from service.domain.case_number import format_case_number, normalise_case_number
from service.domain.workflow import Status, allowed_actions
from service.repositories import audit as audit_repo
from tests.api.test_imports import _tallies
from tests.conftest import Clock
from tests.factory import MOVE_FIELDS, Api
from tests.in_loop import own_session
from tests.postgres import asyncpg_dsn

DEPARTMENTS = ("hr-social-security", "housing")


async def _recounted(connection: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """What ``tally_rebuild()`` makes of the cases, rolled back afterwards."""
    recount = connection.transaction()
    await recount.start()
    try:
        await connection.execute("SELECT tally_rebuild()")
        return await _tallies(connection)
    finally:
        await recount.rollback()


async def test_the_tallies_after_every_kind_of_move_equal_a_recount(
    client: AsyncTestClient[Litestar], database_url: str, clock: Clock
) -> None:
    """The update trigger writes only the tallies whose inputs changed (migration 0013):
    after a random walk of eighty moves over twelve cases (and more once they all end), across days and a rating,
    every tally equals ``tally_rebuild()``'s recount of the cases."""
    api = Api(client)
    chance = random.Random(2026)
    cases = [await api.case(title=f"第{n}件") for n in range(12)]
    moved = 0
    taken: set[str] = set()
    while moved < 80:
        open_cases = [i for i, c in enumerate(cases) if allowed_actions(Status(c["status"]))]
        if not open_cases:  # all ended: a new one
            cases.append(await api.case(title="又一件"))
            continue
        index = chance.choice(open_cases)
        case = cases[index]
        action = chance.choice([a.value for a in allowed_actions(Status(case["status"]))])
        fields = dict(MOVE_FIELDS.get(action, {}))
        if action == "transfer":
            fields["department_code"] = next(d for d in DEPARTMENTS if d != case["department_code"])
        response = await api.send(
            "POST",
            f"/cases/{case['id']}/transitions",
            json={"action": action, **fields},
            headers={"If-Match": f'"{case["id"]}.{case["version"]}"'},
        )
        clock.advance(hours=chance.choice([1, 5, 30]))
        if response.status_code == 409:  # a reopening past its window: the walk goes on
            continue
        assert response.status_code == 200, response.text
        cases[index] = response.json()
        taken.add(action)
        moved += 1
    assert len(taken) >= 8, taken  # the walk took most kinds of move
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        counted = await _tallies(connection)
        assert any(counted.values())
        assert await _recounted(connection) == counted
    finally:
        await connection.close()


async def test_a_move_computes_with_the_calendar_another_process_changed_a_moment_before(
    client: AsyncTestClient[Litestar], database_url: str
) -> None:
    """A move reads the calendar's stamp with the case, so the process reads the calendar
    again as soon as an override changes it, even one written by another process (here,
    straight into the database), not when its kept copy runs out."""
    api = Api(client)
    first = await api.move(await api.case(), "accept")
    second = await api.move(await api.case(), "accept")  # the calendar kept from the first
    assert second["due"]["due_at"] == first["due"]["due_at"]
    # Tuesday 2026-06-02: the next day becomes a holiday; the deadline moves a day on.
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute(
            "INSERT INTO calendar_year (year, published, note, updated_at) VALUES (2026, false, '', now()) "
            "ON CONFLICT (year) DO NOTHING"
        )
        await connection.execute(
            "INSERT INTO calendar_day (day, year, kind, name) VALUES ('2026-06-03', 2026, 'holiday', '测试')"
        )
    finally:
        await connection.close()
    third = await api.move(await api.case(), "accept")
    assert third["due"]["due_at"] > first["due"]["due_at"]


@pytest.fixture
async def session(database_url: str) -> Any:
    async with own_session(database_url) as session:
        yield session


async def test_the_database_forms_case_numbers_as_the_service_does(session: AsyncSession) -> None:
    """A new case's number is formed in the statement that takes it (migration 0015's
    ``case_number``): the same text as ``format_case_number``, and the same refusals."""
    rng = random.Random(15)
    pairs = [
        (date(1990, 1, 1) + timedelta(days=rng.randrange(0, 40_000)), rng.choice((1, 999_999, rng.randrange(1, 10**6))))
        for _ in range(2_000)
    ]
    formed = Prepared("SELECT case_number(d, s) FROM unnest($1::date[], $2::bigint[]) AS t(d, s)", ("days", "seqs"))
    async with session.begin():
        rows = await (await in_transaction(session)).fetch_all(
            formed, {"days": [d for d, _ in pairs], "seqs": [s for _, s in pairs]}
        )
    assert [row[0] for row in rows] == [format_case_number(d, s) for d, s in pairs]
    assert all(normalise_case_number(row[0]) == row[0] for row in rows)
    for out_of_range in (0, -1, 1_000_000):
        with pytest.raises(ValueError, match="out of range"):
            format_case_number(date(2026, 12, 5), out_of_range)
        with pytest.raises(DBAPIError, match="out of range"):
            async with session.begin():
                await (await in_transaction(session)).fetch_all(
                    formed, {"days": [date(2026, 12, 5)], "seqs": [out_of_range]}
                )


async def test_a_value_longer_than_its_column_is_refused_not_cut_short(session: AsyncSession) -> None:
    """Statements on the driver cast their parameters to the column's type without its
    length (``db.parameter_type``): a cast to ``VARCHAR(64)`` would cut a longer value short
    without a word, and an audit row so cut would no longer match its hash."""
    with pytest.raises(DBAPIError, match="too long"):  # noqa: PT012 - the transaction block is the unit
        async with session.begin():
            taken = await audit_repo.take_chain(session)
            row = {
                "seq": taken.seqs[0],
                "chain": taken.chain,
                "chain_seq": taken.last_seq + 1,
                "at": datetime.now(UTC),
                "actor_account_id": None,
                "actor_username": "x" * 65,
                "actor_role": "",
                "client_addr": "",
                "action": "test.too_long",
                "target_type": "",
                "target_id": "",
                "outcome": "success",
                "details": {},
                "prev_hash": taken.last_hash,
                "hash": bytes(32),
            }
            await audit_repo.append(session, row)


async def test_a_constraint_the_driver_meets_is_sqlalchemys_integrity_error(session: AsyncSession) -> None:
    """So ``api/problems.py`` answers it 409 as it does every other, and nothing is written."""
    duplicate = Prepared("INSERT INTO case_number_counter (day, last_value) VALUES ($1, 1)", ("day",))
    day = date(1999, 1, 1)
    with pytest.raises(IntegrityError):  # noqa: PT012 - the transaction block is the unit under test
        async with session.begin():
            held = await in_transaction(session)
            await held.execute(duplicate, {"day": day})
            await held.execute(duplicate, {"day": day})
    async with session.begin():
        found = await (await in_transaction(session)).fetch_one(
            Prepared("SELECT count(*) FROM case_number_counter WHERE day = $1", ("day",)), {"day": day}
        )
    assert found is not None and found[0] == 0


async def test_a_statement_cancelled_mid_way_leaves_its_connection_out_of_the_pool(session: AsyncSession) -> None:
    """A request cancelled while its statement runs: the connection is closed, never lent
    again half-way through a conversation, and the next transaction works."""
    async with session.begin():
        first = await in_transaction(session)
        pid = (await first.fetch_one(Prepared("SELECT pg_backend_pid()", ()), {}))[0]  # type: ignore[index]
    sleeping = asyncio.ensure_future(_sleep_in_transaction(session))
    await asyncio.sleep(0.3)
    sleeping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeping
    async with session.begin():
        again = await in_transaction(session)
        row = await again.fetch_one(Prepared("SELECT pg_backend_pid(), 1", ()), {})
    assert row is not None and row[1] == 1
    assert row[0] != pid, "the cancelled connection was lent again"


async def _sleep_in_transaction(session: AsyncSession) -> None:
    async with session.begin():
        await (await in_transaction(session)).execute(Prepared("SELECT pg_sleep(5)", ()), {})


async def test_a_connection_killed_under_a_write_answers_as_lost(session: AsyncSession, database_url: str) -> None:
    """The database ends the connection (a restart, an operator): the error says the
    connection was lost (503, not 500), and the next transaction connects afresh."""
    killer = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        with pytest.raises(DBAPIError) as raised:  # noqa: PT012 - the transaction block is the unit under test
            async with session.begin():
                held = await in_transaction(session)
                pid = (await held.fetch_one(Prepared("SELECT pg_backend_pid()", ()), {}))[0]  # type: ignore[index]
                await killer.execute("SELECT pg_terminate_backend($1)", pid)
                await held.execute(Prepared("SELECT 1", ()), {})
        assert raised.value.connection_invalidated
    finally:
        await killer.close()
    async with session.begin():
        row = await (await in_transaction(session)).fetch_one(Prepared("SELECT 1", ()), {})
    assert row is not None and row[0] == 1
