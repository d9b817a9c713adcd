"""The science worker's side: query codes and receipts, the public lookup, the worker's
own cases (submit, answer a request for materials, withdraw, rate) and what never
reaches a worker: internal notes, internal files, another worker's cases."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from service.adapters.storage import LocalFolderStore
from service.app import create_app
from service.config import Settings, async_url
from tests.conftest import Clock
from tests.factory import API, Api
from tests.samples import make_pdf

CODE = re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")
INTERNAL_NOTE = "内部备注：申请人材料存疑"
PUBLIC_NOTE = "已联系住建部门，正在核实房源"


@dataclass
class Worker:
    api: Api
    record: dict[str, Any]
    steward: Api
    steward_record: dict[str, Any]


async def worker_with_account(admin: Api, name: str = "张三明") -> Worker:
    steward_api, staff = await admin.steward_account("李专员")
    await admin.ok("PATCH", f"/staff/{staff['id']}", json={"work_phone": "023-61234567"})
    record = await admin.worker(staff["id"], name=name)
    api = await admin.account("worker", worker_id=record["id"])
    return Worker(api, record, steward_api, staff)


async def awaiting_materials(steward: Api, worker_id: str) -> dict[str, Any]:
    item = await steward.item()
    case = await steward.ok(
        "POST",
        "/cases",
        201,
        json={"worker_id": worker_id, "item_id": item["id"], "title": "申请人才公寓", "channel": "phone"},
    )
    case = await steward.move(case, "accept")
    return await steward.move(case, "request_materials", materials="请补充学历证明", visibility="public")


async def upload(api: Api, case_id: str, data: bytes, name: str = "学历证明.pdf", **form: str) -> Any:
    return await api.send(
        "POST", f"/cases/{case_id}/attachments", files={"file": (name, data, "application/pdf")}, data=form
    )


# Query codes and receipts.


async def test_a_new_case_shows_its_query_code_once_and_keeps_only_a_hash(
    client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    api = Api(client)
    created = await api.case()
    code = created["query_code"]
    assert CODE.match(code)
    assert created["receipt_url"] == f"{API}/cases/{created['id']}/receipt?code={code}"
    again = await api.ok("GET", f"/cases/{created['id']}")
    assert "query_code" not in again
    assert code not in (await api.send("GET", f"/cases/{created['id']}")).text

    engine = create_async_engine(async_url(settings.database_url or ""))
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(text('SELECT row_to_json(c)::text FROM "case" c'))).scalar_one()
            stored = (await conn.execute(text('SELECT query_code_hash FROM "case"'))).scalar_one()
    finally:
        await engine.dispose()
    assert code not in row
    assert code.replace("-", "") not in row
    assert len(stored) == 32  # HMAC-SHA256


async def test_the_receipt_prints_the_case_and_its_code_for_the_right_code_only(
    client: AsyncTestClient[Litestar],
) -> None:
    api = Api(client)
    created = await api.case()
    response = await client.get(created["receipt_url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    for expected in (created["case_no"], created["query_code"], "WL-01", "14 个工作日", "受理回执"):
        assert expected in page
    assert "<script" not in page
    assert "http://testserver.local/#/lookup" in page
    # Typed in lower case without the hyphen, the code still prints as issued.
    loose = created["query_code"].replace("-", "").lower()
    assert created["query_code"] in (await api.send("GET", f"/cases/{created['id']}/receipt?code={loose}")).text
    wrong = await api.problem("GET", f"/cases/{created['id']}/receipt?code=2222-2222", 422)
    assert wrong["errors"][0]["field"] == "query.code"


async def test_a_steward_issues_a_new_code_and_the_old_one_stops_working(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar]
) -> None:
    admin = Api(client)
    worker = await worker_with_account(admin)
    item = await admin.item()
    body = {"worker_id": worker.record["id"], "item_id": item["id"], "title": "子女入学", "channel": "wechat"}
    created = await worker.steward.ok("POST", "/cases", 201, json=body)
    old = created["query_code"]
    issued = await worker.steward.ok("POST", f"/cases/{created['id']}/query-code", 201)
    assert issued["case_no"] == created["case_no"]
    assert CODE.match(issued["query_code"])
    assert issued["query_code"] != old
    public = Api(anonymous)
    await public.problem("GET", f"/lookup?case_no={created['case_no']}&code={old}", 404)
    await public.ok("GET", f"/lookup?case_no={created['case_no']}&code={issued['query_code']}")
    # A staff timeline line, not shown to the worker.
    staff_view = await worker.steward.ok("GET", f"/cases/{created['id']}")
    assert [e["action"] for e in staff_view["timeline"]] == ["create", "reissue_code"]
    assert staff_view["timeline"][1]["visibility"] == "internal"
    mine = await worker.api.ok("GET", f"/my/cases/{created['id']}")
    assert [e["action"] for e in mine["timeline"]] == ["create"]
    # Only those who may edit the case issue codes.
    other_steward, _ = await admin.steward_account("周专员")
    await other_steward.problem("POST", f"/cases/{created['id']}/query-code", 404)
    await worker.api.problem("POST", f"/cases/{created['id']}/query-code", 403)


# The public lookup.


async def test_lookup_with_the_right_code_shows_the_public_view_only(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar]
) -> None:
    admin = Api(client)
    worker = await worker_with_account(admin, name="张三明")
    case = await awaiting_materials(worker.steward, worker.record["id"])
    first = (await worker.steward.ok("GET", f"/cases/{case['id']}"))["timeline"][0]
    assert first["action"] == "create"
    code = (await worker.steward.ok("POST", f"/cases/{case['id']}/query-code", 201))["query_code"]
    await worker.steward.ok("POST", f"/cases/{case['id']}/notes", 201, json={"note": INTERNAL_NOTE})
    await worker.steward.ok(
        "POST", f"/cases/{case['id']}/notes", 201, json={"note": PUBLIC_NOTE, "visibility": "public"}
    )
    response = await anonymous.get(f"{API}/lookup", params={"case_no": case["case_no"], "code": code.lower()})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    found = response.json()
    assert found["case_no"] == case["case_no"]
    assert found["item_code"] == "WL-01"
    assert found["item_title"]
    assert (found["status"], found["status_label"]) == ("awaiting_materials", "待补件")
    assert found["awaited_materials"] == "请补充学历证明"
    assert found["worker_name_masked"] == "张*明"
    assert found["due"]["state"] == "paused"
    assert found["due"]["state_label"].startswith("暂停计时")
    assert found["due"]["promised_working_days"] == 14
    assert [(e["action"], e["status_label"]) for e in found["timeline"]] == [
        ("create", "已提交"),
        ("accept", "已受理"),
        ("request_materials", "待补件"),
        ("note", "待补件"),
    ]
    assert found["timeline"][-1]["note"] == PUBLIC_NOTE
    assert found["timeline"][1]["note"] is None  # the acceptance was internal: date and status only
    text_of = response.text
    for secret in (INTERNAL_NOTE, "张三明", worker.record["id"], worker.steward_record["id"], "13812345678"):
        assert secret not in text_of
    assert set(found) == {
        "case_no",
        "item_code",
        "item_title",
        "status",
        "status_label",
        "received_at",
        "due",
        "awaited_materials",
        "worker_name_masked",
        "timeline",
    }
    assert set(found["timeline"][0]) == {"at", "action", "label", "status", "status_label", "note"}


async def test_a_wrong_number_and_a_wrong_code_answer_alike(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar]
) -> None:
    created = await Api(client).case()
    public = Api(anonymous)
    wrong_code = await public.problem("GET", f"/lookup?case_no={created['case_no']}&code=2222-2222", 404)
    wrong_number = await public.problem("GET", f"/lookup?case_no=BS-20990101-0001&code={created['query_code']}", 404)
    assert wrong_code == wrong_number
    assert wrong_code["errors"] == [{"field": "query.code", "reason": wrong_code["detail"]}]
    missing = await public.problem("GET", f"/lookup?case_no={created['case_no']}", 400)
    assert missing["errors"][0]["field"] == "query.code", missing


@pytest.fixture
async def strict_lookup(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """An anonymous client on an app whose case numbers lock after 3 wrong codes and
    whose addresses may look up 12 times."""
    tight = dataclasses.replace(settings, lookup_lock_threshold=3, lookup_limit_per_address=12)
    async with AsyncTestClient(app=create_app(tight, clock=clock), base_url="http://testserver.local") as c:
        yield c


async def test_repeated_wrong_codes_lock_the_case_number_until_a_new_code_is_issued(
    client: AsyncTestClient[Litestar], strict_lookup: AsyncTestClient[Litestar]
) -> None:
    admin = Api(client)
    created = await admin.case()
    number, code = created["case_no"], created["query_code"]
    public = Api(strict_lookup)
    for _ in range(3):
        await public.problem("GET", f"/lookup?case_no={number}&code=2222-2222", 404)
    locked = await strict_lookup.get(f"{API}/lookup", params={"case_no": number, "code": code})
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 30 * 60
    assert "wrong query codes" in locked.json()["detail"]
    # An unknown number locks the same way, so locking tells nothing about which numbers exist.
    for _ in range(3):
        await public.problem("GET", "/lookup?case_no=BS-20990101-0001&code=2222-2222", 404)
    await public.problem("GET", "/lookup?case_no=BS-20990101-0001&code=2222-2222", 429)
    # The steward's new code lifts the lock (the counters are this app's: the admin's
    # client is another app instance, so reissue through the locked one).
    token = client.headers["Authorization"]
    issued = await strict_lookup.post(f"{API}/cases/{created['id']}/query-code", headers={"Authorization": token})
    assert issued.status_code == 201, issued.text
    found = await strict_lookup.get(f"{API}/lookup", params={"case_no": number, "code": issued.json()["query_code"]})
    assert found.status_code == 200, found.text


async def test_lookups_are_limited_per_client_address(
    client: AsyncTestClient[Litestar], strict_lookup: AsyncTestClient[Litestar]
) -> None:
    created = await Api(client).case()
    public = Api(strict_lookup)
    for _ in range(12):
        await public.ok("GET", f"/lookup?case_no={created['case_no']}&code={created['query_code']}")
    refused = await public.problem("GET", f"/lookup?case_no={created['case_no']}&code={created['query_code']}", 429)
    assert "this address" in refused["detail"]


# The worker's own cases.


async def test_a_worker_sees_only_their_own_cases_through_their_own_view(
    client: AsyncTestClient[Litestar],
) -> None:
    admin = Api(client)
    worker = await worker_with_account(admin)
    mine = await awaiting_materials(worker.steward, worker.record["id"])
    await worker.steward.ok("POST", f"/cases/{mine['id']}/notes", 201, json={"note": INTERNAL_NOTE})
    theirs = await admin.case()  # another worker of another steward
    page = await worker.api.ok("GET", "/my/cases")
    assert [c["id"] for c in page["items"]] == [mine["id"]]
    assert page["total"] == 1
    summary = page["items"][0]
    assert summary["awaiting_me"] is True
    assert summary["due"]["state"] == "paused"
    detail = await worker.api.ok("GET", f"/my/cases/{mine['id']}")
    assert detail["steward"] == {"name": "李专员", "work_phone": "023-61234567", "email": None}
    assert detail["awaited_materials"] == "请补充学历证明"
    assert detail["can_answer_materials"] is True
    assert detail["can_withdraw"] is True
    assert detail["can_rate"] is False
    raw = (await worker.api.send("GET", f"/my/cases/{mine['id']}")).text
    assert INTERNAL_NOTE not in raw
    assert "details" not in raw
    assert "actor_id" not in raw
    await worker.api.problem("GET", f"/my/cases/{theirs['id']}", 404)
    await worker.api.problem("GET", f"/cases/{mine['id']}", 403)  # the staff's record is not theirs
    await worker.api.problem("GET", "/cases", 403)
    await worker.steward.problem("GET", "/my/cases", 403)


async def test_a_worker_submits_a_request_that_lands_in_the_stewards_queue(
    client: AsyncTestClient[Litestar],
) -> None:
    admin = Api(client)
    worker = await worker_with_account(admin)
    item = await admin.item("WL-03")
    created = await worker.api.ok(
        "POST", "/my/cases", 201, json={"item_id": item["id"], "title": "孩子转学", "description": "从渝北转到江北"}
    )
    assert created["status"] == "submitted"
    assert CODE.match(created["query_code"])
    assert created["receipt_url"] == f"{API}/my/cases/{created['id']}/receipt?code={created['query_code']}"
    receipt = await worker.api.send("GET", created["receipt_url"].removeprefix(API))
    assert receipt.status_code == 200
    assert created["query_code"] in receipt.text
    queue = await worker.steward.ok("GET", "/cases?status=submitted")
    assert [c["id"] for c in queue["items"]] == [created["id"]]
    staff_view = await worker.steward.ok("GET", f"/cases/{created['id']}")
    assert staff_view["steward_id"] == worker.steward_record["id"]
    assert staff_view["department_code"] == item["lead_department_code"]
    assert staff_view["channel"] == "website"
    # Refusals name the field and write nothing.
    inactive = await admin.item("WL-05")
    await admin.ok("PATCH", f"/work-list-items/{inactive['id']}", json={"active": False})
    refused = await worker.api.problem("POST", "/my/cases", 422, json={"item_id": inactive["id"], "title": "x"})
    assert refused["errors"][0]["field"] == "item_id"
    bad = await worker.api.problem("POST", "/my/cases", 400, json={"item_id": item["id"], "title": ""})
    assert bad["errors"][0]["field"] == "title"
    smuggled = {"item_id": item["id"], "title": "x", "steward_id": worker.steward_record["id"]}
    await worker.api.problem("POST", "/my/cases", 400, json=smuggled)
    assert (await worker.api.ok("GET", "/my/cases"))["total"] == 1


async def test_a_worker_answers_a_request_for_materials_with_a_pdf(client: AsyncTestClient[Litestar]) -> None:
    admin = Api(client)
    worker = await worker_with_account(admin)
    case = await awaiting_materials(worker.steward, worker.record["id"])
    pdf = make_pdf()
    sent = await upload(worker.api, case["id"], pdf, name="../../学历证明.PDF")
    assert sent.status_code == 201, sent.text
    file = sent.json()
    assert file["filename"] == "学历证明.pdf"
    assert file["media_type"] == "application/pdf"
    assert file["visibility"] == "public"
    assert file["uploaded_by_worker"] is True
    assert file["answered"] is False
    answered = await worker.api.ok(
        "POST", f"/my/cases/{case['id']}/materials", json={"note": "已上传学历证明", "attachment_ids": [file["id"]]}
    )
    assert answered["status"] == "awaiting_materials"  # until the steward confirms receipt
    assert answered["awaiting_me"] is False
    assert answered["materials_answered_at"] is not None
    assert answered["timeline"][-1]["action"] == "answer_materials"
    assert answered["timeline"][-1]["note"] == "已上传学历证明"
    assert [a["answered"] for a in answered["attachments"]] == [True]
    # The same file cannot answer twice, nor can someone else's file.
    again = await worker.api.problem(
        "POST", f"/my/cases/{case['id']}/materials", 422, json={"note": "再发一次", "attachment_ids": [file["id"]]}
    )
    assert again["errors"][0]["field"] == "attachment_ids"
    staff_view = await worker.steward.ok("GET", f"/cases/{case['id']}")
    assert staff_view["materials_answered_at"] == answered["materials_answered_at"]
    received = await worker.steward.move(staff_view, "receive_materials")
    assert received["status"] == "in_progress"
    assert received["materials_answered_at"] is None
    not_waiting = await worker.api.problem(
        "POST", f"/my/cases/{case['id']}/materials", 409, json={"note": "又补充了一份"}
    )
    assert not_waiting["errors"][0]["field"] == "status"


async def test_a_worker_withdraws_an_open_request_and_rates_a_resolved_one(
    client: AsyncTestClient[Litestar],
) -> None:
    admin = Api(client)
    worker = await worker_with_account(admin)
    item = await admin.item()
    first = await worker.api.ok("POST", "/my/cases", 201, json={"item_id": item["id"], "title": "人才公寓"})
    withdrawn = await worker.api.ok("POST", f"/my/cases/{first['id']}/withdraw", json={"reason": "已自行解决"})
    assert withdrawn["status"] == "withdrawn"
    assert withdrawn["withdraw_reason"] == "已自行解决"
    assert withdrawn["timeline"][-1]["note"] == "已自行解决"
    refused = await worker.api.problem("POST", f"/my/cases/{first['id']}/withdraw", 409, json={"reason": "再撤一次"})
    assert refused["errors"][0]["field"] == "action"
    await worker.api.problem("POST", f"/my/cases/{first['id']}/withdraw", 400, json={"reason": ""})

    second = await worker.api.ok("POST", "/my/cases", 201, json={"item_id": item["id"], "title": "医疗绿色通道"})
    staff_view = await worker.steward.ok("GET", f"/cases/{second['id']}")
    staff_view = await worker.steward.move(staff_view, "accept")
    staff_view = await worker.steward.move(staff_view, "start")
    staff_view = await worker.steward.move(staff_view, "resolve", outcome="已开通绿色通道")
    resolved = await worker.api.ok("GET", f"/my/cases/{second['id']}")
    assert resolved["outcome"] == "已开通绿色通道"
    assert (resolved["can_rate"], resolved["can_withdraw"]) == (True, False)
    await worker.api.ok("POST", f"/cases/{second['id']}/ratings", 201, json={"level": "very_satisfied"})
    rated = await worker.api.ok("GET", f"/my/cases/{second['id']}")
    assert (rated["rating"], rated["can_rate"]) == ("very_satisfied", False)


# Attachments.


async def test_uploads_are_checked_by_content_and_size(client: AsyncTestClient[Litestar]) -> None:
    admin = Api(client)
    worker = await worker_with_account(admin)
    case = await awaiting_materials(worker.steward, worker.record["id"])
    html = b"<html><body><script>alert(1)</script></body></html>"
    refused = await upload(worker.api, case["id"], html, name="证明.pdf")
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "file"
    empty = await upload(worker.api, case["id"], b"", name="空.pdf")
    assert empty.status_code == 422, empty.text
    assert empty.json()["errors"][0]["field"] == "file"
    too_big = make_pdf(b"%" + b"x" * (20 * 1024 * 1024))
    big = await upload(worker.api, case["id"], too_big)
    assert big.status_code == 413, big.text
    assert big.headers["content-type"].startswith("application/problem+json")
    just_fits = make_pdf(b"%" + b"x" * (20 * 1024 * 1024 - len(make_pdf(b"%\n")) - 16) + b"\n")
    assert len(just_fits) <= 20 * 1024 * 1024
    fits = await upload(worker.api, case["id"], just_fits)
    assert fits.status_code == 201, fits.text[:300]
    files = await worker.api.ok("GET", f"/cases/{case['id']}/attachments")
    assert [f["size_bytes"] for f in files] == [len(just_fits)]


async def test_a_store_that_fails_answers_503_and_nothing_is_written(
    client: AsyncTestClient[Litestar], tmp_path: Path
) -> None:
    """A full or unwritable disk (here: the store's folder is a file) is the store's
    fault, not the database's and not the caller's: 503 with ``Retry-After``, no row,
    no timeline line; downloads of files kept before answer the same while it lasts."""
    admin = Api(client)
    worker = await worker_with_account(admin)
    case = await awaiting_materials(worker.steward, worker.record["id"])
    kept = (await upload(worker.steward, case["id"], make_pdf(b"% kept\n"), visibility="public")).json()
    before = await worker.steward.ok("GET", f"/cases/{case['id']}")
    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"")
    client.app.state.store = LocalFolderStore(blocked)
    refused = await upload(worker.steward, case["id"], make_pdf(b"% new\n"))
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "5"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "attachment store" in refused.json()["detail"]
    assert "not-a-folder" not in refused.text
    after = await worker.steward.ok("GET", f"/cases/{case['id']}")
    assert after["timeline"] == before["timeline"]
    assert [f["id"] for f in await worker.steward.ok("GET", f"/cases/{case['id']}/attachments")] == [kept["id"]]
    download = await worker.steward.send("GET", f"/attachments/{kept['id']}/content")
    assert download.status_code == 503, download.text


async def test_downloads_follow_reach_and_visibility_and_are_audited(client: AsyncTestClient[Litestar]) -> None:
    admin = Api(client)
    worker = await worker_with_account(admin)
    case = await awaiting_materials(worker.steward, worker.record["id"])
    pdf = make_pdf(b"% public\n")
    internal_pdf = make_pdf(b"% internal\n")
    public = (await upload(worker.steward, case["id"], pdf, name="回复函.pdf", visibility="public")).json()
    internal = (await upload(worker.steward, case["id"], internal_pdf, name="内部审核.pdf")).json()
    assert internal["visibility"] == "internal"
    assert [f["id"] for f in await worker.api.ok("GET", f"/cases/{case['id']}/attachments")] == [public["id"]]
    assert len(await worker.steward.ok("GET", f"/cases/{case['id']}/attachments")) == 2
    mine = await worker.api.ok("GET", f"/my/cases/{case['id']}")
    assert [f["id"] for f in mine["attachments"]] == [public["id"]]
    assert "内部审核" not in (await worker.api.send("GET", f"/my/cases/{case['id']}")).text

    got = await worker.api.send("GET", f"/attachments/{public['id']}/content")
    assert got.status_code == 200
    assert got.content == pdf
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "filename*=UTF-8''%E5%9B%9E%E5%A4%8D%E5%87%BD.pdf" in got.headers["content-disposition"]
    assert public["sha256"] == hashlib.sha256(pdf).hexdigest()
    await worker.api.problem("GET", f"/attachments/{internal['id']}/content", 404)
    stranger = await worker_with_account(admin, name="王五")
    await stranger.api.problem("GET", f"/attachments/{public['id']}/content", 404)
    await stranger.api.problem("GET", f"/cases/{case['id']}/attachments", 404)
    liaison, _ = await admin.liaison_account("education")  # not the case's department
    await liaison.problem("GET", f"/attachments/{public['id']}/content", 404)
    official = await admin.account("official")
    await official.problem("GET", f"/attachments/{public['id']}/content", 403)

    auditor = await admin.account("auditor")
    trail = await auditor.ok("GET", "/audit/events?action=attachment.download")
    assert [(e["target_id"], e["actor_role"]) for e in trail["items"]] == [(public["id"], "worker")]
    uploads = await auditor.ok("GET", "/audit/events?action=attachment.upload")
    assert uploads["total"] == 2


async def test_finished_cases_take_no_more_files(client: AsyncTestClient[Litestar]) -> None:
    admin = Api(client)
    worker = await worker_with_account(admin)
    item = await admin.item()
    created = await worker.api.ok("POST", "/my/cases", 201, json={"item_id": item["id"], "title": "落户"})
    await worker.api.ok("POST", f"/my/cases/{created['id']}/withdraw", json={"reason": "不需要了"})
    refused = await upload(worker.api, created["id"], make_pdf())
    assert refused.status_code == 409, refused.text
    assert await worker.api.ok("GET", f"/cases/{created['id']}/attachments") == []
