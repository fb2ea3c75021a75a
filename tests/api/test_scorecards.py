"""Scorecards per contract, agent and team, side by side and as a trend."""

from decimal import ROUND_HALF_UP, Decimal

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from contracts.periods import Period
from service.evaluations.models import Evaluation
from tests.conftest import World, errors_at, json_of, seed_month
from tests.plain import python_aggregate


def test_a_scorecard_counts_one_evaluation_per_call_and_shows_its_figures(
    app: Flask, client: FlaskClient, world: World
) -> None:
    seed_month(app, world, "2026-09", calls=80, audited_every=3)
    url = f"/api/v1/contracts/{world.ids['contract']}/scorecard?period=2026-09"
    card = json_of(client.get(url, headers=world.headers("supplier")))
    assert card["n"] == 80  # 80 calls; the 27 audited ones count by their client audit
    assert card["self_assessment"]["pairs"] == 27
    low, high = (float(value) for value in card["ci"])
    assert 0 <= low <= float(card["mean"]) <= high <= 100
    assert set(card["critical"]) == {"customer", "business", "compliance"}
    assert card["volume"]["units"] > 30 * 1800


def test_inflated_self_assessments_are_lowered_by_the_measured_inflation(
    app: Flask, client: FlaskClient, world: World
) -> None:
    seed_month(app, world, "2026-09", calls=90, audited_every=2, flattery=0.5)
    url = f"/api/v1/contracts/{world.ids['contract']}/scorecard?period=2026-09"
    card = json_of(client.get(url, headers=world.headers("client")))
    check = card["self_assessment"]
    assert check["pairs"] == 45
    assert check["status"] == "corrected" and check["applied"] is True
    with app.extensions["fiducia.sessionmaker"]() as session:
        rows = list(session.scalars(select(Evaluation)))
    lowered = python_aggregate(rows, Period(2026, 9), tolerance=3, min_pairs=20)
    as_claimed = python_aggregate(rows, Period(2026, 9), tolerance=10**6, min_pairs=20)
    assert lowered["lowered_by"] == int(Decimal(check["inflation"]) * 100) > 300
    assert card["n"] == lowered["n"] == 90
    mean = (Decimal(lowered["sum"]) / lowered["n"] / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert Decimal(card["mean"]) == mean
    assert Decimal(card["mean"]) < Decimal(as_claimed["sum"]) / as_claimed["n"] / 100


def test_agents_and_teams_get_their_own_figures(
    app: Flask, client: FlaskClient, world: World
) -> None:
    seed_month(app, world, "2026-09")
    url = f"/api/v1/contracts/{world.ids['contract']}/scorecard/agents?period=2026-09"
    body = json_of(client.get(url, headers=world.headers("supplier")))  # its agents, as logged
    assert sum(agent["n"] for agent in body["agents"]) == 80
    assert {team["team"] for team in body["teams"]} == {"a", "b"}


def test_a_client_compares_its_suppliers_and_a_supplier_sees_only_itself(
    app: Flask, client: FlaskClient, world: World
) -> None:
    seed_month(app, world, "2026-09")
    seed_month(app, world, "2026-09", contract="other_contract", seed=2)
    for who, contract in (("client", "contract"), ("supplier", "contract")):
        cards = json_of(client.get("/api/v1/scorecards?period=2026-09", headers=world.headers(who)))
        assert [card["contract_id"] for card in cards] == [world.ids[contract]]
    admin = json_of(client.get("/api/v1/scorecards?period=2026-09", headers=world.headers("admin")))
    assert len(admin) == 2


def test_a_trend_has_one_scorecard_per_month(app: Flask, client: FlaskClient, world: World) -> None:
    seed_month(app, world, "2026-08", seed=3)
    seed_month(app, world, "2026-09", seed=4)
    url = f"/api/v1/contracts/{world.ids['contract']}/scorecard/trend?from=2026-07&to=2026-10"
    cards = json_of(client.get(url, headers=world.headers("finance")))
    assert [(card["period"], card["n"]) for card in cards] == [
        ("2026-07", 0),
        ("2026-08", 80),
        ("2026-09", 80),
        ("2026-10", 0),
    ]
    backwards = client.get(url.replace("from=2026-07&to=2026-10", "from=2026-10&to=2026-07"),
                           headers=world.headers("finance"))  # fmt: skip
    assert backwards.status_code == 422
    assert errors_at(backwards, "query.to") == ["must not be before 'from'"]


def test_another_organizations_scorecards_are_404(client: FlaskClient, world: World) -> None:
    contract = world.ids["contract"]
    for path in ("scorecard?period=2026-09", "scorecard/agents?period=2026-09",
                 "scorecard/trend?from=2026-08&to=2026-09"):  # fmt: skip
        for who in ("other_client", "other_supplier", "other_finance"):
            response = client.get(
                f"/api/v1/contracts/{contract}/{path}", headers=world.headers(who)
            )
            assert response.status_code == 404
