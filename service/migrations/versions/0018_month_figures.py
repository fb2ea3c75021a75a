"""month figures served, not recomputed: each contract's month stored with the stamp it read

`month_inputs` holds each contract's month's stamp, bumped by every committed write to what
its figures read; `month_figures` the figures last computed, with the stamp and the terms
version they were computed at (DESIGN 5). Both start empty: a month without a stamp is at
version 0, and a month without stored figures is computed on its first read.

The month index (0014) also carries what the month's one relation reads beside the scores:
the evaluation's id (its disputes), when it was made (the samples' due dates), its agent and
team; so the month is read from the index alone on PostgreSQL. SQLite's index carries nothing.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.database.engine import UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# What the month index carried before (0014).
CARRIED = [
    "source",
    "form_id",
    "score_hundredths",
    "passed",
    "critical_customer",
    "critical_business",
    "critical_compliance",
    "retracted",
]
Document = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "month_inputs",
        sa.Column("contract_id", BigId, nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_month_inputs_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("contract_id", "period", name=op.f("pk_month_inputs")),
    )
    op.create_table(
        "month_figures",
        sa.Column("contract_id", BigId, nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("terms_version_id", BigId, nullable=False),
        sa.Column("figures", Document, nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_month_figures_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["terms_version_id"],
            ["terms_versions.id"],
            name=op.f("fk_month_figures_terms_version_id_terms_versions"),
        ),
        sa.PrimaryKeyConstraint("contract_id", "period", name=op.f("pk_month_figures")),
    )

    if op.get_bind().dialect.name == "postgresql":
        _month_index(CARRIED + ["id", "created_at", "agent_ref", "team"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _month_index(CARRIED)
    op.drop_table("month_figures")
    op.drop_table("month_inputs")


def _month_index(carried: list[str]) -> None:
    op.drop_index("ix_evaluations_month", table_name="evaluations")
    op.create_index(
        "ix_evaluations_month",
        "evaluations",
        ["period", "contract_id", "call_ref"],
        postgresql_include=carried,
    )
