"""The one relation's rules, each on its own (DESIGN §5): which evaluation of a call counts.

The other rules it applies have their focused tests beside the features they belong to: a
sampled-only month (`test_call_samples.py::test_quality_counts_sampled_calls_each_by_its_side
_and_every_audit_pairs`), an unlogged call (`test_call_samples.py::test_unlogged_calls_do_not_
count_and_the_scorecard_says_how_many`), a form not the terms' (`tests/api/test_form_of_the_
terms.py::test_rows_stored_on_another_form_no_longer_count`).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from contracts.periods import Period
from contracts.terms import SOURCES
from service.agreements.models import Contract
from service.figures.service import aggregate_period
from tests.api.conftest import PERFECT, evaluation
from tests.conftest import World, json_of

NOVEMBER = Period(2026, 11)
# One call, scored differently by each source: its counted score says whose evaluation counts.
TONE = {"client": 1, "third_party": 3, "supplier": 5}
POSTED_BY = {"client": "client", "third_party": "admin", "supplier": "supplier"}


def post(client: FlaskClient, world: World, source: str, call_ref: str = "call-1") -> Any:
    record = evaluation(
        world, call_ref=call_ref, source=source, call_at="2026-11-10T10:00:00+01:00",
        answers=PERFECT | {"tone": TONE[source]},
    )  # fmt: skip
    response = client.post(
        "/api/v1/evaluations", json=record, headers=world.headers(POSTED_BY[source])
    )
    assert response.status_code == 201, response.get_json()
    return json_of(response)


def counted_score(app: Flask, world: World) -> tuple[int, int]:
    """Return the month's n and its sum of scores in hundredths."""
    with app.extensions["fiducia.sessionmaker"]() as session:
        contract = session.get_one(Contract, world.ids["contract"])
        statistics = aggregate_period(session, contract, NOVEMBER).statistics
    return statistics.n, statistics.sum_hundredths


def score_of(stored: Any) -> int:
    return int(stored["score"].replace(".", ""))


@pytest.mark.parametrize(
    "present",
    [("client", "third_party", "supplier"), ("third_party", "supplier"), ("client", "supplier")],
)
def test_the_call_counts_the_evaluation_of_the_first_source_in_sources(
    app: Flask, client: FlaskClient, world: World, present: tuple[str, ...]
) -> None:
    scores = {source: score_of(post(client, world, source)) for source in present}
    first = next(source for source in SOURCES if source in present)
    assert first != "supplier"  # an audit always outranks the self-assessment
    assert counted_score(app, world) == (1, scores[first])


def test_a_retracted_audit_gives_way_to_the_next_source(
    app: Flask, client: FlaskClient, world: World
) -> None:
    audit = post(client, world, "client")
    third = post(client, world, "third_party")
    post(client, world, "supplier")
    assert counted_score(app, world) == (1, score_of(audit))
    retracted = client.post(
        f"/api/v1/evaluations/{audit['id']}/retraction",
        json={"reason": "wrong call"},
        headers=world.headers("client"),
    )
    assert retracted.status_code == 200, retracted.get_json()
    assert counted_score(app, world) == (1, score_of(third))
