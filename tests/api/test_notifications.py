"""Notices: who is told what when a case moves (the table in ``domain/notices.py``), that
they are written with the change or not at all, and the inbox each person reads."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, get_args

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from schemas.notifications import NoticeKind
from service.config import Settings, async_url
from service.domain.notices import DIGESTS, FREE_TEXT_CHARS, TEXTS, Facts, Kind, notices_for, render, render_digest
from tests.factory import Api

INTERNAL_NOTE = "内部：申请人单位尚未盖章"
TRANSFER_REASON = "属人社局职责，内部协调"


@dataclass
class People:
    admin: Api
    steward: Api
    steward_record: dict[str, Any]
    worker: Api
    worker_record: dict[str, Any]
    housing: Api
    """A liaison of the housing department, which leads WL-01."""
    hr: Api
    """A liaison of the human-resources department."""


@pytest.fixture
async def people(client: AsyncTestClient[Litestar]) -> People:
    admin = Api(client)
    steward, staff = await admin.steward_account("李专员")
    record = await admin.worker(staff["id"], name="张三明")
    worker = await admin.account("worker", worker_id=record["id"])
    housing, _ = await admin.liaison_account("housing")
    hr, _ = await admin.liaison_account("hr-social-security")
    return People(admin, steward, staff, worker, record, housing, hr)


async def inbox(api: Api, **params: Any) -> dict[str, Any]:
    page: dict[str, Any] = await api.ok("GET", "/notifications", params=params)
    return page


async def kinds(api: Api) -> list[str]:
    return [n["kind"] for n in (await inbox(api))["items"]]


async def logged(people: People) -> dict[str, Any]:
    item = await people.steward.item()
    body = {"worker_id": people.worker_record["id"], "item_id": item["id"], "title": "申请人才公寓", "channel": "phone"}
    case: dict[str, Any] = await people.steward.ok("POST", "/cases", 201, json=body)
    return case


async def test_a_logged_case_tells_the_worker_and_the_department_but_not_the_steward(people: People) -> None:
    case = await logged(people)
    mine = (await inbox(people.worker))["items"]
    assert [n["kind"] for n in mine] == ["case.logged"]
    notice = mine[0]
    assert notice["case_id"] == case["id"] and notice["case_no"] == case["case_no"]
    assert case["case_no"] in notice["title"]
    assert "人才住房保障" in notice["body"] and "14 个工作日" in notice["body"]
    assert case["query_code"] not in notice["body"]  # the inbox is read signed in; the code stays shown once
    assert notice["read_at"] is None
    assert await kinds(people.housing) == ["case.routed_to_department"]
    assert "市住房城乡建委" in (await inbox(people.housing))["items"][0]["body"]
    assert await kinds(people.steward) == []  # nobody is told of their own act
    assert await kinds(people.hr) == []


async def test_materials_asked_and_answered_tell_each_side_what_it_may_see(people: People) -> None:
    case = await logged(people)
    case = await people.housing.move(case, "accept")
    case = await people.housing.move(
        case, "request_materials", materials="请补充学历证明", note=INTERNAL_NOTE, visibility="internal"
    )
    asked = (await inbox(people.worker))["items"][0]
    assert asked["kind"] == "case.materials_requested"
    assert "请补充学历证明" in asked["body"]
    assert INTERNAL_NOTE not in asked["body"] and INTERNAL_NOTE not in asked["title"]
    assert "case.materials_requested" in await kinds(people.steward)

    await people.worker.ok("POST", f"/my/cases/{case['id']}/materials", json={"note": "已补充", "attachment_ids": []})
    assert (await kinds(people.steward))[0] == "case.materials_answered"
    assert (await kinds(people.housing))[0] == "case.materials_answered"
    assert "case.materials_answered" not in await kinds(people.worker)


async def test_a_transfer_tells_the_new_department_and_the_worker_without_the_reason(people: People) -> None:
    case = await logged(people)
    case = await people.housing.move(case, "accept")
    await people.housing.move(case, "transfer", department_code="hr-social-security", reason=TRANSFER_REASON)
    told = (await inbox(people.worker))["items"][0]
    assert told["kind"] == "case.transferred"
    assert TRANSFER_REASON not in told["body"]
    assert await kinds(people.hr) == ["case.transferred_in"]
    assert "市人力社保局" in (await inbox(people.hr))["items"][0]["body"]


async def test_a_resolution_a_poor_rating_and_its_follow_up_go_round(people: People) -> None:
    case = await logged(people)
    case = await people.housing.move(case, "accept")
    case = await people.housing.move(case, "start")
    case = await people.housing.move(case, "resolve", outcome="已分配人才公寓")
    resolved = (await inbox(people.worker))["items"][0]
    assert resolved["kind"] == "case.resolved" and "已分配人才公寓" in resolved["body"] and "评价" in resolved["body"]
    assert "case.resolved" in await kinds(people.steward)

    await people.worker.ok("POST", f"/cases/{case['id']}/ratings", 201, json={"level": "satisfied"})
    assert "case.poor_rating" not in await kinds(people.steward)

    case = await people.steward.move(case, "reopen", reason="未落实")
    case = await people.housing.move(case, "resolve", outcome="已落实")
    rating = await people.worker.ok("POST", f"/cases/{case['id']}/ratings", 201, json={"level": "dissatisfied"})
    poor = (await inbox(people.steward))["items"][0]
    assert poor["kind"] == "case.poor_rating" and "15 个工作日" in poor["body"]

    answer = {"answer": "已回访，重新协调房源"}
    await people.steward.ok("POST", f"/cases/{case['id']}/ratings/{rating['id']}/follow-up", json=answer)
    assert (await kinds(people.worker))[0] == "case.follow_up_answered"


async def test_a_workers_own_request_tells_the_steward_and_the_department(people: People) -> None:
    item = await people.worker.item()
    body = {"item_id": item["id"], "title": "孩子转学", "description": "从渝北转到江北"}
    own = await people.worker.ok("POST", "/my/cases", 201, json=body)
    assert await kinds(people.steward) == ["case.request_submitted"]
    assert await kinds(people.housing) == ["case.routed_to_department"]
    assert await kinds(people.worker) == []
    await people.worker.ok("POST", f"/my/cases/{own['id']}/withdraw", json={"reason": "不需要了"})
    assert (await kinds(people.steward))[0] == "case.withdrawn"


async def test_a_move_that_is_rolled_back_tells_nobody(people: People, settings: Settings) -> None:
    """The audit record is written after the notices, in the same transaction: when the
    database refuses it, the move and its notices go together."""
    case = await logged(people)
    before = await kinds(people.worker)
    engine = create_async_engine(async_url(settings.database_url or ""))
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "CREATE FUNCTION refuse_move() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused' USING ERRCODE = 'serialization_failure'; END $$"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER refuse_move BEFORE INSERT ON audit_event FOR EACH ROW "
                    "WHEN (NEW.action = 'case.move') EXECUTE FUNCTION refuse_move()"
                )
            )
        refused = await people.housing.send(
            "POST",
            f"/cases/{case['id']}/transitions",
            json={"action": "accept"},
            headers={"If-Match": f'"{case["id"]}.{case["version"]}"'},
        )
        assert refused.status_code in (409, 503), refused.text
        async with engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER refuse_move ON audit_event"))
            await conn.execute(text("DROP FUNCTION refuse_move()"))
            written = await conn.scalar(text("SELECT count(*) FROM notification WHERE kind = 'case.accepted'"))
    finally:
        await engine.dispose()
    assert written == 0
    assert await kinds(people.worker) == before
    assert (await people.housing.ok("GET", f"/cases/{case['id']}"))["status"] == "submitted"
    await people.housing.move(case, "accept")  # and once the database takes it, the worker is told
    assert (await kinds(people.worker))[0] == "case.accepted"


async def test_the_inbox_counts_marks_read_and_keeps_to_its_owner(people: People) -> None:
    case = await logged(people)
    case = await people.housing.move(case, "accept")
    case = await people.housing.move(case, "request_materials", materials="身份证复印件")
    page = await inbox(people.worker)
    assert page["total"] == 3 and page["unread"] == 3
    assert [n["kind"] for n in page["items"]] == ["case.materials_requested", "case.accepted", "case.logged"]
    assert (await people.worker.ok("GET", "/notifications/unread-count")) == {"unread": 3}

    first = page["items"][-1]
    read = await people.worker.ok("POST", f"/notifications/{first['id']}/read")
    assert read["read_at"] is not None
    again = await people.worker.ok("POST", f"/notifications/{first['id']}/read")
    assert again["read_at"] == read["read_at"]  # read once, at the first time
    unread = await inbox(people.worker, unread="true")
    assert unread["total"] == 2 and unread["unread"] == 2
    assert first["id"] not in {n["id"] for n in unread["items"]}
    assert (await inbox(people.worker, limit=1, offset=1))["items"][0]["kind"] == "case.accepted"

    # Another person's notice does not exist for them, whatever their role.
    await people.steward.problem("POST", f"/notifications/{first['id']}/read", 404)
    await people.admin.problem("POST", f"/notifications/{first['id']}/read", 404)
    await people.worker.problem("POST", f"/notifications/{uuid.uuid4()}/read", 404)
    assert (await inbox(people.admin))["total"] == 0

    assert await people.worker.ok("POST", "/notifications/read-all") == {"marked": 2}
    assert await people.worker.ok("POST", "/notifications/read-all") == {"marked": 0}
    assert (await people.worker.ok("GET", "/notifications/unread-count")) == {"unread": 0}


async def test_the_inbox_needs_a_sign_in(anonymous: AsyncTestClient[Litestar]) -> None:
    nobody = Api(anonymous)
    await nobody.problem("GET", "/notifications", 401)
    await nobody.problem("GET", "/notifications/unread-count", 401)
    await nobody.problem("POST", "/notifications/read-all", 401)
    await nobody.problem("POST", f"/notifications/{uuid.uuid4()}/read", 401)


def test_every_kind_has_a_chinese_text_and_every_move_its_notices() -> None:
    assert set(TEXTS) == set(Kind) - DIGESTS
    facts = Facts(case_no="BS-20261204-000001-3", item_title="人才住房保障", promised_working_days=14)
    for kind in TEXTS:
        title, body = render(kind, facts)
        assert "{" not in title + body and "BS-20261204-000001-3" in title + body
    for action in ("create", "accept", "reject", "request_materials", "transfer", "resolve", "reopen", "withdraw"):
        assert notices_for(action, by_worker=False), action
    assert notices_for("note", by_worker=False) == ()
    assert notices_for("rate", by_worker=True) == ()
    assert notices_for("rate", by_worker=True, poor_rating=True)
    title, body = render_digest("2026-10-08", "08:01", 2, 1, ["BS-1", "BS-2"])
    assert "2026-10-08" in title and "超期办件 2 件" in body and "BS-1、BS-2" in body


async def test_a_refusal_tells_the_worker_the_reason_their_page_shows(people: People) -> None:
    case = await logged(people)
    await people.housing.move(case, "reject", reason="不属于本清单受理范围")
    told = (await inbox(people.worker))["items"][0]
    assert told["kind"] == "case.rejected" and "不属于本清单受理范围" in told["body"]
    assert "case.rejected" in await kinds(people.steward)


async def test_a_steward_withdrawal_and_a_reopening_tell_the_worker_and_the_department(people: People) -> None:
    withdrawn = await logged(people)
    await people.steward.move(withdrawn, "withdraw", reason="申请人电话撤回")
    assert (await kinds(people.worker))[0] == "case.withdrawn"
    assert (await kinds(people.housing))[0] == "case.withdrawn"

    case = await logged(people)
    case = await people.housing.move(case, "accept")
    case = await people.housing.move(case, "start")
    case = await people.housing.move(case, "resolve", outcome="已办结")
    await people.steward.move(case, "reopen", reason="申请人反映未落实")
    assert (await kinds(people.worker))[0] == "case.reopened"
    assert (await kinds(people.housing))[0] == "case.reopened"


async def test_the_longest_texts_are_quoted_short_and_the_move_succeeds(people: People) -> None:
    case = await logged(people)
    case = await people.housing.move(case, "accept")
    long_text = "补" * 2000  # the longest the API takes
    case = await people.housing.move(case, "request_materials", materials=long_text)
    asked = (await inbox(people.worker))["items"][0]
    assert asked["kind"] == "case.materials_requested"
    assert "补" * (FREE_TEXT_CHARS - 1) + "…" in asked["body"] and long_text not in asked["body"]
    await people.housing.move(case, "reject", 409, reason=long_text)  # not from this status, and no 500
    other = await logged(people)
    await people.housing.move(other, "reject", reason=long_text)
    assert (await kinds(people.worker))[0] == "case.rejected"


async def test_no_notice_holds_a_name_an_id_number_or_a_mobile(people: People, settings: Settings) -> None:
    case = await logged(people)
    case = await people.housing.move(case, "accept")
    await people.housing.move(case, "request_materials", materials="学历证明")
    engine = create_async_engine(async_url(settings.database_url or ""))
    try:
        async with engine.connect() as conn:
            texts = (await conn.execute(text("SELECT title || ' ' || body FROM notification"))).scalars().all()
    finally:
        await engine.dispose()
    assert len(texts) >= 4
    record = people.worker_record
    for written in texts:
        assert "张三明" not in written
        assert "13812345678" not in written and record["mobile_masked"] not in written
        assert record["national_id_masked"] not in written


async def test_the_kinds_the_api_documents_and_the_database_takes_are_the_domains(settings: Settings) -> None:
    assert set(get_args(NoticeKind)) == {k.value for k in Kind}
    engine = create_async_engine(async_url(settings.database_url or ""))
    try:
        async with engine.connect() as conn:
            check = await conn.scalar(
                text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ck_notification_kind'")
            )
    finally:
        await engine.dispose()
    assert check is not None
    assert set(re.findall(r"'([a-z_.]+)'", check)) == {k.value for k in Kind}
