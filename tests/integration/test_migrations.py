"""Migrations that move data, run on a database holding data of the revision before them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from service.migrate import alembic_config, upgrade


def test_form_shares_start_with_every_supplier_that_has_a_contract(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    upgrade(url, "0005")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO organizations (id, name, kind, created_at) VALUES "
            "(1, 'client', 'client', '2026-01-01'), (2, 'napoli', 'supplier', '2026-01-01'), "
            "(3, 'torino', 'supplier', '2026-01-01'), (4, 'idle', 'supplier', '2026-01-01')"
        ))  # fmt: skip
        connection.execute(text(
            "INSERT INTO contracts (id, client_id, supplier_id, name, created_at) VALUES "
            "(1, 1, 2, 'inbound', '2026-01-01'), (2, 1, 2, 'outbound', '2026-01-01'), "
            "(3, 1, 3, 'inbound', '2026-01-01')"
        ))  # fmt: skip
    upgrade(url)
    with engine.connect() as connection:
        shares = connection.execute(text("SELECT owner_id, reader_id FROM form_shares")).all()
    assert sorted(shares) == [(1, 2), (1, 3)]
    command.downgrade(alembic_config(url), "0005")
    engine.dispose()
