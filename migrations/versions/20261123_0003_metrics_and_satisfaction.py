"""metrics tallies, satisfaction ratings and the derived case columns they use

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:10:00

Three tallies hold, per month in which cases were received, how many are in each
status, resolved on time or late, rated at each level, and how long resolutions
took. A row trigger on ``case`` keeps them exact in the same transaction as every
case change; existing cases are counted once here. The counter definitions below are
a frozen copy of ``COUNTER_SQL`` in ``service/repositories/metrics.py`` (a test
compares the two paths).
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
FLOWS = ["received", "resolved", "overdue_started", "overdue_ended"]

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
    "resolved_at",
    "resolved_on_time",
    "rating",
    "follow_up_due_at",
    "working_days_used",
    "overdue_since",
    "finished_at",
]

# Each tally: its key columns and how a case (row ``c``, span ``s.span``) fills them.
SPAN = "date_trunc(s.span, c.received_on)::date"
COHORT = "(VALUES ('month'), ('year')) s(span)"
CASE_KEYS = (["item_id", "district_code", "department_code"], ["c.item_id", "c.district_code", "c.department_code"])
STEWARD_KEYS = (["steward_id", "district_code"], ["c.steward_id", "c.district_code"])
# Resolution times are kept without the department (a third of the rows) and per department apart.
ITEM_DISTRICT_KEYS = (["item_id", "district_code"], ["c.item_id", "c.district_code"])
DEPARTMENT_KEYS = (["department_code", "item_id"], ["c.department_code", "c.item_id"])
LOCAL = "'Asia/Shanghai'"
EVENTS = f"""(VALUES
    (c.received_on, 1, 0, 0, 0),
    (CASE WHEN c.status IN ('resolved', 'closed') THEN (c.resolved_at AT TIME ZONE {LOCAL})::date END, 0, 1, 0, 0),
    ((c.overdue_since AT TIME ZONE {LOCAL})::date, 0, 0, 1, 0),
    (CASE WHEN c.overdue_since IS NOT NULL THEN (c.finished_at AT TIME ZONE {LOCAL})::date END, 0, 0, 0, 1)
) e(day, received, resolved, overdue_started, overdue_ended)"""


def _counts(table: str, keys: tuple[list[str], list[str]], source: str, sign: str) -> str:
    """Counter sums per span (month and year) and key, from ``source`` (one case or all)."""
    names, values = keys
    sums = ", ".join(f"{sign} * sum({expr})" for _, expr in COUNTERS)
    return (
        f"INSERT INTO {table} AS t (span, start, {', '.join(names)}, {', '.join(NAMES)}) "
        f"SELECT s.span, {SPAN}, {', '.join(values)}, {sums} FROM {source} CROSS JOIN {COHORT} "
        f"GROUP BY 1, 2, {', '.join(str(i + 3) for i in range(len(names)))} "
        f"ON CONFLICT (span, start, {', '.join(names)}) DO UPDATE SET "
        + ", ".join(f"{n} = t.{n} + EXCLUDED.{n}" for n in NAMES)
    )


def _durations(table: str, keys: tuple[list[str], list[str]], source: str, sign: str) -> str:
    names, values = keys
    return (
        f"INSERT INTO {table} AS t (span, start, {', '.join(names)}, working_days, cases) "
        f"SELECT s.span, {SPAN}, {', '.join(values)}, c.working_days_used, {sign} * count(*) "
        f"FROM {source} CROSS JOIN {COHORT} WHERE c.working_days_used IS NOT NULL "
        f"GROUP BY 1, 2, {', '.join(str(i + 3) for i in range(len(names) + 1))} "
        f"ON CONFLICT (span, start, {', '.join(names)}, working_days) DO UPDATE SET cases = t.cases + EXCLUDED.cases"
    )


def _flows(source: str, sign: str) -> str:
    """Events per local day, summed per ISO week and per month: received, resolved, a clock
    running out, and a late case finishing. A running case's clock runs out in the future;
    readers never sum a week or month that has not ended."""
    names, values = CASE_KEYS
    return (
        f"INSERT INTO flow_tally AS t (span, start, {', '.join(names)}, {', '.join(FLOWS)}) "
        f"SELECT s.span, date_trunc(s.span, e.day)::date, {', '.join(values)}, "
        + ", ".join(f"{sign} * sum(e.{f})" for f in FLOWS)
        + f" FROM {source} CROSS JOIN (VALUES ('week'), ('month')) s(span) CROSS JOIN LATERAL {EVENTS} "
        "WHERE e.day IS NOT NULL GROUP BY 1, 2, 3, 4, 5 "
        f"ON CONFLICT (span, start, {', '.join(names)}) DO UPDATE SET "
        + ", ".join(f"{f} = t.{f} + EXCLUDED.{f}" for f in FLOWS)
    )


def _all(source: str, sign: str) -> list[str]:
    return [
        _counts("case_tally", CASE_KEYS, source, sign),
        _counts("steward_tally", STEWARD_KEYS, source, sign),
        _durations("duration_tally", ITEM_DISTRICT_KEYS, source, sign),
        _durations("department_duration_tally", DEPARTMENT_KEYS, source, sign),
        _durations("steward_duration_tally", STEWARD_KEYS, source, sign),
        _flows(source, sign),
    ]


SPANS = {
    "case_tally": ("month", "year"),
    "steward_tally": ("month", "year"),
    "duration_tally": ("month", "year"),
    "department_duration_tally": ("month", "year"),
    "steward_duration_tally": ("month", "year"),
    "flow_tally": ("week", "month"),
}
TALLIES = [
    "case_tally",
    "steward_tally",
    "duration_tally",
    "department_duration_tally",
    "steward_duration_tally",
    "flow_tally",
]
# A row-level function applied to OLD (sign -1) and NEW (sign +1) by the trigger.
APPLY = (
    'CREATE FUNCTION tally_apply(r "case", sign integer) RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n    '
    + ";\n    ".join(_all("(SELECT (r).*) c", "sign"))
    + ";\nEND\n$$"
)
# Empties and refills every tally from the cases (after a bulk load with the trigger off).
REBUILD = (
    "CREATE FUNCTION tally_rebuild() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n    "
    + f"TRUNCATE {', '.join(TALLIES)};\n    "
    + ";\n    ".join(_all('"case" c', "1"))
    + ";\nEND\n$$"
)

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
        "ix_case_follow_up_received_on",
        "case",
        ["received_on"],
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

    span = [
        sa.Column("span", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
    ]
    item_keys = [
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("district_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("department_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    ]
    steward_keys = [
        sa.Column("steward_id", sa.Uuid(), nullable=False),
        sa.Column("district_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    ]
    days = [sa.Column("working_days", sa.Integer(), nullable=False), sa.Column("cases", sa.Integer(), nullable=False)]
    item_pk = ["span", "start", "item_id", "district_code", "department_code"]
    steward_pk = ["span", "start", "steward_id", "district_code"]

    def copy(columns: list[sa.Column]) -> list[sa.Column]:  # type: ignore[type-arg]
        return [c.copy() for c in columns]

    op.create_table(
        "case_tally",
        *copy(span),
        *copy(item_keys),
        *_counter_columns(),
        sa.PrimaryKeyConstraint(*item_pk, name=op.f("pk_case_tally")),
        postgresql_partition_by="LIST (span)",
    )
    op.create_table(
        "steward_tally",
        *copy(span),
        *copy(steward_keys),
        *_counter_columns(),
        sa.PrimaryKeyConstraint(*steward_pk, name=op.f("pk_steward_tally")),
        postgresql_partition_by="LIST (span)",
    )
    op.create_table(
        "duration_tally",
        *copy(span),
        *copy(item_keys[:2]),
        *copy(days),
        sa.PrimaryKeyConstraint(*item_pk[:4], "working_days", name=op.f("pk_duration_tally")),
        postgresql_partition_by="LIST (span)",
    )
    op.create_table(
        "department_duration_tally",
        *copy(span),
        sa.Column("department_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        *copy(days),
        sa.PrimaryKeyConstraint(
            "span", "start", "department_code", "item_id", "working_days", name=op.f("pk_department_duration_tally")
        ),
        postgresql_partition_by="LIST (span)",
    )
    op.create_table(
        "steward_duration_tally",
        *copy(span),
        *copy(steward_keys),
        *copy(days),
        sa.PrimaryKeyConstraint(*steward_pk, "working_days", name=op.f("pk_steward_duration_tally")),
        postgresql_partition_by="LIST (span)",
    )
    op.create_table(
        "flow_tally",
        *copy(span),
        *copy(item_keys),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in FLOWS],
        sa.PrimaryKeyConstraint(*item_pk, name=op.f("pk_flow_tally")),
        postgresql_partition_by="LIST (span)",
    )
    op.create_index(
        "ix_case_late_finished_at",
        "case",
        ["finished_at"],
        unique=False,
        postgresql_where=sa.text("overdue_since IS NOT NULL"),
    )
    # Each tally is split by span, so that a year's few rows lie together, apart from the months'.
    for table in TALLIES:
        for span in SPANS[table]:
            op.execute(f"CREATE TABLE {table}_{span} PARTITION OF {table} FOR VALUES IN ('{span}')")
    op.execute(APPLY)
    op.execute(REBUILD)
    op.execute("SELECT tally_rebuild()")
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
    op.execute("DROP FUNCTION tally_rebuild()")
    op.drop_index("ix_case_late_finished_at", table_name="case")
    for table in reversed(TALLIES):
        op.drop_table(table)
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
        "ix_case_follow_up_received_on",
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
