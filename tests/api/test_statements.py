"""Payout statements: drafts, finalization, corrections carried once, exports, simulation."""

import copy
import csv
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from contracts.examples import load_example
from contracts.periods import Period
from tests.api.conftest import PERFECT
from tests.conftest import World, errors_at, json_of, row_counts, seed_month
from tests.plain import plain_total


def draft(client: FlaskClient, world: World, period: str, who: str = "finance") -> Any:
    return client.post(
        f"/api/v1/contracts/{world.ids['contract']}/statements",
        json={"period": period},
        headers=world.headers(who),
    )


@pytest.fixture
def months(app: Flask, world: World) -> None:
    seed_month(app, world, "2026-08", seed=11)
    seed_month(app, world, "2026-09", seed=12)


def test_a_draft_pays_volume_and_quality_and_explains_every_line(
    client: FlaskClient, world: World, months: None
) -> None:
    response = draft(client, world, "2026-08")
    assert response.status_code == 201
    statement = json_of(response)
    assert statement["status"] == "draft" and statement["content_hash"] is None
    codes = [line["code"] for line in statement["lines"]]
    assert codes[0] == "volume"
    assert "quality_band" in codes
    assert sum(Decimal(line["amount"]) for line in statement["lines"]) == Decimal(
        statement["total"]
    )
    assert statement["volume_only"] == statement["lines"][0]["amount"]
    assert all(line["description"] and line["basis"] for line in statement["lines"])
    assert statement["figures"]["n"] == 80
    again = draft(client, world, "2026-08")
    assert again.status_code == 200
    assert json_of(again)["id"] == statement["id"]


@pytest.mark.parametrize(("period", "field"), [("2099-01", "period"), ("2026-07", "period")])
def test_a_period_not_ended_or_before_the_terms_is_422(
    app: Flask, client: FlaskClient, world: World, period: str, field: str
) -> None:
    before = row_counts(app)
    response = draft(client, world, period)
    assert response.status_code == 422
    assert field in json_of(response)["errors"]["json"]
    assert row_counts(app) == before


def test_who_may_compute_and_finalize(
    app: Flask, client: FlaskClient, world: World, months: None
) -> None:
    assert draft(client, world, "2026-08", who="supplier").status_code == 403
    for who in ("other_client", "other_finance", "other_supplier"):
        assert draft(client, world, "2026-08", who=who).status_code == 404
    statement = json_of(draft(client, world, "2026-08", who="client"))
    url = f"/api/v1/statements/{statement['id']}"
    for who in ("other_client", "other_finance", "other_supplier"):
        assert client.get(url, headers=world.headers(who)).status_code == 404
        assert client.post(f"{url}/finalize", headers=world.headers(who)).status_code == 404
        assert client.get(f"{url}/export?format=csv", headers=world.headers(who)).status_code == 404
    assert client.get(url, headers=world.headers("supplier")).status_code == 200
    before = row_counts(app)
    for who in ("client", "supplier"):
        assert client.post(f"{url}/finalize", headers=world.headers(who)).status_code == 403
    assert row_counts(app) == before
    assert json_of(client.get(url, headers=world.headers("finance")))["status"] == "draft"


def test_finance_freezes_a_statement_once_and_for_good(
    client: FlaskClient, world: World, months: None
) -> None:
    statement = json_of(draft(client, world, "2026-08"))
    url = f"/api/v1/statements/{statement['id']}"
    final = json_of(client.post(f"{url}/finalize", headers=world.headers("finance")))
    assert final["status"] == "final"
    assert len(final["content_hash"]) == 64
    assert final["lines"] == statement["lines"]
    twice = client.post(f"{url}/finalize", headers=world.headers("finance"))
    assert twice.status_code == 409
    assert errors_at(twice, "path.statement_id") == ["already final"]
    recompute = draft(client, world, "2026-08")
    assert recompute.status_code == 409
    assert errors_at(recompute, "json.period") == [f"statement {final['id']} of 2026-08 is final"]
    assert json_of(client.get(url, headers=world.headers("finance"))) == final


def correct_august(app: Flask, client: FlaskClient, world: World, day: str, units: int) -> Decimal:
    """Correct one August day's volume; return what August pays now, computed in plain Python."""
    corrected = client.put(
        f"/api/v1/contracts/{world.ids['contract']}/volumes",
        json={"volumes": [{"date": day, "units": units}]},
        headers=world.headers("supplier"),
    )
    assert corrected.status_code == 200
    with app.extensions["fiducia.sessionmaker"]() as session:
        return plain_total(
            session, world.ids["contract"], Period(2026, 8), load_example("terms-quality.yaml")
        )


def test_a_late_change_after_finalization_is_carried_once_by_the_next_statement(
    app: Flask, client: FlaskClient, world: World, months: None
) -> None:
    august = json_of(draft(client, world, "2026-08"))
    final_august = json_of(
        client.post(f"/api/v1/statements/{august['id']}/finalize", headers=world.headers("finance"))
    )
    # After August is final: a late audit that failed the identity check, and a corrected day.
    late = {
        "contract_id": world.ids["contract"], "call_ref": "2026-08-1", "source": "client",
        "agent_ref": "agent-1", "call_at": "2026-08-20T10:00:00+02:00", "form": "standard@1",
        "answers": dict(PERFECT) | {"verification": "no"},
    }  # fmt: skip
    assert (
        client.post("/api/v1/evaluations", json=late, headers=world.headers("client")).status_code
        == 201
    )
    recomputed = correct_august(app, client, world, "2026-08-10", 7000)
    assert recomputed != Decimal(august["total"])

    september = json_of(draft(client, world, "2026-09"))
    adjustments = [line for line in september["lines"] if line["code"] == "prior_period_adjustment"]
    assert len(adjustments) == 1
    assert adjustments[0]["basis"]["statement_id"] == august["id"]
    assert Decimal(adjustments[0]["amount"]) == Decimal(recomputed) - Decimal(august["total"])

    # The August statement itself never changed.
    url = f"/api/v1/statements/{august['id']}"
    assert json_of(client.get(url, headers=world.headers("finance"))) == final_august

    # Recomputing the September draft carries it still once; after September is final,
    # October does not carry it again.
    again = json_of(draft(client, world, "2026-09"))
    assert [line["code"] for line in again["lines"]].count("prior_period_adjustment") == 1
    client.post(f"/api/v1/statements/{september['id']}/finalize", headers=world.headers("finance"))
    october = json_of(draft(client, world, "2026-10"))
    assert [line["code"] for line in october["lines"]].count("prior_period_adjustment") == 0

    # A second late change to August: October carries only what September did not.
    recomputed_again = correct_august(app, client, world, "2026-08-11", 9000)
    assert recomputed_again != recomputed
    october = json_of(draft(client, world, "2026-10"))
    [carried] = [line for line in october["lines"] if line["code"] == "prior_period_adjustment"]
    assert carried["basis"]["statement_id"] == august["id"]
    assert Decimal(carried["amount"]) == recomputed_again - recomputed


def test_a_correction_with_no_effect_on_money_adds_no_line(
    client: FlaskClient, world: World, months: None
) -> None:
    august = json_of(draft(client, world, "2026-08"))
    client.post(f"/api/v1/statements/{august['id']}/finalize", headers=world.headers("finance"))
    volumes = f"/api/v1/contracts/{world.ids['contract']}/volumes"
    stored = json_of(client.get(f"{volumes}?period=2026-08", headers=world.headers("supplier")))
    day = stored["days"][9]
    # A day corrected, then corrected back: August's inputs changed, its money did not.
    for units in (day["units"] + 5000, day["units"]):
        changed = client.put(
            volumes,
            json={"volumes": [{"date": day["date"], "units": units}]},
            headers=world.headers("supplier"),
        )
        assert json_of(changed)["changed"] == 1
    september = json_of(draft(client, world, "2026-09"))
    assert [line["code"] for line in september["lines"]].count("prior_period_adjustment") == 0


def test_statements_are_listed_and_filtered(
    client: FlaskClient, world: World, months: None
) -> None:
    august = json_of(draft(client, world, "2026-08"))
    draft(client, world, "2026-09")
    client.post(f"/api/v1/statements/{august['id']}/finalize", headers=world.headers("finance"))

    def periods(who: str, query: str) -> list[str]:
        found = json_of(client.get(f"/api/v1/statements?{query}", headers=world.headers(who)))
        return [statement["period"] for statement in found]

    assert periods("finance", "") == ["2026-08", "2026-09"]
    assert periods("supplier", "status=final") == ["2026-08"]
    assert periods("client", "period=2026-09") == ["2026-09"]
    assert periods("other_finance", "") == []


def test_a_statement_exports_as_csv_and_as_a_workbook_of_numbers(
    client: FlaskClient, world: World, months: None
) -> None:
    statement = json_of(draft(client, world, "2026-08"))
    url = f"/api/v1/statements/{statement['id']}/export"
    as_csv = client.get(f"{url}?format=csv", headers=world.headers("finance"))
    assert as_csv.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(as_csv.data.decode())))
    assert ["total", "", statement["total"], ""] in rows
    as_xlsx = client.get(f"{url}?format=xlsx", headers=world.headers("finance"))
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.data)).active
    totals = [row for row in sheet.iter_rows(values_only=True) if row[0] == "Total"]
    assert Decimal(str(totals[0][2])) == Decimal(statement["total"])
    amount_cells = [
        row[2] for row in sheet.iter_rows(min_row=14, values_only=True) if row[2] is not None
    ]
    assert all(isinstance(value, int | float) for value in amount_cells)
    bad = client.get(f"{url}?format=pdf", headers=world.headers("finance"))
    assert bad.status_code == 422
    assert "format" in errors_at(bad, "query")


def test_a_months_payouts_list_one_row_per_contract(
    app: Flask, client: FlaskClient, world: World, months: None
) -> None:
    statement = json_of(draft(client, world, "2026-08"))
    rows = json_of(client.get("/api/v1/payouts?period=2026-08", headers=world.headers("finance")))
    assert len(rows) == 1
    row = rows[0]
    assert row["supplier"] == "supplier" and row["total"] == statement["total"]
    assert Decimal(row["volume_only"]) + Decimal(row["quality"]) == Decimal(row["total"])
    as_csv = client.get(
        "/api/v1/payouts?period=2026-08&format=csv", headers=world.headers("finance")
    )
    assert list(csv.DictReader(io.StringIO(as_csv.data.decode())))[0]["total"] == statement["total"]
    as_xlsx = client.get(
        "/api/v1/payouts?period=2026-08&format=xlsx", headers=world.headers("finance")
    )
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.data)).active
    header, first = list(sheet.iter_rows(max_row=2, values_only=True))
    assert Decimal(str(first[header.index("total")])) == Decimal(statement["total"])
    other = json_of(
        client.get("/api/v1/payouts?period=2026-08", headers=world.headers("other_finance"))
    )
    assert other == []


def test_simulation_compares_draft_terms_with_the_actual_ones_and_stores_nothing(
    app: Flask, client: FlaskClient, world: World, months: None
) -> None:
    volume_only = load_example("terms-volume-only.yaml")
    before = row_counts(app)
    response = client.post(
        f"/api/v1/contracts/{world.ids['contract']}/simulate",
        json={"terms": volume_only, "periods": ["2026-09", "2026-08"]},
        headers=world.headers("supplier"),
    )
    assert response.status_code == 200
    assert row_counts(app) == before
    body = json_of(response)
    assert [entry["period"] for entry in body] == ["2026-08", "2026-09"]
    for entry in body:
        assert [line["code"] for line in entry["simulated"]["lines"]] == ["volume"]
        difference = Decimal(entry["simulated"]["total"]) - Decimal(entry["actual"]["total"])
        assert Decimal(entry["difference"]) == difference
    # Worded under the draft terms' tiers: 20,000 at 1.20, up to 60,000 at 1.05, then 0.90.
    assert [entry["simulated"]["lines"][0]["description"] for entry in body] == [
        "Volume fee: 62,607 units of handled contact (declared daily volumes), 20,000 at 1.20,"
        " 40,000 at 1.05 and 2,607 at 0.90",
        "Volume fee: 58,925 units of handled contact (declared daily volumes), 20,000 at 1.20"
        " and 38,925 at 1.05",
    ]
    drafted = client.post(
        f"/api/v1/contracts/{world.ids['contract']}/statements",
        json={"period": "2026-08"},
        headers=world.headers("finance"),
    )
    assert json_of(drafted)["lines"] == body[0]["actual"]["lines"]  # worded the same way


def test_simulating_broken_terms_is_422_naming_the_field(client: FlaskClient, world: World) -> None:
    terms = copy.deepcopy(load_example("terms-quality.yaml"))
    terms["quality"]["bands"][0]["adjust"] = "+1%"  # below the next band's +6%
    response = client.post(
        f"/api/v1/contracts/{world.ids['contract']}/simulate",
        json={"terms": terms, "periods": ["2026-08"]},
        headers=world.headers("client"),
    )
    assert response.status_code == 422
    assert "quality" in json_of(response)["errors"]["json"]["terms"]


def test_a_total_too_large_to_store_is_422_and_stores_nothing(
    app: Flask, client: FlaskClient, world: World
) -> None:
    costly = copy.deepcopy(load_example("terms-quality.yaml"))
    costly["volume"]["tiers"] = [{"up_to": None, "price": 10**30}]
    created = client.post(
        "/api/v1/contracts",
        json={"client_id": world.ids["client"], "supplier_id": world.ids["supplier"],
              "name": "costly", "effective_from": "2026-08-01", "terms": costly},
        headers=world.headers("client"),
    )  # fmt: skip
    assert created.status_code == 201
    contract_id = json_of(created)["id"]
    volume = client.put(
        f"/api/v1/contracts/{contract_id}/volumes",
        json={"volumes": [{"date": "2026-09-02", "units": 1}]},
        headers=world.headers("supplier"),
    )
    assert volume.status_code == 200
    before = row_counts(app)
    response = client.post(
        f"/api/v1/contracts/{contract_id}/statements",
        json={"period": "2026-09"},
        headers=world.headers("finance"),
    )
    assert response.status_code == 422
    assert "past what can be stored" in json_of(response)["errors"]["json"]["period"][0]
    assert row_counts(app) == before


def test_a_statement_stores_the_figures_its_months_scorecard_shows(
    client: FlaskClient, world: World, months: None
) -> None:
    statement = json_of(draft(client, world, "2026-08"))
    url = f"/api/v1/contracts/{world.ids['contract']}/scorecard?period=2026-08"
    card = json_of(client.get(url, headers=world.headers("finance")))
    assert card["n"] > 0 and card["volume"]["units"] > 0
    quality = ("n", "mean", "sd", "ci", "passed_rate", "critical", "self_assessment")
    quality += ("sampling", "unlogged")
    expected = {key: card[key] for key in quality} | {"units": card["volume"]["units"]}
    expected["disputes"] = card["disputes"] | {"still_open": []}
    assert statement["figures"] == expected
