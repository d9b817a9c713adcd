"""What goes out beyond the inbox, as people and the administrator manage it: each
person's channel choice, the channels offered and the text-message templates, the texts
notices are written with, the delivery log with its retries and replays, and webhook
subscriptions with their secrets. Deliveries are made by logging cases through the API;
what the delivery worker would do to them (send, park) is done here in SQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, get_args

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from schemas.deliveries import ChannelName, DeliveryStatusName
from service.adapters.webhooks import SECRET_PREFIX
from service.config import Settings, async_url, security_kit
from service.domain.deliveries import Channel, DeliveryStatus
from service.domain.masking import mask_email
from service.domain.notices import DIGESTS, FACT_NAMES, TEXTS, Kind
from service.security.kit import SecurityKit
from service.services.deliveries import email_context, secret_context
from tests.conftest import Clock
from tests.factory import Api

ADDRESS = "wang.li@example.com"
RECEIVER = "https://receiver.example/hooks?token=s3cr3t-path-token"


@dataclass
class People:
    admin: Api
    steward: Api
    worker: Api
    worker_record: dict[str, Any]
    item_id: str


@pytest.fixture
async def people(client: AsyncTestClient[Litestar]) -> People:
    admin = Api(client)
    steward, staff = await admin.steward_account("李专员")
    record = await admin.worker(staff["id"], name="张三明")
    worker = await admin.account("worker", worker_id=record["id"])
    item = await admin.item()
    return People(admin, steward, worker, record, item["id"])


@pytest.fixture
def kit(settings: Settings) -> SecurityKit:
    """The app's keys, to open what it sealed."""
    return security_kit(settings)


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    made = create_async_engine(async_url(settings.database_url or ""))
    try:
        yield made
    finally:
        await made.dispose()


async def log_case(people: People) -> dict[str, Any]:
    body = {
        "worker_id": people.worker_record["id"],
        "item_id": people.item_id,
        "title": "申请人才公寓",
        "channel": "phone",
    }
    case: dict[str, Any] = await people.steward.ok("POST", "/cases", 201, json=body)
    return case


async def offer(
    admin: Api, *, email: bool = True, sms: bool = True, templates: dict[str, str] | None = None
) -> dict[str, Any]:
    body = {"email_offered": email, "sms_offered": sms, "sms_templates": templates or {}}
    settings: dict[str, Any] = await admin.ok("PUT", "/notice-settings", json=body)
    return settings


async def subscribe(admin: Api, *types: str, url: str = RECEIVER) -> dict[str, Any]:
    body = {"name": "市政务服务平台", "url": url, "event_types": list(types or ["case.logged"])}
    made: dict[str, Any] = await admin.ok("POST", "/webhook-subscriptions", 201, json=body)
    return made


def field_of(problem: dict[str, Any]) -> str:
    return str(problem["errors"][0]["field"])


async def audited(engine: AsyncEngine, action: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT target_id, details FROM audit_event WHERE action = :a ORDER BY seq"), {"a": action}
        )
        return [{"target_id": r[0], "details": r[1]} for r in rows]


async def queued(engine: AsyncEngine, delivery_id: str) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE args->>'delivery_id' = :id AND status = 'todo'"),
            {"id": delivery_id},
        )
    return int(found or 0)


async def worker_did(engine: AsyncEngine, delivery_id: str, status: str, **columns: Any) -> None:
    """What the delivery worker does: finish the delivery's job, and leave the row ``status``."""
    sets = ", ".join(f"{name} = :{name}" for name in columns)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "SELECT procrastinate_finish_job_v1(id, 'succeeded', false) FROM procrastinate_jobs "
                "WHERE args->>'delivery_id' = :id AND status = 'todo'"
            ),
            {"id": delivery_id},
        )
        await conn.execute(
            text(f"UPDATE delivery SET status = :status{', ' + sets if sets else ''} WHERE id = :id"),
            {"id": delivery_id, "status": status, **columns},
        )


async def refused_to(api: Api, method: str, path: str, **kwargs: Any) -> None:
    await api.problem(method, path, 403, **kwargs)


def test_the_schemas_name_the_domains_channels_and_statuses() -> None:
    assert set(get_args(ChannelName)) == {c.value for c in Channel}
    assert set(get_args(DeliveryStatusName)) == {s.value for s in DeliveryStatus}


def test_an_address_is_masked_to_its_first_character_and_domain() -> None:
    assert mask_email(ADDRESS) == "w***@example.com"
    assert mask_email("w@example.com") == "***@example.com"


# One's own channels.


async def test_a_person_chooses_channels_within_what_is_offered(
    people: People, engine: AsyncEngine, kit: SecurityKit
) -> None:
    mine = await people.worker.ok("GET", "/notifications/preferences")
    assert mine == {
        "email": False,
        "sms": True,
        "email_address": None,
        "chosen": False,
        "offered": {"email": False, "sms": False},
        "updated_at": None,
    }
    staff_default = await people.steward.ok("GET", "/notifications/preferences")
    assert (staff_default["email"], staff_default["sms"], staff_default["chosen"]) == (True, False, False)

    refused = await people.worker.problem("PUT", "/notifications/preferences", 409, json={"email": True, "sms": False})
    assert field_of(refused) == "email"
    refused = await people.worker.problem("PUT", "/notifications/preferences", 409, json={"email": False, "sms": True})
    assert field_of(refused) == "sms"

    await offer(people.admin)
    no_address = await people.worker.problem(
        "PUT", "/notifications/preferences", 422, json={"email": True, "sms": True}
    )
    assert field_of(no_address) == "email_address"
    for wrong in ("not-an-address", "two@@example.com", "x@example.com\x00"):
        body = {"email": True, "sms": True, "email_address": wrong}
        assert field_of(await people.worker.problem("PUT", "/notifications/preferences", 400, json=body)) == (
            "email_address"
        )

    chosen = await people.worker.ok(
        "PUT", "/notifications/preferences", json={"email": True, "sms": True, "email_address": ADDRESS}
    )
    assert chosen["email_address"] == "w***@example.com"
    assert (chosen["email"], chosen["sms"], chosen["chosen"]) == (True, True, True)
    assert chosen["offered"] == {"email": True, "sms": True}
    # The masked form sent back is refused; the field left out keeps the address.
    masked = {"email": True, "sms": False, "email_address": chosen["email_address"]}
    refused = await people.worker.problem("PUT", "/notifications/preferences", 422, json=masked)
    assert field_of(refused) == "email_address"
    kept = await people.worker.ok("PUT", "/notifications/preferences", json={"email": True, "sms": False})
    assert kept["email_address"] == "w***@example.com" and kept["sms"] is False
    assert await people.worker.ok("GET", "/notifications/preferences") == kept

    # Only a worker's record has a mobile number.
    refused = await people.steward.problem("PUT", "/notifications/preferences", 409, json={"email": False, "sms": True})
    assert field_of(refused) == "sms"
    assert "worker" in refused["detail"]

    account_id = (await people.worker.ok("GET", "/auth/me"))["account_id"]
    async with engine.connect() as conn:
        sealed = await conn.scalar(
            text("SELECT email_address_sealed FROM notice_preference WHERE account_id = :a"), {"a": account_id}
        )
    assert ADDRESS.encode() not in sealed
    assert kit.pii.open(sealed, email_context(uuid.UUID(account_id))) == ADDRESS
    trail = await audited(engine, "notice_preference.update")
    assert [row["details"]["email_address"] for row in trail] == ["set", "unchanged"]
    assert all("example.com" not in json.dumps(row["details"]) for row in trail)
    assert trail[0]["details"]["from"] is None and trail[1]["details"]["from"] == {"email": True, "sms": True}

    removed = await people.worker.ok(
        "PUT", "/notifications/preferences", json={"email": False, "sms": False, "email_address": None}
    )
    assert removed["email_address"] is None


async def test_the_choice_decides_the_channels_of_the_next_notice(people: People, engine: AsyncEngine) -> None:
    await offer(people.admin, templates={"case.logged": "2001001"})
    await people.worker.ok(
        "PUT", "/notifications/preferences", json={"email": True, "sms": False, "email_address": ADDRESS}
    )
    await log_case(people)
    log = await people.admin.ok("GET", "/deliveries")
    assert [(d["channel"], d["kind"]) for d in log["items"]] == [("email", "case.logged")]


# The channels offered.


async def test_the_administrator_offers_channels_and_registers_templates(people: People, engine: AsyncEngine) -> None:
    first = await people.admin.ok("GET", "/notice-settings")
    assert (first["email_offered"], first["sms_offered"], first["sms_templates"]) == (False, False, {})

    changed = await offer(
        people.admin, email=True, sms=True, templates={"case.logged": "SMS_2001-01", "case.accepted": "7"}
    )
    assert changed["sms_templates"] == {"case.accepted": "7", "case.logged": "SMS_2001-01"}
    assert changed["updated_by"] == (await people.admin.ok("GET", "/auth/me"))["account_id"]
    assert await people.admin.ok("GET", "/notice-settings") == changed

    wrong: list[tuple[dict[str, str], int]] = [
        ({"department.digest": "1"}, 422),  # a digest is never texted
        ({"case.nonsense": "1"}, 422),
        ({"case.logged": "has space"}, 400),
        ({"case.logged": "x" * 65}, 400),
        ({"case.logged": "trailing\n"}, 422),
    ]
    for templates, status in wrong:
        body = {"email_offered": True, "sms_offered": True, "sms_templates": templates}
        problem = await people.admin.problem("PUT", "/notice-settings", status, json=body)
        assert field_of(problem).startswith("sms_templates"), problem
    assert await people.admin.ok("GET", "/notice-settings") == changed

    trail = await audited(engine, "notice_settings.update")
    assert len(trail) == 1 and trail[0]["details"]["changes"]["email_offered"] == {"from": False, "to": True}
    for api in (people.steward, people.worker):
        await refused_to(api, "GET", "/notice-settings")
        await refused_to(api, "PUT", "/notice-settings", json={"email_offered": True, "sms_offered": True})


# The texts.


async def test_a_text_is_saved_as_a_new_version_and_used_by_the_next_notice(
    people: People, engine: AsyncEngine
) -> None:
    texts = await people.admin.ok("GET", "/notice-templates")
    assert {t["kind"] for t in texts["items"]} == {k.value for k in Kind if k not in DIGESTS}
    assert set(texts["placeholders"]) == FACT_NAMES
    logged = next(t for t in texts["items"] if t["kind"] == "case.logged")
    assert (logged["version"], (logged["title"], logged["body"])) == (0, TEXTS[Kind.CASE_LOGGED])

    new = {"title": "受理通知：{case_no}", "body": "您的“{item_title}”申请已登记（{case_no}）。"}
    saved = await people.admin.ok("PUT", "/notice-templates/case.logged", json=new)
    assert (saved["version"], saved["title"], saved["body"]) == (1, new["title"], new["body"])
    await log_case(people)
    told = (await people.worker.ok("GET", "/notifications"))["items"][0]
    assert told["title"].startswith("受理通知：") and told["body"].startswith("您的“")

    # Going back is saving the old text again.
    title, body = TEXTS[Kind.CASE_LOGGED]
    back = await people.admin.ok("PUT", "/notice-templates/case.logged", json={"title": title, "body": body})
    assert back["version"] == 2
    versions = await people.admin.ok("GET", "/notice-templates/case.logged/versions")
    assert versions["in_use"] == 2
    assert [v["version"] for v in versions["items"]] == [2, 1, 0]
    assert versions["items"][-1]["created_at"] is None
    listed = await people.admin.ok("GET", "/notice-templates")
    assert next(t for t in listed["items"] if t["kind"] == "case.logged")["version"] == 2

    refusals: list[tuple[dict[str, str], int, str]] = [
        ({"title": "{mobile}", "body": "x"}, 400, "title"),
        ({"title": "x", "body": "手机 {national_id}"}, 400, "body"),
        ({"title": "x", "body": "未闭合 {case_no"}, 400, "body"),
        ({"title": "x", "body": "{case_no!r}"}, 400, "body"),
        ({"title": "x" * 201, "body": "x"}, 400, "title"),
        ({"title": "x", "body": "x" * 2001}, 400, "body"),
        ({"title": "换行\n标题", "body": "x"}, 400, "title"),
        ({"title": "", "body": "x"}, 400, "title"),
    ]
    for text_in, status, named in refusals:
        problem = await people.admin.problem("PUT", "/notice-templates/case.accepted", status, json=text_in)
        assert field_of(problem) == named, problem
    for kind in ("case.nonsense", "department.digest"):
        await people.admin.problem("PUT", f"/notice-templates/{kind}", 404, json=new)
        await people.admin.problem("GET", f"/notice-templates/{kind}/versions", 404)
    accepted = await people.admin.ok("GET", "/notice-templates/case.accepted/versions")
    assert [v["version"] for v in accepted["items"]] == [0]

    trail = await audited(engine, "notice_text.save")
    assert [(r["target_id"], r["details"]) for r in trail] == [
        ("case.logged", {"version": 1}),
        ("case.logged", {"version": 2}),
    ]
    for api in (people.steward, people.worker):
        await refused_to(api, "GET", "/notice-templates")
        await refused_to(api, "GET", "/notice-templates/case.logged/versions")
        await refused_to(api, "PUT", "/notice-templates/case.logged", json=new)


# The delivery log, retries and replays.


async def test_the_log_lists_deliveries_without_messages_or_addresses(people: People, engine: AsyncEngine) -> None:
    await offer(people.admin, templates={"case.logged": "2001001"})
    await people.worker.ok(
        "PUT", "/notifications/preferences", json={"email": True, "sms": True, "email_address": ADDRESS}
    )
    hook = await subscribe(people.admin)
    await log_case(people)
    log = await people.admin.ok("GET", "/deliveries")
    assert log["total"] == 3
    assert sorted(d["channel"] for d in log["items"]) == ["email", "sms", "webhook"]
    assert all(d["status"] == "pending" and d["attempts"] == 0 for d in log["items"])
    fields = {
        "id",
        "message_id",
        "channel",
        "kind",
        "status",
        "attempts",
        "last_error",
        "receipt",
        "created_at",
        "sent_at",
        "not_before",
        "notification_id",
        "subscription_id",
    }
    assert all(set(d) == fields for d in log["items"])
    raw = json.dumps(log)
    assert ADDRESS not in raw and "13812345678" not in raw

    webhook = next(d for d in log["items"] if d["channel"] == "webhook")
    assert webhook["subscription_id"] == hook["id"] and webhook["notification_id"] is not None
    email = next(d for d in log["items"] if d["channel"] == "email")
    await worker_did(engine, email["id"], "sent", attempts=1, receipt="250 OK", payload_sealed=None)
    await worker_did(engine, webhook["id"], "parked", attempts=8, last_error="HTTP 404 Not Found")

    assert await people.admin.ok("GET", "/deliveries/summary") == {"pending": 1, "sent": 1, "parked": 1}
    parked = await people.admin.ok("GET", "/deliveries", params={"status": "parked"})
    assert [(d["id"], d["last_error"]) for d in parked["items"]] == [(webhook["id"], "HTTP 404 Not Found")]
    by_channel = await people.admin.ok("GET", "/deliveries", params={"channel": "sms"})
    assert [d["channel"] for d in by_channel["items"]] == ["sms"]
    paged = await people.admin.ok("GET", "/deliveries", params={"limit": 1, "offset": 1})
    assert paged["total"] == 3 and len(paged["items"]) == 1
    assert paged["items"][0]["id"] == log["items"][1]["id"]  # newest first, in a stable order
    for query in ({"status": "lost"}, {"channel": "fax"}):
        assert field_of(await people.admin.problem("GET", "/deliveries", 400, params=query)).startswith("query.")

    hooks_log = await people.admin.ok("GET", f"/webhook-subscriptions/{hook['id']}/deliveries")
    assert [d["id"] for d in hooks_log["items"]] == [webhook["id"]]
    await people.admin.problem("GET", f"/webhook-subscriptions/{uuid.uuid4()}/deliveries", 404)

    for api in (people.steward, people.worker):
        await refused_to(api, "GET", "/deliveries")
        await refused_to(api, "GET", "/deliveries/summary")
        await refused_to(api, "GET", f"/webhook-subscriptions/{hook['id']}/deliveries")


async def test_a_parked_delivery_is_retried_once_with_one_job(
    people: People, engine: AsyncEngine, clock: Clock
) -> None:
    hook = await subscribe(people.admin)
    await log_case(people)
    delivery = (await people.admin.ok("GET", "/deliveries"))["items"][0]
    assert await queued(engine, delivery["id"]) == 1  # queued with the notice
    await worker_did(engine, delivery["id"], "parked", attempts=8, last_error="HTTP 503 Service Unavailable")
    assert await queued(engine, delivery["id"]) == 0

    for api in (people.steward, people.worker):
        await refused_to(api, "POST", f"/deliveries/{delivery['id']}/retry")
    clock.advance(hours=1)
    retried = await people.admin.ok("POST", f"/deliveries/{delivery['id']}/retry")
    assert (retried["status"], retried["attempts"], retried["message_id"]) == ("pending", 0, delivery["message_id"])
    assert datetime.fromisoformat(retried["not_before"]) == clock()
    assert await queued(engine, delivery["id"]) == 1

    again = await people.admin.problem("POST", f"/deliveries/{delivery['id']}/retry", 409)
    assert field_of(again) == "status" and "pending" in again["detail"]
    assert await queued(engine, delivery["id"]) == 1
    await people.admin.problem("POST", f"/deliveries/{uuid.uuid4()}/retry", 404)

    trail = await audited(engine, "delivery.retry")
    assert len(trail) == 1 and trail[0]["target_id"] == delivery["id"]
    assert trail[0]["details"]["attempts_before"] == 8

    # A parked webhook delivery waits for its subscription to be switched on again.
    await worker_did(engine, delivery["id"], "parked", attempts=1)
    await people.admin.ok("PATCH", f"/webhook-subscriptions/{hook['id']}", json={"active": False})
    off = await people.admin.problem("POST", f"/deliveries/{delivery['id']}/retry", 409)
    assert field_of(off) == "subscription_id"
    assert await queued(engine, delivery["id"]) == 0


async def test_only_a_sent_webhook_delivery_is_replayed(people: People, engine: AsyncEngine) -> None:
    await offer(people.admin, sms=False)
    await people.worker.ok(
        "PUT", "/notifications/preferences", json={"email": True, "sms": False, "email_address": ADDRESS}
    )
    await subscribe(people.admin)
    await log_case(people)
    log = (await people.admin.ok("GET", "/deliveries"))["items"]
    webhook = next(d for d in log if d["channel"] == "webhook")
    email = next(d for d in log if d["channel"] == "email")

    pending = await people.admin.problem("POST", f"/deliveries/{webhook['id']}/replay", 409)
    assert field_of(pending) == "status"
    await worker_did(engine, webhook["id"], "sent", attempts=2, receipt="HTTP 200")
    for api in (people.steward, people.worker):
        await refused_to(api, "POST", f"/deliveries/{webhook['id']}/replay")
    replayed = await people.admin.ok("POST", f"/deliveries/{webhook['id']}/replay")
    assert (replayed["status"], replayed["attempts"]) == ("pending", 0)
    assert replayed["message_id"] == webhook["message_id"]  # the receiver drops it if it had it
    assert await queued(engine, webhook["id"]) == 1
    twice = await people.admin.problem("POST", f"/deliveries/{webhook['id']}/replay", 409)
    assert field_of(twice) == "status"
    assert await queued(engine, webhook["id"]) == 1

    # A person's message is erased once sent: there is nothing to replay.
    await worker_did(engine, email["id"], "sent", attempts=1, payload_sealed=None)
    erased = await people.admin.problem("POST", f"/deliveries/{email['id']}/replay", 409)
    assert field_of(erased) == "channel"
    not_parked = await people.admin.problem("POST", f"/deliveries/{email['id']}/retry", 409)
    assert field_of(not_parked) == "status"
    await people.admin.problem("POST", f"/deliveries/{uuid.uuid4()}/replay", 404)
    assert [r["target_id"] for r in await audited(engine, "delivery.replay")] == [webhook["id"]]


# Webhook subscriptions.


async def test_a_subscription_shows_its_secret_once_and_rotates_it_with_an_overlap(
    people: People, engine: AsyncEngine, clock: Clock, kit: SecurityKit
) -> None:
    made = await subscribe(people.admin, "case.logged", "case.accepted", "case.logged")
    secret = made["secret"]
    assert secret.startswith(SECRET_PREFIX)
    assert made["event_types"] == ["case.logged", "case.accepted"]
    assert (made["active"], made["disabled_reason"], made["previous_secret_until"]) == (True, None, None)
    shown = await people.admin.ok("GET", f"/webhook-subscriptions/{made['id']}")
    assert "secret" not in shown and shown == {k: v for k, v in made.items() if k != "secret"}
    listed = await people.admin.ok("GET", "/webhook-subscriptions")
    assert listed["total"] == 1 and listed["items"] == [shown]
    assert secret not in json.dumps(listed)

    sid = uuid.UUID(made["id"])

    async def sealed() -> tuple[bytes, bytes | None]:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT secret_sealed, previous_secret_sealed FROM webhook_subscription WHERE id = :i"),
                    {"i": sid},
                )
            ).one()
        return row[0], row[1]

    current, previous = await sealed()
    assert kit.pii.open(current, secret_context(sid)) == secret and previous is None

    clock.advance(hours=2)
    rotated = await people.admin.ok("POST", f"/webhook-subscriptions/{made['id']}/rotate-secret")
    assert rotated["secret"].startswith(SECRET_PREFIX) and rotated["secret"] != secret
    assert datetime.fromisoformat(rotated["previous_secret_until"]) == clock() + timedelta(hours=24)
    current, previous = await sealed()
    assert kit.pii.open(current, secret_context(sid)) == rotated["secret"]
    assert previous is not None and kit.pii.open(previous, secret_context(sid, previous=True)) == secret
    trail = await audited(engine, "webhook_subscription.rotate_secret")
    assert len(trail) == 1 and secret not in json.dumps(trail) and rotated["secret"] not in json.dumps(trail)

    await people.admin.problem("POST", f"/webhook-subscriptions/{uuid.uuid4()}/rotate-secret", 404)
    for api in (people.steward, people.worker):
        await refused_to(api, "POST", f"/webhook-subscriptions/{made['id']}/rotate-secret")
        await refused_to(api, "GET", "/webhook-subscriptions")
        await refused_to(api, "GET", f"/webhook-subscriptions/{made['id']}")


async def test_a_subscription_is_checked_changed_and_removed_keeping_its_log(
    people: People, engine: AsyncEngine
) -> None:
    bad: list[tuple[dict[str, Any], int, str]] = [
        ({"url": "ftp://receiver.example/x"}, 422, "url"),
        ({"url": "not a url"}, 422, "url"),
        ({"url": "https://"}, 422, "url"),
        ({"event_types": ["case.nonsense"]}, 400, "event_types"),
        ({"event_types": []}, 400, "event_types"),
        ({"name": ""}, 400, "name"),
        ({"secret": "whsec_mine"}, 400, "secret"),
    ]
    base = {"name": "市政务服务平台", "url": RECEIVER, "event_types": ["case.logged"]}
    for change, status, named in bad:
        problem = await people.admin.problem("POST", "/webhook-subscriptions", status, json={**base, **change})
        assert field_of(problem).startswith(named), problem
    assert (await people.admin.ok("GET", "/webhook-subscriptions"))["total"] == 0
    for api in (people.steward, people.worker):
        await refused_to(api, "POST", "/webhook-subscriptions", json=base)

    made = await subscribe(people.admin)
    path = f"/webhook-subscriptions/{made['id']}"
    changed = await people.admin.ok(
        "PATCH", path, json={"name": "区平台", "url": "http://other.example/in", "event_types": ["case.resolved"]}
    )
    assert (changed["name"], changed["url"], changed["event_types"]) == (
        "区平台",
        "http://other.example/in",
        ["case.resolved"],
    )
    assert field_of(await people.admin.problem("PATCH", path, 422, json={"url": "mailto:x@example.com"})) == "url"
    assert field_of(await people.admin.problem("PATCH", path, 400, json={"active": 1})) == "active"
    off = await people.admin.ok("PATCH", path, json={"active": False})
    assert (off["active"], off["disabled_reason"]) == (False, "switched off by an administrator")
    on = await people.admin.ok("PATCH", path, json={"active": True, "url": RECEIVER, "event_types": ["case.logged"]})
    assert (on["active"], on["disabled_reason"]) == (True, None)
    await people.admin.problem("PATCH", f"/webhook-subscriptions/{uuid.uuid4()}", 404, json={"name": "x"})
    for api in (people.steward, people.worker):
        await refused_to(api, "PATCH", path, json={"name": "x"})
        await refused_to(api, "DELETE", path)

    # The audit trail names the receiver's host, never the token a URL may carry.
    trail = await audited(engine, "webhook_subscription.create") + await audited(engine, "webhook_subscription.update")
    assert "s3cr3t-path-token" not in json.dumps(trail)
    assert trail[0]["details"]["host"] == "receiver.example"

    await log_case(people)
    response = await people.admin.send("DELETE", path)
    assert response.status_code == 204, response.text
    removed = await people.admin.ok("GET", path)
    assert (removed["active"], removed["disabled_reason"]) == (False, "removed by an administrator")
    assert (await people.admin.ok("GET", f"{path}/deliveries"))["total"] == 1
    await people.admin.problem("DELETE", f"/webhook-subscriptions/{uuid.uuid4()}", 404)
    # A removed subscription is sent nothing more.
    await log_case(people)
    assert (await people.admin.ok("GET", f"{path}/deliveries"))["total"] == 1
    assert len(await audited(engine, "webhook_subscription.remove")) == 1
