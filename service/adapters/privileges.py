"""The service's own database role: what it may do to the tables the owner made.

Migrations run as the role that owns the tables (``BANSHI_DATABASE_OWNER_URL``); the API
and the workers connect as another role (``DATABASE_URL``) that ``banshi db grant ROLE``
gives exactly what the service does at run time, and no more:

* rows: SELECT, INSERT, UPDATE and DELETE on the ordinary tables;
* the audit trail (``APPEND_ONLY``): SELECT and INSERT only. Its triggers refuse UPDATE,
  DELETE and TRUNCATE already, but an owner can drop or disable a trigger; a role that
  owns nothing cannot, and is refused UPDATE and DELETE before any trigger runs;
* the schema version (``READ_ONLY``): SELECT, for the health and start-up checks;
* sequences: USAGE, SELECT and UPDATE (``nextval``, ``setval``); functions: EXECUTE;
* the database: CONNECT, and TEMPORARY for the imports' ``ON COMMIT DROP`` tables;
* the schema: USAGE and never CREATE (taken from PUBLIC too, as PostgreSQL 15 does by
  default and older servers did not).

Nothing the service runs needs more: its advisory locks are transaction-scoped, its
temporary tables die with their transaction, it never truncates, vacuums or sets a
parameter only a superuser may. It owns nothing, so ALTER, DROP, CREATE TRIGGER and
``ALTER TABLE ... DISABLE TRIGGER`` are refused to it.

There are no default privileges: a table a later migration adds is out of the service's
reach until ``grant`` runs again, which the migrate job does after every upgrade (a new
append-only table is thus never writable by accident, even for a moment). The grant starts
from nothing on every table, so running it again also takes back what is no longer due,
and it runs in one transaction, so the service never sees half of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url

APPEND_ONLY = ("audit_event",)
"""Tables the service may only read and add to."""

READ_ONLY = ("alembic_version",)
"""Tables the service may only read."""


class GrantRefused(Exception):
    """The role cannot be made a safe service role (a one-line reason)."""


@dataclass(frozen=True, slots=True)
class Granted:
    role: str
    created: bool
    tables: int
    append_only: tuple[str, ...]


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def grant(owner_url: str, role: str, password: str | None = None) -> Granted:
    """Give ``role`` what the service needs in the database of ``owner_url``, connected as
    the owner. A missing role is created (LOGIN, with ``password``, which it needs then);
    an existing one gets ``password`` when one is given (creating a role or setting its
    password needs CREATEROLE). Refuses a role that is the owner itself, a superuser, one
    that bypasses row security, or one that owns a table here."""
    connection = await asyncpg.connect(_dsn(owner_url))
    try:
        async with connection.transaction():
            return await _grant(connection, role, password)
    finally:
        await connection.close()


async def _grant(connection: asyncpg.Connection, role: str, password: str | None) -> Granted:
    schema = await connection.fetchval("SELECT current_schema()")
    if role == await connection.fetchval("SELECT current_user"):
        raise GrantRefused(f"{role} is the role migrations run as; the service needs a role of its own")
    found = await connection.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1", role)
    created = found is None
    if found is None:
        if not password:
            raise GrantRefused(f"there is no role {role}; set BANSHI_DB_SERVICE_PASSWORD to have it created")
        await _execute_formatted(connection, "CREATE ROLE %I LOGIN PASSWORD %L", role, password)
    else:
        if found["rolsuper"] or found["rolbypassrls"]:
            raise GrantRefused(f"{role} is a superuser or bypasses row security: no grant can hold it back")
        if password:
            try:
                async with connection.transaction():  # a savepoint: the refusal is explained below
                    await _execute_formatted(connection, "ALTER ROLE %I LOGIN PASSWORD %L", role, password)
            except asyncpg.InsufficientPrivilegeError:
                raise GrantRefused(
                    f"the owner may not set the password of {role} (that takes CREATEROLE): "
                    "unset BANSHI_DB_SERVICE_PASSWORD to leave it as it is"
                ) from None
    owned = await connection.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
        "WHERE c.relnamespace = $1::regnamespace AND r.rolname = $2",
        schema,
        role,
    )
    if owned:
        names = ", ".join(sorted(r["relname"] for r in owned))
        raise GrantRefused(f"{role} owns {names}; the owner of the tables cannot be held back by grants")
    tables = [
        r["tablename"] for r in await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
    ]
    present = set(tables)
    who = _ident(role)
    where = _ident(schema)
    database = _ident(await connection.fetchval("SELECT current_database()"))
    statements = [
        f"REVOKE CREATE ON SCHEMA {where} FROM PUBLIC",
        f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {who}",
        f"REVOKE CREATE ON SCHEMA {where} FROM {who}",
        f"GRANT USAGE ON SCHEMA {where} TO {who}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {where} TO {who}",
        *(f"REVOKE UPDATE, DELETE ON {where}.{_ident(t)} FROM {who}" for t in APPEND_ONLY if t in present),
        *(f"REVOKE INSERT, UPDATE, DELETE ON {where}.{_ident(t)} FROM {who}" for t in READ_ONLY if t in present),
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {where} FROM {who}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {where} TO {who}",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {where} TO {who}",
    ]
    for statement in statements:
        await connection.execute(statement)
    return Granted(role, created, len(tables), tuple(t for t in APPEND_ONLY if t in present))


async def _execute_formatted(connection: asyncpg.Connection, template: str, *values: str) -> None:
    """Run a statement that takes no parameters (CREATE ROLE, ALTER ROLE) with its names
    and literals quoted by PostgreSQL's own ``format``."""
    places = ", ".join(f"${n}::text" for n in range(1, len(values) + 2))
    statement = await connection.fetchval(f"SELECT format({places})", template, *values)
    await connection.execute(statement)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
