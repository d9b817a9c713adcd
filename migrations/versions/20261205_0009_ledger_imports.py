"""ledger imports: the import jobs, and what marks a case brought in from a ledger

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 01:00:00

A case imported from a ledger carries ``import_key`` (``domain/ledger.case_key``), unique,
so the same ledger row comes in once, and an ``import`` line opens its timeline. The
actions are a frozen copy of ``service/models/cases.EVENT_ACTIONS`` at this revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ACTIONS = [
    "accept",
    "reject",
    "start",
    "request_materials",
    "receive_materials",
    "transfer",
    "resolve",
    "reopen",
    "close",
    "withdraw",
    "create",
    "note",
    "update",
    "rate",
    "follow_up",
    "answer_materials",
    "attach",
    "reissue_code",
    "supervise",
    "reply_supervision",
    "escalate_supervision",
    "supervision_unanswered",
]


def _in(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.drop_constraint(op.f("ck_case_event_action"), "case_event", type_="check")
    op.create_check_constraint(
        op.f("ck_case_event_action"), "case_event", f"action IN ({_in([*OLD_ACTIONS, 'import'])})"
    )
    op.add_column("case", sa.Column("import_key", sa.LargeBinary(), nullable=True))
    op.create_unique_constraint(op.f("uq_case_import_key"), "case", ["import_key"])
    op.create_table(
        "import_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("file_format", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("file_encoding", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("file_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("file_bytes", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_valid", sa.Integer(), nullable=False),
        sa.Column("rows_invalid", sa.Integer(), nullable=False),
        sa.Column("rows_existing", sa.Integer(), nullable=False),
        sa.Column("rows_imported", sa.Integer(), nullable=False),
        sa.Column("problems", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("failure", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("report_key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('workers', 'cases')", name=op.f("ck_import_job_kind")),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'checked', 'imported', 'refused', 'failed')",
            name=op.f("ck_import_job_status"),
        ),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_import_job_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_job")),
    )
    op.create_index("ix_import_job_account_id_created_at", "import_job", ["account_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("import_job")
    # Imported cases stay; only what marks them as imported goes.
    op.drop_constraint(op.f("uq_case_import_key"), "case", type_="unique")
    op.drop_column("case", "import_key")
    op.execute("UPDATE case_event SET action = 'create' WHERE action = 'import'")
    op.drop_constraint(op.f("ck_case_event_action"), "case_event", type_="check")
    op.create_check_constraint(op.f("ck_case_event_action"), "case_event", f"action IN ({_in(OLD_ACTIONS)})")
