"""calibration sessions: their calls, participants and blind scores; a closed one never changes

Calibration scores (DESIGN 17) live apart from evaluations, so they never count in a figure.
Once a session is closed its row, its calls, its participants and its scores never change nor
go: the database refuses it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.database.engine import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Document = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")

# The tables below a session, and how a row names its session.
CHILDREN = ("calibration_calls", "calibration_participants", "calibration_scores")
CLOSED = "(SELECT status FROM calibration_sessions WHERE id = {row}.session_id) = 'closed'"


def _postgresql() -> list[str]:
    # A trigger's WHEN may not read another table on PostgreSQL: the children's function does.
    statements = [
        """
        CREATE FUNCTION refuse_change_of_closed_session() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'a closed calibration session never changes'
                USING ERRCODE = 'integrity_constraint_violation';
        END $$
        """,
        """
        CREATE TRIGGER closed_session_never_changes
        BEFORE UPDATE OR DELETE ON calibration_sessions
        FOR EACH ROW WHEN (OLD.status = 'closed')
        EXECUTE FUNCTION refuse_change_of_closed_session()
        """,
        """
        CREATE FUNCTION refuse_change_in_closed_session() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            owner bigint;
        BEGIN
            IF TG_OP = 'INSERT' THEN owner := NEW.session_id; ELSE owner := OLD.session_id; END IF;
            IF (SELECT status FROM calibration_sessions WHERE id = owner) = 'closed' THEN
                RAISE EXCEPTION 'a closed calibration session never changes (%)', TG_TABLE_NAME
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END $$
        """,
    ]
    for table in CHILDREN:
        statements.append(
            f"""
            CREATE TRIGGER {table}_of_closed_never_change
            BEFORE INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION refuse_change_in_closed_session()
            """
        )
    return statements


def _sqlite() -> list[str]:
    refuse = "BEGIN SELECT RAISE(ABORT, 'a closed calibration session never changes'); END"
    statements = [
        f"""
        CREATE TRIGGER closed_session_never_changes BEFORE UPDATE ON calibration_sessions
        WHEN OLD.status = 'closed' {refuse}
        """,
        f"""
        CREATE TRIGGER closed_session_never_goes BEFORE DELETE ON calibration_sessions
        WHEN OLD.status = 'closed' {refuse}
        """,
    ]
    for table in CHILDREN:
        for event, row in (("UPDATE", "OLD"), ("DELETE", "OLD"), ("INSERT", "NEW")):
            statements.append(
                f"""
                CREATE TRIGGER {table}_of_closed_{event.lower()} BEFORE {event} ON {table}
                WHEN {CLOSED.format(row=row)} {refuse}
                """
            )
    return statements


def _drops(dialect: str) -> list[str]:
    if dialect == "postgresql":
        drops = ["DROP TRIGGER closed_session_never_changes ON calibration_sessions"]
        drops += [f"DROP TRIGGER {table}_of_closed_never_change ON {table}" for table in CHILDREN]
        return drops + [
            "DROP FUNCTION refuse_change_of_closed_session()",
            "DROP FUNCTION refuse_change_in_closed_session()",
        ]
    drops = ["DROP TRIGGER closed_session_never_changes", "DROP TRIGGER closed_session_never_goes"]
    for table in CHILDREN:
        drops += [
            f"DROP TRIGGER {table}_of_closed_{event}" for event in ("update", "delete", "insert")
        ]
    return drops


def upgrade() -> None:
    op.create_table(
        "calibration_sessions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("contract_id", BigId, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("reference_id", BigId, nullable=True),
        sa.Column("form_id", BigId, nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", BigId, nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", BigId, nullable=True),
        sa.Column("agreement", Document, nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'closed')", name=op.f("ck_calibration_sessions_status")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_calibration_sessions_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["reference_id"], ["users.id"], name=op.f("fk_calibration_sessions_reference_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["form_id"], ["forms.id"], name=op.f("fk_calibration_sessions_form_id_forms")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_calibration_sessions_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["users.id"], name=op.f("fk_calibration_sessions_closed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_sessions")),
    )
    op.create_index(
        op.f("ix_calibration_sessions_contract_id"), "calibration_sessions", ["contract_id"]
    )
    op.create_index(
        op.f("ix_calibration_sessions_closed_at"), "calibration_sessions", ["closed_at"]
    )
    op.create_table(
        "calibration_calls",
        sa.Column("session_id", BigId, nullable=False),
        sa.Column("call_ref", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("call_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["calibration_sessions.id"],
            name=op.f("fk_calibration_calls_session_id_calibration_sessions"),
        ),
        sa.PrimaryKeyConstraint("session_id", "call_ref", name=op.f("pk_calibration_calls")),
    )
    op.create_table(
        "calibration_participants",
        sa.Column("session_id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "side IN ('client', 'supplier', 'third_party')",
            name=op.f("ck_calibration_participants_side"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["calibration_sessions.id"],
            name=op.f("fk_calibration_participants_session_id_calibration_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calibration_participants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("session_id", "user_id", name=op.f("pk_calibration_participants")),
    )
    op.create_table(
        "calibration_scores",
        sa.Column("id", BigId, nullable=False),
        sa.Column("session_id", BigId, nullable=False),
        sa.Column("call_ref", sa.String(length=200), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("answers", Document, nullable=False),
        sa.Column("score_hundredths", sa.Integer(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("critical_errors", Document, nullable=False),
        sa.Column("section_scores", Document, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revised_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["calibration_sessions.id"],
            name=op.f("fk_calibration_scores_session_id_calibration_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calibration_scores_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibration_scores")),
        sa.UniqueConstraint(
            "session_id",
            "call_ref",
            "user_id",
            name=op.f("uq_calibration_scores_session_id_call_ref_user_id"),
        ),
    )
    op.create_index(op.f("ix_calibration_scores_session_id"), "calibration_scores", ["session_id"])
    dialect = op.get_bind().dialect.name
    for statement in _postgresql() if dialect == "postgresql" else _sqlite():
        op.execute(statement)


def downgrade() -> None:
    for statement in _drops(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("calibration_scores")
    op.drop_table("calibration_participants")
    op.drop_table("calibration_calls")
    op.drop_table("calibration_sessions")
