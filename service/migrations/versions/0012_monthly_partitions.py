"""monthly partitions: with FIDUCIA_PARTITION=1 on PostgreSQL, evaluations and calls by month

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 06:00:00

Without the variable (and always on SQLite) nothing changes. With it, `evaluations` and
`calls` become range-partitioned by `period`: one partition per month that holds rows, the
running month and two ahead, and a default partition; the close makes later months ahead.

A partitioned table's unique keys must hold its partition key, so:
- evaluations keep their idempotency key (contract, call, source) exact across months in a
  narrow table `evaluation_keys`, filled by a trigger that skips a row whose key is already
  taken (as `ON CONFLICT DO NOTHING` does); revisions and disputes refer to it;
- the call log's key becomes (contract, month, call): a call belongs to the month its time
  says, so a call logged again with a time in another month is taken as another call.
"""

import os
from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op
from sqlalchemy import text

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AHEAD = 2


def wanted() -> bool:
    return op.get_bind().dialect.name == "postgresql" and os.environ.get("FIDUCIA_PARTITION") == "1"


def upgrade() -> None:
    if not wanted():
        return
    _keys_of_evaluations()
    _partition("evaluations", "id, period")
    _partition("calls", "contract_id, period, call_ref")
    for statement in EVALUATION_INDEXES + CALL_INDEXES + TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    partitioned = bind.execute(
        text("SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
             "WHERE c.relname = 'evaluations'")
    ).first()  # fmt: skip
    if partitioned is None:
        return
    raise NotImplementedError(
        "the partitioned tables stay as they are: restore a backup taken before 0012 to undo it"
    )


def _months(table: str) -> list[str]:
    """Return every month the table holds rows of, and the month before, this and two ahead."""
    held = {row[0] for row in op.get_bind().execute(text(f"SELECT DISTINCT period FROM {table}"))}
    today = datetime.now(UTC).date()
    month = f"{today.year - (today.month == 1):04d}-{(today.month - 2) % 12 + 1:02d}"
    for _ in range(AHEAD + 2):
        held.add(month)
        month = _following(month)
    return sorted(held)


def _following(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def _partition(table: str, key: str) -> None:
    """Rebuild a table as its partitioned twin holding the same rows, the same sequence."""
    months = _months(table)
    op.execute(
        f"CREATE TABLE {table}_by_month (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        "PARTITION BY RANGE (period)"
    )
    for period in months:
        op.execute(
            f"CREATE TABLE {table}_{period.replace('-', '_')} PARTITION OF {table}_by_month "
            f"FOR VALUES FROM ('{period}') TO ('{_following(period)}')"
        )
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {table}_by_month DEFAULT")
    op.execute(f"INSERT INTO {table}_by_month SELECT * FROM {table}")
    if table == "evaluations":
        op.execute("ALTER SEQUENCE evaluations_id_seq OWNED BY NONE")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {table}_by_month RENAME TO {table}")
    if table == "evaluations":
        op.execute("ALTER SEQUENCE evaluations_id_seq OWNED BY evaluations.id")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({key})")


def _keys_of_evaluations() -> None:
    """Keep every evaluation's key in a table of its own, and point its references at it."""
    op.execute(
        "CREATE TABLE evaluation_keys (evaluation_id bigint NOT NULL, contract_id bigint NOT NULL,"
        " call_ref varchar(200) NOT NULL, source varchar(16) NOT NULL,"
        " CONSTRAINT pk_evaluation_keys PRIMARY KEY (evaluation_id),"
        " CONSTRAINT uq_evaluation_keys_contract_id UNIQUE (contract_id, call_ref, source))"
    )
    op.execute(
        "INSERT INTO evaluation_keys SELECT id, contract_id, call_ref, source FROM evaluations"
    )
    for referring in ("evaluation_revisions", "disputes"):
        op.execute(
            f"ALTER TABLE {referring} DROP CONSTRAINT fk_{referring}_evaluation_id_evaluations, "
            f"ADD CONSTRAINT fk_{referring}_evaluation_id_evaluation_keys FOREIGN KEY "
            "(evaluation_id) REFERENCES evaluation_keys (evaluation_id)"
        )


EVALUATION_INDEXES = [
    "ALTER TABLE evaluations ADD CONSTRAINT uq_evaluations_contract_id_call_ref_source "
    "UNIQUE (contract_id, call_ref, source, period)",
    "CREATE INDEX ix_evaluations_contract_call_at ON evaluations (contract_id, call_at)",
    "CREATE INDEX ix_evaluations_contract_period ON evaluations (contract_id, period)",
    "CREATE INDEX ix_evaluations_revised_at ON evaluations (revised_at)",
    "ALTER TABLE evaluations ADD CONSTRAINT fk_evaluations_contract_id_contracts "
    "FOREIGN KEY (contract_id) REFERENCES contracts (id)",
    "ALTER TABLE evaluations ADD CONSTRAINT fk_evaluations_form_id_forms "
    "FOREIGN KEY (form_id) REFERENCES forms (id)",
    "ALTER TABLE evaluations ADD CONSTRAINT fk_evaluations_created_by_users "
    "FOREIGN KEY (created_by) REFERENCES users (id)",
    "ALTER TABLE evaluations ADD CONSTRAINT fk_evaluations_held_by_dispute_id_disputes "
    "FOREIGN KEY (held_by_dispute_id) REFERENCES disputes (id)",
]
CALL_INDEXES = [
    "CREATE INDEX ix_calls_contract_call_ref ON calls (contract_id, call_ref)",
]
TRIGGERS = [
    # An evaluation whose key (contract, call, source) is taken, in any month, is skipped,
    # as ON CONFLICT DO NOTHING skips it: the key stays exact across the partitions.
    """
    CREATE FUNCTION keep_evaluation_key() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO evaluation_keys (evaluation_id, contract_id, call_ref, source)
        VALUES (NEW.id, NEW.contract_id, NEW.call_ref, NEW.source)
        ON CONFLICT (contract_id, call_ref, source) DO NOTHING;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER evaluation_key_kept BEFORE INSERT ON evaluations
    FOR EACH ROW EXECUTE FUNCTION keep_evaluation_key()
    """,
    """
    CREATE TRIGGER logged_call_never_changes BEFORE UPDATE ON calls
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_logged_call()
    """,
]
