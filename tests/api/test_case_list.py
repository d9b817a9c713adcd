"""The case list as a steward sees it equals the administrator's list of the same cases,
page for page: a steward's matches are found once, counted and paged in one statement
(``repositories/cases.py``, ``_NARROW``), an administrator's are counted and paged apart."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Clock
from tests.factory import MOVE_FIELDS, Api


async def test_a_stewards_pages_equal_the_administrators_of_the_same_cases(
    client: AsyncTestClient[Litestar], clock: Clock
) -> None:
    admin = Api(client)
    steward, staff = await admin.steward_account()
    worker = await admin.worker(staff["id"])
    items = [await admin.item("WL-01"), await admin.item("WL-04")]
    for n in range(9):
        clock.advance(seconds=3600)
        case = await admin.case(worker_id=worker["id"], item_id=items[n % 2]["id"])
        if n % 3:
            case = await admin.move(case, "accept", **MOVE_FIELDS.get("accept", {}))
        if n % 3 == 2:
            await admin.move(case, "start", **MOVE_FIELDS.get("start", {}))
    # Someone else's case, out of the steward's reach.
    await admin.case()

    async def page(api: Api, query: str) -> tuple[int, list[Any]]:
        body = await api.ok("GET", f"/cases?{query}")
        return body["total"], [(c["id"], c["status"]) for c in body["items"]]

    queries = [
        "limit=4",
        "limit=4&offset=4",
        "limit=4&offset=8",
        "limit=3&offset=30",
        "sort=case_no&order=asc&limit=5&offset=2",
        "sort=due_at&order=asc&limit=20",
        "sort=due_at&order=desc&limit=3&offset=1",
        "status=accepted&status=in_progress&limit=2&offset=1",
        f"item_id={items[1]['id']}&limit=2",
        "category=open&sort=updated_at&limit=4",
        "due_state=on_track&limit=20",
    ]
    for query in queries:
        seen = await page(steward, query)
        expected = await page(admin, f"steward_id={staff['id']}&{query}")
        assert seen == expected, query
    total, rows = await page(steward, "limit=20")
    assert total == 9 and len(rows) == 9
    assert (await page(steward, "limit=3&offset=30")) == (9, [])
