"""The work queues of the staff's cases: ``GET /cases/queues`` counts them and
``GET /cases?queue=`` lists them, with the same totals, within the caller's reach.

Times are Asia/Shanghai; now is Tue 2026-06-02 10:00 (``tests/conftest.clock``). WL-01
promises 14 working days, so a case accepted on 05-06 10:00 ran out of time on 05-25 and
one accepted on 05-14 10:00 is due 06-03 10:00: due soon now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from schemas.cases import CaseQueues, QueueName
from service.domain.queues import Queue
from tests.conftest import Clock, StatementCounter
from tests.factory import MOVE_FIELDS, Api

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 2, 10, 0, tzinfo=CST)
LATE = datetime(2026, 5, 6, 10, 0, tzinfo=CST)
"""Accepted then: overdue now."""
SOON = datetime(2026, 5, 14, 10, 0, tzinfo=CST)
"""Accepted then: due soon now."""
CASE_QUEUES = [q.value for q in Queue]
"""The counts that have a case list of their own (``?queue=``)."""


@dataclass
class Seeded:
    admin: Api
    steward: Api
    """Steward A, whose worker's cases are seeded below."""
    other: Api
    """Steward B, with cases of their own."""
    liaison: Api
    """A liaison of housing, the lead department of WL-01."""
    worker: Api
    cases: dict[str, dict[str, Any]]
    """Steward A's cases by name."""


class Seeder:
    def __init__(self, admin: Api, clock: Clock) -> None:
        self.admin = admin
        self.clock = clock

    async def case(self, worker: dict[str, Any], moves: list[str], at: datetime = NOW, **fields: Any) -> Any:
        """A case of ``worker`` logged an hour before ``at`` and moved at ``at``; the clock is back at now."""
        self.clock.set(at - timedelta(hours=1))
        case = await self.admin.case(worker_id=worker["id"], **fields)
        self.clock.set(at)
        for action in moves:
            case = await self.admin.move(case, action, **MOVE_FIELDS.get(action, {}))
        self.clock.set(NOW)
        return case


@pytest.fixture
async def seeded(client: AsyncTestClient[Litestar], clock: Clock) -> Seeded:
    admin = Api(client)
    steward, staff_a = await admin.steward_account("甲专员")
    other, staff_b = await admin.steward_account("乙专员")
    liaison, _ = await admin.liaison_account("housing")
    worker_a = await admin.worker(staff_a["id"], name="张三明")
    worker_b = await admin.worker(staff_b["id"], name="李四")
    worker = await admin.account("worker", worker_id=worker_a["id"])
    seed = Seeder(admin, clock)
    cases = {
        "new": await seed.case(worker_a, []),
        "new elsewhere": await seed.case(worker_a, [], department_code="education"),
        "on track": await seed.case(worker_a, ["accept"]),
        "due soon": await seed.case(worker_a, ["accept", "start"], at=SOON),
        "overdue": await seed.case(worker_a, ["accept"], at=LATE),
        "overdue too": await seed.case(worker_a, ["accept", "start"], at=LATE),
        "paused": await seed.case(worker_a, ["accept", "request_materials"]),
        "answered": await seed.case(worker_a, ["accept", "request_materials"]),
        # Paused after its time ran out: past due for the officials, but paused on the lists.
        "paused late": await seed.case(worker_a, ["accept"], at=LATE),
        "resolved": await seed.case(worker_a, ["accept", "start", "resolve"]),
        "closed": await seed.case(worker_a, ["accept", "start", "resolve", "close"]),
        "rejected": await seed.case(worker_a, ["reject"]),
        "withdrawn": await seed.case(worker_a, ["withdraw"]),
    }
    cases["paused late"] = await admin.move(cases["paused late"], "request_materials", materials="补充证明")
    await worker.ok("POST", f"/my/cases/{cases['answered']['id']}/materials", json={"note": "已补充学历证明"})
    # A poor rating opens a follow-up for steward A; a notice open and one answered.
    await worker.ok("POST", f"/cases/{cases['resolved']['id']}/ratings", 201, json={"level": "very_dissatisfied"})
    await admin.ok("POST", "/supervisions", 201, json={"case_no": cases["overdue"]["case_no"], "reason": "超期督办"})
    replied = await admin.ok(
        "POST", "/supervisions", 201, json={"case_no": cases["overdue too"]["case_no"], "reason": "超期督办"}
    )
    await steward.ok("POST", f"/supervisions/{replied['id']}/reply", json={"reply": "已加快办理"})
    # Steward B's cases, out of steward A's reach: one in housing (the liaison's), one not.
    await seed.case(worker_b, ["accept"], at=LATE)
    other_soon = await seed.case(worker_b, ["accept"], at=SOON, department_code="education")
    await seed.case(worker_b, [])
    await admin.ok("POST", "/supervisions", 201, json={"case_no": other_soon["case_no"], "reason": "临期督办"})
    return Seeded(admin, steward, other, liaison, worker, cases)


async def _ids(api: Api, query: str) -> set[str]:
    page = await api.ok("GET", f"/cases?limit=200&{query}")
    assert page["total"] == len(page["items"])
    return {c["id"] for c in page["items"]}


async def test_steward_a_counts_their_queues(seeded: Seeded) -> None:
    counts = await seeded.steward.ok("GET", "/cases/queues")
    assert counts == {
        "overdue": 2,
        "due_soon": 1,
        "on_track": 1,
        "paused": 3,
        "new": 2,
        "materials_answered": 1,
        "open": 9,
        "follow_ups_open": 1,
        "supervisions_open": 1,
    }
    cases = seeded.cases
    listed = {q: await _ids(seeded.steward, f"queue={q}") for q in CASE_QUEUES}
    names = {case["id"]: name for name, case in cases.items()}
    assert {q: {names[i] for i in ids} for q, ids in listed.items()} == {
        "overdue": {"overdue", "overdue too"},
        "due_soon": {"due soon"},
        "on_track": {"on track"},
        "paused": {"paused", "answered", "paused late"},
        "new": {"new", "new elsewhere"},
        "materials_answered": {"answered"},
        "open": {
            "new",
            "new elsewhere",
            "on track",
            "due soon",
            "overdue",
            "overdue too",
            "paused",
            "answered",
            "paused late",
        },
    }


@pytest.mark.parametrize("who", ["admin", "steward", "other", "liaison"])
async def test_every_count_is_the_total_of_its_list(seeded: Seeded, who: str) -> None:
    api: Api = getattr(seeded, who)
    counts = await api.ok("GET", "/cases/queues")
    assert set(counts) == {*CASE_QUEUES, "follow_ups_open", "supervisions_open"}
    for queue in CASE_QUEUES:
        page = await api.ok("GET", f"/cases?queue={queue}&limit=200")
        assert page["total"] == counts[queue], (who, queue, counts)
        if queue in ("overdue", "due_soon", "on_track", "paused"):
            # The queue of a due state shows cases in that due state, as the filter does.
            assert {c["due"]["state"] for c in page["items"]} <= {queue}
            assert await _ids(api, f"due_state={queue}") == {c["id"] for c in page["items"]}
    # Open is every unfinished case, and the other queues but one split it.
    assert counts["open"] == sum(counts[q] for q in ("new", "overdue", "due_soon", "on_track", "paused")), counts
    unfinished = "status=submitted&status=accepted&status=in_progress&status=awaiting_materials"
    assert counts["open"] == (await api.ok("GET", f"/cases?{unfinished}&limit=1"))["total"]
    assert counts["supervisions_open"] == (await api.ok("GET", "/supervisions?status=open&limit=1"))["total"]
    if who == "liaison":  # liaisons answer no follow-ups
        assert counts["follow_ups_open"] == 0
        await api.problem("GET", "/follow-ups?state=open", 403)
    else:
        assert counts["follow_ups_open"] == (await api.ok("GET", "/follow-ups?state=open&limit=1"))["total"]


async def test_reach_decides_what_each_caller_counts(seeded: Seeded) -> None:
    admin = await seeded.admin.ok("GET", "/cases/queues")
    other = await seeded.other.ok("GET", "/cases/queues")
    liaison = await seeded.liaison.ok("GET", "/cases/queues")
    assert (admin["open"], admin["overdue"], admin["due_soon"], admin["new"]) == (12, 3, 2, 3)
    assert (admin["follow_ups_open"], admin["supervisions_open"]) == (1, 2)
    assert (other["open"], other["overdue"], other["due_soon"], other["new"]) == (3, 1, 1, 1)
    assert (other["follow_ups_open"], other["supervisions_open"]) == (0, 1)
    # The liaison: housing's cases, which are all but the two in education.
    assert (liaison["open"], liaison["overdue"], liaison["due_soon"], liaison["new"]) == (10, 3, 1, 2)
    assert (liaison["follow_ups_open"], liaison["supervisions_open"]) == (0, 1)


async def test_the_counts_follow_the_clock_and_the_moves(seeded: Seeded, clock: Clock) -> None:
    steward, cases = seeded.steward, seeded.cases
    clock.set(datetime(2026, 6, 3, 10, 0, tzinfo=CST))  # the due-soon case's due time
    counts = await steward.ok("GET", "/cases/queues")
    assert (counts["overdue"], counts["due_soon"]) == (3, 0)
    assert cases["due soon"]["id"] in await _ids(steward, "queue=overdue")
    answered = await steward.ok("GET", f"/cases/{cases['answered']['id']}")
    await steward.move(answered, "receive_materials")
    counts = await steward.ok("GET", "/cases/queues")
    assert (counts["materials_answered"], counts["paused"], counts["open"]) == (0, 2, 9)
    assert await _ids(steward, "queue=materials_answered") == set()


async def test_the_queue_filter_narrows_the_other_filters(seeded: Seeded) -> None:
    steward, cases = seeded.steward, seeded.cases
    assert await _ids(steward, "queue=new&department_code=education") == {cases["new elsewhere"]["id"]}
    assert await _ids(steward, "queue=overdue&due_state=paused") == set()
    assert await _ids(steward, "queue=paused&q=张三明") == {
        cases[n]["id"] for n in ("paused", "answered", "paused late")
    }


async def test_callers_without_the_case_list_are_refused(seeded: Seeded) -> None:
    official = await seeded.admin.account("official", district_code="yubei")
    auditor = await seeded.admin.account("auditor")
    for api in (seeded.worker, official, auditor):
        await api.problem("GET", "/cases/queues", 403)
        await api.problem("GET", "/cases?queue=open", 403)


async def test_an_unknown_queue_is_a_400_naming_it(seeded: Seeded) -> None:
    problem = await seeded.steward.problem("GET", "/cases?queue=later", 400)
    assert problem["errors"][0]["field"] == "query.queue"


async def test_the_counts_take_one_statement(seeded: Seeded, statements: StatementCounter) -> None:
    for api in (seeded.admin, seeded.steward, seeded.liaison):
        await api.ok("GET", "/cases/queues")  # the caller's session is read once, then kept
        statements.reset()
        await api.ok("GET", "/cases/queues")
        # BEGIN, one SELECT with every count, COMMIT.
        assert statements.counted() == 3, statements.queries
        assert sum("count(*) FILTER" in q for q in statements.queries) == 1


def test_the_api_names_every_queue() -> None:
    assert list(get_args(QueueName)) == [q.value for q in Queue]
    assert set(CaseQueues.__struct_fields__) == {*CASE_QUEUES, "follow_ups_open", "supervisions_open"}
