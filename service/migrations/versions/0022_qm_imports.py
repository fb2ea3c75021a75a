"""QM imports: the product's form beside the form it published, its score beside an evaluation

A form imported from Amazon Connect or Genesys Cloud keeps the product's document and the
key that reads its evaluations (`form_imports`); an imported evaluation keeps the product's
own score, never trusted (`evaluation_imports`). DESIGN 19.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.database.engine import UTCDateTime

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Document = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "form_imports",
        sa.Column("form_id", BigId, nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("source", Document, nullable=False),
        sa.Column("reading", Document, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"], ["forms.id"], name=op.f("fk_form_imports_form_id_forms")
        ),
        sa.PrimaryKeyConstraint("form_id", name=op.f("pk_form_imports")),
    )
    op.create_table(
        "evaluation_imports",
        sa.Column("evaluation_id", BigId, nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("product_score", sa.String(length=40), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _evaluation_reference(),
        sa.PrimaryKeyConstraint("evaluation_id", name=op.f("pk_evaluation_imports")),
    )


def _evaluation_reference() -> sa.ForeignKeyConstraint:
    """Refer to an evaluation as the others do: where `evaluations` is partitioned by month
    (0012), its id alone is unique only in `evaluation_keys`, which revisions and disputes
    refer to as well."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and sa.inspect(bind).has_table("evaluation_keys"):
        return sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluation_keys.evaluation_id"],
            name=op.f("fk_evaluation_imports_evaluation_id_evaluation_keys"),
        )
    return sa.ForeignKeyConstraint(
        ["evaluation_id"],
        ["evaluations.id"],
        name=op.f("fk_evaluation_imports_evaluation_id_evaluations"),
    )


def downgrade() -> None:
    op.drop_table("evaluation_imports")
    op.drop_table("form_imports")
