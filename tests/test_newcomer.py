"""A newcomer's first hour, in the order it happens, on a scratch data folder with the
embedded PostgreSQL: every command answers in plain lines, never a traceback; the demo
path ends in a working sign-in whatever ran first; the embedded server stops with the
service."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import NOT_INHERITED, ROOT, free_port

BANSHI = [str(Path(sys.executable).parent / "banshi")]
"""The command the README runs (through `uv run`), as installed in this environment."""


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a person who just cloned the project: no DATABASE_URL, no keys,
    no XDG_RUNTIME_DIR (a server or a container), a data folder of their own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith((*NOT_INHERITED, "BANSHI_", "XDG_RUNTIME_DIR", "PROMETHEUS_MULTIPROC_DIR"))
    }
    env["BANSHI_DATA_DIR"] = str(tmp_path / "data")
    yield env
    pgdata = tmp_path / "data" / "pgdata"
    # A failed test must not leave a server behind: SIGQUIT is PostgreSQL's immediate shutdown.
    with contextlib.suppress(OSError, ValueError, IndexError):
        os.kill(int((pgdata / "postmaster.pid").read_text().splitlines()[0]), signal.SIGQUIT)


def banshi(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BANSHI, *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=300, check=False
    )


def assert_plain(done: subprocess.CompletedProcess[str]) -> str:
    """What a command printed, which must hold no traceback and no warning."""
    said = done.stdout + done.stderr
    assert "Traceback" not in said, said
    assert "Warning" not in said, said
    return said


def refused_in_one_line(done: subprocess.CompletedProcess[str]) -> str:
    said = assert_plain(done)
    assert done.returncode == 1, said
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, said
    return errors[0]


def postmaster_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().splitlines()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Serving:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [*BANSHI, "serve", "--port", str(self.port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            self._wait_until_up()
        except BaseException:
            self.process.kill()
            raise

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 120
        while True:
            assert self.process.poll() is None, self.said()
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, self.said()
            time.sleep(0.3)

    def said(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def admin_password(said: str) -> str:
    found = re.search(r"Created the demo account admin / (\S+)", said)
    assert found, said
    return found.group(1)


def signs_in(base: str, username: str, password: str) -> bool:
    answered = httpx.post(f"{base}/api/v1/auth/login", json={"username": username, "password": password}, timeout=30)
    return answered.status_code == 200 and bool(answered.json().get("access_token"))


def test_the_first_hour_ends_in_a_working_sign_in(scratch: dict[str, str], tmp_path: Path) -> None:
    pgdata = tmp_path / "data" / "pgdata"

    # demo-data before anything was migrated: one line that says what to do.
    line = refused_in_one_line(banshi(scratch, "demo-data", "--workers", "20", "--cases", "50"))
    assert "banshi db upgrade" in line

    upgraded = banshi(scratch, "db", "upgrade")
    assert upgraded.returncode == 0, assert_plain(upgraded)
    assert re.search(r"The database is at revision \d{4}\.", assert_plain(upgraded))

    made = banshi(scratch, "demo-data", "--workers", "20", "--cases", "50")
    assert made.returncode == 0, assert_plain(made)
    assert '"case": 50,' in assert_plain(made)

    # serve after demo-data (which made an account of its own) still leaves a way in.
    serving = Serving(scratch, tmp_path / "serve-1.log")
    try:
        said = serving.said()
        assert f"Web page: {serving.base}/" in said
        assert signs_in(serving.base, "admin", admin_password(said))

        worker = banshi(scratch, "demo-worker")
        assert worker.returncode == 0, assert_plain(worker)
        assert f"Open {serving.base}/" in assert_plain(worker)
        login = re.search(r"Worker login: (\S+) / (\S+)", worker.stdout)
        assert login, worker.stdout
        assert signs_in(serving.base, login.group(1), login.group(2))
    finally:
        serving.stop()
    assert "Traceback" not in serving.said(), serving.said()
    assert not postmaster_running(pgdata), "the embedded PostgreSQL outlived the service"

    # With nothing serving, demo-worker says to start the service.
    alone = banshi(scratch, "demo-worker")
    assert alone.returncode == 0, assert_plain(alone)
    assert "Start the service" in assert_plain(alone)

    downgraded = banshi(scratch, "db", "downgrade", "base")
    assert downgraded.returncode == 0, assert_plain(downgraded)
    assert_plain(downgraded)
    assert downgraded.stdout.strip() == "The database is at revision base (empty)."

    line = refused_in_one_line(banshi(scratch, "demo-worker"))
    assert "banshi db upgrade" in line

    upgraded = banshi(scratch, "db", "upgrade")
    assert upgraded.returncode == 0, assert_plain(upgraded)

    # A fresh serve on the emptied database makes the admin again.
    serving = Serving(scratch, tmp_path / "serve-2.log")
    try:
        assert signs_in(serving.base, "admin", admin_password(serving.said()))
    finally:
        serving.stop()
    assert not postmaster_running(pgdata)

    reset = banshi(scratch, "db", "reset", "--yes")
    assert reset.returncode == 0, assert_plain(reset)
    assert "The database is empty again" in assert_plain(reset)
    declined = banshi(scratch, "db", "reset", stdin="n\n")
    assert declined.returncode == 1, assert_plain(declined)


def test_an_unreachable_database_and_a_bad_key_are_one_line_each(scratch: dict[str, str]) -> None:
    with socketless_port() as port:
        unreachable = dict(scratch, DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/postgres")
        unreachable.update(_keys(scratch))
        for command in (["db", "upgrade"], ["demo-data"], ["demo-worker"], ["load-reference"]):
            line = refused_in_one_line(banshi(unreachable, *command))
            assert "cannot be reached" in line, line

    no_keys = dict(scratch, DATABASE_URL="postgresql://postgres@127.0.0.1:1/postgres")
    line = refused_in_one_line(banshi(no_keys, "db", "upgrade"))
    assert "BANSHI_PII_KEYS" in line

    bad_key = dict(scratch, **_keys(scratch), DATABASE_URL="postgresql://postgres@127.0.0.1:1/postgres")
    bad_key["BANSHI_TOKEN_KEY"] = "not-base64-at-all!"
    line = refused_in_one_line(banshi(bad_key, "db", "upgrade"))
    assert "BANSHI_TOKEN_KEY" in line


def _keys(env: dict[str, str]) -> dict[str, str]:
    printed = banshi(env, "keys", "generate")
    assert printed.returncode == 0, printed.stderr
    return dict(line.split("=", 1) for line in printed.stdout.splitlines())


class socketless_port:
    """A port on which nothing listens (held by a bound socket that never listens)."""

    def __enter__(self) -> int:
        import socket

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        port: int = self._socket.getsockname()[1]
        return port

    def __exit__(self, *_: object) -> None:
        self._socket.close()
