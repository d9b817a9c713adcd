"""The SQL of ``repositories/due.py`` and the derived columns agree with ``domain/due.py``.

Cases in every status, with due times a microsecond before, at and after the moment
asked about, with and without time left on a stopped clock, are written straight into
the database; every SQL condition and every endpoint that filters or counts by those
rules must pick exactly the cases the Python functions pick.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.config import Settings
from service.db import make_engine
from service.domain.due import CLOCK_RUNS, UNFINISHED, due_state_of, overdue_since, past_due
from service.domain.time_limit import DueState
from service.domain.workflow import Status
from service.repositories import due
from tests.conftest import Clock
from tests.factory import Api

TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Row:
    id: uuid.UUID
    status: Status
    due_at: datetime | None
    due_soon_at: datetime | None
    remaining: float | None


def _rows(now: datetime) -> list[Row]:
    offsets = (-TICK, timedelta(0), TICK)
    times: list[tuple[datetime | None, datetime | None]] = [(None, None)]
    for due_offset, soon_offset in itertools.product(offsets, (*offsets, -timedelta(days=3))):
        if soon_offset <= due_offset:  # a case turns yellow before it turns red
            times.append((now + due_offset, now + soon_offset))
    return [
        Row(uuid.uuid4(), status, due_at, due_soon_at, remaining)
        for status in Status
        for due_at, due_soon_at in times
        for remaining in (None, -1.0, 0.0, 3600.0)
    ]


async def _insert(engine: AsyncEngine, template: str, rows: list[Row], now: datetime) -> None:
    long_ago = now - timedelta(days=30)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                'INSERT INTO "case" (id, case_no, worker_id, item_id, title, description, channel, steward_id, '
                "department_code, district_code, status, version, promised_working_days, created_at, updated_at, "
                "accepted_at, resolved_at, rejected_at, withdrawn_at, due_at, due_soon_at, clock_remaining_seconds, "
                "resolutions) "
                "SELECT :id, :case_no, worker_id, item_id, title, description, channel, steward_id, department_code, "
                "district_code, :status, 1, 14, created_at, updated_at, :long_ago, :long_ago, :long_ago, :long_ago, "
                ':due_at, :due_soon_at, :remaining, 0 FROM "case" WHERE id = :template'
            ),
            [
                {
                    "id": row.id,
                    "case_no": f"T-{index:06d}",
                    "status": row.status.value,
                    "long_ago": long_ago,
                    "due_at": row.due_at,
                    "due_soon_at": row.due_soon_at,
                    "remaining": row.remaining,
                    "template": uuid.UUID(template),
                }
                for index, row in enumerate(rows)
            ],
        )


async def _picked(engine: AsyncEngine, condition: str, now: datetime) -> set[uuid.UUID]:
    async with engine.connect() as connection:
        result = await connection.execute(text(f'SELECT c.id FROM "case" c WHERE {condition}'), {"now": now})
        return {row[0] for row in result}


async def test_sql_and_python_verdicts_agree_at_every_status_and_boundary(
    settings: Settings, client: AsyncTestClient[Litestar], clock: Clock
) -> None:
    admin = Api(client)
    template = await admin.case()  # submitted: no clock yet
    now = clock()
    rows = _rows(now)
    assert settings.database_url is not None
    engine = make_engine(settings.database_url, pool_size=1)  # the app's engine serves another event loop
    try:
        await _check(engine, admin, client, template, rows, now)
    finally:
        await engine.dispose()


async def _check(
    engine: AsyncEngine,
    admin: Api,
    client: AsyncTestClient[Litestar],
    template: dict[str, Any],
    rows: list[Row],
    now: datetime,
) -> None:
    await _insert(engine, template["id"], rows, now)
    everything = [*rows, Row(uuid.UUID(template["id"]), Status.SUBMITTED, None, None, None)]

    def python(verdict: Any) -> set[uuid.UUID]:
        return {row.id for row in everything if verdict(row)}

    for state in DueState:
        expected = python(lambda r, s=state: due_state_of(r.status, r.due_at, r.due_soon_at, now) is s)
        assert await _picked(engine, due.due_state_is(state), now) == expected, state
    assert await _picked(engine, due.past_due(), now) == python(
        lambda r: past_due(r.status, r.due_at, r.remaining, now)
    )
    assert await _picked(engine, due.ran_out(), now) == python(
        lambda r: (since := overdue_since(r.status, r.due_at, r.remaining)) is not None and since <= now
    )
    assert await _picked(engine, due.unfinished(), now) == python(lambda r: r.status in UNFINISHED)
    assert await _picked(engine, due.clock_runs(), now) == python(lambda r: r.status in CLOCK_RUNS)
    async with engine.connect() as connection:
        stored: dict[uuid.UUID, datetime | None] = dict(
            (await connection.execute(text('SELECT id, overdue_since FROM "case"'))).all()
        )
    assert stored == {r.id: overdue_since(r.status, r.due_at, r.remaining) for r in everything}

    # A case paused after its time ran out is past due but shows "paused", and one
    # whose due time is this very instant is overdue: the two notions really differ.
    paused_late = python(
        lambda r: r.status is Status.AWAITING_MATERIALS and past_due(r.status, r.due_at, r.remaining, now)
    )
    assert paused_late
    assert python(
        lambda r: r.due_at == now and due_state_of(r.status, r.due_at, r.due_soon_at, now) is DueState.OVERDUE
    )

    # The endpoints that filter and count by these rules pick the same cases.
    for state in DueState:
        page = await admin.ok("GET", f"/cases?due_state={state.value}&limit=1")
        assert page["total"] == len(
            python(lambda r, s=state: due_state_of(r.status, r.due_at, r.due_soon_at, now) is s)
        )
    for figure, verdict in (
        ("overdue", lambda r: past_due(r.status, r.due_at, r.remaining, now)),
        ("due_soon", lambda r: due_state_of(r.status, r.due_at, r.due_soon_at, now) is DueState.DUE_SOON),
        ("open", lambda r: r.status in UNFINISHED),
    ):
        page = await admin.ok("GET", f"/metrics/cases?figure={figure}&period={now.year}&limit=1")
        assert page["total"] == len(python(verdict)), figure
    exposition = (await client.get("/metrics")).text
    gauges = {
        sample.labels["state"]: sample.value
        for family in text_string_to_metric_families(exposition)
        if family.name == "banshi_cases"
        for sample in family.samples
    }
    assert gauges == {
        "open": len(python(lambda r: r.status in UNFINISHED)),
        "overdue": len(python(lambda r: due_state_of(r.status, r.due_at, r.due_soon_at, now) is DueState.OVERDUE)),
        "past_due": len(python(lambda r: past_due(r.status, r.due_at, r.remaining, now))),
    }
