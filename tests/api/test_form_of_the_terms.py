"""Only the form named by the terms in force counts: nobody chooses an easier form (§5)."""

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from service.evaluations.models import Evaluation
from service.forms.models import Form
from tests.conftest import World, json_of, row_counts

EASY_FORM = {
    "code": "easy",
    "version": 1,
    "title": "One question, for another purpose",
    "sections": [
        {
            "key": "all",
            "title": "All",
            "weight": 1,
            "questions": [{"key": "polite", "text": "Polite", "kind": "yes_no", "weight": 1}],
        }
    ],
}


def _publish_easy_form(client: FlaskClient, world: World) -> None:
    response = client.post("/api/v1/forms", json=EASY_FORM, headers=world.headers("client"))
    assert response.status_code == 201, response.get_json()


def test_an_evaluation_on_a_form_the_terms_do_not_name_is_422_naming_form(
    app: Flask, client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    _publish_easy_form(client, world)
    before = row_counts(app)
    record = make_evaluation(form="easy@1")
    record["answers"] = {"polite": "yes"}
    response = client.post("/api/v1/evaluations", json=record, headers=world.headers("supplier"))
    assert response.status_code == 422
    message = json_of(response)["errors"]["json"]["form"][0]
    assert "standard@1" in message and "2026-10" in message
    batch = client.post(
        "/api/v1/evaluations/batch",
        json={"evaluations": [make_evaluation(call_ref="ok"), record]},
        headers=world.headers("supplier"),
    )
    assert batch.status_code == 422
    assert list(json_of(batch)["errors"]["json"]["evaluations"]) == ["1"]
    assert "form" in json_of(batch)["errors"]["json"]["evaluations"]["1"]
    assert row_counts(app) == before


def test_rows_stored_on_another_form_no_longer_count(
    app: Flask, client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    _publish_easy_form(client, world)
    # Audits: self-scores that no audit verifies would count nowhere anyway.
    perfect = make_evaluation(call_ref="counted", source="client")
    counted = client.post("/api/v1/evaluations", json=perfect, headers=world.headers("client"))
    assert counted.status_code == 201
    failing = make_evaluation(call_ref="swapped", source="client", answers={"verification": "no"})
    stored = client.post("/api/v1/evaluations", json=failing, headers=world.headers("client"))
    assert stored.status_code == 201
    # A row stored before the rule existed, on the easy form.
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        easy = session.scalar(select(Form.id).where(Form.code == "easy"))
        session.execute(
            update(Evaluation)
            .where(Evaluation.id == json_of(stored)["id"])
            .values(form_id=easy, score_hundredths=10000)
        )
    card = json_of(
        client.get(
            f"/api/v1/contracts/{world.ids['contract']}/scorecard?period=2026-10",
            headers=world.headers("client"),
        )
    )
    assert card["n"] == 1
    assert card["mean"] == "100.00"
