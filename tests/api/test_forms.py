"""Publishing and reading forms."""

import copy
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from contracts.examples import load_example
from tests.conftest import World, errors_at, json_of, row_counts


def standard(**changes: Any) -> dict[str, Any]:
    return copy.deepcopy(load_example("standard-form.yaml")) | changes


def test_a_client_publishes_a_new_form_version(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/forms", json=standard(version=2), headers=world.headers("client")
    )
    assert response.status_code == 201
    body = json_of(response)
    assert body["ref"] == "standard@2"
    assert body["organization_id"] == world.ids["client"]


def test_publishing_the_same_version_again_is_a_no_op(client: FlaskClient, world: World) -> None:
    response = client.post("/api/v1/forms", json=standard(), headers=world.headers("client"))
    assert response.status_code == 200
    assert json_of(response)["id"] == world.ids["form:client"]


def test_a_published_version_never_changes(app: Flask, client: FlaskClient, world: World) -> None:
    before = row_counts(app)
    response = client.post(
        "/api/v1/forms", json=standard(title="Changed"), headers=world.headers("client")
    )
    assert response.status_code == 409
    assert "version 2" in json_of(response)["message"]
    stored = world.ids["form:client"]
    assert errors_at(response, "json.version") == [f"standard@1 exists as form {stored}"]
    assert row_counts(app) == before


def test_a_form_that_breaks_the_rules_is_422_naming_the_field(
    app: Flask, client: FlaskClient, world: World
) -> None:
    document = standard(version=3)
    document["sections"][1]["questions"][1]["critical"] = "customer"  # a scale question
    document["sections"][0]["weight"] = -1
    before = row_counts(app)
    response = client.post("/api/v1/forms", json=document, headers=world.headers("client"))
    assert response.status_code == 422
    errors = json_of(response)["errors"]["json"]["sections"]
    assert "weight" in errors["0"]
    assert "critical" in errors["1"]["questions"]["1"]
    assert row_counts(app) == before


def test_an_unknown_key_in_a_form_is_422(client: FlaskClient, world: World) -> None:
    document = standard(version=3)
    document["sections"][0]["questions"][0]["colour"] = "red"
    response = client.post("/api/v1/forms", json=document, headers=world.headers("client"))
    assert response.status_code == 422
    assert "colour" in json_of(response)["errors"]["json"]["sections"]["0"]["questions"]["0"]


def test_suppliers_and_finance_may_not_publish_forms(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)
    for who in ("supplier", "finance"):
        response = client.post(
            "/api/v1/forms", json=standard(version=9), headers=world.headers(who)
        )
        assert response.status_code == 403
    assert row_counts(app) == before


def test_a_client_cannot_publish_for_another_client(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)
    response = client.post(
        "/api/v1/forms",
        json=standard(version=4, organization_id=world.ids["other_client"]),
        headers=world.headers("client"),
    )
    assert response.status_code == 404
    assert row_counts(app) == before


def test_an_admin_names_the_owner(client: FlaskClient, world: World) -> None:
    missing = client.post("/api/v1/forms", json=standard(version=5), headers=world.headers("admin"))
    assert missing.status_code == 422
    assert "organization_id" in json_of(missing)["errors"]["json"]
    published = client.post(
        "/api/v1/forms",
        json=standard(version=5, organization_id=world.ids["client"]),
        headers=world.headers("admin"),
    )
    assert published.status_code == 201


def test_each_party_sees_only_the_forms_it_works_with(client: FlaskClient, world: World) -> None:
    def owners(who: str) -> set[int]:
        forms = json_of(client.get("/api/v1/forms", headers=world.headers(who)))
        return {form["organization_id"] for form in forms}

    assert owners("client") == {world.ids["client"]}
    assert owners("finance") == {world.ids["client"]}
    assert owners("supplier") == {world.ids["client"]}
    assert owners("other_supplier") == {world.ids["other_client"]}
    assert owners("admin") == {world.ids["client"], world.ids["other_client"]}


def test_one_form_version_is_read_by_code_and_version(client: FlaskClient, world: World) -> None:
    response = client.get("/api/v1/forms/standard/1", headers=world.headers("supplier"))
    assert response.status_code == 200
    body = json_of(response)
    assert body["id"] == world.ids["form:client"]
    assert body["document"]["sections"][0]["key"] == "communication"
    assert (
        client.get("/api/v1/forms/standard/7", headers=world.headers("client")).status_code == 404
    )


def test_an_admin_reading_a_form_two_clients_publish_names_the_owner(
    client: FlaskClient, world: World
) -> None:
    ambiguous = client.get("/api/v1/forms/standard/1", headers=world.headers("admin"))
    assert ambiguous.status_code == 422
    assert errors_at(ambiguous, "query.organization_id") == ["name the owner"]
    chosen = client.get(
        f"/api/v1/forms/standard/1?organization_id={world.ids['other_client']}",
        headers=world.headers("admin"),
    )
    assert json_of(chosen)["organization_id"] == world.ids["other_client"]
