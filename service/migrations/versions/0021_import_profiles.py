"""import profiles: what a telephony format cannot say by itself, per contract and format

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.database.engine import UTCDateTime

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Document = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "import_profiles",
        sa.Column("id", BigId, nullable=False),
        sa.Column("contract_id", BigId, nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("document", Document, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_import_profiles_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_import_profiles_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_profiles")),
        sa.UniqueConstraint("contract_id", "format", name=op.f("uq_import_profiles_contract_id")),
    )


def downgrade() -> None:
    op.drop_table("import_profiles")
