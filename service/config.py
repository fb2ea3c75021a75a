"""Configuration, read from the environment in one place."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SQLITE_FILE = "fiducia.sqlite3"
# A batch of 1,000 evaluations with every field at its longest and 10,000-character Italian
# comments sent as escaped JSON measures 21 MiB; nothing else the service takes comes close.
MAX_CONTENT_LENGTH = 32 * 1024 * 1024


def default_database_url(instance_path: str | os.PathLike[str]) -> str:
    """Return the URL of the embedded SQLite database in the instance folder."""
    return f"sqlite:///{Path(instance_path) / SQLITE_FILE}"


def instance_path() -> str | None:
    """Return the instance folder named by FIDUCIA_INSTANCE_PATH (None: Flask's default)."""
    return os.environ.get("FIDUCIA_INSTANCE_PATH") or None


def from_environment(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Build the Flask configuration from the process environment."""
    env = os.environ
    return {
        "DATABASE_URL": env.get("DATABASE_URL") or default_database_url(folder),
        "SECRET_KEY": env.get("FIDUCIA_SECRET_KEY", "dev-only-not-secret"),
        "LOG_LEVEL": env.get("FIDUCIA_LOG_LEVEL", "INFO"),
        "CLOSE_EVERY_MINUTES": int(env.get("FIDUCIA_CLOSE_EVERY_MINUTES", "60")),
        "MAX_CONTENT_LENGTH": int(env.get("FIDUCIA_MAX_CONTENT_LENGTH", MAX_CONTENT_LENGTH)),
    }
