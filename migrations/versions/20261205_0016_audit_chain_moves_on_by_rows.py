"""a chain's recorded end may move forward by several rows in one update

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 09:20:00

New cases that waited for the day's number are logged together in one transaction
(``service/services/logbook.py``), their audit rows one after the other on one held chain,
and the chain's end is moved to the last of them in the statement that writes them. The
guard of migration 0012 let the end move forward by exactly one row per update; it now
lets it move forward by any number of rows, and still refuses moving it back or not at
all, changing a chain's id, deleting a chain and TRUNCATE. Nothing is lost by it: an
update that moves one row at a time could already be repeated to move the end as far
forward as it liked, and an end beyond a chain's last row is a break that
``POST /audit/verify`` reports.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _guard(allowed: str, refusal: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION audit_chain_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND {allowed} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{refusal}: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.execute(_guard("NEW.last_seq > OLD.last_seq", "an audit chain only moves forward"))


def downgrade() -> None:
    op.execute(_guard("NEW.last_seq = OLD.last_seq + 1", "an audit chain only moves forward one row at a time"))
