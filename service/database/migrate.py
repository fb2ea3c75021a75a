"""Schema migrations through Alembic, configured in code."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parents[1] / "migrations"  # service/migrations, beside the domains


def alembic_config(database_url: str) -> Config:
    """Return an Alembic configuration for a database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate a database up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)
