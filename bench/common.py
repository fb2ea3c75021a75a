"""What both benchmarks need: a throwaway PostgreSQL database."""

from __future__ import annotations

import os
import uuid

import psycopg
from sqlalchemy.engine import make_url

# The evaluation columns the service writes, in the order of pre-computed COPY rows.
EVALUATION_COLUMNS = (
    "contract_id",
    "call_ref",
    "source",
    "agent_ref",
    "team",
    "call_at",
    "form_id",
    "answers",
    "evaluator_ref",
    "comment",
    "score_hundredths",
    "passed",
    "critical_customer",
    "critical_business",
    "critical_compliance",
    "section_scores",
    "content_hash",
    "created_at",
    "created_by",
)


def conninfo(url: str) -> str:
    """Return a libpq URL (no SQLAlchemy driver suffix) for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(server: str, prefix: str) -> tuple[str, str]:
    """Create a uniquely named database on the server; return its name and URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(conninfo(server), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, conninfo(make_url(server).set(database=name).render_as_string(hide_password=False))


def drop_database(server: str, name: str) -> None:
    """Drop a benchmark database, disconnecting whoever still uses it."""
    with psycopg.connect(conninfo(server), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
