"""languages: each user may have a language, each organization has one (English until set)

The columns are added and dropped in place, so no table is rebuilt on SQLite (where other
rows refer to both); the API's schemas take only `it` and `en`.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), server_default="en", nullable=False)
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    # Dropped in place too (SQLite 3.35 and later can), not by rebuilding the tables.
    op.drop_column("users", "language")
    op.drop_column("organizations", "language")
