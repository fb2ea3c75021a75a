"""Concurrent corrections of one day's volume serialize: the history reads as a chain."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy import select

from service.volumes.models import DailyVolume, VolumeChange
from tests.conftest import World

WRITERS = 10


def test_concurrent_puts_of_one_day_leave_each_change_following_the_one_before(
    app: Flask, world: World
) -> None:
    url = f"/api/v1/contracts/{world.ids['contract']}/volumes"
    start = threading.Barrier(WRITERS)

    def put(units: int) -> int:
        client = app.test_client()
        start.wait()
        response = client.put(
            url,
            json={"volumes": [{"date": "2026-09-03", "units": units}]},
            headers=world.headers("supplier"),
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        statuses = list(pool.map(put, range(1000, 1000 + WRITERS)))
        assert statuses == [200] * WRITERS  # the first entry of the day, raced
        statuses = list(pool.map(put, range(2000, 2000 + WRITERS)))
        assert statuses == [200] * WRITERS  # corrections of it, raced

    with app.extensions["fiducia.sessionmaker"]() as session:
        changes = session.scalars(select(VolumeChange).order_by(VolumeChange.id)).all()
        day = session.scalars(select(DailyVolume)).one()
    assert len(changes) == 2 * WRITERS
    assert changes[0].previous_units is None
    for before, after in zip(changes, changes[1:], strict=False):
        assert after.previous_units == before.units
        assert after.changed_at >= before.changed_at
    assert day.units == changes[-1].units
