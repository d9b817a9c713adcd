"""National ID and mobile numbers: sealed at rest, masked in responses, revealed only
with a reason, and never in a response body or a log line otherwise."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.config import Settings
from service.security.keys import generate_env, parse_pii_keys
from tests.conftest import Clock
from tests.factory import API, Api, national_id
from tests.postgres import asyncpg_dsn

REASON = {"fields": ["national_id", "mobile"], "reason": "办理落户需核对身份证号"}


async def fetch(database_url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows: list[asyncpg.Record] = await connection.fetch(query, *args)
        return rows
    finally:
        await connection.close()


async def test_the_database_holds_no_plain_personal_numbers(
    client: AsyncTestClient[Litestar], database_url: str
) -> None:
    api = Api(client)
    steward = await api.steward()
    number = national_id()
    worker = await api.worker(steward["id"], national_id=number, mobile="13987654321")
    columns = await fetch(
        database_url,
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'worker'",
    )
    assert {c["column_name"] for c in columns} >= {"national_id_sealed", "national_id_index", "mobile_sealed"}
    assert not {"national_id", "mobile"} & {c["column_name"] for c in columns}
    (row,) = await fetch(database_url, "SELECT * FROM worker WHERE id = $1", worker["id"])
    raw = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in dict(row).values())
    for secret in (number, "13987654321", number[-8:], "87654321"):
        assert secret.encode() not in raw
    sealed = bytes(row["national_id_sealed"])
    assert sealed[0] == 1 and sealed[2 : 2 + sealed[1]] == b"k1"  # format version and key id
    # The whole database, dumped as text, does not contain them either.
    dump = await fetch(database_url, "SELECT string_agg(t::text, ' ') AS all FROM worker t")
    assert number not in dump[0]["all"] and "13987654321" not in dump[0]["all"]


async def test_responses_are_masked_and_reveal_is_audited(client: AsyncTestClient[Litestar], database_url: str) -> None:
    api = Api(client)
    as_steward, steward = await api.steward_account()
    number = national_id()
    worker = await as_steward.worker(steward["id"], national_id=number, mobile="13812345678")
    assert worker["national_id_masked"] == number[:3] + "*" * 11 + number[-4:]
    assert worker["mobile_masked"] == "138****5678"
    revealed = await as_steward.ok("POST", f"/workers/{worker['id']}/reveal", json=REASON)
    assert (revealed["national_id"], revealed["mobile"]) == (number, "13812345678")
    only_mobile = await as_steward.ok(
        "POST", f"/workers/{worker['id']}/reveal", json={"fields": ["mobile"], "reason": "回电联系"}
    )
    assert "national_id" not in only_mobile
    rows = await fetch(
        database_url, "SELECT actor_role, details FROM audit_event WHERE action = 'pii.reveal' ORDER BY seq"
    )
    assert [r["actor_role"] for r in rows] == ["steward", "steward"]
    assert '"reason": "办理落户需核对身份证号"' in rows[0]["details"]
    await as_steward.problem("POST", f"/workers/{worker['id']}/reveal", 400, json={"fields": ["mobile"]})


async def test_reveal_is_for_the_workers_steward_and_administrators_only(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    own, own_staff = await api.steward_account()
    other, _ = await api.steward_account("周专员")
    liaison, _ = await api.liaison_account("health")
    worker = await own.worker(own_staff["id"])
    await other.problem("POST", f"/workers/{worker['id']}/reveal", 404, json=REASON)
    await liaison.problem("POST", f"/workers/{worker['id']}/reveal", 403, json=REASON)
    assert (await api.ok("POST", f"/workers/{worker['id']}/reveal", json=REASON))["worker_id"] == worker["id"]


async def test_lookup_by_national_id_uses_the_keyed_hash_within_reach(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    own, own_staff = await api.steward_account()
    other, _ = await api.steward_account("周专员")
    number = national_id()
    worker = await own.worker(own_staff["id"], national_id=number)
    found = await own.ok("POST", "/workers/lookup", json={"national_id": number.lower()})
    assert found["id"] == worker["id"]
    await other.problem("POST", "/workers/lookup", 404, json={"national_id": number})
    await own.problem("POST", "/workers/lookup", 404, json={"national_id": national_id()})


async def test_workers_by_mobile_are_found_by_the_keyed_hash_within_reach(
    client: AsyncTestClient[Litestar], clock: Clock
) -> None:
    api = Api(client)
    own, own_staff = await api.steward_account()
    other, other_staff = await api.steward_account("周专员")
    liaison, _ = await api.liaison_account("housing")
    first = await own.worker(own_staff["id"], name="王一", mobile="13955501234")
    clock.advance(minutes=1)
    second = await own.worker(own_staff["id"], name="王二", mobile="+86 139-5550-1234")  # a shared number
    await own.worker(own_staff["id"], name="王三", mobile="13955509999")
    clock.advance(minutes=1)
    elsewhere = await other.worker(other_staff["id"], name="周四", mobile="13955501234")

    async def found(caller: Api, mobile: str) -> list[str]:
        workers: list[dict[str, Any]] = await caller.ok("POST", "/workers/by-mobile", json={"mobile": mobile})
        assert all(w["mobile_masked"] == "139****1234" and "mobile" not in w for w in workers), workers
        return [w["id"] for w in workers]

    assert await found(own, "13955501234") == [first["id"], second["id"]]  # the first registered first
    assert await found(own, "１３９ ５５５０ １２３４") == [first["id"], second["id"]]
    assert await found(other, "008613955501234") == [elsewhere["id"]]
    assert await found(api, "13955501234") == [first["id"], second["id"], elsewhere["id"]]
    # A liaison reaches the workers with a case in their department.
    assert await found(liaison, "13955501234") == []
    await api.case(worker_id=second["id"])
    assert await found(liaison, "13955501234") == [second["id"]]
    assert await found(own, "13700001111") == []
    # The response carries the masked worker, as GET /workers does.
    listed = await own.ok("GET", "/workers?name=王一")
    assert (await own.ok("POST", "/workers/by-mobile", json={"mobile": "13955501234"}))[0] == listed["items"][0]


async def test_a_bad_mobile_in_a_search_is_refused_naming_the_field(client: AsyncTestClient[Litestar]) -> None:
    own, _ = await Api(client).steward_account()
    for mobile, status in [("12345678901", 422), ("023-6700-0000", 422), ("139555", 400), (13955501234, 400)]:
        problem = await own.problem("POST", "/workers/by-mobile", status, json={"mobile": mobile})
        assert [e["field"] for e in problem["errors"]] == ["mobile"], (mobile, problem)
    missing = await own.problem("POST", "/workers/by-mobile", 400, json={})
    assert [e["field"] for e in missing["errors"]] == ["mobile"]
    await own.problem("POST", "/workers/by-mobile", 400, json={"mobile": "13955501234", "name": "王一"})


async def test_old_keys_still_open_values_after_a_new_key_takes_over(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock, database_url: str
) -> None:
    api = Api(client)
    steward = await api.steward()
    before = await api.worker(steward["id"])
    assert settings.keys is not None
    new_key = parse_pii_keys(generate_env("k2")["BANSHI_PII_KEYS"])[0]["k2"]
    rotated_keys = dataclasses.replace(
        settings.keys, pii_keys={"k2": new_key, **settings.keys.pii_keys}, pii_current="k2"
    )
    rotated = dataclasses.replace(settings, keys=rotated_keys)
    async with AsyncTestClient(app=create_app(rotated, clock=clock), base_url="http://t.local") as c:
        c.headers["Authorization"] = client.headers["Authorization"]
        new_api = Api(c)
        assert (await new_api.ok("GET", f"/workers/{before['id']}"))["mobile_masked"] == before["mobile_masked"]
        after = await new_api.worker(steward["id"])
    rows = await fetch(database_url, "SELECT id, national_id_sealed FROM worker")
    key_ids = {str(r["id"]): bytes(r["national_id_sealed"])[2:4] for r in rows}
    assert key_ids == {before["id"]: b"k1", after["id"]: b"k2"}


ID_PATTERN = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")
MOBILE_PATTERN = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


@pytest.mark.parametrize("level", [logging.DEBUG])
async def test_no_response_or_log_line_carries_a_full_number(
    client: AsyncTestClient[Litestar], caplog: pytest.LogCaptureFixture, level: int
) -> None:
    """Drive every worker and case endpoint with real numbers (including bad input and
    numbers in query strings) and scan what comes back and what is logged."""
    bodies: list[tuple[str, str]] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        bodies.append((str(response.request.url), response.text))

    client.event_hooks["response"].append(keep)
    caplog.set_level(level)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # statements and parameters
    try:
        api = Api(client)
        as_steward, steward = await api.steward_account()
        numbers = [national_id() for _ in range(3)]
        mobiles = ["13811112222", "13933334444", "15055556666"]
        workers = [
            await as_steward.worker(steward["id"], national_id=n, mobile=m)
            for n, m in zip(numbers, mobiles, strict=True)
        ]
        await as_steward.problem("POST", "/workers", 409, json={**_body(steward["id"]), "national_id": numbers[0]})
        await as_steward.problem("POST", "/workers", 422, json={**_body(steward["id"]), "mobile": "12345678901"})
        await as_steward.ok("GET", f"/workers?name={numbers[1]}")
        await as_steward.ok("POST", "/workers/lookup", json={"national_id": numbers[2]})
        assert len(await as_steward.ok("POST", "/workers/by-mobile", json={"mobile": mobiles[1]})) == 1
        await as_steward.ok("PATCH", f"/workers/{workers[0]['id']}", json={"mobile": "13700001111"})
        mobiles.append("13700001111")
        case = await as_steward.case(worker_id=workers[0]["id"])
        await as_steward.ok("GET", f"/cases/{case['id']}")
        await as_steward.ok("GET", "/cases")
        await as_steward.ok("GET", f"/workers/{workers[1]['id']}")
        await as_steward.ok("GET", "/workers")
        await as_steward.ok("POST", f"/workers/{workers[2]['id']}/reveal", json=REASON)
        await api.ok("GET", f"/workers/{workers[2]['id']}/stewards")
    finally:
        client.event_hooks["response"].remove(keep)
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

    secrets = set(numbers) | set(mobiles)
    for url, text in bodies:
        if url.endswith("/reveal"):
            continue  # the one place full numbers are meant to appear
        found = (set(ID_PATTERN.findall(text)) | set(MOBILE_PATTERN.findall(text))) & secrets
        assert not found, (url, found)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert len(caplog.records) > 20  # the scan saw real traffic
    assert not secrets & (set(ID_PATTERN.findall(logged)) | set(MOBILE_PATTERN.findall(logged)))
    token = client.headers["Authorization"].removeprefix("Bearer ")
    assert token not in logged
    assert "Chosen-Pass-2026" not in logged


def _body(steward_id: str) -> dict[str, Any]:
    return {
        "name": "王五",
        "national_id": national_id(),
        "mobile": "13812345678",
        "employer": "重庆大学",
        "district_code": "yubei",
        "steward_id": steward_id,
    }


async def test_login_failures_and_passwords_stay_out_of_the_logs(
    anonymous: AsyncTestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    try:
        response = await anonymous.post(f"{API}/auth/login", json={"username": "admin", "password": "Guessing-Pass-99"})
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert response.status_code == 401
    assert caplog.records
    assert "Guessing-Pass-99" not in "\n".join(r.getMessage() for r in caplog.records)
