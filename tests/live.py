"""The service started the production way, in processes of its own, for tests that need
real processes: limits shared across them, a browser talking to it."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from service.cli import BOUNDED_HTTP
from service.security.keys import Keys

ROOT = Path(__file__).resolve().parents[1]
NOT_INHERITED = ("BANSHI_REDIS", "BANSHI_ATTACHMENTS", "BANSHI_S3_", "BANSHI_WEB_DIR", "BANSHI_LOOKUP_", "DATABASE_URL")
"""Settings of the developer's own shell that a test's service must not pick up."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def key_env(keys: Keys) -> dict[str, str]:
    """The run's keys as the service reads them from its environment (the same keys as
    the template database's audit chain and the in-process apps)."""

    def encode(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    ordered = [keys.pii_current, *(k for k in keys.pii_keys if k != keys.pii_current)]
    return {
        "BANSHI_TOKEN_KEY": encode(keys.token_key),
        "BANSHI_AUDIT_KEY": encode(keys.audit_key),
        "BANSHI_PII_KEYS": ",".join(f"{k}:{encode(keys.pii_keys[k])}" for k in ordered),
        "BANSHI_PII_INDEX_KEY": encode(keys.pii_index_key),
    }


def service_env(keys: Keys, database_url: str, folder: Path, **settings: str) -> dict[str, str]:
    """This process's environment without the service's own settings, plus the keys, a
    database, an attachment folder, cheap password hashing and ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED)}
    env.update(
        key_env(keys),
        DATABASE_URL=database_url,
        BANSHI_ARGON2_TIME_COST="1",
        BANSHI_ARGON2_MEMORY_KIB="1024",
        BANSHI_ATTACHMENTS_DIR=str(folder / "attachments"),
    )
    env.update(settings)
    return env


@dataclass(frozen=True)
class Running:
    url: str
    process: asyncio.subprocess.Process


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


@asynccontextmanager
async def running_service(
    env: Mapping[str, str], log_path: Path, start_within: float = 60, workers: int = 1, access_log: bool = False
) -> AsyncIterator[Running]:
    """Start ``uvicorn service.app:create_app`` (``workers`` processes, the HTTP protocol
    ``banshi serve`` and the image use) with exactly
    ``env``; yield its base URL and process once ``/health`` answers; stop it afterwards."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "service.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--http",
        BOUNDED_HTTP,
    ]
    # The app writes the access lines itself, whatever uvicorn's --access-log says.
    env = {**env, "BANSHI_ACCESS_LOG": "1" if access_log else "0"}
    async with _running(command, f"http://127.0.0.1:{port}", env, log_path, start_within) as running:
        yield running


@asynccontextmanager
async def running_banshi_serve(
    env: Mapping[str, str], log_path: Path, start_within: float = 60
) -> AsyncIterator[Running]:
    """``banshi serve`` as the README runs it (it migrates and loads the reference data
    first, both no-ops on a database that has them), on a port of its own, with exactly ``env``."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "banshi"), "serve", "--port", str(port)]
    async with _running(command, f"http://127.0.0.1:{port}", env, log_path, start_within) as running:
        yield running


@asynccontextmanager
async def _running(
    command: Sequence[str], base: str, env: Mapping[str, str], log_path: Path, start_within: float
) -> AsyncIterator[Running]:
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=ROOT, env=dict(env), stdout=log, stderr=asyncio.subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + start_within
        async with httpx.AsyncClient() as client:
            while True:
                if process.returncode is not None:
                    raise RuntimeError(f"the service exited with {process.returncode}:\n{_tail(log_path)}")
                try:
                    if (await client.get(f"{base}/health", timeout=2)).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the service did not start in {start_within} s:\n{_tail(log_path)}")
                await asyncio.sleep(0.2)
        yield Running(base, process)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()
                await process.wait()


REDIS_SERVER = shutil.which("redis-server")
"""The machine's Redis server binary, for tests that start a private one."""


@asynccontextmanager
async def private_redis(folder: Path, password: str) -> AsyncIterator[int]:
    """A Redis of this test's own on a free loopback port that asks for ``password``
    (``requirepass``, as compose runs it), keeping nothing on disk; yields its port."""
    assert REDIS_SERVER is not None, "no redis-server binary"
    port = free_port()
    log_path = folder / "redis.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            REDIS_SERVER,
            *("--port", str(port), "--bind", "127.0.0.1", "--requirepass", password),
            *("--save", "", "--appendonly", "no", "--dir", str(folder)),
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}:\n{_tail(log_path)}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                await writer.wait_closed()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start:\n{_tail(log_path)}") from None
                await asyncio.sleep(0.05)
        yield port
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
