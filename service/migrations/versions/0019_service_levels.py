"""service levels: what the call log says of each call's queue, surveys, the client's count

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-10 09:00:00

A logged call may say how it ended (`outcome`, answered unless it says otherwise: every call
logged before is answered), how long the caller waited and was handled (`wait_s`,
`handle_s`) and who called (`caller_ref`, a pseudonym). Added columns take no rewrite of the
log and fire none of its triggers: a month of millions of calls stays as it is.

Surveys are the caller's rating of a logged call, one per call; the client's count is its
own count of calls offered per day, with every change kept, as daily volumes are.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from service.database.engine import BigId, UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES = "'answered', 'abandoned', 'no_answer', 'busy', 'failed'"


def upgrade() -> None:
    op.add_column(
        "calls",
        sa.Column(
            "outcome",
            sa.String(length=16),
            sa.CheckConstraint(f"outcome IN ({OUTCOMES})", name=op.f("ck_calls_outcome")),
            nullable=False,
            server_default="answered",
        ),
    )
    op.add_column(
        "calls",
        sa.Column(
            "wait_s",
            sa.Integer(),
            sa.CheckConstraint("wait_s IS NULL OR wait_s >= 0", name=op.f("ck_calls_wait")),
            nullable=True,
        ),
    )
    op.add_column(
        "calls",
        sa.Column(
            "handle_s",
            sa.Integer(),
            sa.CheckConstraint("handle_s IS NULL OR handle_s >= 0", name=op.f("ck_calls_handle")),
            nullable=True,
        ),
    )
    op.add_column("calls", sa.Column("caller_ref", sa.String(length=200), nullable=True))

    op.create_table(
        "survey_answers",
        sa.Column("id", BigId, nullable=False),
        sa.Column("contract_id", BigId, nullable=False),
        sa.Column("call_ref", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.Column("csat", sa.SmallInteger(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("nps", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", BigId, nullable=True),
        sa.CheckConstraint("csat BETWEEN 1 AND 5", name=op.f("ck_survey_answers_csat")),
        sa.CheckConstraint(
            "nps IS NULL OR nps BETWEEN 0 AND 10", name=op.f("ck_survey_answers_nps")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_survey_answers_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_survey_answers_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint("contract_id", "call_ref", name=op.f("uq_survey_answers_contract_id")),
    )
    op.create_index(
        "ix_survey_answers_contract_period", "survey_answers", ["contract_id", "period"]
    )
    for table, value in (("client_counts", "offered"), ("client_count_changes", "offered")):
        columns: list[Any] = [
            sa.Column("id", BigId, nullable=False),
            sa.Column("contract_id", BigId, nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
        ]
        if table == "client_counts":
            columns += [
                sa.Column(value, sa.BigInteger(), nullable=False),
                sa.Column("updated_at", UTCDateTime(), nullable=False),
                sa.Column("updated_by", BigId, nullable=True),
                sa.CheckConstraint("offered >= 0", name=op.f("ck_client_counts_offered")),
                sa.ForeignKeyConstraint(
                    ["updated_by"], ["users.id"], name=op.f("fk_client_counts_updated_by_users")
                ),
                sa.UniqueConstraint(
                    "contract_id", "day", name=op.f("uq_client_counts_contract_id")
                ),
            ]
        else:
            columns += [
                sa.Column("previous", sa.BigInteger(), nullable=True),
                sa.Column(value, sa.BigInteger(), nullable=False),
                sa.Column("changed_at", UTCDateTime(), nullable=False),
                sa.Column("changed_by", BigId, nullable=True),
                sa.ForeignKeyConstraint(
                    ["changed_by"],
                    ["users.id"],
                    name=op.f("fk_client_count_changes_changed_by_users"),
                ),
            ]
        op.create_table(
            table,
            *columns,
            sa.ForeignKeyConstraint(
                ["contract_id"], ["contracts.id"], name=op.f(f"fk_{table}_contract_id_contracts")
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
    op.create_index(
        "ix_client_count_changes_contract_day", "client_count_changes", ["contract_id", "day"]
    )


def downgrade() -> None:
    op.drop_table("client_count_changes")
    op.drop_table("client_counts")
    op.drop_table("survey_answers")
    # A plain DROP COLUMN on both databases (SQLite 3.35+ has it): a batch copy of the table
    # would drop the log's triggers and keep CHECKs naming the dropped columns.
    for name in ("caller_ref", "handle_s", "wait_s", "outcome"):
        op.drop_column("calls", name)
