"""The demo's service levels on the pages (issue 23): the contract page's KPI cards and their
twelve-month trends, the suppliers page's column per KPI, in English and in Italian."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.agreements.models import Contract
from tests.conftest import DemoTemplate
from tests.web.test_pages import sign_in

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
ITALIAN = {"Accept-Language": "it-IT,it;q=0.9"}
PERIOD = "2026-10"


def signed_in(app: Flask, demo_template: DemoTemplate, email: str) -> FlaskClient:
    client = app.test_client()
    token = next(login.token for login in demo_template.result.logins if login.email == email)
    sign_in(client, token)
    return client


def contract_ids(app: Flask) -> dict[str, int]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        rows = session.execute(select(Contract.name, Contract.id)).all()
    return {("napoli" if "Napoli" in name else "torino"): id_ for name, id_ in rows}


def kpi_cards(page: str) -> dict[str, str]:
    """Return each KPI card's figure on the contract page, by its code."""
    found = re.findall(r'data-kpi="(\w+)">\s*<div class="value">([^<]+)</div>', page)
    return dict(found)


def api_service(app: Flask, demo_template: DemoTemplate, contract_id: int) -> dict[str, Any]:
    """Return the month's `service` object of the scorecard, as the API gives it the client."""
    token = next(login.token for login in demo_template.result.logins if login.role == "client")
    answer = app.test_client().get(
        f"/api/v1/contracts/{contract_id}/scorecard?period={PERIOD}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200
    service: dict[str, Any] = answer.get_json()["service"]
    return service


def test_the_contract_page_shows_a_card_and_a_trend_per_kpi_in_english(
    demo_app: Flask, demo_template: DemoTemplate
) -> None:
    client = signed_in(demo_app, demo_template, "client@demo.fiducia")
    napoli = contract_ids(demo_app)["napoli"]
    page = client.get(f"/contracts/{napoli}?period={PERIOD}", headers=ENGLISH).text
    service = api_service(demo_app, demo_template, napoli)
    cards = kpi_cards(page)
    assert list(cards) == ["service_level", "abandoned", "answer_speed", "repeat_contacts",
                           "csat", "resolved"]  # fmt: skip
    # The card shows the scorecard's figure: a share to one place, seconds to one place.
    for code in ("service_level", "abandoned", "repeat_contacts", "csat", "resolved"):
        assert cards[code] == f"{float(service[code]['value']) * 100:.1f}%", code
    assert cards["answer_speed"] == f"{service['answer_speed']['value']} s"
    assert "Service levels of October 2026" in page and "paid by the terms" in page
    offered = service["service_level"]["denominator"]
    assert f"of {offered:,} offered calls answered within 20 s" in page
    # A trend per KPI, drawn against the terms: abandoned's and repeats' targets, the bands'
    # edges of the others (90% and 80%; 30 s and 90 s).
    drawn = {"abandoned": ("pass", 1), "repeat_contacts": ("pass", 1), "service_level": ("band", 2),
             "answer_speed": ("band", 2), "csat": ("band", 2)}  # fmt: skip
    for code, (kind, count) in drawn.items():
        chart = page.split(f'id="trend-{code}"')[1].split("</svg>")[0]
        assert chart.count("<circle") == 3, code  # the demo's three months
        assert chart.count(f'class="rule-{kind}"') == count, code
    assert "target 5.0%" in page.split('id="trend-abandoned"')[1].split("</svg>")[0]


def test_the_contract_page_shows_the_kpis_in_italian_and_torinos_unpaid(
    demo_app: Flask, demo_template: DemoTemplate
) -> None:
    client = signed_in(demo_app, demo_template, "client@demo.fiducia")
    ids = contract_ids(demo_app)
    page = client.get(f"/contracts/{ids['napoli']}?period={PERIOD}", headers=ITALIAN).text
    assert "Livelli di servizio di ottobre 2026" in page
    assert "livello di servizio · pagato dalle condizioni" in page
    assert "Service levels" not in page and "offered calls" not in page
    cards = kpi_cards(page)
    assert cards["service_level"].endswith("%") and "," in cards["service_level"]  # 90,3%
    # Torino's terms pay on no KPI: its figures show, with nothing drawn against them.
    torino = client.get(f"/contracts/{ids['torino']}?period={PERIOD}", headers=ENGLISH).text
    assert len(kpi_cards(torino)) == 6 and "paid by the terms" not in torino
    assert 'class="rule-pass"' not in torino.split('id="trend-service_level"')[1]


def test_the_suppliers_page_has_a_column_per_kpi(
    demo_app: Flask, demo_template: DemoTemplate
) -> None:
    client = signed_in(demo_app, demo_template, "client@demo.fiducia")
    ids = contract_ids(demo_app)
    for headers, header in ((ENGLISH, "abandoned calls"), (ITALIAN, "chiamate abbandonate")):
        page = client.get(f"/scorecards?period={PERIOD}", headers=headers).text
        assert f'<th class="num kpi">{header}</th>' in page
        assert page.count('<td class="num kpi"') == 2 * 5
    page = client.get(f"/scorecards?period={PERIOD}", headers=ENGLISH).text
    rows = {
        name: row for name, row in zip(("first", "second"), page.split("<tr>")[2:], strict=False)
    }
    napoli_row = next(row for row in rows.values() if f"/contracts/{ids['napoli']}?" in row)
    abandoned = api_service(demo_app, demo_template, ids["napoli"])["abandoned"]
    cell = napoli_row.split('data-kpi="abandoned">')[1].split("</td>")[0]
    assert cell.startswith(f"{float(abandoned['value']) * 100:.1f}%")
    assert f"{abandoned['numerator']:,} of {abandoned['denominator']:,}" in cell
