"""Migration 0017: the calibration tables and the triggers that keep a closed session as it
closed come with it and go with its downgrade, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from service.database.engine import engine_url
from service.database.migrate import alembic_config, upgrade
from tests.integration.test_migrations import empty_url

TABLES = {
    "calibration_sessions",
    "calibration_calls",
    "calibration_participants",
    "calibration_scores",
}

__all__ = ["empty_url"]  # the fixture, shared


def tables_of(url: str) -> set[str]:
    engine = create_engine(engine_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_calibration_tables_come_with_0017_and_go_with_its_downgrade(empty_url: str) -> None:
    upgrade(empty_url, "0016")
    before = tables_of(empty_url)
    upgrade(empty_url, "0017")
    assert tables_of(empty_url) - before == TABLES
    command.downgrade(alembic_config(empty_url), "0016")
    assert tables_of(empty_url) == before
    upgrade(empty_url, "0017")  # and again, cleanly: no trigger or function was left behind
    assert TABLES <= tables_of(empty_url)
