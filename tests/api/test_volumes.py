"""Daily volumes: upserts and their history."""

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import World, json_of, row_counts


def url(world: World, key: str = "contract") -> str:
    return f"/api/v1/contracts/{world.ids[key]}/volumes"


def test_a_supplier_sets_and_corrects_daily_volumes(client: FlaskClient, world: World) -> None:
    first = client.put(
        url(world),
        json={
            "volumes": [{"date": "2026-10-01", "units": 1200}, {"date": "2026-10-02", "units": 900}]
        },
        headers=world.headers("supplier"),
    )
    assert first.status_code == 200
    assert json_of(first)["changed"] == 2
    corrected = client.put(
        url(world),
        json={
            "volumes": [{"date": "2026-10-02", "units": 950}, {"date": "2026-10-01", "units": 1200}]
        },
        headers=world.headers("supplier"),
    )
    assert json_of(corrected)["changed"] == 1
    assert json_of(corrected)["unchanged"] == 1
    month = json_of(client.get(f"{url(world)}?period=2026-10", headers=world.headers("client")))
    assert month["units"] == 2150
    assert [(d["date"], d["units"]) for d in month["days"]] == [
        ("2026-10-01", 1200),
        ("2026-10-02", 950),
    ]
    history = [(c["date"], c["previous_units"], c["units"]) for c in month["changes"]]
    assert history == [
        ("2026-10-01", None, 1200),
        ("2026-10-02", None, 900),
        ("2026-10-02", 900, 950),
    ]
    assert {c["changed_by"] for c in month["changes"]} == {world.ids["user:supplier"]}


def test_a_period_lists_only_its_days(client: FlaskClient, world: World) -> None:
    client.put(
        url(world),
        json={"volumes": [{"date": "2026-09-30", "units": 5}, {"date": "2026-10-01", "units": 7}]},
        headers=world.headers("supplier"),
    )
    month = json_of(client.get(f"{url(world)}?period=2026-09", headers=world.headers("supplier")))
    assert month["units"] == 5


def test_a_day_given_twice_is_422(app: Flask, client: FlaskClient, world: World) -> None:
    before = row_counts(app)
    response = client.put(
        url(world),
        json={"volumes": [{"date": "2026-10-01", "units": 1}, {"date": "2026-10-01", "units": 2}]},
        headers=world.headers("supplier"),
    )
    assert response.status_code == 422
    assert "date" in json_of(response)["errors"]["json"]["volumes"]["1"]
    assert row_counts(app) == before


def test_negative_units_are_422(client: FlaskClient, world: World) -> None:
    response = client.put(
        url(world),
        json={"volumes": [{"date": "2026-10-01", "units": -3}]},
        headers=world.headers("supplier"),
    )
    assert response.status_code == 422
    assert "units" in json_of(response)["errors"]["json"]["volumes"]["0"]


def test_who_may_set_volumes(app: Flask, client: FlaskClient, world: World) -> None:
    body = {"volumes": [{"date": "2026-10-01", "units": 1}]}
    before = row_counts(app)
    assert client.put(url(world), json=body, headers=world.headers("client")).status_code == 403
    assert client.put(url(world), json=body, headers=world.headers("finance")).status_code == 403
    for who in ("other_supplier", "other_client", "other_finance"):
        assert client.put(url(world), json=body, headers=world.headers(who)).status_code == 404
        assert client.get(url(world), headers=world.headers(who)).status_code == 404
    assert row_counts(app) == before
    assert client.put(url(world), json=body, headers=world.headers("admin")).status_code == 200
