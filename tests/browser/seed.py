"""Seeding a live service through its HTTP API, as the browser tests do before they look."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factory import INITIAL_PASSWORD


async def ok(api: httpx.AsyncClient, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
    """The answer's JSON (None when empty), once its status is ``status``."""
    response = await api.request(method, path, **kwargs)
    assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


async def account(api: httpx.AsyncClient, username: str, role: str, password: str, **links: Any) -> None:
    """A new account made by the administrator ``api`` signs in as, its first password
    already changed to ``password``."""
    body = {"username": username, "role": role, "password": INITIAL_PASSWORD, **links}
    await ok(api, "POST", "/accounts", 201, json=body)
    first = await ok(api, "POST", "/auth/login", json={"username": username, "password": INITIAL_PASSWORD})
    change = {"current_password": INITIAL_PASSWORD, "new_password": password}
    headers = {"Authorization": f"Bearer {first['access_token']}"}
    await ok(api, "POST", "/auth/password", 204, json=change, headers=headers)
