"""query codes for public lookup, the worker's answer to a request for materials, attachments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:00:00

Cases logged before this revision have no query code; a steward issues one when the
worker asks (``POST /api/v1/cases/{id}/query-code``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ACTIONS = (
    "action IN ('accept', 'reject', 'start', 'request_materials', 'receive_materials', 'transfer', "
    "'resolve', 'reopen', 'close', 'withdraw', 'create', 'note', 'update', 'rate', 'follow_up')"
)
NEW_ACTIONS = (
    "action IN ('accept', 'reject', 'start', 'request_materials', 'receive_materials', 'transfer', "
    "'resolve', 'reopen', 'close', 'withdraw', 'create', 'note', 'update', 'rate', 'follow_up', "
    "'answer_materials', 'attach', 'reissue_code')"
)


def upgrade() -> None:
    op.add_column("case", sa.Column("materials_answered_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("case", sa.Column("query_code_hash", sa.LargeBinary(), nullable=True))
    op.drop_constraint(op.f("ck_case_event_action"), "case_event", type_="check")
    op.create_check_constraint(op.f("ck_case_event_action"), "case_event", NEW_ACTIONS)
    op.create_table(
        "attachment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("visibility", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.Column("uploaded_by_worker", sa.Boolean(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer_event_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_attachment_size_bytes")),
        sa.CheckConstraint("visibility IN ('internal', 'public')", name=op.f("ck_attachment_visibility")),
        sa.ForeignKeyConstraint(
            ["answer_event_id"], ["case_event.id"], name=op.f("fk_attachment_answer_event_id_case_event")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_attachment_case_id_case")),
        sa.ForeignKeyConstraint(["uploaded_by"], ["account.id"], name=op.f("fk_attachment_uploaded_by_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_attachment_storage_key")),
    )
    op.create_index("ix_attachment_case_id_uploaded_at", "attachment", ["case_id", "uploaded_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_attachment_case_id_uploaded_at", table_name="attachment")
    op.drop_table("attachment")
    op.execute("DELETE FROM case_event WHERE action IN ('answer_materials', 'attach', 'reissue_code')")
    op.drop_constraint(op.f("ck_case_event_action"), "case_event", type_="check")
    op.create_check_constraint(op.f("ck_case_event_action"), "case_event", OLD_ACTIONS)
    op.drop_column("case", "query_code_hash")
    op.drop_column("case", "materials_answered_at")
