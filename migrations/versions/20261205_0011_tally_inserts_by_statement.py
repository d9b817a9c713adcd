"""the tallies take a statement's new cases together

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 01:10:00

Migration 0003 counts each new case into the tallies with a row trigger: six upserts a
case. A ledger import adds its cases in one statement, and a hundred thousand of them took
minutes that way, holding the tally rows all along. The insert trigger now runs once per
statement over the statement's new rows (a transition table), with the same six
statements ``tally_rebuild()`` runs over every case, grouped: one upsert per tally row
touched. A single case costs what it did; deletes and updates keep their row trigger.

The statements are read from ``tally_rebuild()`` as the database has it, so the two
cannot drift apart; the migration refuses to run if that function does not read as
expected.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SOURCE = 'FROM "case" c'


def _inserted_function() -> str:
    definition: str = (
        op.get_bind().execute(sa.text("SELECT pg_get_functiondef('tally_rebuild()'::regprocedure)")).scalar_one()
    )
    body = definition[definition.index("BEGIN") : definition.rindex("END")]
    body, truncated = re.subn(r"TRUNCATE [^;]*;", "", body, count=1)
    if truncated != 1 or body.count(_SOURCE) != 6:
        raise RuntimeError("tally_rebuild() does not read as migration 0003 wrote it")
    body = body.replace(_SOURCE, "FROM inserted c")
    # Tally rows are locked in the order of their keys, so that two inserting statements
    # (an import and a case being logged) take them in the same order.
    body, ordered = re.subn(r"(GROUP BY ([0-9, ]+)) ON CONFLICT", r"\1 ORDER BY \2 ON CONFLICT", body)
    if ordered != 6:
        raise RuntimeError("tally_rebuild() does not group as migration 0003 wrote it")
    return (
        "CREATE FUNCTION tally_cases_inserted() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"{body}    RETURN NULL;\nEND\n$$"
    )


def upgrade() -> None:
    op.execute(_inserted_function())
    op.execute('DROP TRIGGER case_tally_insert_delete ON "case"')
    op.execute(
        'CREATE TRIGGER case_tally_delete AFTER DELETE ON "case" FOR EACH ROW EXECUTE FUNCTION tally_case_change()'
    )
    op.execute(
        'CREATE TRIGGER case_tally_insert AFTER INSERT ON "case" REFERENCING NEW TABLE AS inserted '
        "FOR EACH STATEMENT EXECUTE FUNCTION tally_cases_inserted()"
    )


def downgrade() -> None:
    op.execute('DROP TRIGGER case_tally_insert ON "case"')
    op.execute('DROP TRIGGER case_tally_delete ON "case"')
    op.execute("DROP FUNCTION tally_cases_inserted()")
    op.execute(
        'CREATE TRIGGER case_tally_insert_delete AFTER INSERT OR DELETE ON "case" '
        "FOR EACH ROW EXECUTE FUNCTION tally_case_change()"
    )
