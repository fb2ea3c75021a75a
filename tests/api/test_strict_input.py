"""Strict input at the API's edge: unknown query parameters, booleans that are booleans, long
integers, and a list filtered by another organization's contract (issue 20, points 11 and 15)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from contracts.examples import load_example
from tests.api.test_disputes import decision, opened, step
from tests.conftest import World, errors_at, json_of, row_counts

UNKNOWN = ["Unknown field."]
LONG_INTEGER = "9" * 4301


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


# Unknown query parameters -----------------------------------------------------------------

# What each path parameter is given when every endpoint is tried.
PATH_VALUES = {"id": "1", "version": "1", "string": "x", "default": "2026-10"}


def every_api_endpoint(app: Flask) -> list[tuple[str, str]]:
    """Return (method, URL) for every API endpoint, its path parameters filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("api-docs."):
            continue
        if rule.rule.startswith("/api/v1/docs"):
            continue
        url = rule.rule
        for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule.rule):
            value = PATH_VALUES[converter or "default"]
            url = re.sub(rf"<(?:\w+:)?{name}>", value, url)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def test_every_api_endpoint_refuses_a_query_parameter_it_does_not_know_naming_it(
    app: Flask, client: FlaskClient, world: World
) -> None:
    endpoints = every_api_endpoint(app)
    assert len(endpoints) > 40  # every endpoint, not a few
    before = row_counts(app)
    for method, url in endpoints:
        response = client.open(
            url,
            method=method,
            query_string={"colour": "red"},
            headers=world.headers("admin"),
        )
        assert response.status_code == 422, (method, url, response.get_data(as_text=True)[:300])
        assert errors_at(response, "query.colour") == UNKNOWN, (method, url)
    assert row_counts(app) == before


def test_known_query_parameters_and_paging_still_pass_and_every_unknown_one_is_named(
    client: FlaskClient, world: World
) -> None:
    known = client.get(
        "/api/v1/evaluations",
        query_string={"contract_id": world.ids["contract"], "page": 1, "page_size": 5},
        headers=world.headers("client"),
    )
    assert (known.status_code, json_of(known)) == (200, [])
    both = client.get(
        "/api/v1/evaluations",
        query_string={"period": "2026-10", "contract": "1", "pagesize": "5"},
        headers=world.headers("client"),
    )
    assert json_of(both)["errors"] == {"query": {"contract": UNKNOWN, "pagesize": UNKNOWN}}
    trend = client.get(
        f"/api/v1/contracts/{world.ids['contract']}/scorecard/trend",
        query_string={"from": "2026-08", "to": "2026-10"},
        headers=world.headers("client"),
    )
    assert trend.status_code == 200, trend.get_json()


def test_an_endpoint_without_query_parameters_refuses_any(
    app: Flask, client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    before = row_counts(app)
    contracts = client.get("/api/v1/contracts?dry_run=true", headers=world.headers("client"))
    assert errors_at(contracts, "query.dry_run") == UNKNOWN
    stored = client.post(
        "/api/v1/evaluations?dry_run=true",
        json=make_evaluation(),
        headers=world.headers("supplier"),
    )
    assert (stored.status_code, errors_at(stored, "query.dry_run")) == (422, UNKNOWN)
    assert row_counts(app) == before


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


# Integers past what Python reads (4,300 digits) -------------------------------------------


def test_terms_with_an_integer_past_4300_digits_are_422_naming_it(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)
    text = (
        '{"effective_from": "2027-01-01", "terms": {"form": "standard@1", "quality": '
        '{"min_sample": ' + LONG_INTEGER + "}}}"
    )
    response = client.post(
        f"/api/v1/contracts/{world.ids['contract']}/terms",
        data=text,
        content_type="application/json",
        headers=world.headers("client"),
    )
    assert response.status_code == 422
    assert errors_at(response, "json.terms.quality.min_sample") == [
        "a number of more than 4,300 digits"
    ]
    assert row_counts(app) == before
