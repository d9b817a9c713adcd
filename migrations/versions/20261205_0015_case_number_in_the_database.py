"""the case number is formed in the statement that takes it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 09:10:00

``case_number(day, sequence)`` forms ``BS-YYYYMMDD-NNNNNN-C`` (the Damm check digit over
the fourteen digits) exactly as ``service/domain/case_number.format_case_number`` does,
so that a new case can take the day's number and be written with it in one statement:
the day's counter row stays locked from that statement to the commit, and every other
creation of the day waits for it, so each round trip saved under it is one less wait
for all of them. A sequence outside 1 to 999,999 is refused (SQLSTATE 22003) as the
Python function refuses it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The Damm quasigroup of order 10, row by row (row = interim digit, column = next digit).
_DAMM = (
    "0,3,1,7,5,9,8,6,4,2, 7,0,9,2,1,5,4,8,6,3, 4,2,0,6,8,7,1,3,5,9, 1,7,5,0,9,8,3,4,2,6, "
    "6,1,2,3,0,4,5,9,7,8, 3,6,7,4,2,0,9,5,8,1, 5,8,6,9,7,2,0,1,3,4, 8,9,4,5,3,6,2,0,1,7, "
    "9,4,3,8,6,1,7,2,0,5, 2,5,8,1,4,3,6,7,9,0"
)


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION case_number(day date, sequence bigint) RETURNS text
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
        DECLARE
            damm constant smallint[] := ARRAY[{_DAMM}];
            body text;
            interim smallint := 0;
        BEGIN
            IF sequence < 1 OR sequence > 999999 THEN
                RAISE EXCEPTION 'daily sequence out of range: %', sequence USING ERRCODE = '22003';
            END IF;
            body := to_char(day, 'YYYYMMDD') || lpad(sequence::text, 6, '0');
            FOR i IN 1..14 LOOP
                interim := damm[interim * 10 + ascii(substr(body, i, 1)) - 48 + 1];
            END LOOP;
            RETURN 'BS-' || substr(body, 1, 8) || '-' || substr(body, 9, 6) || '-' || interim;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION case_number(date, bigint)")
