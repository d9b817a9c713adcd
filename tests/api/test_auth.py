"""Sign-in, sessions, passwords, lockout, rate limits and second factors."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import jwt
import pyotp
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.config import Settings
from service.domain.access import ROLE_PERMISSIONS, Role
from tests.conftest import Clock
from tests.factory import ADMIN_PASSWORD, API, INITIAL_PASSWORD, PASSWORD, Api
from tests.postgres import asyncpg_dsn

ADMIN = {"username": "admin", "password": ADMIN_PASSWORD}


@pytest.fixture
async def strict(strict_settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client on an app with the production session limits."""
    async with AsyncTestClient(app=create_app(strict_settings, clock=clock), base_url="http://t.local") as c:
        yield c


async def login(client: AsyncTestClient[Litestar], username: str, password: str, **extra: Any) -> Any:
    return await client.post(f"{API}/auth/login", json={"username": username, "password": password, **extra})


def _flip(signature: str) -> str:
    """Change one character well inside the signature (the last one holds padding bits)."""
    return signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def audit_actions(database_url: str) -> list[tuple[str, str, dict[str, Any]]]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await connection.fetch("SELECT action, outcome, details FROM audit_event ORDER BY seq")
    finally:
        await connection.close()
    return [(r["action"], r["outcome"], json.loads(r["details"])) for r in rows]


async def test_login_returns_a_bearer_token_that_opens_the_api(strict: AsyncTestClient[Litestar]) -> None:
    response = await login(strict, "admin", ADMIN_PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 30 * 60
    assert body["scope"] == "full"
    me = await strict.get(f"{API}/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert (me.json()["username"], me.json()["role"]) == ("admin", "admin")
    # The role's permissions, as the access table grants them, so a screen can hide what
    # the API would refuse.
    assert me.json()["permissions"] == sorted(p.value for p in ROLE_PERMISSIONS[Role.ADMIN])
    assert "accounts.write" in me.json()["permissions"] and "audit.read" not in me.json()["permissions"]


async def test_without_a_token_only_health_login_and_docs_answer(anonymous: AsyncTestClient[Litestar]) -> None:
    assert (await anonymous.get("/health")).status_code == 200
    assert (await anonymous.get("/docs/openapi.json")).status_code == 200
    response = await anonymous.get(f"{API}/cases")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await anonymous.get(f"{API}/districts")).status_code == 401


async def test_unknown_user_and_wrong_password_look_the_same(anonymous: AsyncTestClient[Litestar]) -> None:
    unknown = await login(anonymous, "nobody", "Whatever-2026!x")
    wrong = await login(anonymous, "admin", "Wrong-Password-1")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


async def test_tampered_forged_and_alg_none_tokens_are_refused(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar]
) -> None:
    token = client.headers["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert (await anonymous.get(f"{API}/auth/me", headers=bearer(token))).status_code == 200

    edited = dict(claims, exp=claims["exp"] + 10**6)
    edited_payload = base64.urlsafe_b64encode(json.dumps(edited).encode()).decode().rstrip("=")
    unsigned_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    candidates = {
        "edited payload": f"{header}.{edited_payload}.{signature}",
        "flipped signature": f"{header}.{payload}.{_flip(signature)}",
        "alg none": f"{unsigned_header}.{payload}.",
        "other key": jwt.encode(claims, b"x" * 32, algorithm="HS256"),
        "garbage": "not-a-token",
    }
    for name, candidate in candidates.items():
        response = await anonymous.get(f"{API}/auth/me", headers=bearer(candidate))
        assert response.status_code == 401, name


async def test_logout_revokes_the_token_in_every_process(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar]
) -> None:
    # ``anonymous`` runs a second app instance with its own connection pool, as a
    # second worker process would.
    token = client.headers["Authorization"].removeprefix("Bearer ")
    assert (await anonymous.get(f"{API}/cases", headers=bearer(token))).status_code == 200
    assert (await client.post(f"{API}/auth/logout")).status_code == 204
    assert (await client.get(f"{API}/cases")).status_code == 401
    assert (await anonymous.get(f"{API}/cases", headers=bearer(token))).status_code == 401


async def test_idle_sessions_end_after_thirty_minutes(strict: AsyncTestClient[Litestar], clock: Clock) -> None:
    token = (await login(strict, "admin", ADMIN_PASSWORD)).json()["access_token"]
    for _ in range(4):  # used every 20 minutes: alive after 80 minutes
        clock.advance(minutes=20)
        assert (await strict.get(f"{API}/auth/me", headers=bearer(token))).status_code == 200
    clock.advance(minutes=31)
    assert (await strict.get(f"{API}/auth/me", headers=bearer(token))).status_code == 401


async def test_sessions_end_after_twelve_hours_however_busy(strict: AsyncTestClient[Litestar], clock: Clock) -> None:
    token = (await login(strict, "admin", ADMIN_PASSWORD)).json()["access_token"]
    for _ in range(47):
        clock.advance(minutes=15)
        assert (await strict.get(f"{API}/auth/me", headers=bearer(token))).status_code == 200
    clock.advance(minutes=15)  # 12 hours after sign-in
    assert (await strict.get(f"{API}/auth/me", headers=bearer(token))).status_code == 401


async def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar], clock: Clock, database_url: str
) -> None:
    api = Api(client)
    await api.account("official", username="official1")
    for _ in range(5):
        assert (await login(anonymous, "official1", "Wrong-Password-1")).status_code == 401
    locked = await login(anonymous, "official1", PASSWORD)
    assert locked.status_code == 401
    assert locked.json() == (await login(anonymous, "nobody", PASSWORD)).json()
    actions = await audit_actions(database_url)
    assert ("auth.lockout", "denied") in [(a, o) for a, o, _ in actions]
    assert [d.get("reason") for a, o, d in actions if a == "auth.login" and o == "failure"][-2:] == [
        "locked",
        "unknown_user",
    ]
    clock.advance(minutes=14)
    assert (await login(anonymous, "official1", PASSWORD)).status_code == 401
    clock.advance(minutes=2)
    assert (await login(anonymous, "official1", PASSWORD)).status_code == 200


async def test_a_security_officer_lifts_a_lockout(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar]
) -> None:
    api = Api(client)
    security = await api.account("security")
    await api.account("official", username="official2")
    for _ in range(5):
        await login(anonymous, "official2", "Wrong-Password-1")
    page = await security.ok("GET", "/accounts?role=official")
    target = next(a for a in page["items"] if a["username"] == "official2")
    assert target["locked_until"] is not None
    await security.ok("POST", f"/accounts/{target['id']}/unlock")
    assert (await login(anonymous, "official2", PASSWORD)).status_code == 200
    await api.problem("POST", f"/accounts/{target['id']}/unlock", 403)  # not the admin's duty


async def test_sign_in_attempts_are_limited_per_client_address(settings: Settings, clock: Clock) -> None:
    limited = dataclasses.replace(settings, login_limit_per_address=3)
    async with AsyncTestClient(app=create_app(limited, clock=clock), base_url="http://t.local") as c:
        for _ in range(3):
            assert (await login(c, "nobody", "Wrong-Password-1")).status_code == 401
        refused = await login(c, "admin", ADMIN_PASSWORD)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        clock.advance(minutes=5)
        assert (await login(c, "admin", ADMIN_PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Short-1a", "at least 12"),
        ("alllowercaseletters", "at least 3"),
        ("officer7-Secure-2026", "user name"),
    ],
)
async def test_weak_passwords_are_refused(client: AsyncTestClient[Litestar], password: str, reason: str) -> None:
    body = {"username": "officer7", "role": "official", "password": password}
    problem = await Api(client).problem("POST", "/accounts", 422, json=body)
    assert problem["errors"][0]["field"] == "password"
    assert reason in problem["errors"][0]["reason"]


async def test_passwords_are_stored_as_argon2id(client: AsyncTestClient[Litestar], database_url: str) -> None:
    await Api(client).account("official", username="official3")
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        hashes = [r["password_hash"] for r in await connection.fetch("SELECT password_hash FROM account")]
    finally:
        await connection.close()
    assert len(hashes) == 2
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not any(PASSWORD in h or ADMIN_PASSWORD in h for h in hashes)


async def test_a_first_password_must_be_changed_before_anything_else(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar]
) -> None:
    api = Api(client)
    await api.ok("POST", "/accounts", 201, json={"username": "off4", "role": "official", "password": INITIAL_PASSWORD})
    first = await login(anonymous, "off4", INITIAL_PASSWORD)
    assert first.json()["scope"] == "password_change"
    fresh = Api(anonymous, first.json()["access_token"])
    problem = await fresh.problem("GET", "/districts", 403)
    assert "change your password" in problem["detail"]
    await fresh.problem(
        "POST", "/auth/password", 422, json={"current_password": "Wrong-Password-1", "new_password": PASSWORD}
    )
    await fresh.problem(
        "POST",
        "/auth/password",
        422,
        json={"current_password": INITIAL_PASSWORD, "new_password": INITIAL_PASSWORD},
    )
    await fresh.ok("POST", "/auth/password", 204, json={"current_password": INITIAL_PASSWORD, "new_password": PASSWORD})
    assert (await fresh.send("GET", "/districts")).status_code == 200


async def test_an_admin_reset_forces_a_change_and_ends_sessions(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar]
) -> None:
    api = Api(client)
    official = await api.account("official", username="off5")
    me = await official.ok("GET", "/auth/me")
    await api.ok("POST", f"/accounts/{me['account_id']}/password-reset", json={"password": "Temporary-Pass-77"})
    assert (await official.send("GET", "/auth/me")).status_code == 401
    again = await login(anonymous, "off5", "Temporary-Pass-77")
    assert again.json()["scope"] == "password_change"


async def test_a_role_change_ends_the_sessions_of_the_account(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    auditor = await api.account("auditor")
    me = await auditor.ok("GET", "/auth/me")
    await api.ok("PATCH", f"/accounts/{me['account_id']}", json={"role": "security"})
    assert (await auditor.send("GET", "/auth/me")).status_code == 401
    mine = await api.ok("GET", "/auth/me")
    problem = await api.problem("PATCH", f"/accounts/{mine['account_id']}", 409, json={"active": False})
    assert "your own" in problem["detail"]


async def test_a_second_factor_is_enrolled_and_then_required(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar], clock: Clock
) -> None:
    api = Api(client)
    steward, _ = await api.steward_account()
    me = await steward.ok("GET", "/auth/me")
    enrolment = await steward.ok("POST", "/auth/totp")
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(enrolment["secret"])
    await steward.problem(
        "POST", "/auth/totp/confirm", 422, json={"code": "000000" if totp.at(clock()) != "000000" else "111111"}
    )
    await steward.ok("POST", "/auth/totp/confirm", 204, json={"code": totp.at(clock())})
    assert (await steward.ok("GET", "/auth/me"))["totp_enabled"] is True

    without = await login(anonymous, me["username"], PASSWORD)
    assert without.status_code == 401
    assert without.json()["type"].endswith("second_factor_required")
    clock.advance(seconds=30)
    code = totp.at(clock())
    assert (await login(anonymous, me["username"], PASSWORD, otp=code)).status_code == 200
    assert (await login(anonymous, me["username"], PASSWORD, otp=code)).status_code == 401  # no replay


async def test_privileged_accounts_must_enrol_when_the_setting_says_so(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar], clock: Clock
) -> None:
    api = Api(client)
    security = await api.account("security")
    settings = await security.ok("PUT", "/security/settings", json={"privileged_mfa_required": True})
    assert settings["privileged_mfa_required"] is True
    await api.problem("PUT", "/security/settings", 403, json={"privileged_mfa_required": False})

    session = await login(anonymous, "admin", ADMIN_PASSWORD)
    assert session.json()["scope"] == "mfa_enrolment"
    admin = Api(anonymous, session.json()["access_token"])
    await admin.problem("GET", "/cases", 403)
    secret = (await admin.ok("POST", "/auth/totp"))["secret"]
    await admin.ok("POST", "/auth/totp/confirm", 204, json={"code": pyotp.TOTP(secret).at(clock())})
    assert (await admin.send("GET", "/cases")).status_code == 200
    # A steward is not privileged: no second factor needed.
    steward, _ = await api.steward_account()
    assert (await steward.send("GET", "/cases")).status_code == 200


async def test_old_throttle_windows_are_cleared_by_later_sign_ins(
    anonymous: AsyncTestClient[Litestar], database_url: str, clock: Clock
) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute(
            "INSERT INTO login_throttle (client_addr, window_start, attempts) VALUES "
            "('203.0.113.9', $1::timestamptz - interval '2 days', 3), "
            "('203.0.113.10', $1::timestamptz - interval '1 hour', 3)",
            clock(),
        )
        await login(anonymous, "admin", ADMIN_PASSWORD)
        left = {r["client_addr"] for r in await connection.fetch("SELECT client_addr FROM login_throttle")}
    finally:
        await connection.close()
    assert "203.0.113.9" not in left
    assert "203.0.113.10" in left  # within the day: kept
