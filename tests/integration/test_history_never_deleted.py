"""What never changes cannot be deleted either (DESIGN §14): the database refuses a DELETE of
every row its triggers refuse to UPDATE, so nothing can be rewritten by deleting it and
inserting it again."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError

from service.database.engine import engine_url
from service.database.migrate import alembic_config, upgrade
from service.edge.actors import OPERATOR
from service.statements import service as statements
from service.statements.models import Statement
from service.statements.reports import store_reports
from tests.conftest import postgres_database

# Each table whose rows never change, and which of its rows are kept for good.
KEPT = {
    "statements": "status = 'final'",
    "report_files": "1 = 1",
    "evaluation_revisions": "1 = 1",
    "dispute_steps": "1 = 1",
    "calls": "1 = 1",
    "call_samples": "1 = 1",
    "sampled_calls": "1 = 1",
}


@pytest.fixture
def history(demo_app: Flask) -> None:
    """The demo, with one statement finalized and its report files made after the commit."""
    app = demo_app
    factory = app.extensions["fiducia.sessionmaker"]
    finalized = None
    with factory.begin() as session:
        drafts = session.scalars(
            select(Statement).where(Statement.status == "draft").order_by(Statement.id.desc())
        )
        for draft in drafts:
            try:
                with session.begin_nested():
                    statements.finalize(session=session, actor=OPERATOR, statement_id=draft.id)
            except Exception:  # a sampled month whose samples are not drawn yet: the next
                continue
            finalized = draft.id
            break
    assert finalized is not None
    store_reports(factory, finalized)


def _count(app: Flask, table: str) -> int:
    with app.extensions["fiducia.engine"].connect() as connection:
        return connection.execute(
            text(f"SELECT COUNT(*) FROM {table} WHERE {KEPT[table]}")
        ).scalar_one()


def test_the_database_refuses_to_delete_what_never_changes(app: Flask, history: None) -> None:
    kept = {table: _count(app, table) for table in KEPT}
    assert all(kept.values()), kept
    refusals = {}
    for table, which in KEPT.items():
        with pytest.raises(IntegrityError) as refused:
            with app.extensions["fiducia.engine"].begin() as connection:
                connection.execute(text(f"DELETE FROM {table} WHERE {which}"))
        refusals[table] = "never deleted" in str(refused.value)
    assert refusals == dict.fromkeys(KEPT, True)
    assert {table: _count(app, table) for table in KEPT} == kept


def test_a_draft_statement_may_still_be_deleted(app: Flask, history: None) -> None:
    engine = app.extensions["fiducia.engine"]
    with engine.begin() as connection:
        draft = connection.execute(
            text(
                "SELECT id FROM statements WHERE status = 'draft' AND id NOT IN "
                "(SELECT statement_id FROM carried_adjustments UNION "
                "SELECT corrects_id FROM carried_adjustments) ORDER BY id LIMIT 1"
            )
        ).scalar_one()
        connection.execute(text("DELETE FROM statements WHERE id = :id"), {"id": draft})
    with engine.connect() as connection:
        left = connection.execute(
            text("SELECT COUNT(*) FROM statements WHERE id = :id"), {"id": draft}
        ).scalar_one()
    assert left == 0


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """Return the URL of a new empty database, on the server the suite runs on."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        yield from postgres_database(server)
    else:
        yield f"sqlite:///{tmp_path / 'history.db'}"


def _triggers(url: str) -> set[str]:
    engine = create_engine(engine_url(url))
    listed = (
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        if engine.dialect.name == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    )
    with engine.connect() as connection:
        found = set(connection.execute(text(listed)).scalars())
    engine.dispose()
    return found


def test_the_refusals_of_delete_come_with_0015_and_go_with_its_downgrade(empty_url: str) -> None:
    upgrade(empty_url, "0014")
    before = _triggers(empty_url)
    upgrade(empty_url, "0015")
    added = _triggers(empty_url) - before
    command.downgrade(alembic_config(empty_url), "0014")
    assert _triggers(empty_url) == before
    assert added == {
        "final_statement_never_deleted",
        "report_file_never_deleted",
        "evaluation_revision_never_deleted",
        "dispute_step_never_deleted",
        "logged_call_never_deleted",
        "sample_never_deleted",
        "sampled_call_never_deleted",
    }
