"""Contracts and their terms versions."""

import copy
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from contracts.examples import load_example
from tests.conftest import World, errors_at, json_of, row_counts


def terms(**changes: Any) -> dict[str, Any]:
    return copy.deepcopy(load_example("terms-quality.yaml")) | changes


def new_contract(world: World, **changes: Any) -> dict[str, Any]:
    body = {
        "client_id": world.ids["client"],
        "supplier_id": world.ids["other_supplier"],
        "name": "outbound sales",
        "effective_from": "2026-09-01",
        "terms": terms(),
    }
    return body | changes


def test_a_client_creates_a_contract_with_its_first_terms(
    client: FlaskClient, world: World
) -> None:
    response = client.post(
        "/api/v1/contracts", json=new_contract(world), headers=world.headers("client")
    )
    assert response.status_code == 201
    body = json_of(response)
    assert body["supplier_name"] == "other_supplier"
    assert [v["effective_from"] for v in body["terms_versions"]] == ["2026-09-01"]
    assert body["terms_versions"][0]["terms"]["currency"] == "EUR"


def test_a_client_cannot_create_a_contract_for_another_client(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)
    response = client.post(
        "/api/v1/contracts",
        json=new_contract(world, client_id=world.ids["other_client"]),
        headers=world.headers("client"),
    )
    assert response.status_code == 404
    assert row_counts(app) == before


@pytest.mark.parametrize("who", ["supplier", "finance"])
def test_suppliers_and_finance_may_not_create_contracts(
    app: Flask, client: FlaskClient, world: World, who: str
) -> None:
    before = row_counts(app)
    response = client.post(
        "/api/v1/contracts", json=new_contract(world), headers=world.headers(who)
    )
    assert response.status_code == 403
    assert row_counts(app) == before


def _broken(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node: Any = document
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    node[int(last) if last.isdigit() else last] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("currency", "XYZ", ["currency"]),
        ("timezone", "Mars/Olympus", ["timezone"]),
        ("form", "standard@9", ["form"]),
        ("surprise", 1, ["surprise"]),
        ("volume.tiers.0.price", "-1.10", ["volume", "tiers", "0", "price"]),
        ("quality.bands.1.from", 95, ["quality", "bands", "1", "from"]),
        ("quality.bands.1.adjust", "+20%", ["quality", "bands", "1", "adjust"]),
    ],
)
def test_terms_that_break_the_rules_are_422_naming_the_field(
    app: Flask, client: FlaskClient, world: World, path: str, value: Any, field: list[str]
) -> None:
    body = new_contract(world, terms=_broken(terms(), path, value))
    before = row_counts(app)
    response = client.post("/api/v1/contracts", json=body, headers=world.headers("client"))
    assert response.status_code == 422, response.get_json()
    messages = errors_at(response, ".".join(["json", "terms", *field]))
    assert isinstance(messages, list) and messages
    assert row_counts(app) == before


def test_terms_start_on_the_first_of_a_month(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/contracts",
        json=new_contract(world, effective_from="2026-09-15"),
        headers=world.headers("client"),
    )
    assert response.status_code == 422
    assert "effective_from" in json_of(response)["errors"]["json"]


def test_a_new_terms_version_starts_after_the_last(client: FlaskClient, world: World) -> None:
    url = f"/api/v1/contracts/{world.ids['contract']}/terms"
    added = client.post(
        url,
        json={"effective_from": "2027-01-01", "terms": terms(dispute_window_days=10)},
        headers=world.headers("client"),
    )
    assert added.status_code == 201
    versions = json_of(added)["terms_versions"]
    assert [v["effective_from"] for v in versions] == ["2026-08-01", "2027-01-01"]
    overlapping = client.post(
        url,
        json={"effective_from": "2026-12-01", "terms": terms()},
        headers=world.headers("client"),
    )
    assert overlapping.status_code == 422
    assert "effective_from" in json_of(overlapping)["errors"]["json"]


def test_only_the_client_changes_terms(app: Flask, client: FlaskClient, world: World) -> None:
    url = f"/api/v1/contracts/{world.ids['contract']}/terms"
    body = {"effective_from": "2027-01-01", "terms": terms()}
    before = row_counts(app)
    assert client.post(url, json=body, headers=world.headers("supplier")).status_code == 403
    assert client.post(url, json=body, headers=world.headers("finance")).status_code == 403
    for who in ("other_client", "other_supplier", "other_finance"):
        assert client.post(url, json=body, headers=world.headers(who)).status_code == 404
    assert row_counts(app) == before


def test_each_party_sees_only_its_own_contracts(client: FlaskClient, world: World) -> None:
    def seen(who: str) -> set[int]:
        return {
            c["id"] for c in json_of(client.get("/api/v1/contracts", headers=world.headers(who)))
        }

    mine, theirs = world.ids["contract"], world.ids["other_contract"]
    assert seen("client") == seen("finance") == seen("supplier") == {mine}
    assert seen("other_client") == seen("other_supplier") == {theirs}
    assert seen("admin") == {mine, theirs}
    for who in ("other_client", "other_supplier", "other_finance"):
        response = client.get(f"/api/v1/contracts/{mine}", headers=world.headers(who))
        assert response.status_code == 404
    detail = client.get(f"/api/v1/contracts/{mine}", headers=world.headers("supplier"))
    assert json_of(detail)["terms_versions"][0]["effective_from"] == "2026-08-01"


def test_new_terms_start_in_a_month_that_has_not_begun(
    app: Flask, client: FlaskClient, world: World
) -> None:
    # Today is 2026-11-23: September has ended with its draft still open, November has begun.
    url = f"/api/v1/contracts/{world.ids['contract']}/terms"
    cheaper = terms(volume={"unit": "handled contact", "tiers": [{"up_to": None, "price": "0.01"}]})
    before = row_counts(app)
    for start in ("2026-09-01", "2026-11-01"):
        response = client.post(
            url, json={"effective_from": start, "terms": cheaper}, headers=world.headers("client")
        )
        assert response.status_code == 422, start
        message = json_of(response)["errors"]["json"]["effective_from"][0]
        assert "2026-12-01 or later" in message
    assert row_counts(app) == before
    later = client.post(
        url,
        json={"effective_from": "2026-12-01", "terms": cheaper},
        headers=world.headers("client"),
    )
    assert later.status_code == 201


def test_terms_naming_a_form_version_no_database_can_hold_are_422(
    client: FlaskClient, world: World
) -> None:
    response = client.post(
        "/api/v1/contracts",
        json=new_contract(world, terms=terms(form="standard@99999999999999999999")),
        headers=world.headers("client"),
    )
    assert response.status_code == 422
    assert "form" in json_of(response)["errors"]["json"]["terms"]
