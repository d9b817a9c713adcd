"""The ``banshi`` command."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import click

from service.config import get_settings


def database_url() -> str:
    """DATABASE_URL when set, else the embedded server (started on demand)."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    from service.embedded import start_embedded

    url = start_embedded(settings.data_dir)
    click.echo(f"Using the embedded PostgreSQL in {settings.data_dir / 'pgdata'}", err=True)
    return url


async def _load_reference(url: str) -> dict[str, int]:
    from service.db import make_engine, make_session_factory
    from service.services.reference import load_reference

    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            return await load_reference(session)
    finally:
        await engine.dispose()


@click.group()
def main() -> None:
    """Banshi: case tracking for the service programme for science and technology workers."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Migrate, load reference data and serve the API."""
    import uvicorn

    from service.migrate import upgrade

    url = database_url()
    upgrade(url)
    counts = asyncio.run(_load_reference(url))
    click.echo(f"Reference data: {counts} new rows", err=True)
    # Worker processes read their settings from the environment.
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    click.echo(f"API docs: http://{host}:{port}/docs  (Scalar: /docs/scalar)", err=True)
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
    )


@main.group()
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from service.migrate import upgrade

    upgrade(database_url(), revision)


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ("base" removes everything)."""
    from service.migrate import downgrade

    downgrade(database_url(), revision)


@main.command("load-reference")
def load_reference_command() -> None:
    """Insert the shipped districts, departments and work lists (idempotent)."""
    counts = asyncio.run(_load_reference(database_url()))
    click.echo(json.dumps(counts))


@main.command()
@click.option("--output", default="openapi/openapi.json", show_default=True, type=click.Path(path_type=Path))
def openapi(output: Path) -> None:
    """Write the OpenAPI document."""
    from service.openapi_doc import render

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(), encoding="utf-8")
    click.echo(f"wrote {output}")
