"""operators' privacy: a pseudonym key per contract, access and erasure records, erasure in place

Each contract gets the key of its agents' pseudonyms (DESIGN 18), made with `secrets`; the
contracts that exist get theirs here. Access and erasure requests are recorded.

The triggers that refuse to change a logged call, a sampled call, a revision and a dispute
step now let one change through, and only that one: erasure, where an agent's reference
becomes its pseudonym (`op-` + 8 hex) and a free text becomes empty. Every other column still
never changes.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 10:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.database.engine import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Document = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")

# (trigger, table, references that may become pseudonyms, texts that may be emptied, the
# columns that never change, what the refusal says on SQLite). A column added to one of these
# tables later is added to one of the three lists.
ERASABLE = [
    (
        "logged_call_never_changes",
        "calls",
        ["agent_ref", "caller_ref"],
        [],
        ["contract_id", "call_ref", "period", "call_at", "team", "queue", "direction",
         "duration_s", "logged_at", "logged_by", "outcome", "wait_s", "handle_s"],
        "a logged call never changes",
    ),
    (
        "sampled_call_never_changes",
        "sampled_calls",
        ["agent_ref"],
        [],
        ["sample_id", "purpose", "call_ref", "rank_key", "via"],
        "a sampled call never changes",
    ),
    (
        "evaluation_revision_never_changes",
        "evaluation_revisions",
        [],
        ["reason"],
        ["id", "evaluation_id", "revision", "kind", "dispute_id", "created_at", "created_by",
         "answers", "score_hundredths", "passed", "critical_customer", "critical_business",
         "critical_compliance", "section_scores", "retracted"],
        "a revision is history and never changes",
    ),
    (
        "dispute_step_never_changes",
        "dispute_steps",
        [],
        ["reason"],
        ["id", "dispute_id", "step", "at", "by", "score_before_hundredths",
         "score_after_hundredths", "revision"],
        "a dispute step is history and never changes",
    ),
]  # fmt: skip
OLD_FUNCTIONS = {
    "logged_call_never_changes": "refuse_change_of_logged_call",
    "sampled_call_never_changes": "refuse_change_of_logged_call",
    "evaluation_revision_never_changes": "refuse_change_of_history",
    "dispute_step_never_changes": "refuse_change_of_history",
}

# PostgreSQL: one function, told by the trigger's arguments which columns erasure may touch
# ("ref:agent_ref", "text:reason"); every other column is compared whole, as JSON.
REFUSE_BUT_ERASURE = """
CREATE FUNCTION refuse_change_but_erasure() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    erasable text[] := '{}';
    argument text;
    name text;
    new_value text;
    old_value text;
BEGIN
    FOREACH argument IN ARRAY TG_ARGV LOOP
        name := split_part(argument, ':', 2);
        erasable := erasable || name;
        new_value := to_jsonb(NEW) ->> name;
        old_value := to_jsonb(OLD) ->> name;
        IF new_value IS DISTINCT FROM old_value AND NOT (
            (split_part(argument, ':', 1) = 'ref' AND new_value ~ '^op-[0-9a-f]{8}$')
            OR (split_part(argument, ':', 1) = 'text' AND coalesce(new_value, '') = '')
        ) THEN
            RAISE EXCEPTION 'a row of % never changes but by erasure', TG_TABLE_NAME
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END LOOP;
    IF (to_jsonb(NEW) - erasable) IS DISTINCT FROM (to_jsonb(OLD) - erasable) THEN
        RAISE EXCEPTION 'a row of % never changes but by erasure', TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$
"""


def _sqlite_trigger(
    name: str, table: str, refs: list[str], texts: list[str], kept: list[str], what: str
) -> str:
    changed = [f"NEW.{column} IS NOT OLD.{column}" for column in kept]
    changed += [
        f"(NEW.{column} IS NOT OLD.{column} AND NOT (NEW.{column} GLOB "
        f"'op-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'))"
        for column in refs
    ]
    changed += [
        f"(NEW.{column} IS NOT OLD.{column} AND coalesce(NEW.{column}, '') <> '')"
        for column in texts
    ]
    return (
        f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} WHEN {' OR '.join(changed)} "
        f"BEGIN SELECT RAISE(ABORT, '{what}'); END"
    )


def upgrade() -> None:
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(sa.Column("privacy_key", sa.String(length=64), nullable=True))
    contracts = sa.table("contracts", sa.column("id", BigId), sa.column("privacy_key", sa.String))
    connection = op.get_bind()
    for (contract_id,) in connection.execute(sa.select(contracts.c.id)).all():
        connection.execute(
            contracts.update()
            .where(contracts.c.id == contract_id)
            .values(privacy_key=secrets.token_hex(32))
        )
    with op.batch_alter_table("contracts") as batch:
        batch.alter_column("privacy_key", existing_type=sa.String(length=64), nullable=False)

    op.create_table(
        "privacy_requests",
        sa.Column("id", BigId, nullable=False),
        sa.Column("contract_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("pseudonym", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=True),
        sa.Column("made_at", UTCDateTime(), nullable=False),
        sa.Column("made_by", BigId, nullable=True),
        sa.Column("counts", Document, nullable=False),
        sa.CheckConstraint("kind IN ('access', 'erasure')", name=op.f("ck_privacy_requests_kind")),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_privacy_requests_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["made_by"], ["users.id"], name=op.f("fk_privacy_requests_made_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    op.create_index(
        op.f("ix_privacy_requests_contract_id"), "privacy_requests", ["contract_id"], unique=False
    )

    if connection.dialect.name == "postgresql":
        op.execute(REFUSE_BUT_ERASURE)
        for name, table, refs, texts, _, _ in ERASABLE:
            arguments = ", ".join([f"'ref:{c}'" for c in refs] + [f"'text:{c}'" for c in texts])
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION refuse_change_but_erasure({arguments})"
            )
    else:
        for name, table, refs, texts, kept, what in ERASABLE:
            op.execute(f"DROP TRIGGER {name}")
            op.execute(_sqlite_trigger(name, table, refs, texts, kept, what))


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        for name, table, _, _, _, _ in ERASABLE:
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION {OLD_FUNCTIONS[name]}()"
            )
        op.execute("DROP FUNCTION refuse_change_but_erasure()")
    else:
        for name, table, _, _, _, what in ERASABLE:
            op.execute(f"DROP TRIGGER {name}")
            op.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{what}'); END"
            )
    op.drop_index(op.f("ix_privacy_requests_contract_id"), table_name="privacy_requests")
    op.drop_table("privacy_requests")
    with op.batch_alter_table("contracts") as batch:
        batch.drop_column("privacy_key")
