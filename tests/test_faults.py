"""Faults the service must ride out: an exhausted connection pool, and being stopped."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from service.app import create_app
from service.config import Settings
from service.security.keys import Keys
from tests.conftest import Clock
from tests.factory import ADMIN_PASSWORD, API
from tests.live import running_service, service_env


async def test_an_exhausted_pool_answers_503_after_a_bounded_wait(settings: Settings, clock: Clock) -> None:
    """Both connections of the pool held (it opens no overflow connections): a request
    waits the pool timeout (one second here) and is answered 503 with Retry-After, and
    the service recovers as soon as connections come back."""
    small = dataclasses.replace(settings, pool_size=2, pool_timeout_seconds=1)
    app = create_app(small, clock=clock)
    async with AsyncTestClient(app=app) as client:
        engine: AsyncEngine = app.state.engine
        held = [await engine.connect() for _ in range(2)]
        try:
            started = time.monotonic()
            response = await client.post(f"{API}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
            waited = time.monotonic() - started
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "2"
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "try again" in response.json()["detail"]
            assert 0.9 <= waited < 5, waited
        finally:
            for connection in held:  # made on this test's loop: discarded, not put back
                await connection.invalidate()
                await connection.close()
        again = await client.post(f"{API}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert again.status_code == 200, again.text


async def test_sigterm_lets_the_request_in_flight_finish_and_exits_cleanly(
    database_url: str, test_keys: Keys, tmp_path: Path
) -> None:
    """A request whose body is still arriving when the process is told to stop is
    finished and answered; then the process exits with status 0 and takes no more."""
    env = service_env(test_keys, database_url, tmp_path)
    log = tmp_path / "service.log"
    async with running_service(env, log, access_log=True) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
            login = await http.post(f"{API}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
            headers = {"Authorization": f"Bearer {login.json()['access_token']}", "Content-Type": "application/json"}

            async def slow_body() -> AsyncIterator[bytes]:
                yield b'{"name": "'
                await asyncio.sleep(1.5)  # the stop signal arrives meanwhile
                yield '慢管家", "role": "steward", "district_code": "yubei"}'.encode()

            in_flight = asyncio.create_task(http.post(f"{API}/staff", content=slow_body(), headers=headers))
            await asyncio.sleep(0.5)
            service.process.send_signal(signal.SIGTERM)
            response = await in_flight
        assert response.status_code == 201, response.text
        assert response.json()["name"] == "慢管家"
        status = await asyncio.wait_for(service.process.wait(), timeout=10)
        # uvicorn shuts down gracefully, then re-raises the signal it caught, so the
        # process ends "by SIGTERM" (143 in a shell) only after finishing its work.
        assert status in (0, -signal.SIGTERM), status
        lines = [json.loads(line)["message"] for line in log.read_text().splitlines() if line.startswith("{")]
        assert lines.index("Shutting down") < next(i for i, m in enumerate(lines) if "POST /api/v1/staff" in m)
        assert "Waiting for application shutdown." in lines
        assert any(m.startswith("Finished server process") for m in lines), lines[-5:]
        async with httpx.AsyncClient(timeout=2) as late:
            try:
                await late.get(f"{service.url}/health")
                answered = True
            except httpx.TransportError:
                answered = False
        assert not answered, "a stopped service still answered"


async def test_a_body_that_trickles_in_is_cut_off_with_408(database_url: str, test_keys: Keys, tmp_path: Path) -> None:
    """A client that sends its headers and then only part of its body holds a connection
    and a worker: after BANSHI_BODY_TIMEOUT (one second here) without the next part it is
    answered 408 and the connection is closed. A body that keeps arriving in time is fine."""
    env = service_env(test_keys, database_url, tmp_path, BANSHI_BODY_TIMEOUT="1")
    async with running_service(env, tmp_path / "service.log") as service:
        host, port = service.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        body = json.dumps({"username": "admin", "password": ADMIN_PASSWORD}).encode()
        writer.write(
            f"POST {API}/auth/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]
        )
        await writer.drain()
        started = time.monotonic()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        waited = time.monotonic() - started
        length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
        payload = await asyncio.wait_for(reader.readexactly(length), timeout=10)
        writer.close()
        assert head.startswith(b"HTTP/1.1 408"), head
        assert b"application/problem+json" in head
        assert json.loads(payload)["detail"] == "the request body did not arrive within 1 seconds"
        assert 0.9 <= waited < 5, waited

        async with httpx.AsyncClient(base_url=service.url, timeout=10) as http:

            async def steady() -> AsyncIterator[bytes]:
                for i in range(0, len(body), 8):
                    await asyncio.sleep(0.3)
                    yield body[i : i + 8]

            in_time = await http.post(
                f"{API}/auth/login", content=steady(), headers={"Content-Type": "application/json"}
            )
            assert in_time.status_code == 200, in_time.text
