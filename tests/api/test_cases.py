"""Creating, reading, editing and listing cases."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from service.app import create_app
from service.config import Settings
from service.domain.case_number import normalise_case_number
from service.repositories import cases as case_repo
from tests.conftest import Clock, StatementCounter
from tests.factory import ADMIN_PASSWORD, API, Api, case_in
from tests.in_loop import lock_waiters, own_session, served
from tests.postgres import asyncpg_dsn


async def count_cases(api: Api) -> int:
    page = await api.ok("GET", "/cases?limit=1")
    return int(page["total"])


async def test_create_fills_defaults_and_the_first_event(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    as_steward, steward = await api.steward_account()
    worker = await as_steward.worker(steward["id"], district_code="wanzhou")
    item = await api.item("WL-07")
    response = await as_steward.send(
        "POST",
        "/cases",
        json={"worker_id": worker["id"], "item_id": item["id"], "title": "就医绿色通道", "channel": "wechat"},
    )
    assert response.status_code == 201
    case = response.json()
    assert response.headers["etag"] == f'"{case["id"]}.1"'
    assert response.headers["location"] == f"/api/v1/cases/{case['id']}"
    assert case["status"] == "submitted" and case["status_label"] == "已提交"
    assert case["department_code"] == "health"  # the item's lead department
    assert case["steward_id"] == steward["id"]  # the worker's steward
    assert case["district_code"] == "wanzhou"
    assert case["item_code"] == "WL-07"
    assert re.fullmatch(r"BS-\d{8}-\d{6}-\d", case["case_no"])
    assert normalise_case_number(case["case_no"]) == case["case_no"]
    assert case["allowed_actions"] == ["accept", "reject", "withdraw"]
    me = await as_steward.ok("GET", "/auth/me")
    assert [(e["action"], e["actor_id"], e["account_id"]) for e in case["timeline"]] == [
        ("create", steward["id"], me["account_id"])
    ]
    assert case["due"]["due_at"] is None


async def test_case_numbers_follow_each_other_within_a_day(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    first = await api.case()
    second = await api.case()
    assert first["case_no"][:12] == second["case_no"][:12]
    assert int(second["case_no"][12:18]) == int(first["case_no"][12:18]) + 1
    assert sorted([second["case_no"], first["case_no"]]) == [first["case_no"], second["case_no"]]


async def test_idempotent_creation_returns_the_first_response(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    template = await api.case()
    body = {"worker_id": template["worker_id"], "item_id": template["item_id"], "title": "重试", "channel": "phone"}
    headers = {"Idempotency-Key": "retry-1"}
    first = await client.post(f"{API}/cases", json=body, headers=headers)
    second = await client.post(f"{API}/cases", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    # The replay is the first response, except the query code: only its hash is kept.
    replayed, original = second.json(), first.json()
    assert original["query_code"] is not None
    assert replayed["query_code"] is None
    assert replayed["receipt_url"] is None
    assert {**replayed, "query_code": None, "receipt_url": None} == {
        **original,
        "query_code": None,
        "receipt_url": None,
    }
    assert second.headers.get("idempotent-replayed") == "true"
    assert await count_cases(api) == 2
    changed = await client.post(f"{API}/cases", json={**body, "title": "另一个"}, headers=headers)
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await count_cases(api) == 2


async def test_concurrent_retries_with_one_key_make_one_case(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock, database_url: str
) -> None:
    """Ten creations with one key really in flight at once: the test holds the key's lock
    until the transaction logging the first of them waits for it (the others wait in the
    process's logbook behind it, a key being logged once per transaction), then lets
    them all go."""
    api = Api(client)
    template = await api.case()
    body = {"worker_id": template["worker_id"], "item_id": template["item_id"], "title": "并发", "channel": "phone"}
    async with served(settings, clock) as http, own_session(database_url) as session:
        async with session.begin():
            admin_id = uuid.UUID(str(await session.scalar(text("SELECT id FROM account WHERE username = 'admin'"))))

        async def create() -> tuple[int, Any]:
            response = await http.post(f"{API}/cases", json=body, headers={"Idempotency-Key": "same-key"})
            return response.status_code, response.json()["id"]

        async with session.begin():
            await case_repo.lock_idempotency_keys(session, [(admin_id, "same-key")])
            creations = [asyncio.create_task(create()) for _ in range(10)]
            async with own_session(database_url) as watcher:
                await lock_waiters(watcher, at_least=1)
        results = await asyncio.wait_for(asyncio.gather(*creations), timeout=30)
    assert {code for code, _ in results} == {201}
    assert len({case_id for _, case_id in results}) == 1
    assert await count_cases(api) == 2


DROP = object()
BAD_BODIES: list[tuple[dict[str, Any], int, str]] = [
    ({"worker_id": DROP}, 400, "worker_id"),
    ({"channel": "fax"}, 400, "channel"),
    ({"title": ""}, 400, "title"),
    ({"title": "x" * 201}, 400, "title"),
    ({"status": "resolved"}, 400, "status"),
    ({"case_no": "BS-20260101-000001-0"}, 400, "case_no"),
    ({"worker_id": str(uuid.uuid4())}, 422, "worker_id"),
    ({"item_id": str(uuid.uuid4())}, 422, "item_id"),
    ({"department_code": "nowhere"}, 422, "department_code"),
    ({"steward_id": str(uuid.uuid4())}, 422, "steward_id"),
]


@pytest.mark.parametrize(("change", "status", "field"), BAD_BODIES, ids=[f"{f}-{s}" for _, s, f in BAD_BODIES])
async def test_bad_bodies_are_refused_and_change_nothing(
    client: AsyncTestClient[Litestar], change: dict[str, Any], status: int, field: str
) -> None:
    api = Api(client)
    template = await api.case()
    body = {"worker_id": template["worker_id"], "item_id": template["item_id"], "title": "好", "channel": "phone"}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not DROP}
    response = await client.post(f"{API}/cases", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    assert field in [e["field"] for e in problem["errors"]], problem
    assert await count_cases(api) == 1


async def test_a_body_that_is_not_json_is_a_400(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(f"{API}/cases", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["status"] == 400


async def test_unknown_ids_answer_404(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    missing = uuid.uuid4()
    for method, path, body in [
        ("GET", f"/cases/{missing}", None),
        ("GET", f"/cases/{missing}/events", None),
        ("PATCH", f"/cases/{missing}", {"title": "x"}),
        ("POST", f"/cases/{missing}/transitions", {"action": "accept"}),
        ("POST", f"/cases/{missing}/notes", {"note": "x"}),
    ]:
        response = await client.request(method, API + path, json=body, headers={"If-Match": "*"})
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["title"] == "Not found"
    assert (await client.get(f"{API}/cases/not-a-uuid")).status_code in (400, 404)
    assert await count_cases(api) == 0


async def test_oversized_and_negative_pages_are_refused(client: AsyncTestClient[Litestar]) -> None:
    for query, field in [("limit=201", "query.limit"), ("limit=0", "query.limit"), ("offset=-1", "query.offset")]:
        response = await client.get(f"{API}/cases?{query}")
        assert response.status_code == 400, query
        assert response.json()["errors"][0]["field"] == field


async def test_edit_needs_the_current_etag_and_is_on_the_timeline(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    case = await api.case()
    url = f"{API}/cases/{case['id']}"
    assert (await client.patch(url, json={"title": "新标题"})).status_code == 428
    edited = await client.patch(url, json={"title": "新标题"}, headers={"If-Match": f'"{case["id"]}.1"'})
    assert edited.status_code == 200
    assert edited.json()["title"] == "新标题"
    assert edited.headers["etag"] == f'"{case["id"]}.2"'
    assert edited.json()["timeline"][-1]["details"]["changes"]["title"] == {"from": "申请人才住房", "to": "新标题"}
    stale = await client.patch(url, json={"title": "又改"}, headers={"If-Match": f'"{case["id"]}.1"'})
    assert stale.status_code == 412
    refused = await client.patch(url, json={"status": "closed"}, headers={"If-Match": f'"{case["id"]}.2"'})
    assert refused.status_code == 400
    assert (await api.ok("GET", f"/cases/{case['id']}"))["title"] == "新标题"


async def test_notes_join_the_timeline_without_changing_the_version(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    case = await api.case()
    await api.ok("POST", f"/cases/{case['id']}/notes", 201, json={"note": "已电话联系", "visibility": "public"})
    await api.ok("POST", f"/cases/{case['id']}/notes", 201, json={"note": "内部备注"})
    public = await api.ok("GET", f"/cases/{case['id']}/events?visibility=public")
    assert [e["note"] for e in public["items"]] == [None, "已电话联系"]
    after = await api.ok("GET", f"/cases/{case['id']}")
    assert after["version"] == 1
    assert [e["action"] for e in after["timeline"]] == ["create", "note", "note"]
    empty = await client.post(f"{API}/cases/{case['id']}/notes", json={"note": ""})
    assert empty.status_code == 400


async def test_list_filters_sorting_and_paging(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    accepted = await case_in(api, "accepted")
    paused = await case_in(api, "awaiting_materials")
    closed = await case_in(api, "closed")
    medical = await api.case(item_id=(await api.item("WL-07"))["id"])

    async def ids(query: str) -> set[str]:
        page = await api.ok("GET", f"/cases?{query}")
        return {c["id"] for c in page["items"]}

    assert await ids("status=accepted&status=closed") == {accepted["id"], closed["id"]}
    assert await ids("category=paused") == {paused["id"]}
    assert await ids("category=done") == {closed["id"]}
    assert await ids(f"item_id={medical['item_id']}") == {medical["id"]}
    assert await ids("department_code=health") == {medical["id"]}
    assert await ids(f"worker_id={paused['worker_id']}") == {paused["id"]}
    assert await ids(f"steward_id={closed['steward_id']}") == {closed["id"]}
    assert await ids("district_code=yubei") == {accepted["id"], paused["id"], closed["id"], medical["id"]}
    assert await ids("district_code=wanzhou") == set()
    assert await ids("due_state=on_track") == {accepted["id"]}
    assert await ids("due_state=paused") == {paused["id"]}
    page = await api.ok("GET", "/cases?sort=case_no&order=asc&limit=2&offset=1")
    assert page["total"] == 4 and page["limit"] == 2 and page["offset"] == 1
    numbers = sorted(c["case_no"] for c in [accepted, paused, closed, medical])
    assert [c["case_no"] for c in page["items"]] == numbers[1:3]
    assert await ids("created_from=2000-01-01T00:00:00Z&created_to=2001-01-01T00:00:00Z") == set()
    for bad in ("2026-01-01T00:00:00", "0.5", "1", "2026-01-01", "2026-02-30T00:00:00Z"):  # no offset; not instants
        refused = await client.get(f"{API}/cases?created_from={bad}")
        assert refused.status_code == 400, (bad, refused.text)
        assert refused.json()["errors"][0]["field"] == "query.created_from"
    assert await ids("created_to=2001-01-01T08:00:00%2B08:00") == set()
    assert (await client.get(f"{API}/cases?status=lost")).status_code == 400
    every = "&".join(f"status={s}" for s in ("submitted", "accepted", "in_progress", "awaiting_materials"))
    assert await ids(every) == {accepted["id"], paused["id"], medical["id"]} | await ids("status=submitted")
    flood = await client.get(f"{API}/cases?" + "&".join(["status=closed"] * 9))
    assert flood.status_code == 400, flood.text
    assert flood.json()["errors"][0]["field"] == "query.status"


async def test_statements_per_endpoint_do_not_grow_with_the_data(
    client: AsyncTestClient[Litestar], statements: StatementCounter
) -> None:
    api = Api(client)
    case = await case_in(api, "in_progress")
    etag_case = case

    async def measure(method: str, path: str, status: int = 200, **kwargs: Any) -> int:
        statements.reset()
        await api.ok(method, path, status, **kwargs)
        return statements.counted()

    read_small = await measure("GET", f"/cases/{case['id']}")
    list_small = await measure("GET", "/cases?limit=50")
    for _ in range(8):
        await api.ok("POST", f"/cases/{case['id']}/notes", 201, json={"note": "跟进"})
    for _ in range(6):
        await case_in(api, "accepted")
    move_body = {"action": "request_materials", "materials": "证明"}
    headers = {"If-Match": f'"{etag_case["id"]}.{etag_case["version"]}"'}
    assert await measure("GET", f"/cases/{case['id']}") == read_small
    assert await measure("GET", "/cases?limit=50") == list_small
    move_count = await measure("POST", f"/cases/{case['id']}/transitions", json=move_body, headers=headers)
    create_body = {"worker_id": case["worker_id"], "item_id": case["item_id"], "title": "再来一件", "channel": "phone"}
    create_count = await measure("POST", "/cases", 201, json=create_body, headers={"Idempotency-Key": "count-1"})
    # Counted with BEGIN and COMMIT or ROLLBACK; a case read runs outside a transaction.
    assert read_small == 1, f"reading a case took {read_small} statements"
    assert list_small <= 5, f"listing cases took {list_small} statements"
    # A move: the case locked, the calendar,
    # the status history, the case and its new line, the notices' facts and the notices, an
    # audit chain taken and the row appended, the timeline for the answer (the item's code
    # is kept by the process).
    assert move_count <= 12, f"a move took {move_count} statements"
    # A creation: the idempotency key locked and looked up, the worker, the item
    # with its department and steward, the day's number, the case and its first line, the
    # notices' facts and the notices, an audit chain taken and the row appended, the
    # idempotency record.
    assert create_count <= 14, f"a creation took {create_count} statements"


async def test_a_creation_holds_the_days_number_for_one_statement_and_the_commit(
    client: AsyncTestClient[Litestar], statements: StatementCounter
) -> None:
    """Every other creation of the day waits on the day's counter row from the statement
    that takes the number to the commit: after it come only the statement that writes what
    needs the number (notices, audit row, kept answer) and the commit."""
    api = Api(client)
    case = await api.case()
    body = {"worker_id": case["worker_id"], "item_id": case["item_id"], "title": "再来一件", "channel": "phone"}
    numbers = []
    for headers in ({}, {"Idempotency-Key": "held-1"}):
        statements.reset()
        numbers.append((await api.ok("POST", "/cases", 201, json=body, headers=headers))["case_no"])
        statements.counted()
        queries = statements.queries
        taken = [i for i, query in enumerate(queries) if "case_number_counter" in query]
        assert len(taken) == 1, queries
        after = queries[taken[0] + 1 :]
        assert len(after) == 2, after
        assert "audit_event" in after[0] and "notification" in after[0]
        assert "idempotency_record" in after[0]  # an empty array without a key
        assert after[1].strip().rstrip(";").upper() == "COMMIT"
    assert [int(n[12:18]) for n in numbers] == [int(case["case_no"][12:18]) + 1, int(case["case_no"][12:18]) + 2]
    replayed = await client.post(f"{API}/cases", json=body, headers={"Idempotency-Key": "held-1"})
    assert replayed.json()["case_no"] == numbers[1]


async def test_the_timeline_of_a_case_read_is_the_events_list(client: AsyncTestClient[Litestar]) -> None:
    """The case read builds its timeline in SQL; the events list goes through the ORM."""
    api = Api(client)
    case = await case_in(api, "in_progress")
    await api.ok("POST", f"/cases/{case['id']}/notes", 201, json={"note": "内部跟进", "visibility": "internal"})
    await api.ok("POST", f"/cases/{case['id']}/notes", 201, json={"note": "已联系", "visibility": "public"})
    read = await api.ok("GET", f"/cases/{case['id']}")
    events = await api.ok("GET", f"/cases/{case['id']}/events")
    assert read["timeline"] == events["items"]
    assert {e["visibility"] for e in read["timeline"]} == {"internal", "public"}
    assert [e["id"] for e in read["timeline"]] == sorted(e["id"] for e in read["timeline"])
    public = await api.ok("GET", f"/cases/{case['id']}/events", params={"visibility": "public"})
    assert [e for e in read["timeline"] if e["visibility"] == "public"] == public["items"]


async def test_a_case_read_gives_utc_times_whatever_the_database_time_zone(
    settings: Settings, clock: Clock, database_url: str
) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        name = await connection.fetchval("SELECT current_database()")
        await connection.execute(f"ALTER DATABASE \"{name}\" SET timezone TO 'Asia/Shanghai'")
    finally:
        await connection.close()
    async with AsyncTestClient(app=create_app(settings, clock=clock), base_url="http://t.local") as c:
        api = await Api(c).login("admin", ADMIN_PASSWORD)
        case = await api.case()
        read = await api.ok("GET", f"/cases/{case['id']}")
        assert read["timeline"] == (await api.ok("GET", f"/cases/{case['id']}/events"))["items"]
        assert read["timeline"][0]["at"].endswith("Z"), read["timeline"][0]["at"]


async def test_staff_find_a_case_by_its_number_or_by_words_of_its_text(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    housing = await api.case(title="申请人才住房 Flat", description="需要两室一厅，100% 急")
    school = await api.case(title="子女入学", description="小学一年级")
    number = housing["case_no"]

    async def found(query: str) -> list[str]:
        page = await api.ok("GET", f"/cases?{query}")
        return [c["id"] for c in page["items"]]

    assert await found(f"case_no={number}") == [housing["id"]]
    assert await found(f"case_no={number.replace('-', '').lower()}") == [housing["id"]]
    assert await found("q=人才住房") == [housing["id"]]
    assert await found("q=flat") == [housing["id"]]  # case-insensitive
    assert await found("q=两室") == [housing["id"]]  # the description too
    assert await found("q=100%25") == [housing["id"]]  # % is a character, not a wildcard
    assert await found("q=_") == []
    assert set(await found("q=一")) == {housing["id"], school["id"]}
    wrong_digit = number[:-1] + str((int(number[-1]) + 1) % 10)
    problem = await api.problem("GET", f"/cases?case_no={wrong_digit}", 400)
    assert problem["errors"][0]["field"] == "query.case_no"
    # Reach still decides: another steward finds nothing by number or text.
    other, _ = await api.steward_account("别的专员")
    assert (await other.ok("GET", f"/cases?case_no={number}"))["total"] == 0
    assert (await other.ok("GET", "/cases?q=人才住房"))["total"] == 0


async def test_words_of_the_workers_name_find_their_cases_within_reach(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    own, own_staff = await api.steward_account()
    other, other_staff = await api.steward_account("别的专员")
    ming = await own.worker(own_staff["id"], name="Zhang Ming 张明")
    percent = await own.worker(own_staff["id"], name="王_100%")
    elsewhere = await other.worker(other_staff["id"], name="Zhang Mingyu 张明宇")
    ming_case = await own.case(worker_id=ming["id"], title="子女入学")
    percent_case = await own.case(worker_id=percent["id"], title="人才住房")
    other_case = await other.case(worker_id=elsewhere["id"], title="子女入学")
    titled = await own.case(worker_id=percent["id"], title="联系张明同志")  # the title holds the words

    async def found(api: Api, q: str) -> set[str]:
        page = await api.ok("GET", "/cases", params={"q": q})
        assert page["total"] == len(page["items"])
        return {c["id"] for c in page["items"]}

    assert await found(own, "张明") == {ming_case["id"], titled["id"]}
    assert await found(own, "zhang MING") == {ming_case["id"]}  # case-insensitive
    assert await found(own, "%") == {percent_case["id"], titled["id"]}  # literally: the worker's name holds a %
    assert await found(own, "王_1") == {percent_case["id"], titled["id"]}
    assert await found(own, "王x1") == set()  # _ is no wildcard
    # Reach still decides: each steward finds only the cases they reach, the administrator all.
    assert await found(other, "张明") == {other_case["id"]}
    assert await found(api, "张明") == {ming_case["id"], titled["id"], other_case["id"]}
    liaison, _ = await api.liaison_account("education")
    assert await found(liaison, "张明") == set()
