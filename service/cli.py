"""The ``banshi`` command."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from service.config import Settings, get_settings
from service.security.keys import ENV_NAMES, development_keys, generate_env

if TYPE_CHECKING:
    from schemas.accounts import AccountOut
    from service.demo import DemoWorker
    from service.models import ImportJob
    from service.security.pii import PiiCipher


def database_url() -> str:
    """DATABASE_URL when set, else the embedded server (started on demand)."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    from service.adapters.embedded import start_embedded

    url = start_embedded(settings.data_dir)
    click.echo(f"Using the embedded PostgreSQL in {settings.data_dir / 'pgdata'}", err=True)
    return url


def owner_database_url(service_url: str | None = None) -> str:
    """BANSHI_DATABASE_OWNER_URL when set: the role that owns the tables, for the commands
    that create or change them; else the service's own (``service_url`` when the caller
    has it already, else ``database_url``)."""
    return get_settings().database_owner_url or service_url or database_url()


def keyed_settings() -> Settings:
    """The settings with keys. The embedded development server makes its own keys once
    (kept in the data folder); a server given DATABASE_URL must be given keys too."""
    settings = get_settings()
    if settings.keys is not None:
        return settings
    if settings.database_url:
        raise click.ClickException(
            f"set {', '.join(ENV_NAMES)} (`banshi keys generate` prints a fresh set to keep in your secret store)"
        )
    os.environ.update(development_keys(settings.data_dir))
    get_settings.cache_clear()
    return get_settings()


async def _demo_admin(url: str, settings: Settings) -> str | None:
    """On the embedded database, whatever ran first (``demo-data`` makes an account of its
    own): an ``admin`` account with a random password, which must be changed at first
    sign-in, unless one exists. Returns the password, or None."""
    import secrets

    from service.config import security_kit
    from service.db import make_engine, make_session_factory
    from service.domain.access import Role
    from service.models.base import utcnow
    from service.repositories.accounts import account_by_username
    from service.services.accounts import bootstrap_account

    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            async with session.begin():
                if await account_by_username(session, "admin") is not None:
                    return None
            password = "Bs-" + secrets.token_urlsafe(12)
            await bootstrap_account(
                session, security_kit(settings), Role.ADMIN, "admin", password, utcnow(), must_change_password=True
            )
            return password
    finally:
        await engine.dispose()


async def _load_reference(url: str) -> dict[str, int]:
    from service.db import make_engine, make_session_factory
    from service.services.reference import load_reference

    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            return await load_reference(session)
    finally:
        await engine.dispose()


def fresh_metrics_dir(parent: Path, pid: int) -> Path:
    """An empty folder of this server's own, ``parent/<pid>``, for its worker processes'
    Prometheus counts. Folders of servers that have ended are removed; those of servers
    still running (a second ``banshi serve`` from the same checkout) are left alone, so
    two servers never reset each other's counts."""
    import shutil

    parent.mkdir(parents=True, exist_ok=True)
    for entry in parent.iterdir():
        if entry.is_dir() and entry.name.isdigit():
            if not _running(int(entry.name)):
                shutil.rmtree(entry, ignore_errors=True)
        elif entry.is_file() and entry.suffix == ".db":  # counts written straight into the folder before
            entry.unlink(missing_ok=True)
    folder = parent / str(pid)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class _Instant(click.ParamType[datetime, object]):
    """An instant in ISO 8601 with its offset (a time without one is ambiguous by hours)."""

    name = "instant"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 instant", param, ctx)
        if moment.tzinfo is None:
            self.fail("give the offset too, e.g. 2026-11-20T12:00:00+08:00", param, ctx)
        return moment


INSTANT = _Instant()


BOUNDED_HTTP = "service.adapters.http_server:BoundedHttpToolsProtocol"
"""uvicorn's HTTP protocol with a bound on the request head (the image's command names it too)."""


class _Commands(click.Group):
    """Every command answers what a newcomer or an operator meets (an unreachable
    database, one that was never migrated, a missing or malformed key) in one line and a
    non-zero exit; only a bug leaves a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as error:
            explained = _refusal(error)
            if explained is None:
                raise
            raise click.ClickException(explained) from None


_UNREACHABLE = ("08", "57P", "53300", "3D000", "28")
"""SQLSTATEs of a database that cannot be reached or refuses the connection: connection
exceptions, shutting down or starting, too many clients, no such database, a refused role."""


def _sqlstate(error: BaseException) -> str | None:
    from service.errors import sqlstate_of

    return sqlstate_of(error)


def _never_migrated(error: BaseException) -> bool:
    return _sqlstate(error) == "42P01"  # undefined_table


def _refusal(error: Exception) -> str | None:
    """One line for what the person at the keyboard can fix, or None for a bug."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import DBAPIError

    from service.security.keys import KeyProblem

    if isinstance(error, KeyProblem):
        return f"{error} (`banshi keys generate` prints a fresh set)"
    if isinstance(error, CommandError):
        return f"the migrations refused: {error}"
    if _never_migrated(error):
        return "the database has no Banshi tables yet (or lacks some): run `banshi db upgrade` first"
    state = _sqlstate(error) or ""
    if state == "42501":  # insufficient_privilege
        return (
            "the database refused the role this command connected as: changing the tables takes their owner "
            "(BANSHI_DATABASE_OWNER_URL), and the service's own role may need `banshi db grant` after an upgrade"
        )
    connecting = isinstance(error, DBAPIError) and error.statement is None
    if isinstance(error, OSError) or connecting or state.startswith(_UNREACHABLE):
        url = get_settings().database_url
        where = "the database in DATABASE_URL" if url else "the embedded database"
        cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
        return f"{where} cannot be reached ({type(cause).__name__}: {str(cause).splitlines()[0][:160]})"
    if isinstance(error, RuntimeError) and "embedded PostgreSQL" in str(error):
        return str(error)
    return None


@click.group(cls=_Commands)
def main() -> None:
    """Banshi: case tracking for the service programme for science and technology workers.

    Configuration comes from environment variables (README, "Configuration"): DATABASE_URL
    (unset: an embedded PostgreSQL in BANSHI_DATA_DIR, default .banshi), the four keys
    (the embedded server makes its own, in .banshi/keys.env) and the BANSHI_* settings."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every one).")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes; one per core is what the benchmarks measured best.",
)
def serve(host: str, port: int, workers: int) -> None:
    """Migrate, load reference data and serve the API and the web page.

    With no DATABASE_URL it starts an embedded PostgreSQL kept in BANSHI_DATA_DIR (default
    .banshi), makes the keys it needs once (.banshi/keys.env), creates the account admin
    if there is none (its password is printed once) and stops that PostgreSQL again when
    the service stops. With DATABASE_URL it uses that server and needs the four keys in the
    environment. Every other setting is an environment variable (README, "Configuration")."""
    import signal

    import uvicorn

    from service.adapters.embedded import stop_embedded
    from service.adapters.migrate import upgrade

    embedded = get_settings().database_url is None
    settings = keyed_settings()
    url = database_url()
    owner_url = owner_database_url(url)
    upgrade(owner_url)
    counts = asyncio.run(_load_reference(owner_url))
    click.echo(f"Reference data: {counts} new rows", err=True)
    if embedded and (password := asyncio.run(_demo_admin(url, settings))):
        click.echo(f"Created the demo account admin / {password}  (shown once; change it at first sign-in)", err=True)
    # Worker processes read their settings from the environment.
    os.environ["DATABASE_URL"] = url
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(fresh_metrics_dir(settings.data_dir / "prometheus", os.getpid()))
    get_settings.cache_clear()
    address = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104 (a comparison)
    click.echo(
        f"Web page: {address}/   Staff console: {address}/staff/   API docs: {address}/docs  (Scalar: /docs/scalar)",
        err=True,
    )
    _remember_address(settings.data_dir, address)
    # uvicorn ends by raising the signal that stopped it again; as an exception here, so
    # that the embedded PostgreSQL is stopped with the service rather than left running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        uvicorn.run(
            "service.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            log_level="info",
            http=BOUNDED_HTTP,
            access_log=False,  # the app writes its own access lines (service/adapters/logs.py)
        )
    finally:
        _remember_address(settings.data_dir, None)
        if embedded:
            stop_embedded(settings.data_dir)


def _remember_address(data_dir: Path, address: str | None) -> None:
    """Where the service started from this data folder listens, for ``demo-worker``."""
    where = data_dir / "serving.json"
    if address is None:
        where.unlink(missing_ok=True)
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    where.write_text(json.dumps({"address": address, "pid": os.getpid()}), encoding="utf-8")


def _serving_address(data_dir: Path) -> str | None:
    try:
        serving = json.loads((data_dir / "serving.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(serving["address"]) if _running(int(serving.get("pid", 0))) else None


@main.group()
def keys() -> None:
    """Secret keys."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a fresh set of keys as environment variables."""
    for name, value in generate_env().items():
        click.echo(f"{name}={value}")


@main.group()
def users() -> None:
    """Accounts, from the command line (for bootstrapping an installation)."""


@users.command("create")
@click.option("--username", required=True)
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "security", "auditor", "steward", "liaison", "worker", "official"]),
)
@click.option("--staff-id", default=None, type=click.UUID, help="Steward and liaison accounts: their staff record.")
@click.option("--worker-id", default=None, type=click.UUID, help="Worker accounts: their worker record.")
@click.option("--district", default=None, help="Officials: limit their figures to one district.")
def users_create(
    username: str, role: str, staff_id: uuid.UUID | None, worker_id: uuid.UUID | None, district: str | None
) -> None:
    """Create an account. The password is read from standard input (one line)."""
    password = _read_password()
    settings = keyed_settings()
    url = database_url()
    require_schema(url)
    created = asyncio.run(_create_user(url, settings, username, role, password, staff_id, worker_id, district))
    click.echo(json.dumps({"id": str(created.id), "username": created.username, "role": created.role}))


def _read_password() -> str:
    if sys.stdin.isatty():
        entered: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return entered
    return sys.stdin.readline().rstrip("\r\n")


async def _create_user(
    url: str,
    settings: Settings,
    username: str,
    role: str,
    password: str,
    staff_id: uuid.UUID | None,
    worker_id: uuid.UUID | None,
    district: str | None,
) -> AccountOut:
    from service.config import security_kit
    from service.db import make_engine, make_session_factory
    from service.domain.access import Role
    from service.errors import DomainError
    from service.models.base import utcnow
    from service.services.accounts import bootstrap_account

    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            return await bootstrap_account(
                session,
                security_kit(settings),
                Role(role),
                username,
                password,
                utcnow(),
                staff_id=staff_id,
                worker_id=worker_id,
                district_code=district,
            )
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        await engine.dispose()


@main.group()
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from service.adapters.migrate import upgrade

    keyed_settings()  # a revision that seals or opens personal data needs the keys
    url = owner_database_url()
    upgrade(url, revision)
    click.echo(f"The database is at revision {asyncio.run(_revision(url))}.")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ("base" removes everything)."""
    from service.adapters.migrate import downgrade

    keyed_settings()
    url = owner_database_url()
    downgrade(url, revision)
    click.echo(f"The database is at revision {asyncio.run(_revision(url)) or 'base (empty)'}.")


@db.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def db_reset(yes: bool) -> None:
    """Delete everything and start again from an empty, migrated database with the
    reference data (the keys stay). Asks first; a script passes --yes."""
    from service.adapters.migrate import reset

    keyed_settings()
    url = owner_database_url()
    where = (get_settings().database_url and "the database in DATABASE_URL") or "the embedded database"
    if not yes:
        click.confirm(f"This deletes every case, worker, account and audit record in {where}. Go on?", abort=True)
    reset(url)
    counts = asyncio.run(_load_reference(url))
    click.echo(f"The database is empty again, at revision {asyncio.run(_revision(url))}; reference data: {counts}.")
    if get_settings().database_url is None:
        click.echo("The next `banshi serve` creates the account admin and prints its password.")


@db.command("grant")
@click.argument("role", required=False)
def db_grant(role: str | None) -> None:
    """Give ROLE (default: the user in DATABASE_URL, the role the service connects as)
    exactly what the service needs:
    rows of the ordinary tables, the audit trail to read and append to only, sequences and
    functions, and nothing it could change a table, a trigger or the audit trail with.
    Runs as the owner (BANSHI_DATABASE_OWNER_URL). Creates ROLE when it is missing, with
    the password in BANSHI_DB_SERVICE_PASSWORD (which, when set, it is also given).
    Idempotent; run it after every `banshi db upgrade`, as the compose migrate job does."""
    from sqlalchemy.engine import make_url

    from service.adapters.privileges import GrantRefused, grant

    url = owner_database_url()
    require_schema(url)
    service_url = get_settings().database_url
    role = role or (make_url(service_url).username if service_url else None)
    if not role:
        raise click.ClickException("name the role, or set DATABASE_URL with the user the service connects as")
    password = os.environ.get("BANSHI_DB_SERVICE_PASSWORD") or None
    try:
        granted = asyncio.run(grant(url, role, password))
    except GrantRefused as refused:
        raise click.ClickException(str(refused)) from None
    made = "created and granted" if granted.created else "granted"
    click.echo(
        f"{granted.role} {made}: rows of {granted.tables} tables, "
        f"{', '.join(granted.append_only) or 'no table'} append-only, no table it may alter."
    )


async def _revision(url: str) -> str | None:
    from service.db import make_engine
    from service.services.operations import schema_revision

    engine = make_engine(url, pool_size=1)
    try:
        return await schema_revision(engine)
    except Exception as error:
        if _never_migrated(error):
            return None
        raise
    finally:
        await engine.dispose()


def require_schema(url: str) -> None:
    """Refuse to work on a database that is not at this release's migration head."""
    from service.adapters.migrate import head_revision

    revision, expected = asyncio.run(_revision(url)), head_revision()
    if revision is None:
        raise click.ClickException("the database has no Banshi tables yet: run `banshi db upgrade` first")
    if revision != expected:
        raise click.ClickException(
            f"the database is at revision {revision}, this release needs {expected}: run `banshi db upgrade`"
        )


@main.command("load-reference")
def load_reference_command() -> None:
    """Insert the shipped districts, departments and work lists (idempotent)."""
    url = owner_database_url()
    require_schema(url)
    counts = asyncio.run(_load_reference(url))
    click.echo(json.dumps(counts))


@main.group("import")
def import_group() -> None:
    """Bring ledgers (台账) in from XLSX, XLS or CSV: `banshi import workers FILE`, `banshi import cases FILE`."""


def _import_command(kind: str, what: str) -> None:
    @import_group.command(kind, help=f"Check and import {what} from FILE (all rows or none, unless --partial).")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
    @click.option("--as", "username", default="admin", show_default=True, help="The account to import as.")
    @click.option("--dry-run", is_flag=True, help="Check every row and write the report; change nothing.")
    @click.option("--partial", is_flag=True, help="Import the good rows and leave the bad ones.")
    @click.option(
        "--report",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        default=None,
        help="Where to write the report workbook (default: FILE's name with -检查结果.xlsx, in the same folder).",
    )
    def command(file: Path, username: str, dry_run: bool, partial: bool, report: Path | None) -> None:
        settings = keyed_settings()
        url = database_url()
        require_schema(url)
        target = report or file.with_name(f"{file.stem}-检查结果.xlsx")
        job = asyncio.run(_import(url, settings, kind, file, username, dry_run, partial, target))
        summary = {
            "status": job.status,
            "rows": job.rows_read,
            "valid": job.rows_valid,
            "invalid": job.rows_invalid,
            "existing": job.rows_existing,
            "imported": job.rows_imported,
        }
        click.echo(json.dumps(summary, ensure_ascii=False))
        if job.failure:
            click.echo(job.failure, err=True)
        if job.report_key:
            click.echo(f"Report: {target}", err=True)
        if job.status not in ("checked", "imported"):
            sys.exit(1)


for _kind, _what in (("workers", "science workers"), ("cases", "open cases")):
    _import_command(_kind, _what)


async def _import(
    url: str, settings: Settings, kind: str, file: Path, username: str, dry_run: bool, partial: bool, target: Path
) -> ImportJob:
    from service.adapters.storage import store_from_environment
    from service.config import security_kit
    from service.db import make_engine, make_session_factory
    from service.domain.ledger import Kind
    from service.errors import DomainError
    from service.models.base import utcnow
    from service.services.imports import Upload, run_from_command_line

    engine = make_engine(url, pool_size=2)
    store = store_from_environment(dict(settings.attachments_env), settings.data_dir)
    upload = Upload(Kind(kind), file, file.name, dry_run, partial)
    with click.progressbar(length=1, label=f"{file.name}", file=sys.stderr, show_pos=True) as bar:

        def progress(job: ImportJob) -> None:
            bar.length = max(job.rows_total or 1, job.rows_read, 1)
            bar.update(job.rows_read - bar.pos)

        try:
            job = await run_from_command_line(
                make_session_factory(engine), security_kit(settings), store, username, upload, utcnow, progress
            )
        except DomainError as exc:
            raise click.ClickException(exc.detail) from exc
        finally:
            await engine.dispose()
    if job.report_key:
        await asyncio.to_thread(target.write_bytes, await store.get(job.report_key))
    return job


@main.command("demo-data")
@click.option("--workers", default=2_000, show_default=True, type=click.IntRange(min=1), help="Science workers.")
@click.option("--cases", default=20_000, show_default=True, type=click.IntRange(min=0), help="Cases.")
@click.option("--seed", default=2026, show_default=True, type=int, help="Same seed and options, same data.")
@click.option(
    "--now",
    default="2026-11-20T12:00:00+08:00",
    show_default=True,
    type=INSTANT,
    help="The instant the data stops at (ISO 8601 with an offset); cases arrive from 2025-01-01 up to it.",
)
@click.option("--batch-size", default=50_000, show_default=True, type=click.IntRange(min=1), help="Rows per COPY.")
def demo_data(workers: int, cases: int, seed: int, now: datetime, batch_size: int) -> None:
    """Fill a fresh database with generated staff, workers and cases.

    The database must be migrated (`banshi db upgrade`) and hold no cases or workers
    yet: the command refuses otherwise, and loads the reference data itself. Every
    case follows the workflow with the working-day calendar of the database, so due
    times, clocks and tallies are what the service would have stored. Ratings are
    recorded under an account named `demo-data` (an administrator with an unknown
    password). Loading turns off triggers for its own session, which takes a
    superuser (or a role allowed to set session_replication_role).
    """
    from service.config import security_kit
    from service.demo import DemoDataRefused, DemoOptions, generate

    settings = keyed_settings()
    url = owner_database_url()
    require_schema(url)
    asyncio.run(_load_reference(url))
    options = DemoOptions(workers=workers, cases=cases, seed=seed, now=now, batch_size=batch_size)
    try:
        kit = security_kit(settings)
        summary = asyncio.run(generate(url, kit, options, echo=lambda line: click.echo(line, err=True)))
    except DemoDataRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(summary))


@main.command("worker")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 64), help="Sends at once.")
@click.option(
    "--stalled-after",
    default=30.0,
    show_default=True,
    type=click.FloatRange(1, 3600),
    help="Seconds without a heartbeat after which a dead worker's jobs are taken up again.",
)
def worker_command(concurrency: int, stalled_after: float) -> None:
    """Send what notices put on the queue (e-mail, text messages, webhooks) and run the
    reminder passes, until SIGTERM or Ctrl-C. Run as many as wanted, beside
    `banshi serve` with BANSHI_DELIVERY_WORKER=separate; each delivery is sent by one."""
    import signal

    from service.worker import run

    url = database_url()
    require_schema(url)
    settings = keyed_settings()
    settings = dataclasses.replace(settings, database_url=url)

    async def until_stopped() -> None:
        loop = asyncio.get_running_loop()
        working = asyncio.create_task(run(settings, concurrency=concurrency, stalled_after_seconds=stalled_after))
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, working.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await working

    click.echo(f"Delivering from the queue ({concurrency} at once); Ctrl-C stops", err=True)
    asyncio.run(until_stopped())


@main.command("reminders")
@click.option(
    "--now", default=None, type=INSTANT, help="Run as of this instant (ISO 8601 with an offset); default: now."
)
def reminders_command(now: datetime | None) -> None:
    """Run one reminder pass (due-soon and overdue, to each case's steward) and print what
    it told. The service runs one every BANSHI_REMINDER_SECONDS by itself; this is for
    an operator, a cron job or a service run with the passes off."""
    from service.config import security_kit
    from service.models.base import utcnow

    url = database_url()
    require_schema(url)
    pii = security_kit(keyed_settings()).pii
    click.echo(json.dumps(asyncio.run(_reminder_pass(url, now or utcnow(), pii))))


async def _reminder_pass(url: str, now: datetime, pii: PiiCipher) -> dict[str, object]:

    from service.db import make_engine, make_session_factory
    from service.services.reminders import run_pass

    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            return dataclasses.asdict(await run_pass(session, now, pii))
    finally:
        await engine.dispose()


@main.command()
@click.option("--output", default="openapi/openapi.json", show_default=True, type=click.Path(path_type=Path))
def openapi(output: Path) -> None:
    """Write the OpenAPI document."""
    from service.app import openapi_document

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(openapi_document(), encoding="utf-8")
    click.echo(f"wrote {output}")


@main.command("demo-worker")
def demo_worker() -> None:
    """Make a science worker with an account and a case awaiting their materials, and
    print how to look it up and sign in (for trying the worker's side)."""
    settings = keyed_settings()
    url = database_url()
    require_schema(url)
    made = asyncio.run(_demo_worker(url, settings))
    click.echo(f"Case number:  {made.case_no}")
    click.echo(f"Query code:   {made.query_code}   (shown once)")
    click.echo(
        f"Receipt:      /api/v1/my/cases/{made.case_id}/receipt?code={made.query_code}  (signed in as the worker)"
    )
    click.echo(f"Worker login: {made.username} / {made.password}")
    address = _serving_address(settings.data_dir)
    if address is None:
        click.echo("Start the service (`uv run banshi serve`), then open its web page: look the case up, then sign in.")
    else:
        click.echo(f"Open {address}/ (a phone-sized window will do): look the case up, then sign in.")


async def _demo_worker(url: str, settings: Settings) -> DemoWorker:
    from service.config import security_kit
    from service.db import make_engine, make_session_factory
    from service.demo import make_demo_worker
    from service.errors import DomainError

    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            return await make_demo_worker(session, security_kit(settings), settings.reopen_window_days)
    except (LookupError, DomainError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        await engine.dispose()
