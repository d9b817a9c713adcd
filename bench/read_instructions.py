"""Instructions per case read, counted rather than timed: for judging a change to the read
path on a machine whose speed drifts (on shared cores the same code's share of the bare
handler in ``bench/load.py`` spreads over 15 points from one pair to the next, more than
most changes are worth).

    uv run --group dev python bench/read_instructions.py                 # the service's case read
    uv run --group dev python bench/read_instructions.py --bare          # bench/bare_app.py's handler
    uv run --group dev python bench/read_instructions.py --reads 2000 --concurrency 16

It needs valgrind (Debian: ``apt-get install valgrind``) and the database ``bench/load.py``
builds (``--db-name``, default ``banshi_load``, with the keys it keeps), PostgreSQL at
127.0.0.1:5432. The script runs itself again under ``valgrind --tool=callgrind
--instr-atstart=no``: the app is built and called in-process as ASGI (no HTTP server, no
uvicorn), one steward of the database signs in (a new administrator made with ``banshi
users create`` gives it a temporary password), 300 reads warm it up, then counting is
turned on (``callgrind_control -i on``) for ``--reads`` reads of that steward's cases,
``--concurrency`` at a time, and off again. It prints the instructions per read.

The reminder loop and the in-process delivery worker are off (their work would be counted
with the reads). The same run repeated agreed within 1 to 3%; a run with a different
``--reads`` reads other cases (other timelines) and differs by more. Instructions are not
seconds: what costs memory traffic more than instructions (a greenlet's stack switch) does
not show, so confirm a change with ``bench/load.py``. Only PostgreSQL's client side is
counted; the server's CPU per statement is another measurement (``/proc/<pid>/stat`` of
the backend, as ``bench/reminders.py`` does).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from harness import REPO, bearer, clean_environ, cli_create_user, first_sign_in, strong_password
from load import keys_file, read_keys

INNER = "_BANSHI_READ_INSTRUCTIONS_INNER"
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432"

Call = Callable[[uuid.UUID], Awaitable[int]]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reads", type=int, default=1000, help="reads counted (default 1000)")
    p.add_argument("--concurrency", type=int, default=16, help="reads in flight at once (default 16)")
    p.add_argument("--bare", action="store_true", help="count bench/bare_app.py's handler instead")
    p.add_argument("--db-name", default="banshi_load")
    args = p.parse_args(argv)
    if os.environ.get(INNER):
        asyncio.run(counted(args, None if args.bare else service_app(args)))
        return 0
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    if read_keys(keys_file(args.db_name)) is None:
        print(f"no kept keys for {args.db_name}: run bench/load.py first to build it", file=sys.stderr)
        return 2
    out = Path(tempfile.gettempdir()) / f"banshi-callgrind-{os.getpid()}.out"
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    command += [sys.executable, __file__, *(argv if argv is not None else sys.argv[1:])]
    run = subprocess.run(  # noqa: S603 - fixed argv
        command, env={**os.environ, INNER: "1"}, capture_output=True, text=True, cwd=REPO, check=False
    )
    out.unlink(missing_ok=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if run.returncode != 0 or found is None:
        print(run.stdout[-2000:], run.stderr[-3000:], sep="\n", file=sys.stderr)
        return 1
    total = int(found.group(1).replace(",", ""))
    what = "bare handler" if args.bare else "case read"
    print(f"{what}: {total / args.reads:,.0f} instructions per read ({args.reads} reads, {args.concurrency} at a time)")
    return 0


def service_app(args: argparse.Namespace) -> Any:
    """The service's app as ``banshi serve`` builds it, on the benchmark's database and keys."""
    os.environ.update(service_env(args))
    from service.adapters import logs
    from service.app import create_app
    from service.config import get_settings

    get_settings.cache_clear()
    app = create_app(get_settings())
    # The access line is written, as when served, to a stream nobody reads.
    logs.configure("json", stream=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    return app


def service_env(args: argparse.Namespace) -> dict[str, str]:
    return {
        **(read_keys(keys_file(args.db_name)) or {}),
        "DATABASE_URL": f"{ADMIN_DSN}/{args.db_name}",
        "BANSHI_LOGIN_LIMIT_PER_ADDRESS": "100000",
        "BANSHI_REMINDER_SECONDS": "0",
        "BANSHI_DELIVERY_WORKER": "separate",
        # Only the accounts this script signs in are hashed with these.
        "BANSHI_ARGON2_TIME_COST": "1",
        "BANSHI_ARGON2_MEMORY_KIB": "8192",
    }


async def counted(args: argparse.Namespace, app: Any) -> None:
    """Under valgrind: warm up, then count ``args.reads`` reads."""
    dsn = f"{ADMIN_DSN}/{args.db_name}"
    connection = await asyncpg.connect(dsn)
    try:
        steward = await connection.fetchrow(
            "SELECT id, username, staff_id FROM account WHERE role = 'steward' AND active AND staff_id IS NOT NULL "
            "ORDER BY username LIMIT 1"
        )
        if steward is None:
            raise SystemExit("no steward account: run bench/load.py first (it makes them)")
        sql = 'SELECT id FROM "case" WHERE steward_id = $1 ORDER BY id LIMIT 500'
        ids = [row["id"] for row in await connection.fetch(sql, steward["staff_id"])]
    finally:
        await connection.close()
    if app is None:
        await bare_reads(dsn, ids, args)
    else:
        await case_reads(app, steward, ids, args)


async def case_reads(app: Any, steward: Any, ids: list[uuid.UUID], args: argparse.Namespace) -> None:
    admin, password = f"instr-admin-{uuid.uuid4().hex[:6]}", strong_password()
    cli_create_user({**clean_environ(), **service_env(args)}, "admin", admin, password)
    transport = httpx.ASGITransport(app, client=("127.0.0.1", 50000))
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        admin_token = await first_sign_in(client, admin, password)
        temporary = strong_password()
        reset = await client.post(
            f"/api/v1/accounts/{steward['id']}/password-reset",
            json={"password": temporary},
            headers=bearer(admin_token),
        )
        if reset.status_code != 200:
            raise SystemExit(f"password reset answered {reset.status_code}: {reset.text[:300]}")
        token = await first_sign_in(client, steward["username"], temporary)
        headers = [(b"host", b"127.0.0.1:8000"), (b"authorization", f"Bearer {token}".encode())]
        await count(asgi_get(app, "/api/v1/cases/", headers), ids, args)


async def bare_reads(dsn: str, ids: list[uuid.UUID], args: argparse.Namespace) -> None:
    os.environ["BARE_DATABASE_URL"] = dsn
    from bare_app import create_app

    app = create_app()
    async with app.lifespan():
        await count(asgi_get(app, "/cases/", [(b"host", b"127.0.0.1:8000")]), ids, args)


def asgi_get(app: Any, prefix: str, headers: list[tuple[bytes, bytes]]) -> Call:
    """``GET <prefix><id>`` straight into the ASGI app; the status it answered."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def get(case_id: uuid.UUID) -> int:
        status = 0

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])

        path = f"{prefix}{case_id}"
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
            "method": "GET",
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
            "state": {},
        }
        await app(scope, receive, send)
        return status

    return get


async def count(get: Call, ids: list[uuid.UUID], args: argparse.Namespace) -> None:
    for i in range(300):
        status = await get(ids[i % len(ids)])
        if status != 200:
            raise SystemExit(f"a warm-up read answered {status}")

    async def lane(first: int) -> None:
        for i in range(first, args.reads, args.concurrency):
            await get(ids[i % len(ids)])

    await instrument("on")
    await asyncio.gather(*(lane(k) for k in range(args.concurrency)))
    await instrument("off")


async def instrument(state: str) -> None:
    """Turn valgrind's counting of this process on or off."""
    control = await asyncio.create_subprocess_exec(
        "callgrind_control", "-i", state, str(os.getpid()), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if await control.wait() != 0:
        raise SystemExit(f"callgrind_control -i {state} failed")


if __name__ == "__main__":
    import uvloop

    uvloop.install()
    raise SystemExit(main())
