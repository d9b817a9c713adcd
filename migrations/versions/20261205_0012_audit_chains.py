"""the audit trail in several hash chains

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 03:30:00

Until now every audited write appended to one hash chain under one advisory lock held
to the commit, so audited writes were serialised: about 140 a second on two cores.
The trail now has several chains, each a row of ``audit_chain`` holding its end (the
position and hash of its last row); a writer locks a free chain's row (``FOR UPDATE
SKIP LOCKED``) and appends to that chain, so writers wait for one another only when
every chain is busy.

``audit_event.seq`` stays the row's number across the whole trail, now handed out by a
sequence (a rolled-back write leaves a gap); ``chain`` and ``chain_seq`` are the row's
chain and its gapless position in it, which is what verification walks. The rows
written before this revision are chain 0, position = ``seq``, hashed as they were
(``service/domain/audit_chain.py``); chain 0 takes no new rows. Chains 1 to 32 are new
and empty. More chains can be added later by inserting rows (``last_seq`` 0,
``last_hash`` 32 zero bytes).

The chain ends are guarded like the trail: a chain's row cannot be deleted, and an update
may only move its end forward by one row.

The downgrade keeps only chain 0 and refuses when other chains hold rows: it cannot
merge them into one chain without the audit key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAINS = 32

_CHAIN_GUARD = """
CREATE FUNCTION audit_chain_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.last_seq = OLD.last_seq + 1 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'an audit chain only moves forward one row at a time: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("id >= 0", name=op.f("ck_audit_chain_id")),
        sa.CheckConstraint("last_seq >= 0", name=op.f("ck_audit_chain_last_seq")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    op.add_column("audit_event", sa.Column("chain", sa.SmallInteger(), server_default="0", nullable=False))
    op.add_column("audit_event", sa.Column("chain_seq", sa.BigInteger(), nullable=True))
    # The existing rows are chain 0 in the order they were written; the guard is lifted
    # for this one statement, which changes no hashed content.
    op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update_or_delete")
    op.execute("UPDATE audit_event SET chain_seq = seq")
    op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update_or_delete")
    op.alter_column("audit_event", "chain_seq", nullable=False)
    op.alter_column("audit_event", "chain", server_default=None)
    op.create_unique_constraint(op.f("uq_audit_event_chain"), "audit_event", ["chain", "chain_seq"])

    op.execute("CREATE SEQUENCE audit_event_seq_seq OWNED BY audit_event.seq")
    op.execute("SELECT setval('audit_event_seq_seq', coalesce(max(seq), 0) + 1, false) FROM audit_event")

    op.execute(
        "INSERT INTO audit_chain (id, last_seq, last_hash) "
        "SELECT 0, coalesce(max(seq), 0), coalesce((SELECT hash FROM audit_event ORDER BY seq DESC LIMIT 1), "
        "'\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea) FROM audit_event"
    )
    op.execute(
        "INSERT INTO audit_chain (id, last_seq, last_hash) "
        f"SELECT g, 0, '\\x{'00' * 32}'::bytea FROM generate_series(1, {CHAINS}) AS g"
    )
    op.execute(_CHAIN_GUARD)
    op.execute(
        "CREATE TRIGGER audit_chain_forward_only BEFORE UPDATE OR DELETE ON audit_chain "
        "FOR EACH ROW EXECUTE FUNCTION audit_chain_guard()"
    )
    op.execute(
        "CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_guard()"
    )


def downgrade() -> None:
    # No row may join a chain between the count and the drop (and only the owner may lock it so).
    op.execute("LOCK TABLE audit_event IN ACCESS EXCLUSIVE MODE")
    held = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_event WHERE chain <> 0")).scalar_one()
    # Rows written to the other chains cannot be put back into one chain without writing
    # the trail anew, which is what the chains exist to make evident. So a downgrade that
    # would keep the trail (to 0011 .. 0002) is refused while they exist; one to base, which
    # drops the trail with migration 0002, goes on (get_revision_argument() is None there).
    if held and context.get_revision_argument() is not None:
        raise RuntimeError(
            f"{held} audit rows are in chains other than 0; they cannot be put back into one chain"
            " (only a downgrade to base, which drops the audit trail, can pass this revision)"
        )
    op.execute("DROP TABLE audit_chain")
    op.execute("DROP FUNCTION audit_chain_guard()")
    op.execute("DROP SEQUENCE audit_event_seq_seq")
    op.drop_constraint(op.f("uq_audit_event_chain"), "audit_event", type_="unique")
    op.drop_column("audit_event", "chain_seq")
    op.drop_column("audit_event", "chain")
