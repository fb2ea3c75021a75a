"""A whole statement under a `service:` block, through the database (issue 23): a month's log,
surveys, the client's daily counts and audits go in through the services, the draft comes out
of the API, and every line's amount is the one computed by hand below."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from contracts.examples import QUALITY_TERMS, load_example
from contracts.periods import Period
from service.agreements.service import create_contract
from service.calls.ingest import log_calls
from service.edge.actors import Actor
from service.evaluations.submission import submit_evaluations
from service.surveys.service import put_count, send_surveys
from tests.api.conftest import PERFECT
from tests.conftest import World, json_of

OCTOBER = Period(2026, 10)
BAND = [{"from": "90%", "adjust": "+2%"}, {"from": "80%", "adjust": "0%"},
        {"from": "0%", "adjust": "-5%"}]  # fmt: skip


def consip_terms() -> dict[str, Any]:
    """Pay 2.00 EUR an answered inbound call, quality on five audits, and every KPI."""
    terms = load_example(QUALITY_TERMS)
    terms["volume"] = {"unit": "answered call", "source": "calls", "direction": "inbound",
                       "tiers": [{"up_to": None, "price": "2.00"}]}  # fmt: skip
    terms["quality"] |= {"min_sample": 5, "evidence": "point"}
    terms["service"] = {
        "short_abandon_s": 5,
        "reconcile": {"tolerance": "1%"},
        "gate": True,
        "kpis": {
            "service_level": {"answered_within_s": 20, "bands": BAND},
            "abandoned": {"target": "5%", "per_point": "-0.5%", "max": "-5%"},
            "answer_speed": {
                "bands": [
                    {"up_to_s": 10, "adjust": "0%"},
                    {"up_to_s": 90, "adjust": "-1%"},
                    {"up_to_s": None, "adjust": "-3%"},
                ]
            },  # fmt: skip
            "repeat_contacts": {
                "within_days": 7,
                "target": "15%",
                "per_point": "-0.2%",
                "max": "-3%",
            },  # fmt: skip
            "csat": {
                "top_box_from": 4,
                "min_responses": 20,
                "bands": [
                    {"from": "90%", "adjust": "+3%"},
                    {"from": "80%", "adjust": "0%"},
                    {"from": "0%", "adjust": "-3%"},
                ],
            },  # fmt: skip
        },
        "cap": {"bonus": "5%", "malus": "6%"},
    }
    return terms


def october_calls() -> list[dict[str, Any]]:
    """104 inbound calls of October in Rome: 94 answered (92 after 10 s, 2 after 50 s), 6
    abandoned after 30 s, 4 abandoned after 2 s (short); the first 50 answered carry a caller,
    and the callers of the first 10 call again 40 hours later (calls 40 to 49)."""
    start = datetime(2026, 10, 2, 8, tzinfo=UTC)
    calls = []
    for number in range(104):
        answered = number < 94
        record = {
            "call_ref": f"O-{number:03d}",
            "call_at": (start + timedelta(hours=number)).isoformat(),
            "agent_ref": f"agent-{number % 4}" if answered else None,
            "direction": "inbound",
            "outcome": "answered" if answered else "abandoned",
            "wait_s": 10 if number < 92 else 50 if answered else 30 if number < 100 else 2,
        }
        if number < 50:
            record["caller_ref"] = f"c-{number % 40}"
        calls.append(record)
    return calls


def store_october(app: Flask, world: World) -> int:
    """Create the contract and put its October in: the log, 40 surveys (30 of them 4 or 5),
    the client's count of every day (110 calls offered), and five perfect audits."""
    client = Actor(user_id=world.ids["user:client"], role="client",
                   organization_id=world.ids["client"])  # fmt: skip
    supplier = Actor(user_id=world.ids["user:supplier"], role="supplier",
                     organization_id=world.ids["supplier"])  # fmt: skip
    admin = Actor(user_id=world.ids["user:admin"], role="admin", organization_id=None)
    factory = app.extensions["fiducia.sessionmaker"]
    with factory.begin() as session:
        contract_id = create_contract(
            session=session, actor=client, client_id=world.ids["client"],
            supplier_id=world.ids["supplier"], name="consip", effective_from=date(2026, 8, 1),
            terms=consip_terms(),
        ).id  # fmt: skip
    with factory.begin() as session:
        log_calls(session=session, actor=supplier, contract_id=contract_id,
                  calls=october_calls(), now=datetime(2026, 11, 1, tzinfo=UTC))  # fmt: skip
    surveys = [
        {"call_ref": f"O-{number:03d}", "answered_at": "2026-11-01T12:00:00+01:00",
         "csat": 5 if number < 30 else 2, "resolved": number % 2 == 0}
        for number in range(40)
    ]  # fmt: skip
    with factory.begin() as session:
        send_surveys(session=session, actor=client, contract_id=contract_id, surveys=surveys)
        for day in range(1, 32):
            put_count(session=session, actor=client, contract_id=contract_id,
                      day=date(2026, 10, day), offered=20 if day == 31 else 3)  # fmt: skip
        audits = {
            number: {
                "contract_id": contract_id, "call_ref": f"O-{number:03d}", "source": "client",
                "agent_ref": "agent-0", "team": None,
                "call_at": datetime(2026, 10, 20, 9, number, tzinfo=UTC),
                "form": "standard@1", "answers": PERFECT, "evaluator_ref": None, "comment": None,
            }
            for number in range(5)
        }  # fmt: skip
        submit_evaluations(session=session, actor=admin, records=audits)
    return contract_id


def test_a_month_under_consip_style_terms_pays_each_line_as_computed_by_hand(
    app: Flask, client: FlaskClient, world: World
) -> None:
    contract_id = store_october(app, world)
    answer = client.post(
        f"/api/v1/contracts/{contract_id}/statements",
        json={"period": "2026-10"},
        headers=world.headers("client"),
    )
    assert answer.status_code == 201, answer.data
    statement = json_of(answer)
    lines = {line["code"]: line for line in statement["lines"]}
    amounts = {code: Decimal(line["amount"]) for code, line in lines.items()}
    basis = {code: line["basis"] for code, line in lines.items()}

    # The log holds 104 calls, the client counted 110: short by more than 1% (108.9), so the
    # 6 missing calls count as abandoned. Offered: 94 answered + 6 abandoned + 6 missing = 106.
    # Volume: the 94 answered calls at 2.00 = F = 188.00.
    assert amounts["volume"] == Decimal("188.00")
    reconciliation = basis["abandoned"]["reconciliation"]
    assert (reconciliation["status"], reconciliation["log"], reconciliation["client"],
            reconciliation["missing"]) == ("log_short", 104, 110, 6)  # fmt: skip
    # service_level: 92 within 20 s of 106 = 86.79%: the 80% band, 0%.
    assert (basis["service_level"]["numerator"], basis["service_level"]["denominator"]) == (92, 106)
    assert basis["service_level"]["figure"] == "0.8679"
    assert amounts["service_level"] == Decimal("0.00")
    # abandoned: 12 of 106 = 11.3208%, 6.3208 points past 5% at -0.5% = -3.16038% of F
    # = -5.9415 -> -5.94.
    assert basis["abandoned"]["figure"] == "0.1132" and basis["abandoned"]["points"] == "6.3208"
    assert amounts["abandoned"] == Decimal("-5.94")
    # answer_speed: (92 x 10 + 2 x 50) / 94 = 10.85 s, over 10 s: -1% of F = -1.88.
    assert basis["answer_speed"]["figure"] == "10.9"
    assert amounts["answer_speed"] == Decimal("-1.88")
    # repeat_contacts: 10 of the 50 answered calls with a caller = 20%, 5 points past 15% at
    # -0.2% = -1% of F = -1.88.
    assert (basis["repeat_contacts"]["numerator"], basis["repeat_contacts"]["denominator"]) == (
        10,
        50,
    )
    assert amounts["repeat_contacts"] == Decimal("-1.88")
    # csat: 30 of 40 answers at 4 or more = 75% (evidence: point): the 0% band, -3% = -5.64.
    assert basis["csat"]["figure"] == "0.7500"
    assert amounts["csat"] == Decimal("-5.64")
    # The cap: maluses 5.94 + 1.88 + 1.88 + 5.64 = 15.34, at most 6% of F = 11.28: 4.06 back.
    assert amounts["service_cap"] == Decimal("4.06")
    assert basis["service_cap"]["malus_lines"] == "15.34"
    # The gate: five perfect audits score 100, the +12% band (22.56) - closed by the maluses.
    assert basis["quality_band"]["band"]["adjust"] == "0.12"
    assert amounts["quality_band"] == Decimal("0.00")
    assert basis["quality_band"]["gate"]["closed_by"] == [
        "abandoned",
        "answer_speed",
        "repeat_contacts",
        "csat",
    ]
    # 188.00 - 5.94 - 1.88 - 1.88 - 5.64 + 4.06 = 176.72, nothing else moving money.
    assert Decimal(statement["total"]) == Decimal("176.72")
    assert sum(amounts.values()) == Decimal("176.72")
    assert all(line["description"] for line in statement["lines"])
