"""Writers and readers of one month racing: no stored figure is older than its stamp."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy import select

from service.figures.models import MonthFigures
from tests.api.conftest import evaluation
from tests.api.test_served_figures import PERIOD, fresh, scorecard
from tests.conftest import World, seed_month

ROUNDS = 12


def test_readers_racing_writers_never_store_figures_older_than_their_stamp(
    app: Flask, world: World
) -> None:
    seed_month(app, world, str(PERIOD), calls=20)
    done = threading.Event()

    def write(number: int) -> None:
        client = app.test_client()
        record = evaluation(
            world, call_ref=f"race-{number}", source="client",
            call_at="2026-11-09T10:00:00+01:00", answers={"tone": 1 + number % 5},
        )  # fmt: skip
        response = client.post("/api/v1/evaluations", json=record, headers=world.headers("client"))
        assert response.status_code == 201, response.get_json()

    def read() -> int:
        client = app.test_client()
        reads = 0
        while not done.is_set():
            scorecard(client, world)
            reads += 1
        return reads

    with ThreadPoolExecutor(max_workers=4) as pool:
        readers = [pool.submit(read) for _ in range(2)]
        writers = [pool.submit(write, number) for number in range(ROUNDS)]
        for writer in writers:
            writer.result()
        done.set()
        assert all(reader.result() > 0 for reader in readers)

    client = app.test_client()
    served = scorecard(client, world)
    with app.extensions["fiducia.sessionmaker"]() as session:
        stored = session.scalars(select(MonthFigures)).all()
    assert len(stored) == 1
    assert served == fresh(app, client, world)
    assert served["n"] >= ROUNDS
