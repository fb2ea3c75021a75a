"""A final statement never changes, whatever runs beside it (DESIGN §7, §14)."""

from __future__ import annotations

import csv
import io
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from service.statements.models import ReportFile, Statement
from service.statements.service import content_hash
from tests.conftest import World, json_of, seed_month

RACERS = 10


def _stale_draft(app: Flask, world: World) -> int:
    """Draft August, then correct a day's volume so the draft no longer matches the data."""
    seed_month(app, world, "2026-08", seed=21)
    client = app.test_client()
    response = client.post(
        f"/api/v1/contracts/{world.ids['contract']}/statements",
        json={"period": "2026-08"},
        headers=world.headers("finance"),
    )
    assert response.status_code == 201
    corrected = client.put(
        f"/api/v1/contracts/{world.ids['contract']}/volumes",
        json={"volumes": [{"date": "2026-08-12", "units": 90_000}]},
        headers=world.headers("supplier"),
    )
    assert corrected.status_code == 200
    statement_id: int = json_of(response)["id"]
    return statement_id


def _race(app: Flask, calls: list[tuple[str, str, dict[str, Any] | None, str]]) -> list[Any]:
    """Send every call at once from its own thread and client; return the responses in order."""
    start = threading.Barrier(len(calls))

    def send(call: tuple[str, str, dict[str, Any] | None, str]) -> Any:
        url, token, body, kind = call
        client = app.test_client()
        start.wait()
        return kind, client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(send, calls))


def _assert_frozen_as_hashed(app: Flask, statement_id: int) -> Statement:
    with app.extensions["fiducia.sessionmaker"]() as session:
        statement = session.get_one(Statement, statement_id)
        assert statement.is_final
        assert content_hash(statement) == statement.content_hash
        assert sum(Decimal(line["amount"]) for line in statement.lines) == statement.total
        report = session.scalar(
            select(ReportFile).where(
                ReportFile.statement_id == statement_id, ReportFile.format == "csv"
            )
        )
        assert report is not None
        rows = {row[0]: row for row in csv.reader(io.StringIO(report.content.decode())) if row}
        assert Decimal(rows["total"][2]) == statement.total
        assert rows["content_hash"][1] == statement.content_hash
        return statement


def test_racing_recomputes_and_finalizations_leave_the_final_statement_as_hashed(
    app: Flask, world: World
) -> None:
    statement_id = _stale_draft(app, world)
    recompute = (
        f"/api/v1/contracts/{world.ids['contract']}/statements",
        world.tokens["client"],
        {"period": "2026-08"},
        "recompute",
    )
    finalize = (
        f"/api/v1/statements/{statement_id}/finalize",
        world.tokens["finance"],
        None,
        "finalize",
    )
    calls = [call for _ in range(RACERS) for call in (recompute, finalize)]
    outcomes = Counter((kind, response.status_code) for kind, response in _race(app, calls))

    assert outcomes[("finalize", 200)] == 1
    assert outcomes[("finalize", 409)] == RACERS - 1
    assert outcomes[("recompute", 200)] + outcomes[("recompute", 409)] == RACERS
    statement = _assert_frozen_as_hashed(app, statement_id)
    again = app.test_client().post(recompute[0], json=recompute[2], headers=world.headers("client"))
    assert again.status_code == 409
    with app.extensions["fiducia.sessionmaker"]() as session:
        assert session.get_one(Statement, statement_id).finalized_at == statement.finalized_at


def test_a_close_racing_requests_finalizes_once_and_as_hashed(app: Flask, world: World) -> None:
    from service.jobs.service import run_close

    statement_id = _stale_draft(app, world)
    factory = app.extensions["fiducia.sessionmaker"]
    recompute = (
        f"/api/v1/contracts/{world.ids['contract']}/statements",
        world.tokens["client"],
        {"period": "2026-08"},
        "recompute",
    )
    with ThreadPoolExecutor(max_workers=RACERS + 1) as pool:
        closing = pool.submit(run_close, factory, datetime(2026, 11, 1, tzinfo=UTC), finalize=True)
        racing = pool.submit(_race, app, [recompute] * RACERS)
        run = closing.result()
        statuses = Counter(response.status_code for _, response in racing.result())
    assert run.outcome == "success"
    assert statuses[200] + statuses[409] == RACERS
    _assert_frozen_as_hashed(app, statement_id)


def test_the_database_refuses_to_change_a_final_statement(app: Flask, world: World) -> None:
    statement_id = _stale_draft(app, world)
    finalized = app.test_client().post(
        f"/api/v1/statements/{statement_id}/finalize", headers=world.headers("finance")
    )
    assert finalized.status_code == 200
    factory = app.extensions["fiducia.sessionmaker"]
    changes: list[dict[str, Any]] = [
        {"total_minor": 1},
        {"lines": []},
        {"figures": {}},
        {"content_hash": "0" * 64},
        {"status": "draft"},
    ]
    for change in changes:
        with pytest.raises(IntegrityError), factory.begin() as session:
            session.execute(update(Statement).where(Statement.id == statement_id).values(**change))
    with factory() as session:
        stored = session.execute(text("SELECT total_minor FROM statements")).scalar_one()
    assert stored == int(Decimal(json_of(finalized)["total"]) * 100)
    _assert_frozen_as_hashed(app, statement_id)
