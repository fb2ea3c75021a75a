"""Documents made from user text fetch nothing, and are made after the write commits (DESIGN §14).

A name that reached the PDF's page rules could end their CSS string with a carriage return,
hide the total, and make WeasyPrint fetch URLs and open local files while the close (or
finance's finalization) held the statement's write lock.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine
from weasyprint.urls import URLFetcher

from contracts.periods import Period
from service.accounts.models import Organization
from service.agreements.models import Contract
from service.database.engine import engine_url
from service.jobs import service as close
from service.language.formatting import money
from service.statements import reports
from service.statements.models import ReportFile, Statement
from tests.conftest import World, json_of, seed_month

# A red dot, as a document may carry it inline: the one kind of URL a document may read.
DOT = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
    "DwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@dataclass
class Listener:
    """A real local TCP listener that records every connection made to it."""

    port: int
    connections: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@pytest.fixture
def listener() -> Iterator[Listener]:
    """Listen on a free local port and record whatever connects, until the test ends."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    heard = Listener(server.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    heard.connections.append(connection.recv(4096) or b"(connected)")
                except OSError:
                    heard.connections.append(b"(connected)")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield heard
    stop.set()
    thread.join()
    server.close()


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Record every URL WeasyPrint asks a fetcher for, and whether it was served or refused."""
    record: list[tuple[str, str]] = []
    original = URLFetcher.__call__

    def recording(self: URLFetcher, url: str) -> Any:
        try:
            answer = original(self, url)
        except Exception:
            record.append((url, "refused"))
            raise
        record.append((url, "served"))
        return answer

    monkeypatch.setattr(URLFetcher, "__call__", recording)
    return record


def payload(listener: Listener) -> str:
    """Return a name (of at most 200 characters, as stored) that ends a CSS string with a
    carriage return, then hides the total, fetches a local URL and opens a local file."""
    return (
        "Acme\r}} tr.total{display:none} "
        f"body{{background:url({listener.url})}} "
        "@font-face{font-family:S;src:url(file:///etc/passwd)} h1,dd{font-family:S} x{"
    )


def pdf_text(content: bytes) -> str:
    text_ = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return text_.replace("\xa0", " ")


def draft_august(app: Flask, world: World) -> int:
    seed_month(app, world, "2026-08")
    response = app.test_client().post(
        f"/api/v1/contracts/{world.ids['contract']}/statements",
        json={"period": "2026-08"},
        headers=world.headers("finance"),
    )
    assert response.status_code == 201
    statement_id: int = json_of(response)["id"]
    return statement_id


def name_everything(app: Flask, world: World, name: str) -> None:
    """Give the contract and both its parties a name, as stored before names were checked."""
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        contract = session.get_one(Contract, world.ids["contract"])
        contract.name = name
        for organization in (
            session.get_one(Organization, world.ids["client"]),
            session.get_one(Organization, world.ids["supplier"]),
        ):
            organization.name = f"{organization.name} {name}"


def stored_files(app: Flask, statement_id: int) -> dict[str, bytes]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        return {
            report.format: report.content
            for report in session.scalars(
                select(ReportFile).where(ReportFile.statement_id == statement_id)
            )
        }


def test_a_statement_whose_names_break_out_of_css_shows_its_stored_total_and_fetches_nothing(
    app: Flask, world: World, listener: Listener, asked: list[tuple[str, str]]
) -> None:
    statement_id = draft_august(app, world)
    name_everything(app, world, payload(listener))
    response = app.test_client().post(
        f"/api/v1/statements/{statement_id}/finalize", headers=world.headers("finance")
    )
    assert response.status_code == 200
    total = money(Decimal(json_of(response)["total"]), "EUR", "en")  # "€35,550.00"

    said = pdf_text(stored_files(app, statement_id)["pdf"]).replace("\n", " ")
    assert f"Total {total}" in said
    assert "tr.total{display:none}" in said  # the names are shown as text, not read as CSS
    assert listener.connections == []
    assert [url for url, _ in asked if not url.startswith("data:")] == []


def test_the_pdf_renderer_refuses_http_https_and_file_urls_and_reads_data_ones(
    listener: Listener, asked: list[tuple[str, str]]
) -> None:
    secure = listener.url.replace("http:", "https:")
    document = (
        f'<link rel="stylesheet" href="{listener.url}style.css">'
        f'<p>Total €35,550.00</p><img src="{listener.url}logo.png"><img src="file:///etc/passwd">'
        f'<img src="{DOT}"><img src="ftp://127.0.0.1:{listener.port}/x">'
    )
    stylesheet = f"body {{ background: url({secure}) }} p {{ background: url({DOT}) }}"

    made = reports.document_pdf(document, stylesheet)

    assert "Total €35,550.00" in pdf_text(made)
    assert listener.connections == []
    assert set(asked) == {  # the dot is read once, for the image and the background
        (f"{listener.url}style.css", "refused"),
        (f"{listener.url}logo.png", "refused"),
        ("file:///etc/passwd", "refused"),
        (secure, "refused"),
        (f"ftp://127.0.0.1:{listener.port}/x", "refused"),
        (DOT, "served"),
    }


@dataclass
class Probe:
    """What another connection saw while a report file was being rendered."""

    status: str | None = None
    writable: bool | None = None


def probe_engine(database_url: str) -> Engine:
    """Return an engine whose connections wait for no lock: they fail at once if one is held."""
    url = engine_url(database_url)
    if url.startswith("sqlite"):
        return create_engine(url, connect_args={"timeout": 0}, isolation_level="AUTOCOMMIT")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def look_while_rendering(
    monkeypatch: pytest.MonkeyPatch, database_url: str, statement_id: int
) -> list[Probe]:
    """Make the PDF's renderer first look, from another connection, at the statement and at
    whether a writer could go ahead right now."""
    seen: list[Probe] = []
    render_pdf = reports.RENDERERS["pdf"]

    def probing(statement: Statement, language: str) -> str | bytes:
        probe = Probe()
        engine = probe_engine(database_url)
        with engine.connect() as connection:
            postgresql = connection.dialect.name == "postgresql"
            begun = False
            try:
                connection.execute(text("BEGIN" if postgresql else "BEGIN IMMEDIATE"))
                begun = True
                if postgresql:
                    connection.execute(
                        text("SELECT id FROM statements WHERE id = :id FOR UPDATE NOWAIT"),
                        {"id": statement_id},
                    )
                    connection.execute(
                        text("SELECT id FROM contracts WHERE id = :id FOR UPDATE NOWAIT"),
                        {"id": statement.contract_id},
                    )
                probe.writable = True
            except Exception:
                probe.writable = False
            finally:
                if begun:
                    connection.execute(text("ROLLBACK"))
            probe.status = connection.execute(
                text("SELECT status FROM statements WHERE id = :id"), {"id": statement_id}
            ).scalar_one()
        engine.dispose()
        seen.append(probe)
        return render_pdf(statement, language)

    monkeypatch.setitem(reports.RENDERERS, "pdf", probing)
    return seen


def test_finance_finalizing_renders_the_files_after_the_commit_with_no_lock_held(
    app: Flask, world: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    statement_id = draft_august(app, world)
    seen = look_while_rendering(monkeypatch, database_url, statement_id)
    response = app.test_client().post(
        f"/api/v1/statements/{statement_id}/finalize", headers=world.headers("finance")
    )
    assert response.status_code == 200
    assert [(probe.status, probe.writable) for probe in seen] == [("final", True)]
    assert sorted(stored_files(app, statement_id)) == ["csv", "html", "pdf", "xlsx"]


AFTER_THE_WINDOW = datetime(2026, 9, 6, 12, 0, tzinfo=UTC)


def run_close_at(app: Flask, moment: datetime, **options: Any) -> Any:
    with time_machine.travel(moment, tick=False):
        return close.run_close(app.extensions["fiducia.sessionmaker"], **options)


def test_the_close_renders_the_files_after_its_commit_with_no_lock_held(
    app: Flask, world: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    statement_id = draft_august(app, world)
    seen = look_while_rendering(monkeypatch, database_url, statement_id)
    run = run_close_at(app, AFTER_THE_WINDOW, period=Period.parse("2026-08"))
    assert run.outcome == "success" and run.counts["finalized"] == 2
    # Its own files and the other contract's: each time, August is final and nothing locked.
    assert [(probe.status, probe.writable) for probe in seen] == [("final", True)] * 2
    assert sorted(stored_files(app, statement_id)) == ["csv", "html", "pdf", "xlsx"]


def failing_once(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Make the PDF's renderer fail, as a process that died after the commit; return the cure."""

    def dying(statement: Statement, language: str) -> bytes:
        raise RuntimeError("the process died while rendering")

    monkeypatch.setitem(reports.RENDERERS, "pdf", dying)
    return lambda: monkeypatch.undo()


def test_a_final_statement_left_without_files_gets_them_on_the_next_close_run(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_month(app, world, "2026-08")
    cure = failing_once(monkeypatch)
    first = run_close_at(app, AFTER_THE_WINDOW, period=Period.parse("2026-08"))
    with app.extensions["fiducia.sessionmaker"]() as session:
        finals = session.scalars(select(Statement.id).where(Statement.status == "final")).all()
    assert len(finals) == 2 and first.counts["finalized"] == 2
    assert first.outcome == "partial" and "the process died while rendering" in first.error
    assert all(stored_files(app, statement_id) == {} for statement_id in finals)

    cure()
    second = run_close_at(app, datetime(2026, 9, 6, 13, 0, tzinfo=UTC))
    assert second.outcome == "success"
    for statement_id in finals:
        assert sorted(stored_files(app, statement_id)) == ["csv", "html", "pdf", "xlsx"]


def test_files_finance_could_not_render_are_made_by_the_next_close_run(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    statement_id = draft_august(app, world)
    cure = failing_once(monkeypatch)
    response = app.test_client().post(
        f"/api/v1/statements/{statement_id}/finalize", headers=world.headers("finance")
    )
    assert response.status_code == 200 and json_of(response)["status"] == "final"
    assert stored_files(app, statement_id) == {}
    cure()
    run_close_at(app, datetime(2026, 9, 6, 13, 0, tzinfo=UTC), period=Period.parse("2026-08"))
    assert sorted(stored_files(app, statement_id)) == ["csv", "html", "pdf", "xlsx"]
