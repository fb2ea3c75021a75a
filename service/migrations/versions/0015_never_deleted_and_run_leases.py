"""never deleted, run leases: what never changes cannot be deleted; a job run holds a lease

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 09:00:00

The triggers of 0005, 0008 and 0010 refuse to UPDATE a final statement, a report file, a
revision, a dispute step, a logged call, a committed sample and a sampled call; a DELETE
followed by an INSERT rewrote them all the same. Each now has a twin that refuses DELETE.
A committed sample is refused whole: deleting it would let another seed be committed.

A job run records where it runs (host, process) and a lease it renews while it lasts, so a
run whose process died is marked `abandoned` (and when that was noticed) instead of staying
`running` for good.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.database.engine import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (trigger, table, condition or None, what the refusal says on SQLite)
KEPT = [
    ("final_statement_never_deleted", "statements", "OLD.status = 'final'", "a final statement"),
    ("report_file_never_deleted", "report_files", None, "a report file"),
    ("evaluation_revision_never_deleted", "evaluation_revisions", None, "a revision"),
    ("dispute_step_never_deleted", "dispute_steps", None, "a dispute step"),
    ("logged_call_never_deleted", "calls", None, "a logged call"),
    ("sample_never_deleted", "call_samples", None, "a committed sample"),
    ("sampled_call_never_deleted", "sampled_calls", None, "a sampled call"),
]

REFUSE_DELETION = """
CREATE FUNCTION refuse_deletion() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a row of % is kept for good and never deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$
"""


def _create(dialect: str, name: str, table: str, condition: str | None, what: str) -> str:
    if dialect == "postgresql":
        when = f"WHEN ({condition}) " if condition else ""
        return (
            f"CREATE TRIGGER {name} BEFORE DELETE ON {table} FOR EACH ROW {when}"
            "EXECUTE FUNCTION refuse_deletion()"
        )
    when = f"WHEN {condition} " if condition else ""
    refusal = f"{what} is kept for good and never deleted"
    return (
        f"CREATE TRIGGER {name} BEFORE DELETE ON {table} {when}"
        f"BEGIN SELECT RAISE(ABORT, '{refusal}'); END"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(REFUSE_DELETION)
    for name, table, condition, what in KEPT:
        op.execute(_create(dialect, name, table, condition, what))

    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lease_until", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("abandoned_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_column("abandoned_at")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("pid")
        batch_op.drop_column("host")

    dialect = op.get_bind().dialect.name
    for name, table, _condition, _what in reversed(KEPT):
        on = f" ON {table}" if dialect == "postgresql" else ""
        op.execute(f"DROP TRIGGER {name}{on}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION refuse_deletion()")
