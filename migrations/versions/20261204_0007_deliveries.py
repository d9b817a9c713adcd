"""notices on their way out: deliveries, webhook subscriptions, preferences, template
versions, recipients who are only an account, and the job queue

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 20:10:00

The job queue is Procrastinate's: ``migrations/frozen/procrastinate_3.10.0_schema.sql``
is a frozen copy of the schema that version ships (``procrastinate/sql/schema.sql``).
A later Procrastinate is taken with a revision that applies its own migration files.
The kinds below are a frozen copy of ``service/domain/notices.Kind`` at this revision.
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.util import await_

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE_SCHEMA = Path(__file__).parent.parent / "frozen" / "procrastinate_3.10.0_schema.sql"

OLD_KINDS = [
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
KINDS = [
    *OLD_KINDS[:-1],
    "case.supervised",
    "case.supervision_replied",
    "case.supervision_escalated",
    "official.daily_digest",
    "official.weekly_digest",
    "department.digest",
]


def _in(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _run_script(sql: str) -> None:
    """Run a script of many statements in the migration's transaction: asyncpg takes a
    script whole through its simple query protocol, which a prepared statement refuses."""
    connection = op.get_bind().connection.driver_connection
    assert connection is not None
    await_(connection.execute(sql))


def upgrade() -> None:
    _run_script(QUEUE_SCHEMA.read_text(encoding="utf-8"))

    op.add_column("notification", sa.Column("account_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f("fk_notification_account_id_account"), "notification", "account", ["account_id"], ["id"])
    op.drop_constraint(op.f("ck_notification_one_recipient"), "notification", type_="check")
    op.create_check_constraint(
        op.f("ck_notification_one_recipient"), "notification", "num_nonnulls(worker_id, staff_id, account_id) = 1"
    )
    op.drop_constraint(op.f("ck_notification_kind"), "notification", type_="check")
    op.create_check_constraint(op.f("ck_notification_kind"), "notification", f"kind IN ({_in(KINDS)})")
    op.create_index(
        "ix_notification_account_id_seq",
        "notification",
        ["account_id", "seq"],
        postgresql_where=sa.text("account_id IS NOT NULL"),
    )
    op.create_index(
        "ix_notification_account_id_unread",
        "notification",
        ["account_id"],
        postgresql_where=sa.text("read_at IS NULL AND account_id IS NOT NULL"),
    )

    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("previous_secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=True),
        sa.Column("subscription_id", sa.Uuid(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("receipt", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('email', 'sms', 'webhook')", name=op.f("ck_delivery_channel")),
        sa.CheckConstraint("status IN ('pending', 'sent', 'parked')", name=op.f("ck_delivery_status")),
        sa.CheckConstraint(
            "(channel = 'webhook') = (subscription_id IS NOT NULL)", name=op.f("ck_delivery_webhook_has_subscription")
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"], ["notification.id"], name=op.f("fk_delivery_notification_id_notification")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_delivery_subscription_id_webhook_subscription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_delivery_dedupe_key")),
        sa.UniqueConstraint("seq", name=op.f("uq_delivery_seq")),
    )
    op.create_index("ix_delivery_status_seq", "delivery", ["status", "seq"])
    op.create_index("ix_delivery_subscription_id_seq", "delivery", ["subscription_id", "seq"])
    op.create_index("ix_delivery_notification_id", "delivery", ["notification_id"])
    op.create_table(
        "notice_preference",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("sms", sa.Boolean(), nullable=False),
        sa.Column("email_address_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_notice_preference_account_id_account")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_notice_preference")),
    )
    op.create_table(
        "notice_template",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(f"kind IN ({_in(KINDS)})", name=op.f("ck_notice_template_kind")),
        sa.ForeignKeyConstraint(["created_by"], ["account.id"], name=op.f("fk_notice_template_created_by_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_template")),
    )
    op.create_index("ix_notice_template_kind_version", "notice_template", ["kind", "version"], unique=True)
    op.create_table(
        "notice_setting",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("email_offered", sa.Boolean(), nullable=False),
        sa.Column("sms_offered", sa.Boolean(), nullable=False),
        sa.Column("sms_templates", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_notice_setting_single_row")),
        sa.ForeignKeyConstraint(["updated_by"], ["account.id"], name=op.f("fk_notice_setting_updated_by_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_setting")),
    )
    op.execute(
        "INSERT INTO notice_setting (id, email_offered, sms_offered, sms_templates, updated_at) "
        "VALUES (1, false, false, '{}', now())"
    )


def downgrade() -> None:
    op.drop_table("notice_setting")
    op.drop_table("notice_template")
    op.drop_table("notice_preference")
    op.drop_table("delivery")
    op.drop_table("webhook_subscription")
    op.execute("DELETE FROM notification WHERE account_id IS NOT NULL")
    op.execute(f"DELETE FROM notification WHERE kind NOT IN ({_in(OLD_KINDS)})")
    op.drop_index("ix_notification_account_id_unread", table_name="notification")
    op.drop_index("ix_notification_account_id_seq", table_name="notification")
    op.drop_constraint(op.f("ck_notification_kind"), "notification", type_="check")
    op.create_check_constraint(op.f("ck_notification_kind"), "notification", f"kind IN ({_in(OLD_KINDS)})")
    op.drop_constraint(op.f("ck_notification_one_recipient"), "notification", type_="check")
    op.create_check_constraint(
        op.f("ck_notification_one_recipient"), "notification", "(worker_id IS NULL) <> (staff_id IS NULL)"
    )
    op.drop_constraint(op.f("fk_notification_account_id_account"), "notification", type_="foreignkey")
    op.drop_column("notification", "account_id")
    # The job queue: every function it made (they name its tables' row type), its tables, its types.
    op.execute(
        """
        DO $$
        DECLARE f record;
        BEGIN
            FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'
            LOOP
                EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE';  -- and the queue's triggers that call it
            END LOOP;
        END $$
        """
    )
    op.execute(
        "DROP TABLE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers"
    )
    op.execute("DROP TYPE procrastinate_job_to_defer_v1, procrastinate_job_event_type, procrastinate_job_status")
