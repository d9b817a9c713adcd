"""metrics tallies, satisfaction ratings and the derived case columns they use

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:10:00

Three tallies hold, per month in which cases were received, how many are in each
status, resolved on time or late, rated at each level, and how long resolutions
took. A row trigger on ``case`` keeps them exact in the same transaction as every
case change; existing cases are counted once here. The counter definitions below are
a frozen copy of ``service/repositories/tally.py`` (a test compares the two paths).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = [
    ("received", "1"),
    ("accepted", "(c.accepted_at IS NOT NULL)::int"),
    ("submitted", "(c.status = 'submitted')::int"),
    ("in_progress", "(c.status IN ('accepted', 'in_progress'))::int"),
    ("awaiting_materials", "(c.status = 'awaiting_materials')::int"),
    ("resolved", "(c.status IN ('resolved', 'closed'))::int"),
    ("closed", "(c.status = 'closed')::int"),
    ("rejected", "(c.status = 'rejected')::int"),
    ("withdrawn", "(c.status = 'withdrawn')::int"),
    ("resolved_on_time", "(c.status IN ('resolved', 'closed') AND c.resolved_on_time IS TRUE)::int"),
    ("resolved_late", "(c.status IN ('resolved', 'closed') AND c.resolved_on_time IS FALSE)::int"),
    ("rated", "(c.rating IS NOT NULL)::int"),
    ("very_satisfied", "(c.rating IS NOT DISTINCT FROM 'very_satisfied')::int"),
    ("satisfied", "(c.rating IS NOT DISTINCT FROM 'satisfied')::int"),
    ("basically_satisfied", "(c.rating IS NOT DISTINCT FROM 'basically_satisfied')::int"),
    ("dissatisfied", "(c.rating IS NOT DISTINCT FROM 'dissatisfied')::int"),
    ("very_dissatisfied", "(c.rating IS NOT DISTINCT FROM 'very_dissatisfied')::int"),
    ("follow_ups_open", "(c.follow_up_due_at IS NOT NULL)::int"),
]
NAMES = [name for name, _ in COUNTERS]
MONTH = "date_trunc('month', c.received_on)::date"

RECEIVED_ON = "((created_at AT TIME ZONE 'Asia/Shanghai'))::date"
WORKING_DAYS_USED = (
    "CASE WHEN status IN ('resolved', 'closed') AND promised_working_days IS NOT NULL "
    "AND clock_remaining_seconds IS NOT NULL "
    "THEN GREATEST(ceil((promised_working_days * 86400.0 - clock_remaining_seconds) / 86400.0 - 1e-6), 0)::integer END"
)
OVERDUE_SINCE = "CASE WHEN status IN ('accepted', 'in_progress') OR clock_remaining_seconds < 0 THEN due_at END"
FINISHED_AT = (
    "CASE WHEN status IN ('resolved', 'closed') THEN resolved_at WHEN status = 'rejected' THEN rejected_at "
    "WHEN status = 'withdrawn' THEN withdrawn_at END"
)

# The columns whose change can move a case between counters or tally rows.
WATCHED = [
    "status",
    "item_id",
    "district_code",
    "department_code",
    "steward_id",
    "created_at",
    "accepted_at",
    "resolved_on_time",
    "rating",
    "follow_up_due_at",
    "working_days_used",
]


def _upsert(table: str, keys: list[str], key_values: list[str], sign: str) -> str:
    columns = ", ".join([*keys, *NAMES])
    values = ", ".join([*key_values, *[f"{sign} * {expr}" for _, expr in COUNTERS]])
    updates = ", ".join(f"{n} = t.{n} + EXCLUDED.{n}" for n in NAMES)
    return (
        f"INSERT INTO {table} AS t ({columns}) VALUES ({values}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates};"
    )


def _apply_function() -> str:
    case_keys = ["month", "item_id", "district_code", "department_code"]
    case_values = [MONTH, "c.item_id", "c.district_code", "c.department_code"]
    steward_keys = ["month", "steward_id", "district_code"]
    steward_values = [MONTH, "c.steward_id", "c.district_code"]
    return f"""
CREATE FUNCTION tally_apply(c "case", sign integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    {_upsert("case_tally", case_keys, case_values, "sign")}
    {_upsert("steward_tally", steward_keys, steward_values, "sign")}
    IF c.working_days_used IS NOT NULL THEN
        INSERT INTO duration_tally AS t (month, item_id, district_code, department_code, working_days, cases)
        VALUES ({MONTH}, c.item_id, c.district_code, c.department_code, c.working_days_used, sign)
        ON CONFLICT (month, item_id, district_code, department_code, working_days)
        DO UPDATE SET cases = t.cases + EXCLUDED.cases;
    END IF;
END
$$
"""


TRIGGER_FUNCTION = """
CREATE FUNCTION tally_case_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM tally_apply(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM tally_apply(NEW, 1);
    END IF;
    RETURN NULL;
END
$$
"""


def _rebuild(table: str, keys: list[str], key_values: list[str]) -> str:
    sums = ", ".join(f"sum({expr})" for _, expr in COUNTERS)
    return (
        f"INSERT INTO {table} ({', '.join([*keys, *NAMES])}) "
        f'SELECT {", ".join(key_values)}, {sums} FROM "case" c GROUP BY {", ".join(key_values)}'
    )


def _counter_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, sa.Integer(), nullable=False) for name in NAMES]


def upgrade() -> None:
    op.add_column("case", sa.Column("resolutions", sa.Integer(), nullable=False, server_default="0"))
    op.execute("""UPDATE "case" SET resolutions = 1 WHERE resolved_at IS NOT NULL""")
    op.alter_column("case", "resolutions", server_default=None)
    op.add_column("case", sa.Column("rating", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True))
    op.add_column("case", sa.Column("follow_up_due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("case", sa.Column("received_on", sa.Date(), sa.Computed(RECEIVED_ON, persisted=True), nullable=True))
    op.add_column(
        "case",
        sa.Column("working_days_used", sa.Integer(), sa.Computed(WORKING_DAYS_USED, persisted=True), nullable=True),
    )
    op.add_column(
        "case",
        sa.Column(
            "overdue_since", sa.DateTime(timezone=True), sa.Computed(OVERDUE_SINCE, persisted=True), nullable=True
        ),
    )
    op.add_column(
        "case",
        sa.Column("finished_at", sa.DateTime(timezone=True), sa.Computed(FINISHED_AT, persisted=True), nullable=True),
    )
    op.create_index("ix_case_received_on", "case", ["received_on"], unique=False)
    op.create_index(
        "ix_case_unfinished_received_on",
        "case",
        ["received_on"],
        unique=False,
        postgresql_where=sa.text("finished_at IS NULL"),
    )
    op.create_index(
        "ix_case_overdue_since",
        "case",
        ["overdue_since"],
        unique=False,
        postgresql_where=sa.text("overdue_since IS NOT NULL"),
    )
    op.create_index(
        "ix_case_resolved_at",
        "case",
        ["resolved_at"],
        unique=False,
        postgresql_where=sa.text("resolved_at IS NOT NULL"),
    )
    op.create_index(
        "ix_case_follow_up_due_at",
        "case",
        ["follow_up_due_at"],
        unique=False,
        postgresql_where=sa.text("follow_up_due_at IS NOT NULL"),
    )
    op.drop_constraint(op.f("ck_case_event_action"), "case_event", type_="check")
    op.create_check_constraint(
        op.f("ck_case_event_action"),
        "case_event",
        "action IN ('accept', 'reject', 'start', 'request_materials', 'receive_materials', 'transfer', "
        "'resolve', 'reopen', 'close', 'withdraw', 'create', 'note', 'update', 'rate', 'follow_up')",
    )

    op.create_table(
        "satisfaction_rating",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rated_by", sa.Uuid(), nullable=False),
        sa.Column("on_behalf", sa.Boolean(), nullable=False),
        sa.Column("follow_up_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("follow_up_answer", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("follow_up_answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("follow_up_answered_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "level IN ('very_satisfied', 'satisfied', 'basically_satisfied', 'dissatisfied', 'very_dissatisfied')",
            name=op.f("ck_satisfaction_rating_level"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_satisfaction_rating_case_id_case")),
        sa.ForeignKeyConstraint(["rated_by"], ["account.id"], name=op.f("fk_satisfaction_rating_rated_by_account")),
        sa.ForeignKeyConstraint(
            ["follow_up_answered_by"],
            ["account.id"],
            name=op.f("fk_satisfaction_rating_follow_up_answered_by_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_rating")),
        sa.UniqueConstraint("case_id", "resolution", name="uq_satisfaction_rating_case_id"),
    )

    op.create_table(
        "case_tally",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("district_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("department_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        *_counter_columns(),
        sa.PrimaryKeyConstraint("month", "item_id", "district_code", "department_code", name=op.f("pk_case_tally")),
    )
    op.create_table(
        "steward_tally",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("steward_id", sa.Uuid(), nullable=False),
        sa.Column("district_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        *_counter_columns(),
        sa.PrimaryKeyConstraint("month", "steward_id", "district_code", name=op.f("pk_steward_tally")),
    )
    op.create_table(
        "duration_tally",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("district_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("department_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "item_id", "district_code", "department_code", "working_days", name=op.f("pk_duration_tally")
        ),
    )
    op.execute(
        _rebuild(
            "case_tally",
            ["month", "item_id", "district_code", "department_code"],
            [MONTH, "c.item_id", "c.district_code", "c.department_code"],
        )
    )
    op.execute(
        _rebuild("steward_tally", ["month", "steward_id", "district_code"], [MONTH, "c.steward_id", "c.district_code"])
    )
    op.execute(
        "INSERT INTO duration_tally (month, item_id, district_code, department_code, working_days, cases) "
        f"SELECT {MONTH}, c.item_id, c.district_code, c.department_code, c.working_days_used, count(*) "
        'FROM "case" c WHERE c.working_days_used IS NOT NULL GROUP BY 1, 2, 3, 4, 5'
    )
    op.execute(_apply_function())
    op.execute(TRIGGER_FUNCTION)
    watched = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
    op.execute(
        'CREATE TRIGGER case_tally_insert_delete AFTER INSERT OR DELETE ON "case" '
        "FOR EACH ROW EXECUTE FUNCTION tally_case_change()"
    )
    op.execute(
        f'CREATE TRIGGER case_tally_update AFTER UPDATE ON "case" FOR EACH ROW WHEN ({watched}) '
        "EXECUTE FUNCTION tally_case_change()"
    )


def downgrade() -> None:
    op.execute('DROP TRIGGER case_tally_update ON "case"')
    op.execute('DROP TRIGGER case_tally_insert_delete ON "case"')
    op.execute("DROP FUNCTION tally_case_change()")
    op.execute('DROP FUNCTION tally_apply("case", integer)')
    op.drop_table("duration_tally")
    op.drop_table("steward_tally")
    op.drop_table("case_tally")
    op.drop_table("satisfaction_rating")
    op.execute("""DELETE FROM case_event WHERE action IN ('rate', 'follow_up')""")
    op.drop_constraint(op.f("ck_case_event_action"), "case_event", type_="check")
    op.create_check_constraint(
        op.f("ck_case_event_action"),
        "case_event",
        "action IN ('accept', 'reject', 'start', 'request_materials', 'receive_materials', 'transfer', "
        "'resolve', 'reopen', 'close', 'withdraw', 'create', 'note', 'update')",
    )
    for name in (
        "ix_case_follow_up_due_at",
        "ix_case_resolved_at",
        "ix_case_overdue_since",
        "ix_case_unfinished_received_on",
        "ix_case_received_on",
    ):
        op.drop_index(name, table_name="case")
    for column in (
        "finished_at",
        "overdue_since",
        "working_days_used",
        "received_on",
        "follow_up_due_at",
        "rating",
        "resolutions",
    ):
        op.drop_column("case", column)
