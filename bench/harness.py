"""What the benchmarks share: a fresh database, keys, a server of their own, the first
administrator (made with ``banshi users create``, as an operator would) and sign-in.

Imported by ``bench/lifecycle.py`` and ``bench/access.py`` (run as scripts, so this folder
is on ``sys.path``). It talks only to loopback addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
API = "/api/v1"
KEY_NAMES = ("BANSHI_TOKEN_KEY", "BANSHI_AUDIT_KEY", "BANSHI_PII_KEYS", "BANSHI_PII_INDEX_KEY")


# --------------------------------------------------------------------------- safety


def require_loopback(host: str | None, what: str) -> None:
    if host == "localhost":
        return
    try:
        ok = host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        sys.exit(f"{what}: only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed, got {host!r}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- database


async def fresh_database(admin_dsn: str, name: str) -> str:
    """Drop and recreate ``name``; the server's version."""
    import asyncpg  # the service's own driver

    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        version = await conn.fetchval("SHOW server_version")
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return str(version)


async def case_count(dsn: str) -> int | None:
    """How many cases the database at ``dsn`` holds; None when it cannot say."""
    import asyncpg

    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        return int(await conn.fetchval('SELECT count(*) FROM "case"'))
    except asyncpg.PostgresError:
        return None
    finally:
        await conn.close()


async def drop_database(admin_dsn: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# --------------------------------------------------------------------------- keys, accounts


def strong_password() -> str:
    """Meets the policy (12+ characters, upper, lower, digit, other) and names no user."""
    return "Bn7-" + secrets.token_urlsafe(15)


def clean_environ() -> dict[str, str]:
    """The environment without inherited BANSHI_* settings or DATABASE_URL, so that a
    server of ours runs with the production defaults unless we say otherwise."""
    return {k: v for k, v in os.environ.items() if not k.startswith("BANSHI_") and k != "DATABASE_URL"}


def generate_keys() -> dict[str, str]:
    """A fresh key set from ``banshi keys generate``, as an operator would make one."""
    out = subprocess.run(
        ["uv", "run", "--quiet", "banshi", "keys", "generate"],  # noqa: S607 - fixed argv
        cwd=REPO,
        env=clean_environ(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    keys: dict[str, str] = {}
    for line in out.splitlines():
        name, sep, value = line.partition("=")
        if sep and name in KEY_NAMES:
            keys[name] = value
    missing = [n for n in KEY_NAMES if n not in keys]
    if missing:
        raise RuntimeError(f"`banshi keys generate` did not print {', '.join(missing)}")
    return keys


class CommandFailed(RuntimeError):
    """A ``banshi`` command (or another tool a benchmark runs) ended with an error."""


def banshi_command(env: dict[str, str], *args: str, timeout: float = 3600) -> str:
    """``uv run banshi <args>`` in the repository; its output, or CommandFailed."""
    done = subprocess.run(  # noqa: S603 - fixed argv
        ["uv", "run", "--quiet", "banshi", *args],  # noqa: S607
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise CommandFailed(f"banshi {' '.join(args)} failed: {done.stderr.strip()[-800:]}")
    return done.stdout + done.stderr


def cli_create_user(env: dict[str, str], role: str, username: str, password: str) -> str:
    """``banshi users create`` with the password on standard input; the new account's id."""
    done = subprocess.run(  # noqa: S603 - fixed argv, our own arguments
        ["uv", "run", "--quiet", "banshi", "users", "create", "--role", role, "--username", username],  # noqa: S607
        cwd=REPO,
        env=env,
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"`banshi users create` failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return str(json.loads(done.stdout.strip().splitlines()[-1])["id"])


class SignInFailed(RuntimeError):
    pass


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> tuple[str, str]:
    """(access token, scope) or SignInFailed."""
    r = await client.post(f"{API}/auth/login", json={"username": username, "password": password})
    if r.status_code != 200:
        raise SignInFailed(f"sign-in as {username} answered {r.status_code}: {r.text[:300]}")
    body = r.json()
    return str(body["access_token"]), str(body["scope"])


async def change_password(client: httpx.AsyncClient, token: str, current: str, new: str) -> None:
    r = await client.post(
        f"{API}/auth/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(token),
    )
    if r.status_code != 204:
        raise SignInFailed(f"password change answered {r.status_code}: {r.text[:300]}")


async def first_sign_in(client: httpx.AsyncClient, username: str, password: str) -> str:
    """Sign in with an administrator-set password, change it, and return a full-scope token."""
    token, scope = await sign_in(client, username, password)
    if scope == "password_change":
        await change_password(client, token, password, strong_password())
        # The session carries on with its new scope; confirm it.
        r = await client.get(f"{API}/auth/me", headers=bearer(token))
        scope = r.json().get("scope", "?") if r.status_code == 200 else f"HTTP {r.status_code}"
    if scope != "full":
        raise SignInFailed(f"{username}: session scope is {scope!r}, not 'full' (a second factor required?)")
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------- own server


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    env: dict[str, str]
    """The server's environment (DATABASE_URL and keys): what the CLI needs too."""

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        # The server was started in its own session: its group id is its pid, and the
        # group holds only what it started (uv, the uvicorn supervisor, the workers).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            print("server did not stop within 20 s of SIGTERM; sending SIGKILL", file=sys.stderr)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_server(db_url: str, workers: int, log: Path, extra_env: dict[str, str] | None = None) -> Server:
    """``banshi serve`` on a free loopback port, with fresh keys from ``banshi keys generate``."""
    port = free_port()
    env = {**clean_environ(), **generate_keys(), "DATABASE_URL": db_url, **(extra_env or {})}
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            ["uv", "run", "banshi", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],  # noqa: S607
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(proc, f"http://127.0.0.1:{port}", log, env)


async def wait_healthy(server: Server, deadline: float) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=2, trust_env=False) as client:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise RuntimeError(f"the server exited with status {server.proc.returncode} before it was healthy")
            with contextlib.suppress(httpx.HTTPError):
                r = await client.get("/health")
                if r.status_code == 200:
                    return
            await asyncio.sleep(0.25)
    raise TimeoutError("the server did not answer GET /health in time")


# --------------------------------------------------------------------------- report


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


def rss_kib(pid: int) -> int:
    """Resident memory of a process now, in KiB (0 once it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def group_pids(pgid: int) -> list[int]:
    """The processes of a process group (a server and its workers)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ProcessLookupError):
                if os.getpgid(int(entry)) == pgid:
                    pids.append(int(entry))
    return pids


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_line(pg_version: str | None) -> str:
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    line = f"machine: nproc={nproc}, cpu={cpu_model()}, python {platform.python_version()}"
    return line + (f", PostgreSQL {pg_version}" if pg_version else "")
