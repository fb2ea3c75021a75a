"""month index: a month's evaluations read from one index, grouped by contract and call

The figures of a month group its evaluations by contract and call and read only their
source, form, score, flags and retraction. An index on (period, contract_id, call_ref) that
carries those columns (PostgreSQL's INCLUDE) serves that read in key order from the index
alone once the table is vacuumed, and every per-contract filter on a month as the index it
replaces did. On SQLite the same key is indexed without the carried columns.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 08:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

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


def upgrade() -> None:
    op.create_index(
        "ix_evaluations_month",
        "evaluations",
        ["period", "contract_id", "call_ref"],
        postgresql_include=CARRIED,
    )
    op.drop_index("ix_evaluations_contract_period", table_name="evaluations")


def downgrade() -> None:
    op.create_index("ix_evaluations_contract_period", "evaluations", ["contract_id", "period"])
    op.drop_index("ix_evaluations_month", table_name="evaluations")
