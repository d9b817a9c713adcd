"""Building blocks for tests that talk to the API: staff, workers and cases."""

from __future__ import annotations

import itertools
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.domain.identity import id_check_character

API = "/api/v1"
ADMIN_PASSWORD = "Root-Test-2026!x"
INITIAL_PASSWORD = "Initial-Pass-2026"
PASSWORD = "Chosen-Pass-2026!"
_serial = itertools.count(1)


def national_id(serial: int | None = None) -> str:
    """A valid resident ID number for Chongqing (province 50), unique per serial."""
    n = next(_serial) if serial is None else serial
    first17 = f"500103199001{n % 28 + 1:02d}{n % 1000:03d}"
    return first17 + id_check_character(first17)


class Api:
    """Requests as one account: the client's own (the administrator) unless a token is given."""

    def __init__(self, client: AsyncTestClient[Litestar], token: str | None = None) -> None:
        self.client = client
        self.token = token

    def _headers(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.token is not None:
            kwargs["headers"] = {"Authorization": f"Bearer {self.token}", **kwargs.get("headers", {})}
        return kwargs

    async def send(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self.client.request(method, API + path, **self._headers(kwargs))

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = await self.send(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    async def problem(self, method: str, path: str, status: int, **kwargs: Any) -> dict[str, Any]:
        """Send a request that must be refused with ``status`` as RFC 9457 problem+json."""
        response = await self.send(method, path, **kwargs)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json"), response.headers
        problem: dict[str, Any] = response.json()
        assert problem["status"] == status
        assert {"type", "title", "detail"} <= set(problem)
        return problem

    async def login(self, username: str, password: str) -> Api:
        body = await self.ok("POST", "/auth/login", json={"username": username, "password": password})
        return Api(self.client, body["access_token"])

    async def account(self, role: str, username: str | None = None, **links: Any) -> Api:
        """A new account of ``role`` (made by this administrator), signed in with its
        first password already changed."""
        username = username or f"{role}{next(_serial)}"
        body = {"username": username, "role": role, "password": INITIAL_PASSWORD, **links}
        await self.ok("POST", "/accounts", 201, json=body)
        first = await self.login(username, INITIAL_PASSWORD)
        change = {"current_password": INITIAL_PASSWORD, "new_password": PASSWORD}
        await first.ok("POST", "/auth/password", 204, json=change)
        return first

    async def steward_account(self, name: str = "李专员") -> tuple[Api, dict[str, Any]]:
        staff = await self.steward(name)
        return await self.account("steward", staff_id=staff["id"]), staff

    async def liaison_account(self, department_code: str = "housing") -> tuple[Api, dict[str, Any]]:
        body = {"name": "赵联络", "role": "liaison", "department_code": department_code}
        staff = await self.ok("POST", "/staff", 201, json=body)
        return await self.account("liaison", staff_id=staff["id"]), staff

    async def steward(self, name: str = "王管家") -> Any:
        body = {"name": name, "role": "steward", "district_code": "yubei"}
        return await self.ok("POST", "/staff", 201, json=body)

    async def worker(self, steward_id: str, **fields: Any) -> Any:
        body = {
            "name": "张明",
            "national_id": national_id(),
            "mobile": "13812345678",
            "employer": "重庆大学",
            "district_code": "yubei",
            "steward_id": steward_id,
            **fields,
        }
        return await self.ok("POST", "/workers", 201, json=body)

    async def item(self, code: str = "WL-01", year: int = 2026) -> dict[str, Any]:
        items = await self.ok("GET", f"/work-list-items?year={year}")
        return next(i for i in items if i["code"] == code)

    async def case(self, **fields: Any) -> Any:
        if "worker_id" not in fields:
            steward = await self.steward()
            fields["worker_id"] = (await self.worker(steward["id"]))["id"]
        if "item_id" not in fields:
            fields["item_id"] = (await self.item())["id"]
        body = {"title": "申请人才住房", "channel": "phone", **fields}
        return await self.ok("POST", "/cases", 201, json=body)

    async def move(self, case: dict[str, Any], action: str, status: int = 200, **fields: Any) -> dict[str, Any]:
        response = await self.send(
            "POST",
            f"/cases/{case['id']}/transitions",
            json={"action": action, **fields},
            headers={"If-Match": f'"{case["id"]}.{case["version"]}"'},
        )
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body


MOVE_FIELDS: dict[str, dict[str, Any]] = {
    "reject": {"reason": "不属于受理范围"},
    "request_materials": {"materials": "请补充学历证明"},
    "transfer": {"department_code": "hr-social-security", "reason": "属人社局职责"},
    "resolve": {"outcome": "已分配人才住房"},
    "reopen": {"reason": "职工反映未落实"},
    "withdraw": {"reason": "本人撤回"},
}

# How to bring a new case to each status, as a list of moves.
PATH_TO: dict[str, list[str]] = {
    "submitted": [],
    "accepted": ["accept"],
    "in_progress": ["accept", "start"],
    "awaiting_materials": ["accept", "request_materials"],
    "resolved": ["accept", "start", "resolve"],
    "closed": ["accept", "start", "resolve", "close"],
    "rejected": ["reject"],
    "withdrawn": ["withdraw"],
}


async def case_in(api: Api, status: str) -> dict[str, Any]:
    case: dict[str, Any] = await api.case()
    for action in PATH_TO[status]:
        case = await api.move(case, action, **MOVE_FIELDS.get(action, {}))
    assert case["status"] == status
    return case
