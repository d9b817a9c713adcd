"""work-list target units in Chinese

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 12:00:00

The shipped work list stated its targets' units in English, and ``banshi load-reference``
only inserts the rows that are missing, so a database loaded before keeps them. This
rewrites exactly the six English units the list shipped with; a unit an administrator
set is left alone. The mapping is a frozen copy of the change to
``service/reference_data/work_list_2026.csv`` at this revision.

The downgrade leaves the Chinese units: the schema is unchanged, every earlier version
shows a unit as it is stored, and 项 no longer tells service items from projects.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNITS = {
    "housing units": "套",
    "designated hospitals": "家",
    "staffing quotas": "个",
    "service items": "项",
    "projects": "项",
    "experts": "人",
}


def upgrade() -> None:
    rewrite = sa.text(
        "UPDATE work_list_item SET target_unit = :chinese, updated_at = now() WHERE target_unit = :english"
    )
    for english, chinese in UNITS.items():
        op.execute(rewrite.bindparams(english=english, chinese=chinese))


def downgrade() -> None:
    pass
