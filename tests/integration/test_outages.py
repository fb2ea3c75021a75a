"""A database outage is a 503 with Retry-After, never a 500 nor a hang (DESIGN §10, §11).

A database that cannot be reached, refuses connections, does not answer, waits on a lock or
is full answers 503 in the one error shape, saying so; `/health` says the same while it
lasts; pages answer a readable 503 page. Everything else answers as before.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError

from service import create_app
from service.database.engine import SQLITE_BEGIN
from service.database.migrate import upgrade
from tests.api.conftest import evaluation
from tests.conftest import World, json_of, make_world, remove_every_row

# Bounds, in seconds, that a test of a frozen database allows its requests; the connect
# timeout under test is 2 s (libpq's least).
BOUND = 12


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Listen on a local port that accepts TCP connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield listener.getsockname()[1]
    listener.close()  # a connection still waiting in the backlog is refused now


@pytest.fixture
def closed_port() -> int:
    """Return a local port nothing listens on."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


def app_on(url: str, **config: Any) -> Flask:
    return create_app({"DATABASE_URL": url, "TESTING": True, "DB_CONNECT_TIMEOUT": 2} | config)


def timed(client: FlaskClient, method: str, path: str, **options: Any) -> tuple[Any, float]:
    """Make a request in a worker thread; fail (rather than hang) past the bound."""
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        answer = pool.submit(getattr(client, method), path, **options).result(timeout=BOUND)
    finally:
        pool.shutdown(wait=False)  # a request still hanging is left behind, not waited for
    return answer, time.monotonic() - started


def assert_outage(response: Any, reason: str, words: str) -> None:
    body = json_of(response)
    assert (response.status_code, body["code"], body["status"]) == (
        503,
        503,
        "Service Unavailable",
    )
    assert body["reason"] == reason and words in body["message"], body
    assert int(response.headers["Retry-After"]) > 0


def test_a_database_that_accepts_and_never_answers_is_a_503_in_bounded_time(
    silent_server: int,
) -> None:
    app = app_on(f"postgresql://fiducia@127.0.0.1:{silent_server}/fiducia")
    client = app.test_client()
    health, waited = timed(client, "get", "/health")
    assert_outage(health, "timeout", "the database is unavailable")
    assert waited < BOUND
    api, _ = timed(client, "get", "/api/v1/contracts", headers={"Authorization": "Bearer fid_x"})
    assert_outage(api, "timeout", "did not answer in time")


def test_a_refused_connection_is_a_503_for_the_api_the_health_check_and_pages(
    closed_port: int,
) -> None:
    app = app_on(f"postgresql://fiducia@127.0.0.1:{closed_port}/fiducia")
    client = app.test_client()
    assert_outage(client.get("/health"), "unavailable", "the database is unavailable")
    api = client.get("/api/v1/contracts", headers={"Authorization": "Bearer fid_x"})
    assert_outage(api, "unavailable", "cannot be reached")
    with client.session_transaction() as cookie:
        cookie["key"] = "a session the database would have to look up"
    page = client.get("/scorecards", headers={"Accept-Language": "en"})
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert int(page.headers["Retry-After"]) > 0
    assert "the database is unavailable: it cannot be reached" in page.text
    italian = client.get("/scorecards", headers={"Accept-Language": "it"})
    assert italian.status_code == 503 and '<html lang="it">' in italian.text
    assert "il database non è disponibile: non è raggiungibile" in italian.text


@pytest.fixture
def own_sqlite(tmp_path: Path) -> Iterator[tuple[Flask, list[int]]]:
    """An app on an SQLite file of the test's own, whose size a test may cap (in pages)."""
    url = f"sqlite:///{tmp_path / 'own.sqlite3'}"
    upgrade(url)
    app = app_on(url)
    cap: list[int] = []

    @event.listens_for(app.extensions["fiducia.engine"], "connect")
    def _cap(dbapi_connection: Any, _record: Any) -> None:
        if cap:
            dbapi_connection.execute(f"PRAGMA max_page_count = {cap[0]}")

    yield app, cap
    app.extensions["fiducia.engine"].dispose()


def test_a_full_sqlite_database_is_a_503_and_the_health_check_says_so_while_it_lasts(
    own_sqlite: tuple[Flask, list[int]],
) -> None:
    app, cap = own_sqlite
    world = make_world(app)
    engine = app.extensions["fiducia.engine"]
    with engine.connect() as connection:
        used = connection.execute(text("PRAGMA page_count")).scalar_one()
    cap.append(used + 8)
    engine.dispose()  # every connection from now on is capped
    client = app.test_client()
    records = [evaluation(world, call_ref=f"call-{number:04d}") for number in range(300)]
    batch = {"evaluations": records}
    url = "/api/v1/evaluations/batch"
    refused = client.post(url, json=batch, headers=world.headers("supplier"))
    assert_outage(refused, "full", "the database is full")
    assert_outage(client.get("/health"), "full", "the database is full")

    cap[0] = 1_000_000  # room again
    engine.dispose()
    assert client.get("/health").get_json() == {"status": "ok"}
    stored = client.post(url, json=batch, headers=world.headers("supplier"))
    assert stored.status_code == 201 and len(stored.get_json()["ids"]) == 300


def test_a_lock_held_past_the_lock_timeout_is_a_503_in_bounded_time(
    database_url: str, world_app: tuple[Flask, World]
) -> None:
    app, world = world_app
    holder = create_app({"DATABASE_URL": database_url, "TESTING": True})
    engine = holder.extensions["fiducia.engine"]
    with engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE"))
        else:
            connection.execute(text("SELECT 1"))  # in BEGIN IMMEDIATE: the write lock, held
        path = f"/api/v1/contracts/{world.ids['contract']}/volumes"
        put = {"volumes": [{"date": "2026-10-01", "units": 1000}]}
        answer, waited = timed(
            app.test_client(), "put", path, json=put, headers=world.headers("supplier")
        )
        connection.rollback()
    engine.dispose()
    assert_outage(answer, "timeout", "did not answer in time")
    assert waited < BOUND


@pytest.fixture
def world_app(database_url: str) -> Iterator[tuple[Flask, World]]:
    """An app on the test database whose lock waits end after a second, with the world."""
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "DB_LOCK_TIMEOUT": 1})
    world = make_world(app)
    yield app, world
    remove_every_row(app)


def disk_full(dialect: str) -> OperationalError:
    """Return the error each driver raises when the disk is full."""
    if dialect == "postgresql":
        return OperationalError("COMMIT", None, psycopg.errors.DiskFull("could not extend file"))
    cause = sqlite3.OperationalError("database or disk is full")
    cause.sqlite_errorcode = 13  # SQLITE_FULL
    return OperationalError("COMMIT", None, cause)


def test_a_disk_found_full_at_commit_is_a_503_and_nothing_is_stored(fresh_app: Flask) -> None:
    from service.accounts.models import Organization
    from service.demo import seed
    from service.edge.sessions import get_session

    @fresh_app.post("/write")
    def write() -> Any:
        session = get_session()
        seed.organization(session, "written at commit", "client")

        def refuse(_session: Any) -> None:
            raise disk_full(session.get_bind().dialect.name)

        event.listen(session, "before_commit", refuse)
        return {"written": True}

    fresh_app.config["WTF_CSRF_ENABLED"] = False
    answer = fresh_app.test_client().post("/write")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "300"
    with fresh_app.extensions["fiducia.sessionmaker"]() as session:
        assert session.scalars(select(Organization.name)).all() == []


def test_a_request_whose_database_vanished_still_answers_its_own_refusal(
    fresh_app: Flask,
) -> None:
    from service.edge.errors import NotFound
    from service.edge.sessions import get_session

    @fresh_app.get("/vanished")
    def vanished() -> Any:
        session = get_session()
        session.execute(text("SELECT 1"))

        def gone() -> None:
            raise OperationalError("ROLLBACK", None, psycopg.OperationalError("connection lost"))

        session.rollback = gone  # type: ignore[method-assign]
        raise NotFound("no such thing")

    answer = fresh_app.test_client().get("/vanished")
    assert answer.status_code == 404


def test_other_database_errors_stay_500s(fresh_app: Flask) -> None:
    from service.edge.sessions import get_session

    @fresh_app.get("/broken")
    def broken() -> Any:
        get_session().execute(text("SELECT * FROM no_such_table"))

    fresh_app.config["PROPAGATE_EXCEPTIONS"] = False
    answer = fresh_app.test_client().get("/broken")
    assert answer.status_code == 500 and "Retry-After" not in answer.headers


@pytest.mark.postgresql
def test_a_statement_past_the_statement_timeout_is_cancelled_as_an_outage(
    database_url: str,
) -> None:
    from service.database.outages import outage_of

    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "DB_STATEMENT_TIMEOUT": 1})
    engine = app.extensions["fiducia.engine"]
    with engine.connect() as connection:
        shown = connection.execute(text("SHOW statement_timeout")).scalar_one()
        started = time.monotonic()
        with pytest.raises(OperationalError) as cancelled:
            connection.execute(text("SELECT pg_sleep(5)"))
    engine.dispose()
    assert shown == "1s" and time.monotonic() - started < 3
    outage = outage_of(cancelled.value)
    assert outage is not None and outage.reason == "timeout"
