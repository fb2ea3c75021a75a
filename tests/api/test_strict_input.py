"""Strict input at the API's edge: unknown query parameters, booleans that are booleans, long
integers, and a list filtered by another organization's contract (issue 20, points 11 and 15)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from contracts.examples import load_example
from tests.api.test_disputes import decision, opened, step
from tests.conftest import World, errors_at, json_of, row_counts

UNKNOWN = ["Unknown field."]


# Lists with a contract_id filter ----------------------------------------------------------


@pytest.mark.parametrize("listed", ["/disputes", "/statements", "/evaluations"])
@pytest.mark.parametrize("who", ["supplier", "client", "finance"])
def test_a_list_filtered_by_another_organizations_contract_is_not_found(
    client: FlaskClient, world: World, listed: str, who: str
) -> None:
    other = client.get(
        f"/api/v1{listed}",
        query_string={"contract_id": world.ids["other_contract"]},
        headers=world.headers(who),
    )
    assert other.status_code == 404, other.get_json()
    assert json_of(other)["message"] == "no such contract"
    missing = client.get(
        f"/api/v1{listed}", query_string={"contract_id": 999_999}, headers=world.headers(who)
    )
    assert missing.status_code == 404
    own = client.get(
        f"/api/v1{listed}",
        query_string={"contract_id": world.ids["contract"]},
        headers=world.headers(who),
    )
    assert (own.status_code, json_of(own)) == (200, [])


def test_an_admin_filters_any_contracts_disputes(client: FlaskClient, world: World) -> None:
    _, dispute = opened(client, world)
    listed = client.get(
        "/api/v1/disputes",
        query_string={"contract_id": world.ids["contract"]},
        headers=world.headers("admin"),
    )
    assert [found["id"] for found in json_of(listed)] == [dispute["id"]]
    other = client.get(
        "/api/v1/disputes",
        query_string={"contract_id": world.ids["other_contract"]},
        headers=world.headers("admin"),
    )
    assert (other.status_code, json_of(other)) == (200, [])


# Booleans ---------------------------------------------------------------------------------


@pytest.mark.parametrize("accepted", [1, 0, "true", "yes", None])
def test_a_verdict_is_true_or_false_and_nothing_else(
    app: Flask, client: FlaskClient, world: World, accepted: Any
) -> None:
    _, dispute = opened(client, world)
    before = row_counts(app)
    body = {"items": [{"question": "tone", "accepted": accepted, "reason": "heard it"}]}
    response = step(client, world, dispute["id"], "decision", "client", **body)
    assert response.status_code == 422, response.get_json()
    assert errors_at(response, "json.items.0.accepted")
    assert row_counts(app) == before
    decided = step(client, world, dispute["id"], "decision", "client", **decision(False))
    assert json_of(decided)["outcome"] == "rejected"


def test_a_users_active_flag_and_a_questions_na_take_only_json_booleans(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)
    user = world.ids["user:supplier"]
    patched = client.patch(
        f"/api/v1/users/{user}", json={"active": 0}, headers=world.headers("admin")
    )
    assert errors_at(patched, "json.active") == ["Not a valid boolean."]
    form = load_example("standard-form.yaml") | {"code": "strict", "version": 1}
    form["sections"][0]["questions"][0]["na"] = 1
    published = client.post("/api/v1/forms", json=form, headers=world.headers("client"))
    assert errors_at(published, "json.sections.0.questions.0.na") == ["Not a valid boolean."]
    assert row_counts(app) == before


@pytest.mark.parametrize("given", ["1", "yes", "on", "True"])
def test_an_uploads_dry_run_is_true_or_false_in_words(
    app: Flask, client: FlaskClient, world: World, given: str
) -> None:
    from tests.api.test_uploads import as_csv, row, upload

    before = row_counts(app)
    response = upload(client, world, as_csv([row(1)]), dry_run=given)
    assert errors_at(response, "form.dry_run") == ['Must be "true" or "false".']
    naive = upload(client, world, as_csv([row(1)]), naive_times_in_contract_zone=given)
    assert errors_at(naive, "form.naive_times_in_contract_zone") == ['Must be "true" or "false".']
    assert row_counts(app) == before
    checked = upload(client, world, as_csv([row(1)]), dry_run="true")
    assert (checked.status_code, json_of(checked)["created"]) == (200, 1)
    assert row_counts(app) == before
