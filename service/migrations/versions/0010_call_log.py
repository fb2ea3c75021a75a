"""call log: each contract's calls, each period's committed seed and drawn samples

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 04:25:07.471215
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from service.database.engine import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# A logged call never changes; a period's seed and commitment never change; a drawn sample
# never changes. The database refuses it, whatever code path would try.
TRIGGERS = {
    "postgresql": [
        """
        CREATE FUNCTION refuse_change_of_logged_call() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'a logged call never changes'
                USING ERRCODE = 'integrity_constraint_violation';
        END $$
        """,
        """
        CREATE TRIGGER logged_call_never_changes BEFORE UPDATE ON calls
        FOR EACH ROW EXECUTE FUNCTION refuse_change_of_logged_call()
        """,
        """
        CREATE TRIGGER sampled_call_never_changes BEFORE UPDATE ON sampled_calls
        FOR EACH ROW EXECUTE FUNCTION refuse_change_of_logged_call()
        """,
        """
        CREATE FUNCTION refuse_change_of_sample() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.drawn_at IS NOT NULL OR NEW.seed <> OLD.seed
                    OR NEW.commitment <> OLD.commitment OR NEW.contract_id <> OLD.contract_id
                    OR NEW.period <> OLD.period OR NEW.committed_at <> OLD.committed_at THEN
                RAISE EXCEPTION 'sample % is committed and drawn once and never changes', OLD.id
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END $$
        """,
        """
        CREATE TRIGGER sample_never_changes BEFORE UPDATE ON call_samples
        FOR EACH ROW EXECUTE FUNCTION refuse_change_of_sample()
        """,
    ],
    "sqlite": [
        """
        CREATE TRIGGER logged_call_never_changes BEFORE UPDATE ON calls
        BEGIN SELECT RAISE(ABORT, 'a logged call never changes'); END
        """,
        """
        CREATE TRIGGER sampled_call_never_changes BEFORE UPDATE ON sampled_calls
        BEGIN SELECT RAISE(ABORT, 'a sampled call never changes'); END
        """,
        """
        CREATE TRIGGER sample_never_changes BEFORE UPDATE ON call_samples
        WHEN OLD.drawn_at IS NOT NULL OR NEW.seed <> OLD.seed
            OR NEW.commitment <> OLD.commitment OR NEW.contract_id <> OLD.contract_id
            OR NEW.period <> OLD.period OR NEW.committed_at <> OLD.committed_at
        BEGIN SELECT RAISE(ABORT, 'a sample is committed and drawn once and never changes'); END
        """,
    ],
}
DROP_TRIGGERS = {
    "postgresql": [
        "DROP TRIGGER sample_never_changes ON call_samples",
        "DROP FUNCTION refuse_change_of_sample()",
        "DROP TRIGGER sampled_call_never_changes ON sampled_calls",
        "DROP TRIGGER logged_call_never_changes ON calls",
        "DROP FUNCTION refuse_change_of_logged_call()",
    ],
    "sqlite": [
        "DROP TRIGGER sample_never_changes",
        "DROP TRIGGER sampled_call_never_changes",
        "DROP TRIGGER logged_call_never_changes",
    ],
}


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("contract_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("call_ref", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("call_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("agent_ref", sa.String(length=200), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("queue", sa.String(length=200), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("logged_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("logged_by", BIG_ID, nullable=True),
        sa.CheckConstraint(
            "direction IS NULL OR direction IN ('inbound', 'outbound')", name=op.f("ck_calls_dir")
        ),
        sa.CheckConstraint("duration_s IS NULL OR duration_s >= 0", name=op.f("ck_calls_duration")),
        sa.PrimaryKeyConstraint("contract_id", "call_ref", name=op.f("pk_calls")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index("ix_calls_contract_period", ["contract_id", "period"], unique=False)

    op.create_table(
        "call_samples",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("contract_id", BIG_ID, nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("committed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sizes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("drawn_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("logged_calls", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_call_samples_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_samples")),
        sa.UniqueConstraint(
            "contract_id", "period", name=op.f("uq_call_samples_contract_id_period")
        ),
    )
    op.create_table(
        "sampled_calls",
        sa.Column("sample_id", BIG_ID, nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("call_ref", sa.String(length=200), nullable=False),
        sa.Column("agent_ref", sa.String(length=200), nullable=False),
        sa.Column("rank_key", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.CheckConstraint("purpose IN ('audit', 'self')", name=op.f("ck_sampled_calls_purpose")),
        sa.CheckConstraint("via IN ('agent', 'top_up')", name=op.f("ck_sampled_calls_via")),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["call_samples.id"],
            name=op.f("fk_sampled_calls_sample_id_call_samples"),
        ),
        sa.PrimaryKeyConstraint("sample_id", "purpose", "call_ref", name=op.f("pk_sampled_calls")),
    )
    for statement in TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table("sampled_calls")
    op.drop_table("call_samples")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_contract_period")
    op.drop_table("calls")
