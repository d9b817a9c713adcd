"""a resolution counts at least one working day used

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 18:00:00

``case.working_days_used`` counted part of a working day as a day, except when less
than a microsecond's worth had run: a case resolved within a second of its acceptance
counted 0 days. Every resolution now counts at least one. PostgreSQL 15 cannot change a
generated column's expression in place, so the column is dropped and added again with
the new one (the table is rewritten), around the tally trigger whose condition names
it; the tallies are then refilled, so the resolution-time figures follow. The trigger's
watched columns below are a frozen copy of revision 0003's.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_USED = (
    "CASE WHEN status IN ('resolved', 'closed') AND promised_working_days IS NOT NULL "
    "AND clock_remaining_seconds IS NOT NULL "
    "THEN GREATEST(ceil((promised_working_days * 86400.0 - clock_remaining_seconds) / 86400.0 - 1e-6), {least})"
    "::integer END"
)
WATCHED = [
    "status",
    "item_id",
    "district_code",
    "department_code",
    "steward_id",
    "created_at",
    "accepted_at",
    "resolved_at",
    "resolved_on_time",
    "rating",
    "follow_up_due_at",
    "working_days_used",
    "overdue_since",
    "finished_at",
]


def _redefine(least: int) -> None:
    op.execute('DROP TRIGGER case_tally_update ON "case"')
    op.execute('ALTER TABLE "case" DROP COLUMN working_days_used')
    op.execute(
        'ALTER TABLE "case" ADD COLUMN working_days_used integer '
        f"GENERATED ALWAYS AS ({_USED.format(least=least)}) STORED"
    )
    watched = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
    op.execute(
        f'CREATE TRIGGER case_tally_update AFTER UPDATE ON "case" FOR EACH ROW WHEN ({watched}) '
        "EXECUTE FUNCTION tally_case_change()"
    )
    op.execute("SELECT tally_rebuild()")


def upgrade() -> None:
    _redefine(least=1)


def downgrade() -> None:
    _redefine(least=0)
