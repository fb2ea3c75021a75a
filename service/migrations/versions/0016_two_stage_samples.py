"""two-stage samples: a second seed and its commitment, and when the audit sample was drawn

Samples are drawn in two stages (DESIGN 13): the self sample when the log closes, the audit
sample out of it when the self-assessments are due, each with a seed of its own committed in
the month before. A sample row says its scheme (1: per agent, the rows already drawn; 2: two
stages), keeps the audit seed and its commitment beside the self's, and records when the audit
stage was drawn.

The guard that a sample never changes is the same in spirit, one column wider: the seeds, the
commitments, the scheme, the month and when it was committed never change; a stage once drawn
never changes; and the only change a drawn two-stage row still takes is its audit stage being
drawn, once. The PostgreSQL function `refuse_change_of_sample()` is replaced and the SQLite
trigger `sample_never_changes` made again; no other trigger is touched.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.database.engine import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What may never change in a sample row, written for each database.
FROZEN = {
    "postgresql": """
        NEW.seed <> OLD.seed OR NEW.commitment <> OLD.commitment
        OR NEW.contract_id <> OLD.contract_id OR NEW.period <> OLD.period
        OR NEW.committed_at <> OLD.committed_at OR NEW.scheme <> OLD.scheme
        OR NEW.seed_audit IS DISTINCT FROM OLD.seed_audit
        OR NEW.commitment_audit IS DISTINCT FROM OLD.commitment_audit
        OR OLD.audit_drawn_at IS NOT NULL
        OR (OLD.drawn_at IS NOT NULL AND (OLD.scheme = 1
            OR NEW.drawn_at IS DISTINCT FROM OLD.drawn_at
            OR NEW.logged_calls IS DISTINCT FROM OLD.logged_calls
            OR NEW.sizes IS DISTINCT FROM OLD.sizes))
    """,
    "sqlite": """
        NEW.seed <> OLD.seed OR NEW.commitment <> OLD.commitment
        OR NEW.contract_id <> OLD.contract_id OR NEW.period <> OLD.period
        OR NEW.committed_at <> OLD.committed_at OR NEW.scheme <> OLD.scheme
        OR NEW.seed_audit IS NOT OLD.seed_audit
        OR NEW.commitment_audit IS NOT OLD.commitment_audit
        OR OLD.audit_drawn_at IS NOT NULL
        OR (OLD.drawn_at IS NOT NULL AND (OLD.scheme = 1
            OR NEW.drawn_at IS NOT OLD.drawn_at
            OR NEW.logged_calls IS NOT OLD.logged_calls
            OR NEW.sizes IS NOT OLD.sizes))
    """,
}
# As migration 0010 made them.
BEFORE = {
    "postgresql": """
        OLD.drawn_at IS NOT NULL OR NEW.seed <> OLD.seed
        OR NEW.commitment <> OLD.commitment OR NEW.contract_id <> OLD.contract_id
        OR NEW.period <> OLD.period OR NEW.committed_at <> OLD.committed_at
    """,
    "sqlite": """
        OLD.drawn_at IS NOT NULL OR NEW.seed <> OLD.seed
        OR NEW.commitment <> OLD.commitment OR NEW.contract_id <> OLD.contract_id
        OR NEW.period <> OLD.period OR NEW.committed_at <> OLD.committed_at
    """,
}
COLUMNS = ("scheme", "seed_audit", "commitment_audit", "audit_drawn_at")


def _guard(dialect: str, condition: str) -> list[str]:
    """Return the statements that make the guard of a sample row refuse `condition`."""
    if dialect == "postgresql":
        return [
            f"""
            CREATE OR REPLACE FUNCTION refuse_change_of_sample() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF {condition} THEN
                    RAISE EXCEPTION 'sample % is committed and drawn once and never changes',
                        OLD.id USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                RETURN NEW;
            END $$
            """
        ]
    return [
        "DROP TRIGGER sample_never_changes",
        f"""
        CREATE TRIGGER sample_never_changes BEFORE UPDATE ON call_samples
        WHEN {condition}
        BEGIN SELECT RAISE(ABORT, 'a sample is committed and drawn once and never changes'); END
        """,
    ]


def upgrade() -> None:
    op.add_column(
        "call_samples", sa.Column("scheme", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column("call_samples", sa.Column("seed_audit", sa.String(length=64), nullable=True))
    op.add_column(
        "call_samples", sa.Column("commitment_audit", sa.String(length=64), nullable=True)
    )
    op.add_column(
        "call_samples",
        sa.Column("audit_drawn_at", UTCDateTime(timezone=True), nullable=True),
    )
    dialect = op.get_bind().dialect.name
    for statement in _guard(dialect, FROZEN[dialect]):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _guard(dialect, BEFORE[dialect]):
        op.execute(statement)
    for name in reversed(COLUMNS):
        # SQLite drops a column in place (3.35 and later); no batch copy, which would lose the
        # table's triggers.
        op.execute(f"ALTER TABLE call_samples DROP COLUMN {name}")
