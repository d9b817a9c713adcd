"""a change to a case updates only the tallies whose inputs changed

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 06:40:00

Migration 0003's update trigger takes the old row out of all six tallies and puts the
new one in (``tally_apply(OLD, -1)``, ``tally_apply(NEW, 1)``): twenty-four tally rows
written for every move, most of them with a net change of zero (a request for materials
changes the status, not the resolution time a case took, so the three resolution-time
tallies are written twice for nothing). The update trigger now runs each of the six
statements only when a column it reads differs between the old and the new row.

The six statements are read from ``tally_apply`` as the database has it, and the
columns each reads are read from the statement itself (every ``c.<column>``), so the
condition cannot leave out a column a statement depends on; the migration refuses to
run if that function does not read as migration 0003 wrote it.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TALLIES = 6


def _statements() -> list[str]:
    """The six statements of ``tally_apply(r, sign)``, as written, each without its ``;``."""
    definition: str = (
        op.get_bind()
        .execute(sa.text("""SELECT pg_get_functiondef('tally_apply("case", integer)'::regprocedure)"""))
        .scalar_one()
    )
    body = definition[definition.index("BEGIN") + len("BEGIN") : definition.rindex("END")]
    statements = [s.strip() for s in body.split(";") if s.strip()]
    if len(statements) != _TALLIES or not all(s.startswith("INSERT INTO") for s in statements):
        raise RuntimeError("tally_apply() does not read as migration 0003 wrote it")
    if not all("(SELECT (r).*) c" in s for s in statements):
        raise RuntimeError("tally_apply() does not read the case as migration 0003 wrote it")
    return statements


def _updated_function() -> str:
    parts = []
    for statement in _statements():
        columns = sorted(set(re.findall(r"\bc\.([a-z_]+)\b", statement)))
        if not columns:
            raise RuntimeError(f"no column of the case found in: {statement[:80]}")
        old = ", ".join(f"OLD.{name}" for name in columns)
        new = ", ".join(f"NEW.{name}" for name in columns)
        parts.append(
            f"    IF ROW({old}) IS DISTINCT FROM ROW({new}) THEN\n"
            f"        r := OLD; sign := -1;\n        {statement};\n"
            f"        r := NEW; sign := 1;\n        {statement};\n"
            "    END IF;\n"
        )
    return (
        "CREATE FUNCTION tally_case_updated() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        'DECLARE\n    r "case";\n    sign integer;\nBEGIN\n' + "".join(parts) + "    RETURN NULL;\nEND\n$$"
    )


def _trigger(function: str) -> str:
    """The update trigger with migration 0003's condition (any column a tally reads)."""
    definition: str = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgname = 'case_tally_update' AND tgrelid = '\"case\"'::regclass"
            )
        )
        .scalar_one()
    )
    head, _, _ = definition.rpartition("EXECUTE FUNCTION")
    return f"{head}EXECUTE FUNCTION {function}()"


def upgrade() -> None:
    op.execute(_updated_function())
    trigger = _trigger("tally_case_updated")
    op.execute('DROP TRIGGER case_tally_update ON "case"')
    op.execute(trigger)


def downgrade() -> None:
    trigger = _trigger("tally_case_change")
    op.execute('DROP TRIGGER case_tally_update ON "case"')
    op.execute(trigger)
    op.execute("DROP FUNCTION tally_case_updated()")
