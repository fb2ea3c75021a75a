"""evaluation period: each evaluation keeps the contract's month its call falls in

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:30:00
"""

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 10_000


def upgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period", sa.String(length=7), nullable=True))
    _fill_periods()
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.alter_column("period", existing_type=sa.String(length=7), nullable=False)
        batch_op.create_index("ix_evaluations_contract_period", ["contract_id", "period"])


def downgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluations_contract_period")
        batch_op.drop_column("period")


def _fill_periods() -> None:
    """Give every stored evaluation its month, as the service counts it.

    The month of a call is read in the time zone of the terms in force on the first day of
    its UTC month (before the first terms: the first), as `service.agreements.period_of`
    does; written out here so the migration stays as it is whatever that code becomes.
    """
    connection = op.get_bind()
    zones: dict[int, list[tuple[date, str]]] = {}
    for contract_id, effective_from, document in connection.execute(
        sa.text(
            "SELECT contract_id, effective_from, document FROM terms_versions "
            "ORDER BY contract_id, effective_from"
        )
    ):
        if isinstance(document, str):  # SQLite hands JSON back as text
            document = json.loads(document)
        if isinstance(effective_from, str):
            effective_from = date.fromisoformat(effective_from)
        zone = document.get("timezone", "UTC")  # terms always name one; UTC for a bare test row
        zones.setdefault(contract_id, []).append((effective_from, zone))
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT id, contract_id, call_at FROM evaluations WHERE id > :last "
                "ORDER BY id LIMIT :batch"
            ),
            {"last": last, "batch": BATCH},
        ).all()
        if not rows:
            return
        updates = [
            {"id": id_, "period": _period_of(zones.get(contract_id, []), call_at)}
            for id_, contract_id, call_at in rows
        ]
        connection.execute(
            sa.text("UPDATE evaluations SET period = :period WHERE id = :id"), updates
        )
        last = rows[-1][0]


def _period_of(versions: list[tuple[date, str]], call_at: datetime | str) -> str:
    if isinstance(call_at, str):  # SQLite keeps the instant as naive UTC text
        call_at = datetime.fromisoformat(call_at)
    instant = call_at.replace(tzinfo=UTC) if call_at.tzinfo is None else call_at
    month = instant.astimezone(UTC).date().replace(day=1)
    zones = [zone for _, zone in versions] or ["UTC"]  # a contract always has terms
    in_force = [zone for start, zone in versions if start <= month] or zones[:1]
    local = instant.astimezone(ZoneInfo(in_force[-1]))
    return f"{local.year:04d}-{local.month:02d}"
