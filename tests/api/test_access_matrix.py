"""The access matrix: every caller against every endpoint under /api/v1.

Each row of ``ENDPOINTS`` names one route, the roles whose permissions include the one
its handler needs, and the status it answers on success. Every caller (the seven roles
and a caller without a token) tries every row; a row whose path or query names a
record subject to reach (a worker, a case) is tried on the caller's own record and on
one of another steward's, routed to another department. What each cell must answer
follows from the product's rules:

- no token: 401, everywhere but signing in (tested on its own);
- a role without the handler's permission: 403, whatever record it names;
- a role with the permission, on a record out of its reach: 404, never 403;
- otherwise the endpoint's own success status.

``test_every_api_endpoint_is_in_the_matrix`` fails when a route is added without a row
here, or a row names a route that no longer exists. The other tests check what the
matrix cannot see from status codes alone: that the public lookup answers everyone
alike, what lists contain, which timeline events a worker sees in their own view of a
case, the moves a liaison may not make and the fields nobody may set.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pyotp
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from tests.conftest import Clock
from tests.factory import ADMIN_PASSWORD, API, INITIAL_PASSWORD, MOVE_FIELDS, PASSWORD, PATH_TO, Api, national_id
from tests.samples import make_pdf

ADMIN, SECURITY, AUDITOR, STEWARD, LIAISON, WORKER, OFFICIAL = (
    "admin",
    "security",
    "auditor",
    "steward",
    "liaison",
    "worker",
    "official",
)
ROLES = (ADMIN, SECURITY, AUDITOR, STEWARD, LIAISON, WORKER, OFFICIAL)
ANONYMOUS = "anonymous"
CALLERS = (*ROLES, ANONYMOUS)

OWN, OTHER, NONE = "own", "other", "-"
"""Which record a cell names: the caller's own, another steward's, or none."""

HOME_DEPARTMENT = "housing"  # the lead department of WL-01, and the liaison's
OTHER_DEPARTMENT = "education"
NEW_PASSWORD = "Matrix-Pass-2026?"
PROBLEM_JSON = "application/problem+json"

EVERYONE = frozenset(ROLES)
REFERENCE_READERS = frozenset({ADMIN, STEWARD, LIAISON, WORKER, OFFICIAL})
STAFF_READERS = frozenset({ADMIN, STEWARD, LIAISON})
WORKER_READERS = frozenset({ADMIN, STEWARD, LIAISON, WORKER})
"""``workers.read``."""
RECORD_WRITERS = frozenset({ADMIN, STEWARD})
"""``workers.write``, ``cases.create`` and ``cases.update``."""
CASE_READERS = frozenset({ADMIN, STEWARD, LIAISON})
"""``cases.read``: the staff's case record. A worker reads their own cases through ``/my/cases``."""
CASE_HANDLERS = frozenset({ADMIN, STEWARD, LIAISON})
RATERS = frozenset({ADMIN, STEWARD, WORKER})
FOLLOW_UP_ANSWERERS = frozenset({ADMIN, STEWARD})
METRICS_READERS = frozenset({ADMIN, LIAISON, OFFICIAL})
OWN_CASES = frozenset({WORKER})
"""``own_cases``: the worker's own view of their cases."""
FILE_USERS = frozenset({ADMIN, STEWARD, LIAISON, WORKER})
"""``attachments.read`` and ``attachments.write``."""
SUPERVISORS = frozenset({ADMIN, OFFICIAL})
"""``supervision.issue``."""
SUPERVISION_REPLIERS = frozenset({STEWARD, LIAISON})
SUPERVISION_READERS = SUPERVISORS | SUPERVISION_REPLIERS

SEPARATELY = {
    ("POST", "/auth/login"): "test_signing_in_and_the_lookup_are_the_public_endpoints",
    ("GET", "/lookup"): "test_the_public_lookup_needs_no_token",
    ("GET", "/lookup/completion-notice"): "test_the_public_lookup_needs_no_token",
    ("POST", "/notifications/{notice_id}/read"): "test_the_inbox_counts_marks_read_and_keeps_to_its_owner",
    ("GET", "/imports/{job_id}"): "test_imports.test_a_steward_imports_their_own_workers_and_cases_only",
    ("GET", "/imports/{job_id}/report"): "test_imports.test_a_steward_imports_their_own_workers_and_cases_only",
}
"""Routes outside the matrix, and the test that covers them."""


# The world: staff, accounts, workers and cases made through the API by the administrator.


@dataclass
class World:
    admin: Api
    callers: dict[str, Api]
    """One signed-in client per role (the steward is steward A), and one without a token."""
    other_steward: Api
    """Steward B, whose worker and case are the "other" records."""
    clock: Clock
    item_id: str
    staff: dict[str, dict[str, Any]]
    """``OWN``: steward A, ``OTHER``: steward B, "liaison", "spare", "next" (reassignment target)."""
    workers: dict[str, dict[str, Any]]
    """``OWN``: steward A's worker (the worker account's own record), ``OTHER``: steward B's."""
    national_ids: dict[str, str]
    cases: dict[str, dict[str, Any]]
    """``OWN``: the own worker's case, in the liaison's department; ``OTHER``: steward B's
    worker's case, in another department. Each carries its ``query_code`` from creation."""
    files: dict[str, dict[str, Any]]
    """A public file the administrator attached to ``cases[OWN]`` and to ``cases[OTHER]``."""
    spare_workers: dict[str, dict[str, Any]]
    """Workers of the spare steward, which the administrator reassigns."""
    spare_account: dict[str, Any]
    passwords: dict[str, str]
    totp_secrets: dict[str, str] = field(default_factory=dict)
    supervisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    """A supervision notice on a late case like ``cases[variant]``, made when first needed."""
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)
    """A resolved case like ``cases[variant]`` with its ``query_code``, made when first needed."""
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def n(self) -> int:
        return next(self.serial)

    async def new_case(self, variant: str, **fields: Any) -> dict[str, Any]:
        """A fresh submitted case like ``cases[variant]``."""
        if variant == OTHER:
            fields.setdefault("department_code", OTHER_DEPARTMENT)
        case: dict[str, Any] = await self.admin.case(
            worker_id=self.workers[variant]["id"], item_id=self.item_id, **fields
        )
        return case

    async def case_in(self, variant: str, status: str) -> dict[str, Any]:
        case = await self.new_case(variant)
        for action in PATH_TO[status]:
            case = await self.admin.move(case, action, **MOVE_FIELDS.get(action, {}))
        assert case["status"] == status
        return case

    async def resolved_case(self, variant: str) -> dict[str, Any]:
        if variant not in self.resolved:
            case = await self.new_case(variant)
            code = case["query_code"]
            for action in PATH_TO["resolved"]:
                case = await self.admin.move(case, action, **MOVE_FIELDS.get(action, {}))
            self.resolved[variant] = {**case, "query_code": code}
        return self.resolved[variant]

    async def etag(self, case_id: str) -> str:
        response = await self.admin.send("GET", f"/cases/{case_id}")
        assert response.status_code == 200, response.text
        etag: str = response.headers["etag"]
        return etag


async def build_world(client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar], clock: Clock) -> World:
    admin = Api(client)
    steward, steward_a = await admin.steward_account("甲专员")
    other_steward, steward_b = await admin.steward_account("乙专员")
    liaison, liaison_staff = await admin.liaison_account(HOME_DEPARTMENT)
    national_ids = {OWN: national_id(), OTHER: national_id()}
    workers = {
        OWN: await admin.worker(steward_a["id"], national_id=national_ids[OWN]),
        OTHER: await admin.worker(steward_b["id"], national_id=national_ids[OTHER]),
    }
    item = await admin.item()
    cases = {
        OWN: await admin.case(worker_id=workers[OWN]["id"], item_id=item["id"]),
        OTHER: await admin.case(worker_id=workers[OTHER]["id"], item_id=item["id"], department_code=OTHER_DEPARTMENT),
    }
    assert cases[OWN]["department_code"] == HOME_DEPARTMENT
    assert cases[OWN]["steward_id"] == steward_a["id"]
    assert cases[OTHER]["steward_id"] == steward_b["id"]
    spare = await admin.steward("丙管家")
    following = await admin.steward("丁管家")
    spare_workers = {OWN: await admin.worker(spare["id"]), OTHER: await admin.worker(spare["id"])}
    spare_account = await admin.ok(
        "POST", "/accounts", 201, json={"username": "spare-official", "role": OFFICIAL, "password": INITIAL_PASSWORD}
    )
    files = {variant: await _attach(admin, case["id"], visibility="public") for variant, case in cases.items()}
    callers = {
        ADMIN: admin,
        SECURITY: await admin.account(SECURITY),
        AUDITOR: await admin.account(AUDITOR),
        STEWARD: steward,
        LIAISON: liaison,
        WORKER: await admin.account(WORKER, worker_id=workers[OWN]["id"]),
        OFFICIAL: await admin.account(OFFICIAL, district_code="yubei"),
        ANONYMOUS: Api(anonymous),
    }
    return World(
        admin=admin,
        callers=callers,
        other_steward=other_steward,
        clock=clock,
        item_id=item["id"],
        staff={OWN: steward_a, OTHER: steward_b, "liaison": liaison_staff, "spare": spare, "next": following},
        workers=workers,
        national_ids=national_ids,
        cases=cases,
        files=files,
        spare_workers=spare_workers,
        spare_account=spare_account,
        passwords={role: ADMIN_PASSWORD if role == ADMIN else PASSWORD for role in CALLERS},
    )


async def _attach(api: Api, case_id: str, **form: str) -> dict[str, Any]:
    response = await api.send("POST", f"/cases/{case_id}/attachments", files=_pdf_upload(), data=form)
    assert response.status_code == 201, response.text
    file: dict[str, Any] = response.json()
    return file


def _pdf_upload() -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("证明.pdf", make_pdf(), "application/pdf")}


# The matrix.


@dataclass(frozen=True)
class Call:
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)


Build = Callable[[World, str, str], "Call | Awaitable[Call]"]
"""Makes the request of one cell from the world, the caller and the variant."""
After = Callable[[World, str, httpx.Response], None]


@dataclass(frozen=True)
class Endpoint:
    method: str
    route: str
    """The route under /api/v1, path parameters without their types."""
    success: int
    allowed: frozenset[str]
    """The roles whose permissions include the one the handler needs."""
    build: Build
    reach: bool = False
    """The path or query names a worker or a case: tried on an own and another's record."""
    label: str = ""
    special: dict[str, int] = field(default_factory=dict)
    """A role's answer where the product refuses it for a reason other than access."""
    phase: int = 0
    """Rows run phase by phase: the sign-out row must come last."""
    after: After | None = None

    def variants(self) -> tuple[str, ...]:
        return (OWN, OTHER) if self.reach else (NONE,)

    def expected(self, caller: str, variant: str) -> int:
        if caller == ANONYMOUS:
            return 401
        if caller not in self.allowed:
            return 403
        if caller in self.special:
            return self.special[caller]
        if variant == OTHER and caller != ADMIN:
            return 404
        return self.success

    def name(self) -> str:
        return f"{self.method} {self.route}" + (f" ({self.label})" if self.label else "")


def fixed(path: str, **kwargs: Any) -> Build:
    def build(world: World, caller: str, variant: str) -> Call:
        return Call(path, kwargs)

    return build


def worker_path(suffix: str = "", **kwargs: Any) -> Build:
    def build(world: World, caller: str, variant: str) -> Call:
        return Call(f"/workers/{world.workers[variant]['id']}{suffix}", kwargs)

    return build


def case_path(suffix: str = "", **kwargs: Any) -> Build:
    def build(world: World, caller: str, variant: str) -> Call:
        return Call(f"/cases/{world.cases[variant]['id']}{suffix}", kwargs)

    return build


def receipt(prefix: str) -> Build:
    """The receipt of the world's case, with the query code it was created with."""

    def build(world: World, caller: str, variant: str) -> Call:
        case = world.cases[variant]
        return Call(f"{prefix}/{case['id']}/receipt?code={case['query_code']}")

    return build


def completion_notice(prefix: str) -> Build:
    """The completion notice of a resolved case like the world's."""

    async def build(world: World, caller: str, variant: str) -> Call:
        case = await world.resolved_case(variant)
        return Call(f"{prefix}/{case['id']}/completion-notice")

    return build


def own_case_path(suffix: str = "", **kwargs: Any) -> Build:
    def build(world: World, caller: str, variant: str) -> Call:
        return Call(f"/my/cases/{world.cases[variant]['id']}{suffix}", kwargs)

    return build


def file_path(world: World, caller: str, variant: str) -> Call:
    return Call(f"/attachments/{world.files[variant]['id']}/content")


def item_path(**kwargs: Any) -> Build:
    def build(world: World, caller: str, variant: str) -> Call:
        return Call(f"/work-list-items/{world.item_id}", kwargs)

    return build


def staff_path(**kwargs: Any) -> Build:
    def build(world: World, caller: str, variant: str) -> Call:
        return Call(f"/staff/{world.staff[OTHER]['id']}", kwargs)

    return build


def account_path(suffix: str = "", **kwargs: Any) -> Build:
    def build(world: World, caller: str, variant: str) -> Call:
        return Call(f"/accounts/{world.spare_account['id']}{suffix}", kwargs)

    return build


def new_account(world: World, caller: str, variant: str) -> Call:
    body = {"username": f"matrix-made-{world.n()}", "role": OFFICIAL, "password": INITIAL_PASSWORD}
    return Call("/accounts", {"json": body})


def new_staff(world: World, caller: str, variant: str) -> Call:
    return Call("/staff", {"json": {"name": f"新管家{world.n()}", "role": "steward", "district_code": "yubei"}})


def edit_staff(world: World, caller: str, variant: str) -> Call:
    return Call(f"/staff/{world.staff['spare']['id']}", {"json": {"work_phone": f"023-6300{world.n():04d}"}})


def new_worker(world: World, caller: str, variant: str) -> Call:
    body = {
        "name": "孙工",
        "national_id": national_id(),
        "mobile": "13712345678",
        "employer": "重庆邮电大学",
        "district_code": "nanan",
        "steward_id": world.staff[OWN]["id"],
    }
    return Call("/workers", {"json": body})


def lookup(world: World, caller: str, variant: str) -> Call:
    return Call("/workers/lookup", {"json": {"national_id": world.national_ids[variant]}})


def reassign(world: World, caller: str, variant: str) -> Call:
    # The administrator moves spare workers, so that the world's reach stays as built.
    worker = world.spare_workers[variant] if caller == ADMIN else world.workers[variant]
    body = {"steward_id": world.staff["next"]["id"], "reason": "工作调整"}
    return Call(f"/workers/{worker['id']}/steward", {"json": body})


def new_case(world: World, caller: str, variant: str) -> Call:
    body = {
        "worker_id": world.workers[OWN]["id"],
        "item_id": world.item_id,
        "title": "申请人才住房",
        "channel": "phone",
    }
    return Call("/cases", {"json": body})


def cases_of_worker(world: World, caller: str, variant: str) -> Call:
    return Call(f"/cases?worker_id={world.workers[variant]['id']}")


async def edit_case(world: World, caller: str, variant: str) -> Call:
    case_id = world.cases[variant]["id"]
    headers = {"If-Match": await world.etag(case_id)}
    return Call(f"/cases/{case_id}", {"json": {"title": f"申请人才住房（{world.n()}）"}, "headers": headers})


async def move(world: World, caller: str, variant: str) -> Call:
    # Each cell accepts a case of its own, so that every cell starts from "submitted".
    case = await world.new_case(variant)
    headers = {"If-Match": f'"{case["id"]}.{case["version"]}"'}
    return Call(f"/cases/{case['id']}/transitions", {"json": {"action": "accept"}, "headers": headers})


async def rate(world: World, caller: str, variant: str) -> Call:
    case = await world.case_in(variant, "resolved")
    return Call(f"/cases/{case['id']}/ratings", {"json": {"level": "satisfied"}})


async def reissue_code(world: World, caller: str, variant: str) -> Call:
    # A case of its own per cell, so that the world's cases keep their query codes.
    case = await world.new_case(variant)
    return Call(f"/cases/{case['id']}/query-code")


def request_case(world: World, caller: str, variant: str) -> Call:
    return Call("/my/cases", {"json": {"item_id": world.item_id, "title": "人才住房"}})


async def answer_materials(world: World, caller: str, variant: str) -> Call:
    case = await world.case_in(variant, "awaiting_materials")
    return Call(f"/my/cases/{case['id']}/materials", {"json": {"note": "已补充"}})


async def withdraw_own(world: World, caller: str, variant: str) -> Call:
    case = await world.new_case(variant)
    return Call(f"/my/cases/{case['id']}/withdraw", {"json": {"reason": "不需要了"}})


def upload(world: World, caller: str, variant: str) -> Call:
    return Call(f"/cases/{world.cases[variant]['id']}/attachments", {"files": _pdf_upload()})


async def answer_follow_up(world: World, caller: str, variant: str) -> Call:
    case = await world.case_in(variant, "resolved")
    rating = await world.admin.ok("POST", f"/cases/{case['id']}/ratings", 201, json={"level": "dissatisfied"})
    return Call(f"/cases/{case['id']}/ratings/{rating['id']}/follow-up", {"json": {"answer": "已回访并协调解决"}})


async def late_case(world: World, variant: str) -> dict[str, Any]:
    """A case like ``cases[variant]`` accepted long enough ago to be overdue now."""
    now = world.clock()
    world.clock.set(now - timedelta(days=40))
    case = await world.admin.move(await world.new_case(variant), "accept")
    world.clock.set(now)
    return case


async def supervised(world: World, variant: str) -> dict[str, Any]:
    case = await late_case(world, variant)
    notice: dict[str, Any] = await world.admin.ok(
        "POST", "/supervisions", 201, json={"case_no": case["case_no"], "reason": "超期督办"}
    )
    return notice


async def issue_supervision(world: World, caller: str, variant: str) -> Call:
    case = await late_case(world, OWN)
    return Call("/supervisions", {"json": {"case_no": case["case_no"], "reason": "超期督办"}})


async def supervision_path(world: World, caller: str, variant: str) -> Call:
    if variant not in world.supervisions:
        world.supervisions[variant] = await supervised(world, variant)
    return Call(f"/supervisions/{world.supervisions[variant]['id']}")


async def reply_supervision(world: World, caller: str, variant: str) -> Call:
    # Each cell answers a notice of its own.
    notice = await supervised(world, variant)
    return Call(f"/supervisions/{notice['id']}/reply", {"json": {"reply": "已加快办理"}})


def new_subscription(world: World, caller: str, variant: str) -> Call:
    body = {"name": f"接收方{world.n()}", "url": "https://receiver.example/hooks", "event_types": ["case.logged"]}
    return Call("/webhook-subscriptions", {"json": body})


def subscription_path(suffix: str = "", **kwargs: Any) -> Build:
    """A webhook subscription of the cell's own (a cell may remove it or rotate its secret)."""

    async def build(world: World, caller: str, variant: str) -> Call:
        made = await world.admin.ok(
            "POST", "/webhook-subscriptions", 201, json=new_subscription(world, caller, variant).kwargs["json"]
        )
        return Call(f"/webhook-subscriptions/{made['id']}{suffix}", kwargs)

    return build


def no_delivery(suffix: str) -> Build:
    """A delivery that does not exist: retries and replays of real ones are in test_delivery_admin.py."""
    return fixed(f"/deliveries/{uuid.uuid4()}{suffix}")


def keep_totp_secret(world: World, caller: str, response: httpx.Response) -> None:
    world.totp_secrets[caller] = response.json()["secret"]


def confirm_totp(world: World, caller: str, variant: str) -> Call:
    secret = world.totp_secrets.get(caller)
    code = pyotp.TOTP(secret).at(world.clock()) if secret else "000000"
    return Call("/auth/totp/confirm", {"json": {"code": code}})


def change_password(world: World, caller: str, variant: str) -> Call:
    body = {"current_password": world.passwords[caller], "new_password": NEW_PASSWORD}
    return Call("/auth/password", {"json": body})


def _endpoints() -> list[Endpoint]:
    E = Endpoint
    return [
        # Accounts and security settings.
        E("POST", "/accounts", 201, frozenset({ADMIN}), new_account),
        E("GET", "/accounts", 200, frozenset({ADMIN, SECURITY}), fixed("/accounts")),
        E("GET", "/accounts/{account_id}", 200, frozenset({ADMIN, SECURITY}), account_path()),
        E("PATCH", "/accounts/{account_id}", 200, frozenset({ADMIN}), account_path(json={"active": True})),
        E(
            "POST",
            "/accounts/{account_id}/password-reset",
            200,
            frozenset({ADMIN}),
            account_path("/password-reset", json={"password": "Temporary-Pass-2026"}),
        ),
        E("POST", "/accounts/{account_id}/unlock", 200, frozenset({SECURITY}), account_path("/unlock")),
        E("POST", "/accounts/{account_id}/totp-reset", 200, frozenset({SECURITY}), account_path("/totp-reset")),
        E("GET", "/security/settings", 200, frozenset({SECURITY}), fixed("/security/settings")),
        E(
            "PUT",
            "/security/settings",
            200,
            frozenset({SECURITY}),
            fixed("/security/settings", json={"privileged_mfa_required": False}),
        ),
        # The audit trail.
        E("GET", "/audit/events", 200, frozenset({AUDITOR}), fixed("/audit/events")),
        E("POST", "/audit/verify", 200, frozenset({ADMIN, AUDITOR}), fixed("/audit/verify")),
        # Reference data and the calendar.
        E("GET", "/districts", 200, REFERENCE_READERS, fixed("/districts")),
        E("GET", "/departments", 200, REFERENCE_READERS, fixed("/departments")),
        E("GET", "/work-list-items", 200, REFERENCE_READERS, fixed("/work-list-items?year=2026")),
        E("GET", "/work-list-items/{item_id}", 200, REFERENCE_READERS, item_path()),
        E("PATCH", "/work-list-items/{item_id}", 200, frozenset({ADMIN}), item_path(json={"active": True})),
        E("GET", "/calendar/{year}", 200, REFERENCE_READERS, fixed("/calendar/2026")),
        E(
            "PUT",
            "/calendar/{year}",
            200,
            frozenset({ADMIN}),
            fixed("/calendar/2027", json={"published": False, "days": []}),
        ),
        # Staff.
        E("POST", "/staff", 201, frozenset({ADMIN}), new_staff),
        E("GET", "/staff", 200, STAFF_READERS, fixed("/staff")),
        E("GET", "/staff/{staff_id}", 200, STAFF_READERS, staff_path()),
        E("PATCH", "/staff/{staff_id}", 200, frozenset({ADMIN}), edit_staff),
        # Science workers.
        E("POST", "/workers", 201, RECORD_WRITERS, new_worker),
        E("GET", "/workers", 200, WORKER_READERS, fixed("/workers")),
        E("POST", "/workers/lookup", 200, WORKER_READERS, lookup, reach=True),
        # A search, not a record: out of reach it answers an empty list (test_personal_data.py).
        E(
            "POST",
            "/workers/by-mobile",
            200,
            WORKER_READERS,
            fixed("/workers/by-mobile", json={"mobile": "13812345678"}),
        ),
        E("GET", "/workers/{worker_id}", 200, WORKER_READERS, worker_path(), reach=True),
        E(
            "PATCH",
            "/workers/{worker_id}",
            200,
            RECORD_WRITERS,
            worker_path(json={"employer": "重庆大学"}),
            reach=True,
        ),
        E(
            "POST",
            "/workers/{worker_id}/reveal",
            200,
            RECORD_WRITERS,
            worker_path("/reveal", json={"fields": ["mobile"], "reason": "核对联系电话"}),
            reach=True,
        ),
        E("POST", "/workers/{worker_id}/steward", 201, frozenset({ADMIN}), reassign, reach=True),
        E("GET", "/workers/{worker_id}/stewards", 200, WORKER_READERS, worker_path("/stewards"), reach=True),
        # Cases.
        E("POST", "/cases", 201, RECORD_WRITERS, new_case),
        E("GET", "/cases", 200, CASE_READERS, fixed("/cases")),
        E("GET", "/cases/queues", 200, CASE_READERS, fixed("/cases/queues")),
        E("GET", "/cases", 200, CASE_READERS, cases_of_worker, reach=True, label="worker_id filter"),
        E("GET", "/cases/{case_id}", 200, CASE_READERS, case_path(), reach=True),
        E("PATCH", "/cases/{case_id}", 200, RECORD_WRITERS, edit_case, reach=True),
        E("POST", "/cases/{case_id}/transitions", 200, CASE_HANDLERS, move, reach=True),
        E(
            "POST",
            "/cases/{case_id}/notes",
            201,
            CASE_HANDLERS,
            case_path("/notes", json={"note": "已电话联系", "visibility": "internal"}),
            reach=True,
        ),
        E("GET", "/cases/{case_id}/events", 200, CASE_READERS, case_path("/events"), reach=True),
        E("GET", "/cases/{case_id}/receipt", 200, CASE_READERS, receipt("/cases"), reach=True),
        E(
            "GET",
            "/cases/{case_id}/completion-notice",
            200,
            CASE_READERS,
            completion_notice("/cases"),
            reach=True,
        ),
        E("POST", "/cases/{case_id}/query-code", 201, RECORD_WRITERS, reissue_code, reach=True),
        # Everyone's own notices (one's own only: tested in test_notifications.py).
        E("GET", "/notifications", 200, EVERYONE, fixed("/notifications")),
        E("GET", "/notifications/unread-count", 200, EVERYONE, fixed("/notifications/unread-count")),
        E("POST", "/notifications/read-all", 200, EVERYONE, fixed("/notifications/read-all")),
        # One's own channels beyond the inbox, and what the administrator manages of notices
        # leaving the service.
        E("GET", "/notifications/preferences", 200, EVERYONE, fixed("/notifications/preferences")),
        E(
            "PUT",
            "/notifications/preferences",
            200,
            EVERYONE,
            fixed("/notifications/preferences", json={"email": False, "sms": False}),
        ),
        E("GET", "/notice-settings", 200, frozenset({ADMIN}), fixed("/notice-settings")),
        E(
            "PUT",
            "/notice-settings",
            200,
            frozenset({ADMIN}),
            fixed("/notice-settings", json={"email_offered": False, "sms_offered": False}),
        ),
        E("GET", "/notice-templates", 200, frozenset({ADMIN}), fixed("/notice-templates")),
        E(
            "GET",
            "/notice-templates/{kind}/versions",
            200,
            frozenset({ADMIN}),
            fixed("/notice-templates/case.logged/versions"),
        ),
        E(
            "PUT",
            "/notice-templates/{kind}",
            200,
            frozenset({ADMIN}),
            fixed("/notice-templates/case.accepted", json={"title": "办件已受理：{case_no}", "body": "已受理。"}),
        ),
        # Ledger imports (a steward's own only: tested in test_imports.py).
        E(
            "POST",
            "/imports",
            202,
            RECORD_WRITERS,
            fixed("/imports", files={"file": ("台账.csv", "姓名,身份证号\r\n".encode())}, data={"kind": "workers"}),
        ),
        E("GET", "/imports", 200, RECORD_WRITERS, fixed("/imports")),
        E("GET", "/imports/templates/{kind}", 200, RECORD_WRITERS, fixed("/imports/templates/cases")),
        E("GET", "/deliveries", 200, frozenset({ADMIN}), fixed("/deliveries")),
        E("GET", "/deliveries/summary", 200, frozenset({ADMIN}), fixed("/deliveries/summary")),
        E(
            "POST",
            "/deliveries/{delivery_id}/retry",
            200,
            frozenset({ADMIN}),
            no_delivery("/retry"),
            special={ADMIN: 404},
        ),
        E(
            "POST",
            "/deliveries/{delivery_id}/replay",
            200,
            frozenset({ADMIN}),
            no_delivery("/replay"),
            special={ADMIN: 404},
        ),
        E("GET", "/webhook-subscriptions", 200, frozenset({ADMIN}), fixed("/webhook-subscriptions")),
        E("POST", "/webhook-subscriptions", 201, frozenset({ADMIN}), new_subscription),
        E("GET", "/webhook-subscriptions/{subscription_id}", 200, frozenset({ADMIN}), subscription_path()),
        E(
            "PATCH",
            "/webhook-subscriptions/{subscription_id}",
            200,
            frozenset({ADMIN}),
            subscription_path(json={"name": "区平台"}),
        ),
        E("DELETE", "/webhook-subscriptions/{subscription_id}", 204, frozenset({ADMIN}), subscription_path()),
        E(
            "POST",
            "/webhook-subscriptions/{subscription_id}/rotate-secret",
            200,
            frozenset({ADMIN}),
            subscription_path("/rotate-secret"),
        ),
        E(
            "GET",
            "/webhook-subscriptions/{subscription_id}/deliveries",
            200,
            frozenset({ADMIN}),
            subscription_path("/deliveries"),
        ),
        # A worker's own cases.
        E("GET", "/my/cases", 200, OWN_CASES, fixed("/my/cases")),
        E("POST", "/my/cases", 201, OWN_CASES, request_case),
        E("GET", "/my/cases/{case_id}", 200, OWN_CASES, own_case_path(), reach=True),
        E("POST", "/my/cases/{case_id}/materials", 200, OWN_CASES, answer_materials, reach=True),
        E("POST", "/my/cases/{case_id}/withdraw", 200, OWN_CASES, withdraw_own, reach=True),
        E("GET", "/my/cases/{case_id}/receipt", 200, OWN_CASES, receipt("/my/cases"), reach=True),
        E(
            "GET",
            "/my/cases/{case_id}/completion-notice",
            200,
            OWN_CASES,
            completion_notice("/my/cases"),
            reach=True,
        ),
        # Files on a case.
        E("POST", "/cases/{case_id}/attachments", 201, FILE_USERS, upload, reach=True),
        E("GET", "/cases/{case_id}/attachments", 200, FILE_USERS, case_path("/attachments"), reach=True),
        E("GET", "/attachments/{attachment_id}/content", 200, FILE_USERS, file_path, reach=True),
        # Satisfaction ratings and follow-ups.
        E("POST", "/cases/{case_id}/ratings", 201, RATERS, rate, reach=True),
        E("GET", "/cases/{case_id}/ratings", 200, CASE_READERS, case_path("/ratings"), reach=True),
        E(
            "POST",
            "/cases/{case_id}/ratings/{rating_id}/follow-up",
            200,
            FOLLOW_UP_ANSWERERS,
            answer_follow_up,
            reach=True,
        ),
        E("GET", "/follow-ups", 200, FOLLOW_UP_ANSWERERS, fixed("/follow-ups")),
        # Supervision notices (the world's cases are both in the official's district).
        E("POST", "/supervisions", 201, SUPERVISORS, issue_supervision),
        E("GET", "/supervisions", 200, SUPERVISION_READERS, fixed("/supervisions")),
        E(
            "GET",
            "/supervisions/{supervision_id}",
            200,
            SUPERVISION_READERS,
            supervision_path,
            reach=True,
            special={OFFICIAL: 200},
        ),
        E("POST", "/supervisions/{supervision_id}/reply", 200, SUPERVISION_REPLIERS, reply_supervision, reach=True),
        # Officials' metrics (an official or liaison sees its own district or department).
        E("GET", "/metrics/items", 200, METRICS_READERS, fixed("/metrics/items")),
        E("GET", "/metrics/items/export", 200, METRICS_READERS, fixed("/metrics/items/export?format=csv")),
        E("GET", "/metrics/by/{by}", 200, METRICS_READERS, fixed("/metrics/by/district")),
        E("GET", "/metrics/by/{by}/export", 200, METRICS_READERS, fixed("/metrics/by/steward/export?format=xlsx")),
        E("GET", "/metrics/trend", 200, METRICS_READERS, fixed("/metrics/trend?interval=week")),
        E("GET", "/metrics/trend/export", 200, METRICS_READERS, fixed("/metrics/trend/export?format=csv")),
        E("GET", "/metrics/summary", 200, METRICS_READERS, fixed("/metrics/summary")),
        E("GET", "/metrics/supervision", 200, METRICS_READERS, fixed("/metrics/supervision")),
        E("GET", "/metrics/cases", 200, METRICS_READERS, fixed("/metrics/cases?figure=open")),
        E(
            "GET",
            "/metrics/cases/export",
            200,
            METRICS_READERS,
            fixed("/metrics/cases/export?figure=received&format=xlsx"),
        ),
        E("GET", "/reports/monthly", 200, METRICS_READERS, fixed("/reports/monthly?month=2026-06")),
        # One's own session, last: it ends with signing out.
        E("GET", "/auth/me", 200, EVERYONE, fixed("/auth/me"), phase=1),
        E(
            "POST",
            "/auth/totp",
            200,
            EVERYONE,
            fixed("/auth/totp"),
            special={WORKER: 409},  # second factors are for staff accounts
            phase=2,
            after=keep_totp_secret,
        ),
        E("POST", "/auth/totp/confirm", 204, EVERYONE, confirm_totp, special={WORKER: 409}, phase=3),
        E("POST", "/auth/password", 204, EVERYONE, change_password, phase=4),
        E("POST", "/auth/logout", 204, EVERYONE, fixed("/auth/logout"), phase=5),
    ]


ENDPOINTS = _endpoints()


def _excerpt(response: httpx.Response) -> str:
    text = response.text.replace("\n", " ")
    return text if len(text) <= 160 else text[:157] + "..."


async def _cell(world: World, endpoint: Endpoint, caller: str, variant: str) -> str | None:
    """Run one cell; a line describing the mismatch, or None."""
    made = endpoint.build(world, caller, variant)
    call = made if isinstance(made, Call) else await made
    response: httpx.Response = await world.callers[caller].send(endpoint.method, call.path, **call.kwargs)
    want, got = endpoint.expected(caller, variant), response.status_code
    where = f"{caller:<9} {variant:<5} {endpoint.name():<48}"
    if got != want:
        return f"{where} expected {want}, got {got}: {_excerpt(response)}"
    if got >= 400 and not response.headers.get("content-type", "").startswith(PROBLEM_JSON):
        return f"{where} answered {got} as {response.headers.get('content-type')!r}, not problem+json"
    if endpoint.after is not None and got < 300:
        endpoint.after(world, caller, response)
    return None


def _template(path: str) -> str:
    """``/cases/{case_id:uuid}`` -> ``/cases/{case_id}``."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def api_routes(app: Litestar) -> set[tuple[str, str]]:
    """(method, route) of every handler under /api/v1 (the automatic OPTIONS aside)."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API + "/"):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method != "OPTIONS":
                    found.add((str(method), _template(route.path.removeprefix(API))))
    return found


def test_every_api_endpoint_is_in_the_matrix(app: Litestar) -> None:
    in_matrix = {(e.method, e.route) for e in ENDPOINTS}
    served = api_routes(app)
    assert len(served) > 40, served
    missing = sorted(served - in_matrix - SEPARATELY.keys())
    stale = sorted((in_matrix | SEPARATELY.keys()) - served)
    assert not missing, f"endpoints without a row in the access matrix: {missing}"
    assert not stale, f"rows of the access matrix for routes that do not exist: {stale}"


async def test_access_matrix(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar], clock: Clock
) -> None:
    world = await build_world(client, anonymous, clock)
    mismatches: list[str] = []
    cells = 0
    for phase in sorted({e.phase for e in ENDPOINTS}):
        for endpoint in (e for e in ENDPOINTS if e.phase == phase):
            for caller in CALLERS:
                for variant in endpoint.variants():
                    cells += 1
                    if (line := await _cell(world, endpoint, caller, variant)) is not None:
                        mismatches.append(line)
    assert not mismatches, f"{len(mismatches)} of {cells} cells differ:\n" + "\n".join(mismatches)
    # 101 rows: 73 tried once, 28 on an own and another's record; 129 variants for 8 callers.
    assert cells == 1032, cells


# Signing in, the public lookup, and callers without a valid token.


def _sample_path(route: str) -> str:
    """A concrete path for a route template: any record id (a case, a worker, an attachment
    ...), the year 2026, a rating number, a grouping."""
    path = route.replace("{year}", "2026").replace("{rating_id}", "1").replace("{by}", "district")
    return re.sub(r"\{\w+\}", lambda _: str(uuid.uuid4()), path)


async def test_signing_in_and_the_lookup_are_the_public_endpoints(
    app: Litestar, client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar]
) -> None:
    admin = Api(client)
    official = await admin.account(OFFICIAL, username="matrix-official")
    mismatches: list[str] = []

    attempts = [
        ("right password", {"username": "matrix-official", "password": PASSWORD}, 200),
        ("wrong password", {"username": "matrix-official", "password": "Wrong-Pass-2026!"}, 401),
        ("unknown user", {"username": "nobody-at-all", "password": PASSWORD}, 401),
    ]
    # Signing in answers the same with or without a token already in hand.
    for who, api in (("no token", Api(anonymous)), ("signed in", official)):
        for what, body, want in attempts:
            response = await api.send("POST", "/auth/login", json=body)
            if response.status_code != want:
                mismatches.append(f"{who:<11} POST /auth/login ({what}) expected {want}, got {response.status_code}")

    # Every other route (the lookup has its own test) refuses a caller without a valid
    # token before looking at anything.
    signed_out = await admin.login("matrix-official", PASSWORD)
    await signed_out.ok("POST", "/auth/logout", 204)
    tokens: dict[str, dict[str, str]] = {
        "no token": {},
        "not a token": {"Authorization": "Bearer not-a-token"},
        "not bearer": {"Authorization": f"Basic {signed_out.token}"},
        "signed out": {"Authorization": f"Bearer {signed_out.token}"},
    }
    routes = sorted(api_routes(app) - SEPARATELY.keys())
    for (method, route), (who, headers) in itertools.product(routes, tokens.items()):
        response = await anonymous.request(method, API + _sample_path(route), headers=headers)
        content_type = response.headers.get("content-type", "")
        if response.status_code != 401 or not content_type.startswith(PROBLEM_JSON):
            mismatches.append(f"{who:<11} {method} {route} expected 401, got {response.status_code} {content_type}")
    assert not mismatches, "\n".join(mismatches)


async def test_the_public_lookup_needs_no_token(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar], clock: Clock
) -> None:
    world = await build_world(client, anonymous, clock)
    case = world.cases[OWN]
    resolved = await world.resolved_case(OWN)
    askers: dict[str, Api] = {
        "no token": world.callers[ANONYMOUS],
        "bad token": Api(anonymous, "not-a-token"),
        **{role: world.callers[role] for role in ROLES},
    }
    mismatches: list[str] = []
    for who, api in askers.items():
        # Wrong codes count against their case number, which locks after a few: each
        # caller tries its wrong code on a case of its own.
        decoy = await world.new_case(OWN)
        wrong = "2222-2222" if decoy["query_code"] != "2222-2222" else "3333-3333"
        attempts = [
            ("/lookup", "right code", case["case_no"], case["query_code"], 200),
            ("/lookup", "wrong code", decoy["case_no"], wrong, 404),
            ("/lookup/completion-notice", "right code", resolved["case_no"], resolved["query_code"], 200),
            ("/lookup/completion-notice", "wrong code", decoy["case_no"], wrong, 404),
        ]
        for path, what, case_no, code, want in attempts:
            response = await api.send("GET", path, params={"case_no": case_no, "code": code})
            where = f"{who:<9} GET {path} ({what})"
            content_type = response.headers.get("content-type", "")
            if response.status_code != want:
                mismatches.append(f"{where} expected {want}, got {response.status_code}: {_excerpt(response)}")
            elif want == 200 and case_no not in response.text:
                mismatches.append(f"{where} shows another case: {_excerpt(response)}")
            elif want != 200 and not content_type.startswith(PROBLEM_JSON):
                mismatches.append(f"{where} answered {want} as {content_type!r}, not problem+json")
    assert not mismatches, "\n".join(mismatches)


# What lists contain.


def _ids(page: dict[str, Any]) -> set[str]:
    return {row["id"] for row in page["items"]}


async def test_lists_hold_only_rows_within_reach(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar], clock: Clock
) -> None:
    world = await build_world(client, anonymous, clock)
    admin = world.admin
    steward_a, steward_b = world.staff[OWN]["id"], world.staff[OTHER]["id"]
    worker_a, worker_b = world.workers[OWN]["id"], world.workers[OTHER]["id"]
    item = world.item_id
    a_home = world.cases[OWN]["id"]  # worker A, housing
    b_away = world.cases[OTHER]["id"]  # worker B, education
    a_away = (await admin.case(worker_id=worker_a, item_id=item, department_code=OTHER_DEPARTMENT))["id"]
    b_home = (await admin.case(worker_id=worker_b, item_id=item))["id"]
    # Worker B's case handled by steward A: steward A reaches the case, not the worker.
    by_a = await admin.case(worker_id=worker_b, item_id=item, steward_id=steward_a, department_code=OTHER_DEPARTMENT)
    b_by_a = by_a["id"]
    everything = {a_home, a_away, b_home, b_away, b_by_a}

    callers = {**world.callers, "steward B": world.other_steward}
    expected_cases: dict[str, set[str]] = {
        ADMIN: everything,
        STEWARD: {a_home, a_away, b_by_a},
        "steward B": {b_home, b_away, b_by_a},
        LIAISON: {a_home, b_home},
    }
    expected_workers: dict[str, set[str]] = {
        STEWARD: {worker_a},
        "steward B": {worker_b},
        LIAISON: {worker_a, worker_b},
        WORKER: {worker_a},
    }
    # Filters narrow what is within reach; they never widen it.
    filtered: list[tuple[str, str, set[str]]] = [
        (STEWARD, f"/cases?steward_id={steward_b}", set()),
        (STEWARD, f"/cases?worker_id={worker_a}", {a_home, a_away}),
        (STEWARD, f"/cases?department_code={OTHER_DEPARTMENT}", {a_away, b_by_a}),
        ("steward B", f"/cases?steward_id={steward_a}", {b_by_a}),
        (LIAISON, f"/cases?department_code={OTHER_DEPARTMENT}", set()),
        (LIAISON, f"/cases?worker_id={worker_b}", {b_home}),
        (STEWARD, f"/workers?steward_id={steward_b}", set()),
        (LIAISON, f"/workers?steward_id={steward_b}", {worker_b}),
        (WORKER, f"/workers?steward_id={steward_b}", set()),
    ]
    checks: list[tuple[str, str, set[str]]] = [
        *((who, "/cases?limit=200", rows) for who, rows in expected_cases.items()),
        *((who, "/workers?limit=200", rows) for who, rows in expected_workers.items()),
        *filtered,
        # A worker lists their own cases, wherever they are handled, in their own view.
        (WORKER, "/my/cases?limit=200", {a_home, a_away}),
    ]

    mismatches: list[str] = []
    # The staff's list of cases is not a worker's, filtered or not.
    for path in ("/cases?limit=200", f"/cases?worker_id={worker_a}"):
        response = await callers[WORKER].send("GET", path)
        if response.status_code != 403:
            mismatches.append(f"worker    GET {path}: expected 403, got {response.status_code}: {_excerpt(response)}")
    for who, path, want in checks:
        response = await callers[who].send("GET", path)
        if response.status_code != 200:
            mismatches.append(f"{who:<9} GET {path}: expected 200, got {response.status_code}: {_excerpt(response)}")
            continue
        page = response.json()
        got = _ids(page)
        if got != want:
            leaked, lost = sorted(got - want), sorted(want - got)
            mismatches.append(f"{who:<9} GET {path}: out of reach {leaked}, missing {lost}")
        if page["total"] != len(page["items"]):
            mismatches.append(f"{who:<9} GET {path}: total {page['total']} counts rows not listed")
    # The administrator reaches every worker, the spare ones included.
    everyone = _ids(await admin.ok("GET", "/workers?limit=200"))
    if not {worker_a, worker_b} | {w["id"] for w in world.spare_workers.values()} <= everyone:
        mismatches.append(f"admin     GET /workers: misses workers: {everyone}")
    assert not mismatches, "\n".join(mismatches)


# What a worker sees of the timeline.


async def test_a_worker_sees_only_the_public_timeline(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar], clock: Clock
) -> None:
    world = await build_world(client, anonymous, clock)
    steward, worker, liaison = world.callers[STEWARD], world.callers[WORKER], world.callers[LIAISON]
    case = world.cases[OWN]
    path = f"/cases/{case['id']}"
    internal_notes = ("内部：核实住房档案", "内部：材料齐全")
    public_note = "已联系住建部门"
    internal = await steward.ok(
        "POST", f"{path}/notes", 201, json={"note": internal_notes[0], "visibility": "internal"}
    )
    public = await steward.ok("POST", f"{path}/notes", 201, json={"note": public_note, "visibility": "public"})
    accepted = await steward.move(case, "accept", note=internal_notes[1], visibility="internal")
    internal_ids = {internal["id"], accepted["timeline"][-1]["id"]}
    public_ids = {public["id"], accepted["timeline"][0]["id"]}  # the note, and the case's creation

    mismatches: list[str] = []
    # The worker's own view: public events carry no id or visibility, so they are
    # told apart by action and note.
    for view in (f"/my/cases/{case['id']}", "/my/cases"):
        response = await worker.send("GET", view)
        if response.status_code != 200:
            mismatches.append(f"worker GET {view}: expected 200, got {response.status_code}: {_excerpt(response)}")
            continue
        if shown := [note for note in internal_notes if note in response.text]:
            mismatches.append(f"worker GET {view} shows internal notes {shown}")
    mine = await worker.ok("GET", f"/my/cases/{case['id']}")
    lines = [(e["action"], e["note"]) for e in mine["timeline"]]
    if ("note", public_note) not in lines:
        mismatches.append(f"worker GET /my/cases/{{id}} misses the public note: {lines}")
    if "create" not in [action for action, _ in lines]:
        mismatches.append(f"worker GET /my/cases/{{id}} misses the case's creation: {lines}")
    if [note for action, note in lines if action == "note"] != [public_note]:
        mismatches.append(f"worker GET /my/cases/{{id}} shows notes that are not public: {lines}")
    # The staff's record of the case, with its whole timeline, is not the worker's.
    for view in (path, f"{path}/events", f"{path}/events?visibility=public"):
        response = await worker.send("GET", view)
        if response.status_code != 403:
            mismatches.append(f"worker GET {view}: expected 403, got {response.status_code}: {_excerpt(response)}")
    # Staff within reach see the whole timeline.
    for who, api in ((STEWARD, steward), (LIAISON, liaison)):
        ids = {e["id"] for e in (await api.ok("GET", f"{path}/events"))["items"]}
        if not internal_ids | public_ids <= ids:
            mismatches.append(f"{who} GET /cases/{{id}}/events misses {sorted((internal_ids | public_ids) - ids)}")
    assert not mismatches, "\n".join(mismatches)


# Moves by role.


LIAISON_MOVES = [
    ("accept", "submitted"),
    ("reject", "submitted"),
    ("start", "accepted"),
    ("request_materials", "accepted"),
    ("receive_materials", "awaiting_materials"),
    ("transfer", "in_progress"),
    ("resolve", "in_progress"),
]


async def test_a_liaison_handles_but_does_not_withdraw_reopen_or_close(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar], clock: Clock
) -> None:
    world = await build_world(client, anonymous, clock)
    # (caller, action, the status the case is in first, own or another's case, expected status)
    cells = [
        *((LIAISON, action, status, OWN, 200) for action, status in LIAISON_MOVES),
        (LIAISON, "withdraw", "submitted", OWN, 403),
        (LIAISON, "reopen", "resolved", OWN, 403),
        (LIAISON, "close", "resolved", OWN, 403),
        (LIAISON, "accept", "submitted", OTHER, 404),
        (LIAISON, "withdraw", "submitted", OTHER, 404),
        (LIAISON, "close", "resolved", OTHER, 404),
        (STEWARD, "withdraw", "submitted", OWN, 200),
        (STEWARD, "reopen", "resolved", OWN, 200),
        (STEWARD, "close", "resolved", OWN, 200),
        (STEWARD, "withdraw", "submitted", OTHER, 404),
        (STEWARD, "close", "resolved", OTHER, 404),
        (WORKER, "withdraw", "submitted", OWN, 403),
        (OFFICIAL, "close", "resolved", OWN, 403),
    ]
    mismatches: list[str] = []
    for caller, action, status, variant, want in cells:
        case = await world.case_in(variant, status)
        response = await world.callers[caller].send(
            "POST",
            f"/cases/{case['id']}/transitions",
            json={"action": action, **MOVE_FIELDS.get(action, {})},
            headers={"If-Match": f'"{case["id"]}.{case["version"]}"'},
        )
        where = f"{caller:<8} {action:<17} a {status} case ({variant})"
        if response.status_code != want:
            mismatches.append(f"{where}: expected {want}, got {response.status_code}: {_excerpt(response)}")
            continue
        after = await world.admin.ok("GET", f"/cases/{case['id']}")
        if want != 200 and after["version"] != case["version"]:
            mismatches.append(f"{where}: refused with {want}, but the case changed: {after['status']}")
    # A case the liaison transfers away leaves their reach.
    moved = await world.case_in(OWN, "accepted")
    liaison = world.callers[LIAISON]
    await liaison.move(moved, "transfer", **MOVE_FIELDS["transfer"])
    response = await liaison.send("GET", f"/cases/{moved['id']}")
    if response.status_code != 404:
        mismatches.append(
            f"liaison GET a case transferred out of the department: expected 404, got {response.status_code}"
        )
    assert not mismatches, "\n".join(mismatches)


# Fields a caller may not set.


async def test_fields_a_caller_may_not_set_are_refused(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar], clock: Clock
) -> None:
    world = await build_world(client, anonymous, clock)
    own_steward, other_steward = world.staff[OWN]["id"], world.staff[OTHER]["id"]
    own_worker, other_worker = world.workers[OWN]["id"], world.workers[OTHER]["id"]
    case_id = world.cases[OWN]["id"]
    new = {"worker_id": own_worker, "item_id": world.item_id, "title": "申请人才住房", "channel": "phone"}
    worker_body = {
        "name": "周工",
        "national_id": national_id(),
        "mobile": "13612345678",
        "employer": "重庆医科大学",
        "district_code": "yuzhong",
    }
    # (caller, method, path, body, expected status, the field named in the problem)
    cells: list[tuple[str, str, str, dict[str, Any], int, str | None]] = [
        (ADMIN, "POST", "/cases", {**new, "status": "resolved"}, 400, "status"),
        (ADMIN, "POST", "/cases", {**new, "case_no": "BS-20260602-9999"}, 400, "case_no"),
        (STEWARD, "POST", "/cases", {**new, "status": "resolved"}, 400, "status"),
        (STEWARD, "POST", "/cases", {**new, "case_no": "BS-20260602-9999"}, 400, "case_no"),
        (STEWARD, "POST", "/cases", {**new, "created_at": "2020-01-01T00:00:00Z"}, 400, "created_at"),
        (STEWARD, "POST", "/cases", {**new, "steward_id": other_steward}, 422, "steward_id"),
        (STEWARD, "POST", "/cases", {**new, "worker_id": other_worker}, 422, "worker_id"),
        (STEWARD, "POST", "/workers", {**worker_body, "steward_id": other_steward}, 422, "steward_id"),
        (STEWARD, "PATCH", f"/cases/{case_id}", {"status": "closed"}, 400, "status"),
        (STEWARD, "PATCH", f"/cases/{case_id}", {"steward_id": other_steward}, 400, "steward_id"),
        (STEWARD, "PATCH", f"/cases/{case_id}", {"department_code": OTHER_DEPARTMENT}, 400, "department_code"),
        (STEWARD, "PATCH", f"/workers/{own_worker}", {"steward_id": other_steward}, 400, "steward_id"),
        (STEWARD, "PATCH", f"/workers/{own_worker}", {"national_id": national_id()}, 400, "national_id"),
        (STEWARD, "POST", f"/cases/{case_id}/transitions", {"action": "accept", "status": "closed"}, 400, "status"),
        (LIAISON, "POST", f"/cases/{case_id}/notes", {"note": "备注", "actor_id": own_steward}, 400, "actor_id"),
        (
            ADMIN,
            "POST",
            "/accounts",
            {"username": "x-made", "role": OFFICIAL, "password": INITIAL_PASSWORD, "totp_enabled": True},
            400,
            "totp_enabled",
        ),
        # What the same callers may do, for contrast.
        (STEWARD, "POST", "/cases", {**new, "steward_id": own_steward}, 201, None),
        (STEWARD, "POST", "/workers", {**worker_body, "steward_id": own_steward}, 201, None),
    ]
    before = (await world.admin.ok("GET", "/cases?limit=1"))["total"]
    mismatches: list[str] = []
    for caller, method, path, body, want, named in cells:
        headers = {"If-Match": await world.etag(case_id)} if path.startswith(f"/cases/{case_id}") else {}
        response = await world.callers[caller].send(method, path, json=body, headers=headers)
        where = f"{caller:<8} {method} {path} {sorted(body)}"
        if response.status_code != want:
            mismatches.append(f"{where}: expected {want}, got {response.status_code}: {_excerpt(response)}")
            continue
        if named is not None:
            fields = [e["field"] for e in response.json().get("errors") or []]
            if named not in fields:
                mismatches.append(f"{where}: the problem names {fields}, not {named!r}")
    after = await world.admin.ok("GET", f"/cases/{case_id}")
    if (after["status"], after["steward_id"], after["department_code"]) != ("submitted", own_steward, HOME_DEPARTMENT):
        mismatches.append(f"a refused change reached the case: {after}")
    created = (await world.admin.ok("GET", "/cases?limit=1"))["total"] - before
    if created != 1:
        mismatches.append(f"{created} cases were created; only the one allowed request should have made one")
    assert not mismatches, "\n".join(mismatches)
