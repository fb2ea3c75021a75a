"""Migration 0016 on a database holding samples drawn before it: they stay scheme 1 and
never change, and a two-stage row takes its audit stage once, and nothing else."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from service.database.engine import engine_url
from service.database.migrate import alembic_config, upgrade
from tests.integration.test_migrations import empty_url  # noqa: F401 (the fixture)

SEED, COMMITMENT = "11" * 32, "22" * 32


def test_samples_drawn_before_stay_scheme_one_and_no_drawn_stage_ever_changes(
    empty_url: str,  # noqa: F811 (the fixture)
) -> None:
    url = empty_url
    upgrade(url, "0014")
    engine = create_engine(engine_url(url))
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO organizations (id, name, kind, created_at) VALUES "
            "(1, 'client', 'client', '2026-01-01'), (2, 'napoli', 'supplier', '2026-01-01')"
        ))  # fmt: skip
        connection.execute(text(
            "INSERT INTO contracts (id, client_id, supplier_id, name, created_at) VALUES "
            "(1, 1, 2, 'inbound', '2026-01-01')"
        ))  # fmt: skip
        connection.execute(
            text(
                "INSERT INTO call_samples (id, contract_id, period, seed, commitment, "
                "committed_at, drawn_at, logged_calls) VALUES "
                "(1, 1, '2026-09', :seed, :commitment, '2026-09-01', '2026-10-04', 400)"
            ),
            {"seed": SEED, "commitment": COMMITMENT},
        )
    upgrade(url)

    def refused(statement: str) -> bool:
        try:
            with engine.begin() as connection:
                connection.execute(text(statement))
        except DatabaseError:
            return True
        return False

    with engine.connect() as connection:
        kept = connection.execute(
            text("SELECT scheme, seed, seed_audit, audit_drawn_at FROM call_samples")
        ).one()
    assert tuple(kept) == (1, SEED, None, None)
    assert refused("UPDATE call_samples SET audit_drawn_at = '2026-10-11' WHERE id = 1")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO call_samples (id, contract_id, period, scheme, seed, commitment, "
                "seed_audit, commitment_audit, committed_at) VALUES (2, 1, '2026-10', 2, :seed, "
                ":commitment, :seed, :commitment, '2026-09-15')"
            ),
            {"seed": SEED, "commitment": COMMITMENT},
        )
    assert refused("UPDATE call_samples SET seed_audit = '33' WHERE id = 2")
    assert not refused(
        "UPDATE call_samples SET drawn_at = '2026-11-04', logged_calls = 9 WHERE id = 2"
    )
    assert refused("UPDATE call_samples SET logged_calls = 10 WHERE id = 2")
    assert not refused("UPDATE call_samples SET audit_drawn_at = '2026-11-11' WHERE id = 2")
    assert refused("UPDATE call_samples SET audit_drawn_at = '2026-11-12' WHERE id = 2")
    command.downgrade(alembic_config(url), "0014")
    with engine.connect() as connection:
        columns = connection.execute(text("SELECT * FROM call_samples WHERE id = 1")).keys()
    assert "scheme" not in columns and "seed_audit" not in columns
    engine.dispose()
