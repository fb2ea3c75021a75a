"""Figures are served, not recomputed (DESIGN §5): every write path bumps its month's stamp,
so a reader who stored the month's figures before the write never reads them again after it.

Each test stores the month's figures with a first read, writes through one path, reads again,
and holds the answer to a fresh computation (the stored figures dropped) and to the plain
computation of `tests/plain.py` over the rows read back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from contracts.periods import Period
from service.calls.models import Call
from service.evaluations.models import Evaluation
from service.figures.models import MonthFigures
from service.volumes.models import DailyVolume
from tests.api.conftest import evaluation
from tests.conftest import World, json_of, seed_month
from tests.plain import python_aggregate

PERIOD = Period(2026, 11)  # the test's today is 23 November: the month is open to every write
URL = "/api/v1/evaluations"


def scorecard(client: FlaskClient, world: World, period: Period = PERIOD) -> Any:
    url = f"/api/v1/contracts/{world.ids['contract']}/scorecard?period={period}"
    response = client.get(url, headers=world.headers("client"))
    assert response.status_code == 200, response.get_json()
    return json_of(response)


def stored_versions(app: Flask, period: Period = PERIOD) -> list[int]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        return list(
            session.scalars(select(MonthFigures.version).where(MonthFigures.period == period))
        )


def fresh(app: Flask, client: FlaskClient, world: World, period: Period = PERIOD) -> Any:
    """Return the scorecard computed afresh: with no stored figures to serve."""
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        session.execute(delete(MonthFigures))
    return scorecard(client, world, period)


def plain(app: Flask, logged_only: bool = False) -> dict[str, Any]:
    """Return the month computed the plain way, and its declared units."""
    with app.extensions["fiducia.sessionmaker"]() as session:
        rows = list(session.scalars(select(Evaluation)))
        if logged_only:
            logged = set(session.scalars(select(Call.call_ref).where(Call.period == PERIOD)))
            rows = [row for row in rows if row.call_ref in logged]
        units = session.scalar(
            select(func.coalesce(func.sum(DailyVolume.units), 0)).where(
                DailyVolume.day >= PERIOD.first_day, DailyVolume.day < PERIOD.end_day
            )
        )
    return python_aggregate(rows, PERIOD, tolerance=3, min_pairs=20) | {"units": units}


def mean_of(expected: dict[str, Any]) -> str | None:
    if not expected["n"]:
        return None
    mean = Decimal(expected["sum"]) / expected["n"] / 100
    return str(mean.quantize(Decimal("0.01"), ROUND_HALF_UP))


def a_client_audit(client: FlaskClient, world: World, call_ref: str, tone: int = 1) -> Any:
    record = evaluation(
        world, call_ref=call_ref, source="client", call_at="2026-11-10T10:30:00+01:00",
        answers={"tone": tone, "greeting": "no"},
    )  # fmt: skip
    response = client.post(URL, json=record, headers=world.headers("client"))
    assert response.status_code == 201, response.get_json()
    return json_of(response)


def post_evaluation(client: FlaskClient, world: World, app: Flask) -> None:
    a_client_audit(client, world, "2026-11-3")


def post_batch(client: FlaskClient, world: World, app: Flask) -> None:
    records = [
        evaluation(world, call_ref=f"new-{n}", call_at="2026-11-12T09:00:00+01:00")
        for n in range(5)
    ]
    response = client.post(
        f"{URL}/batch", json={"evaluations": records}, headers=world.headers("supplier")
    )
    assert response.status_code == 201, response.get_json()


def amend(client: FlaskClient, world: World, app: Flask, audit: Any) -> None:
    response = client.post(
        f"{URL}/{audit['id']}/revisions",
        json={"answers": evaluation(world)["answers"] | {"tone": 5}, "reason": "heard it again"},
        headers=world.headers("client"),
    )
    assert response.status_code == 201, response.get_json()


def retract(client: FlaskClient, world: World, app: Flask, audit: Any) -> None:
    response = client.post(
        f"{URL}/{audit['id']}/retraction", json={"reason": "wrong call"},
        headers=world.headers("client"),
    )  # fmt: skip
    assert response.status_code == 200, response.get_json()


def dispute_and_decide(client: FlaskClient, world: World, app: Flask, audit: Any) -> None:
    items = [{"question": "tone", "proposed_answer": 5, "reason": "calm and warm"}]
    opened = client.post(
        f"{URL}/{audit['id']}/disputes", json={"items": items}, headers=world.headers("supplier")
    )
    assert opened.status_code == 201, opened.get_json()
    before = scorecard(client, world)
    assert before == fresh(app, client, world) and before["disputes"]["open"] == 1
    scorecard(client, world)  # stored again, then decided
    decided = client.post(
        f"/api/v1/disputes/{json_of(opened)['id']}/decision",
        json={"items": [{"question": "tone", "accepted": True, "reason": "heard it"}]},
        headers=world.headers("client"),
    )
    assert decided.status_code == 200, decided.get_json()


def put_volumes(client: FlaskClient, world: World, app: Flask) -> None:
    response = client.put(
        f"/api/v1/contracts/{world.ids['contract']}/volumes",
        json={"volumes": [{"date": "2026-11-02", "units": 7}, {"date": "2026-11-03", "units": 0}]},
        headers=world.headers("supplier"),
    )
    assert response.status_code == 200, response.get_json()


WithTheAudit = Callable[[FlaskClient, World, Flask, Any], None]
Plain = Callable[[FlaskClient, World, Flask], None]


@pytest.mark.parametrize(
    "write",
    [post_evaluation, post_batch, amend, retract, dispute_and_decide, put_volumes],
    ids=lambda write: write.__name__,
)
def test_a_write_is_read_at_once_as_a_fresh_computation_would_read_it(
    app: Flask, client: FlaskClient, world: World, write: Callable[..., None]
) -> None:
    seed_month(app, world, str(PERIOD), calls=60, audited_every=2, flattery=0.3)
    audit = a_client_audit(client, world, "2026-11-1", tone=2)
    before = scorecard(client, world)
    assert scorecard(client, world) == before and stored_versions(app)  # stored, then served

    arguments = (
        (client, world, app)
        if write in (post_evaluation, post_batch, put_volumes)
        else (client, world, app, audit)
    )
    write(*arguments)

    after = scorecard(client, world)
    assert after != before
    assert after == fresh(app, client, world)
    expected = plain(app)
    assert (after["n"], after["mean"]) == (expected["n"], mean_of(expected))
    assert after["self_assessment"]["pairs"] == expected["pairs"]
    assert after["volume"]["units"] == expected["units"]


def test_calls_logged_after_a_read_count_at_the_next(
    app: Flask, client: FlaskClient, world: World
) -> None:
    seed_month(app, world, str(PERIOD), calls=40, audited_every=2)
    contract = f"/api/v1/contracts/{world.ids['contract']}"
    terms = json_of(client.get(contract, headers=world.headers("client")))["terms_versions"][-1]
    # The terms that count only logged calls start in December: move the log's rule there.
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        from service.agreements.models import TermsVersion

        version = session.get(TermsVersion, terms["id"])
        assert version is not None
        quality = version.document["quality"] | {"require_logged_calls": True}
        version.document = version.document | {"quality": quality}
    before = fresh(app, client, world)
    assert before["n"] == 0 and before["unlogged"] == 40 + 20
    scorecard(client, world)

    calls = [
        {"call_ref": f"2026-11-{n}", "call_at": "2026-11-05T10:00:00+01:00", "agent_ref": "a",
         "direction": "inbound", "duration_s": 60}
        for n in range(0, 40, 3)
    ]  # fmt: skip
    response = client.post(
        f"{contract}/calls", json={"calls": calls}, headers=world.headers("supplier")
    )
    assert response.status_code == 201, response.get_json()

    after = scorecard(client, world)
    assert after == fresh(app, client, world)
    expected = plain(app, logged_only=True)
    # 14 calls logged; too few pairs to verify self-scores, so their 7 client audits count
    assert (after["n"], after["mean"]) == (expected["n"], mean_of(expected)) and after["n"] == 7


def test_new_terms_are_read_at_once_in_the_months_they_govern(
    app: Flask, client: FlaskClient, world: World
) -> None:
    december = Period(2026, 12)
    contract = f"/api/v1/contracts/{world.ids['contract']}"
    before = scorecard(client, world, december)
    assert before["unlogged"] is None and stored_versions(app, december)
    terms = json_of(client.get(contract, headers=world.headers("client")))["terms_versions"][-1]
    added = client.post(
        f"{contract}/terms",
        json={
            "effective_from": "2026-12-01",
            "terms": terms["terms"]
            | {"quality": terms["terms"]["quality"] | {"require_logged_calls": True}},
        },
        headers=world.headers("client"),
    )
    assert added.status_code == 201, added.get_json()

    after = scorecard(client, world, december)
    assert after["unlogged"] == 0
    assert after == fresh(app, client, world, december)


def test_a_write_rolled_back_bumps_nothing_and_a_refused_one_neither(
    app: Flask, client: FlaskClient, world: World
) -> None:
    seed_month(app, world, str(PERIOD), calls=10)
    scorecard(client, world)
    stamp = stored_versions(app)
    bad = evaluation(world, call_ref="2026-11-0", source="client", answers={"tone": 11})
    assert client.post(URL, json=bad, headers=world.headers("client")).status_code == 422
    assert scorecard(client, world) and stored_versions(app) == stamp


def test_service_levels_are_read_at_once_after_surveys_counts_and_next_months_calls(
    app: Flask, client: FlaskClient, world: World
) -> None:
    from tests.api.test_service_levels import call, log, url

    assert log(client, world, [call(number) for number in range(1, 21)]).status_code == 201
    before = scorecard(client, world)["service"]
    assert "csat" not in before and before["offered"]["client"] is None
    scorecard(client, world)

    surveys = [
        {"call_ref": f"S-{number:04d}", "answered_at": "2026-11-04T10:00:00+01:00", "csat": 5}
        for number in range(1, 6)
    ]
    sent = client.post(
        url(world, "/surveys"), json={"surveys": surveys}, headers=world.headers("client")
    )
    assert sent.status_code in (200, 201), sent.get_json()
    after_surveys = scorecard(client, world)
    assert after_surveys["service"]["csat"]["responses"] == 5
    assert after_surveys == fresh(app, client, world)

    counted = client.put(
        url(world, "/counts/2026-11-01"), json={"offered": 40}, headers=world.headers("client")
    )
    assert counted.status_code in (200, 201), counted.get_json()
    after_count = scorecard(client, world)
    assert after_count == fresh(app, client, world)

    # A caller of November calling again on 1 December makes a November call a repeat.
    late = call(98, call_at="2026-11-30T22:00:00+01:00", caller_ref="c-late")
    again = call(99, call_at="2026-12-01T00:30:00+01:00", caller_ref="c-late")
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=False):
        assert log(client, world, [late]).status_code == 201
        repeats = scorecard(client, world)["service"]["repeat_contacts"]
        assert log(client, world, [again]).status_code == 201
        after_december = scorecard(client, world)
        assert after_december["service"]["repeat_contacts"] != repeats
        assert after_december == fresh(app, client, world)
