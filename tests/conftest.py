"""Fixtures: a migrated database (SQLite, or PostgreSQL when TEST_DATABASE_URL names a server)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from service import create_app
from service.database.engine import Base, Timeouts, engine_url, make_engine
from service.database.migrate import upgrade
from service.demo.data import DemoResult, load_demo
from service.evaluations.models import Evaluation


def postgres_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database on the server, yield its URL, drop it afterwards."""
    name = f"fiducia_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(engine_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(engine_url(server_url))
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the tests marked `postgresql` where no server is named: deselected, not
    skipped, so a pass on SQLite alone counts only tests that ran."""
    if os.environ.get("TEST_DATABASE_URL"):
        return
    left = [item for item in items if item.get_closest_marker("postgresql")]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql")]


# The share of the demo's calls the tests of pages and reports load: every state the pages
# show, in a twentieth of the time (the demo's own test loads it whole).
DEMO_TRAFFIC = 0.05

# Every test runs on this day, so none depends on the day it runs: "the last month that ended"
# is October 2026 whenever the suite runs. The clock ticks on from there.
TODAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_today() -> Iterator[None]:
    """Start the test's clock at TODAY."""
    with time_machine.travel(TODAY, tick=True):
        yield


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return the URL of a freshly migrated test database."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        databases = postgres_database(server)
        url = next(databases)
        upgrade(url)
        yield url
        next(databases, None)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def shared_app(database_url: str) -> Flask:
    """Build the app once per test process: building it (routes, the OpenAPI document) took
    most of a test's setup, and the suite runs a thousand tests."""
    return create_app({"DATABASE_URL": database_url, "TESTING": True})


@pytest.fixture
def app(shared_app: Flask) -> Iterator[Flask]:
    """Return the app on the test database as it was built; after the test every row is
    removed, the configuration the test changed is put back, and the connections are closed."""
    config = dict(shared_app.config)
    yield shared_app
    shared_app.config.clear()
    shared_app.config.update(config)
    remove_every_row(shared_app)


@dataclass(frozen=True)
class DemoTemplate:
    """The demo loaded once per test process into a database of its own, and what loading it
    printed (the demo users' tokens)."""

    url: str
    result: DemoResult


def load_template(
    tmp_path_factory: pytest.TempPathFactory, today: datetime | None
) -> Iterator[DemoTemplate]:
    """Load the demo (at DEMO_TRAFFIC, on `today`, or on the real day if None) into a database
    of its own, yield it as a template, and drop it at the end."""
    server = os.environ.get("TEST_DATABASE_URL")
    databases = postgres_database(server) if server else None
    url = next(databases) if databases else f"sqlite:///{tmp_path_factory.mktemp('demo') / 't.db'}"
    upgrade(url)
    engine = make_engine(url)
    with contextlib.ExitStack() as stack:
        if today is not None:
            stack.enter_context(time_machine.travel(today, tick=False))
        with sessionmaker(engine).begin() as session:
            result = load_demo(session, traffic=DEMO_TRAFFIC)
    engine.dispose()  # a template has no connection left, and SQLite's file is whole
    yield DemoTemplate(url, result)
    if databases:
        next(databases, None)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplate]:
    """The demo loaded on TODAY once per test process, as a template each test copies."""
    yield from load_template(tmp_path_factory, TODAY)


def copy_of(template: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a fresh copy of a template database; drop the copy afterwards."""
    if not template.startswith("postgresql"):
        copy = tmp_path / "demo-copy.db"
        with sqlite3.connect(make_url(template).database) as source, sqlite3.connect(copy) as to:
            source.backup(to)
        yield f"sqlite:///{copy}"
        return
    name = f"fiducia_demo_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(engine_url(template), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        template_name = make_url(template).database
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    try:
        yield make_url(template).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def on_a_copy(app: Flask, template: DemoTemplate, tmp_path: Path) -> Iterator[Flask]:
    """Point the app at a fresh copy of a template database while the block runs; the copy is
    dropped afterwards and the app's own database is back."""
    copies = copy_of(template.url, tmp_path)
    url = next(copies)
    saved = {name: app.extensions[name] for name in ("fiducia.engine", "fiducia.sessionmaker")}
    engine = make_engine(url, timeouts=Timeouts.of(app.config))
    app.extensions["fiducia.engine"] = engine
    app.extensions["fiducia.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    try:
        yield app
    finally:
        app.extensions.update(saved)
        engine.dispose()
        next(copies, None)


@pytest.fixture
def demo_app(app: Flask, demo_template: DemoTemplate, tmp_path: Path) -> Iterator[Flask]:
    """Return the shared app on a fresh copy of the demo: copied from the template in a
    fraction of a second instead of loaded again."""
    with on_a_copy(app, demo_template, tmp_path) as on_copy:
        yield on_copy


@pytest.fixture
def fresh_app(database_url: str) -> Iterator[Flask]:
    """Return an app of the test's own, for a test that adds to its setup (a route, say)."""
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    yield app
    remove_every_row(app)


def remove_every_row(app: Flask) -> None:
    """Empty every table of the test database and close the app's connections.

    What never changes is never deleted either: the triggers that refuse it stand aside for
    this cleanup's transaction only (PostgreSQL: as a replica, which fires no trigger;
    SQLite, which cannot turn a trigger off: dropped and made again as they were).
    """
    engine = app.extensions["fiducia.engine"]
    with engine.begin() as connection:
        guards: list[str] = []
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            guards = _drop_deletion_guards(connection)
            # The one circle of keys: an evaluation names the dispute that holds it.
            connection.execute(update(Evaluation).values(held_by_dispute_id=None))
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
        for guard in guards:
            connection.exec_driver_sql(guard)
    engine.dispose()


def _drop_deletion_guards(connection: Any) -> list[str]:
    """Drop SQLite's triggers that refuse DELETE; return the statements that make them again."""
    found = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%BEFORE DELETE%'"
    ).all()
    for name, _sql in found:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in found]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """Return a session on the test database (the test commits what it wants kept)."""
    with app.extensions["fiducia.sessionmaker"]() as session:
        yield session


@dataclass
class World:
    """Two clients, two suppliers, users of every role with tokens, forms and contracts."""

    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def world(app: Flask) -> World:
    """Build a small world through the seed (the services), committed once."""
    return make_world(app)


def make_world(app: Flask) -> World:
    """Build the `world` fixture's world in an app's database."""
    from service.demo import seed

    world = World()
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        organizations = {
            name: seed.organization(session, name, kind)
            for name, kind in [
                ("client", "client"),
                ("other_client", "client"),
                ("supplier", "supplier"),
                ("other_supplier", "supplier"),
            ]
        }
        world.ids |= {name: organization.id for name, organization in organizations.items()}
        members = {}
        for who, organization, role in [
            ("admin", None, "admin"),
            ("client", "client", "client"),
            ("finance", "client", "finance"),
            ("supplier", "supplier", "supplier"),
            ("other_client", "other_client", "client"),
            ("other_finance", "other_client", "finance"),
            ("other_supplier", "other_supplier", "supplier"),
        ]:
            members[who] = seed.member(
                session,
                organizations[organization] if organization else None,
                role=role,
                email=f"{who}@example.test",
                name=who,
            )
            world.ids[f"user:{who}"] = members[who].user.id
            world.tokens[who] = members[who].token
        for client_name, supplier_name, key in [
            ("client", "supplier", "contract"),
            ("other_client", "other_supplier", "other_contract"),
        ]:
            world.ids[f"form:{client_name}"] = seed.standard_form(session, members[client_name]).id
            contract = seed.contract(
                session,
                members[client_name],
                organizations[supplier_name],
                name="customer care",
                effective_from=date(2026, 8, 1),
            )
            world.ids[key] = contract.id
    return world


def row_counts(app: Flask) -> dict[str, int]:
    """Return the number of rows in every table (to prove nothing was written).

    Figures a reader stored (`month_figures`) are left out: they are what the data already
    says, kept for the next reader, not something a request wrote."""
    engine = app.extensions["fiducia.engine"]
    with engine.connect() as connection:
        return {
            table.name: connection.execute(text(f"SELECT COUNT(*) FROM {table.name}")).scalar_one()
            for table in Base.metadata.sorted_tables
            if table.name != "month_figures"
        }


def json_of(response: Any) -> Any:
    assert response.is_json, response.data[:200]
    return response.get_json()


def errors_at(response: Any, path: str) -> Any:
    """Return the errors an error answer gives at `location.field.path` (one error shape)."""
    node = json_of(response)["errors"]
    for part in path.split("."):
        assert isinstance(node, dict) and part in node, f"no errors at {path}: {json_of(response)}"
        node = node[part]
    return node


def seed_month(
    app: Flask,
    world: World,
    period: str,
    *,
    calls: int = 80,
    audited_every: int = 3,
    flattery: float = 0.0,
    seed: int = 1,
    contract: str = "contract",
) -> None:
    """Store a month of evaluations (self-assessments and client audits) and daily volumes."""
    import random
    from datetime import UTC, datetime, timedelta

    from contracts.periods import Period
    from service.edge.actors import Actor
    from service.evaluations.submission import submit_evaluations
    from service.volumes.service import upsert_volumes

    rng = random.Random(seed)
    month = Period.parse(period)
    admin = Actor(user_id=world.ids["user:admin"], role="admin", organization_id=None)
    questions = {
        "greeting": "yes_no", "active_listening": "scale", "closing": "yes_no",
        "verification": "critical", "procedure": "scale", "disposition": "critical",
        "handling_time": "yes_no", "stays_calm": "scale", "no_arguing": "yes_no",
        "de_escalation": "scale", "tone": "scale", "plain_language": "yes_no",
        "courtesy": "yes_no", "correct_information": "critical", "ownership": "scale",
        "next_steps": "yes_no",
    }  # fmt: skip

    def answers(boost: float) -> dict[str, object]:
        chosen: dict[str, object] = {}
        for key, kind in questions.items():
            if kind == "scale":
                chosen[key] = min(5, rng.choice([3, 4, 5, 5, 5]) + (rng.random() < boost))
            elif kind == "critical":
                chosen[key] = "yes" if rng.random() < 0.97 + boost else "no"
            else:
                chosen[key] = "yes" if rng.random() < 0.85 + boost else "no"
        return chosen

    records: dict[int, dict[str, object]] = {}
    days = (month.end_day - month.first_day).days
    for number in range(calls):
        call_at = datetime.combine(month.first_day, datetime.min.time(), UTC) + timedelta(
            days=rng.randrange(days), hours=8 + rng.randrange(10), minutes=rng.randrange(60)
        )
        base = {
            "contract_id": world.ids[contract], "call_ref": f"{period}-{number}",
            "agent_ref": f"agent-{rng.randrange(1, 6)}", "team": rng.choice(["a", "b", None]),
            "call_at": call_at, "form": "standard@1", "evaluator_ref": None, "comment": None,
        }  # fmt: skip
        records[len(records)] = base | {"source": "supplier", "answers": answers(flattery)}
        if number % audited_every == 0:
            records[len(records)] = base | {"source": "client", "answers": answers(0.0)}
    volumes = [
        {"date": month.first_day + timedelta(days=day), "units": 1800 + rng.randrange(400)}
        for day in range(days)
    ]
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        submit_evaluations(session=session, actor=admin, records=records)
        upsert_volumes(
            session=session, actor=admin, contract_id=world.ids[contract], volumes=volumes
        )
