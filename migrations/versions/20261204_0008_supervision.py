"""supervision notices (督办) on cases, and the timeline lines they write

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:00:00

The kinds of notices they give were added by 0007. The actions below are a frozen copy
of ``service/models/cases.EVENT_ACTIONS`` at this revision; the rules of a notice are
``service/domain/supervision.py``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
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
]
SUPERVISION_ACTIONS = ["supervise", "reply_supervision", "escalate_supervision", "supervision_unanswered"]
ISSUED_ON = "((issued_at AT TIME ZONE 'Asia/Shanghai'))::date"


def _in(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.drop_constraint(op.f("ck_case_event_action"), "case_event", type_="check")
    op.create_check_constraint(
        op.f("ck_case_event_action"), "case_event", f"action IN ({_in(OLD_ACTIONS + SUPERVISION_ACTIONS)})"
    )
    op.create_table(
        "supervision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("issued_by", sa.Uuid(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("reply_working_days", sa.Integer(), nullable=False),
        sa.Column("reply_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_by", sa.Uuid(), nullable=True),
        sa.Column("reply", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("replied_on_time", sa.Boolean(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unanswered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_on", sa.Date(), sa.Computed(ISSUED_ON, persisted=True), nullable=True),
        sa.CheckConstraint("level IN ('district', 'city')", name=op.f("ck_supervision_level")),
        sa.CheckConstraint("status IN ('open', 'replied', 'unanswered')", name=op.f("ck_supervision_status")),
        sa.CheckConstraint("reply_working_days BETWEEN 1 AND 10", name=op.f("ck_supervision_reply_working_days")),
        sa.CheckConstraint(
            "(status = 'replied') = (replied_at IS NOT NULL) "
            "AND num_nonnulls(replied_at, replied_by, reply, replied_on_time) IN (0, 4)",
            name=op.f("ck_supervision_replied"),
        ),
        sa.CheckConstraint("escalated_at IS NULL OR level = 'city'", name=op.f("ck_supervision_escalated")),
        sa.CheckConstraint(
            "(unanswered_at IS NULL OR level = 'city') AND (status <> 'unanswered' OR unanswered_at IS NOT NULL)",
            name=op.f("ck_supervision_unanswered"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_supervision_case_id_case")),
        sa.ForeignKeyConstraint(["issued_by"], ["account.id"], name=op.f("fk_supervision_issued_by_account")),
        sa.ForeignKeyConstraint(["replied_by"], ["account.id"], name=op.f("fk_supervision_replied_by_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision")),
    )
    op.create_index(
        "ix_supervision_case_id_awaiting_reply",
        "supervision",
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("replied_at IS NULL"),
    )
    op.create_index("ix_supervision_case_id_issued_at", "supervision", ["case_id", "issued_at"], unique=False)
    op.create_index(
        "ix_supervision_open_reply_due_at",
        "supervision",
        ["reply_due_at"],
        unique=False,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_supervision_issued_on", "supervision", ["issued_on"], unique=False)


def downgrade() -> None:
    op.drop_table("supervision")
    # The notices people were given stay in their inboxes (their kinds belong to 0007),
    # no longer pointing at the lines that go.
    op.execute(
        "UPDATE notification SET event_id = NULL WHERE event_id IN "
        f"(SELECT id FROM case_event WHERE action IN ({_in(SUPERVISION_ACTIONS)}))"
    )
    op.execute(f"DELETE FROM case_event WHERE action IN ({_in(SUPERVISION_ACTIONS)})")
    op.drop_constraint(op.f("ck_case_event_action"), "case_event", type_="check")
    op.create_check_constraint(op.f("ck_case_event_action"), "case_event", f"action IN ({_in(OLD_ACTIONS)})")
