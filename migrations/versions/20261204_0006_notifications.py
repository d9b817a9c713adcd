"""notices to people: the in-app inbox and the outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:00:00

One row per person told of one thing, written in the same transaction as the change
(or by a reminder pass, for the due-soon and overdue reminders).
The kinds below are a frozen copy of ``service/domain/notices.Kind`` at this revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = [
    "case.logged",
    "case.request_submitted",
    "case.routed_to_department",
    "case.accepted",
    "case.rejected",
    "case.materials_requested",
    "case.materials_answered",
    "case.transferred",
    "case.transferred_in",
    "case.resolved",
    "case.reopened",
    "case.withdrawn",
    "case.poor_rating",
    "case.follow_up_answered",
    "case.due_soon",
    "case.overdue",
    "case.unaccepted",
    "case.follow_up_due_soon",
    "department.digest",
]


def upgrade() -> None:
    kinds = ", ".join(f"'{k}'" for k in KINDS)
    op.create_table(
        "notification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("worker_id", sa.Uuid(), nullable=True),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("threshold_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"kind IN ({kinds})", name=op.f("ck_notification_kind")),
        sa.CheckConstraint("(worker_id IS NULL) <> (staff_id IS NULL)", name=op.f("ck_notification_one_recipient")),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_notification_case_id_case")),
        sa.ForeignKeyConstraint(["event_id"], ["case_event.id"], name=op.f("fk_notification_event_id_case_event")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_notification_staff_id_staff")),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"], name=op.f("fk_notification_worker_id_worker")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notification_dedupe_key")),
        sa.UniqueConstraint("seq", name=op.f("uq_notification_seq")),
    )
    op.create_index("ix_notification_case_id_kind", "notification", ["case_id", "kind"])
    op.create_index(
        "ix_notification_staff_id_seq",
        "notification",
        ["staff_id", "seq"],
        postgresql_where=sa.text("staff_id IS NOT NULL"),
    )
    op.create_index(
        "ix_notification_worker_id_seq",
        "notification",
        ["worker_id", "seq"],
        postgresql_where=sa.text("worker_id IS NOT NULL"),
    )

    op.create_index(
        "ix_notification_staff_id_unread",
        "notification",
        ["staff_id"],
        postgresql_where=sa.text("read_at IS NULL AND staff_id IS NOT NULL"),
    )
    op.create_index(
        "ix_notification_worker_id_unread",
        "notification",
        ["worker_id"],
        postgresql_where=sa.text("read_at IS NULL AND worker_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("notification")
