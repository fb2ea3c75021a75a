"""Calibration sessions over HTTP: opening, blind scoring, closing, roles, and the gate on money."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from service.accounts.models import Organization
from service.calibration.scheduled import close_due_sessions
from service.demo import seed
from service.jobs.scheduler import build_scheduler, calibration_job
from service.notices.models import WebhookDelivery
from tests.api.conftest import PERFECT
from tests.conftest import World, errors_at, json_of, seed_month

CALLS = [f"2026-10-{number}" for number in range(12)]
# A participant's answers that score 43.50, and another's that score 80.63: no page, answer or
# error of an open session may show one participant the other's.
HARSH = dict(PERFECT) | {
    "de_escalation": 2,
    "greeting": "no",
    "active_listening": 1,
    "procedure": 1,
    "stays_calm": 2,
    "tone": 1,
    "courtesy": "no",
    "ownership": 1,
    "next_steps": "no",
    "plain_language": "no",
}
MIXED = dict(PERFECT) | {"active_listening": 3, "procedure": 2, "tone": 3, "greeting": "no"}


@pytest.fixture
def calls(app: Flask, world: World) -> list[str]:
    """October's calls of the world's contract, each evaluated (the session's candidates)."""
    seed_month(app, world, "2026-10", calls=12, audited_every=3)
    return CALLS


@pytest.fixture
def second_supplier(app: Flask, world: World) -> str:
    """Add a second user of the contract's supplier; return its name in `world.tokens`."""
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        supplier = session.get(Organization, world.ids["supplier"])
        added = seed.member(session, supplier, role="supplier", email="qa2@example.test")
        world.ids["user:supplier2"] = added.user.id
        world.tokens["supplier2"] = added.token
    return "supplier2"


def open_session(
    client: FlaskClient, world: World, calls: list[str], who: str = "client", **changes: Any
) -> Any:
    body = {
        "title": "October calibration",
        "calls": calls,
        "participants": [world.ids["user:client"], world.ids["user:supplier"]],
        "reference": world.ids["user:client"],
    } | changes
    return client.post(
        f"/api/v1/contracts/{world.ids['contract']}/calibrations",
        json=body,
        headers=world.headers(who),
    )


def score(
    client: FlaskClient, world: World, session_id: int, who: str, call: str, answers: Any
) -> Any:
    return client.post(
        f"/api/v1/calibrations/{session_id}/scores",
        json={"call_ref": call, "answers": answers},
        headers=world.headers(who),
    )


def test_a_client_opens_a_session_and_both_parties_see_it_and_its_status(
    client: FlaskClient, world: World, calls: list[str]
) -> None:
    opened = open_session(client, world, calls[:10])
    assert opened.status_code == 201
    body = json_of(opened)
    assert body["status"] == "open" and body["form"] == "standard@1"
    assert [call["call_ref"] for call in body["calls"]] == calls[:10]
    assert [(p["user_id"], p["side"], p["finished"]) for p in body["participants"]] == [
        (world.ids["user:client"], "client", False),
        (world.ids["user:supplier"], "supplier", False),
    ]
    assert body["reference"] == world.ids["user:client"]
    assert body["scores"] == [] and body["agreement"] is None
    listed = client.get(
        f"/api/v1/calibrations?contract_id={world.ids['contract']}",
        headers=world.headers("finance"),
    )
    assert [(s["id"], s["status"]) for s in json_of(listed)] == [(body["id"], "open")]
    seen = client.get(f"/api/v1/calibrations/{body['id']}", headers=world.headers("supplier"))
    assert json_of(seen)["status"] == "open"


def test_opening_refuses_each_bad_call_participant_reference_and_time_by_its_field(
    client: FlaskClient, world: World, calls: list[str]
) -> None:
    refused = open_session(
        client,
        world,
        [calls[0], "no-such-call", calls[0]],
        participants=[
            world.ids["user:client"],
            world.ids["user:supplier"],
            world.ids["user:other_supplier"],
            world.ids["user:finance"],
        ],
        reference=world.ids["user:admin"],
        closes_at="2020-01-01T00:00:00+00:00",
    )
    assert refused.status_code == 422
    assert errors_at(refused, "json.calls.1") == [
        f"contract {world.ids['contract']} has no logged or evaluated call no-such-call"
    ]
    assert errors_at(refused, "json.calls.2") == ["this call is listed twice"]
    assert "json.participants.2" and errors_at(refused, "json.participants.2")
    assert errors_at(refused, "json.participants.3")  # finance reads, it does not score
    assert errors_at(refused, "json.reference") == ["the reference must be one of the participants"]
    assert errors_at(refused, "json.closes_at") == ["must be in the future"]
    one = open_session(client, world, calls, participants=[world.ids["user:client"]])
    assert one.status_code == 422 and errors_at(one, "json.participants")


def test_roles_another_supplier_is_404_finance_and_suppliers_may_not_open_or_close(
    client: FlaskClient, world: World, calls: list[str]
) -> None:
    assert open_session(client, world, calls, who="other_client").status_code == 404
    assert open_session(client, world, calls, who="finance").status_code == 403
    assert open_session(client, world, calls, who="supplier").status_code == 403
    session_id = json_of(open_session(client, world, calls))["id"]
    url = f"/api/v1/calibrations/{session_id}"
    assert client.get(url, headers=world.headers("other_supplier")).status_code == 404
    assert client.post(f"{url}/close", headers=world.headers("other_client")).status_code == 404
    assert client.post(f"{url}/close", headers=world.headers("supplier")).status_code == 403
    assert client.post(f"{url}/close", headers=world.headers("finance")).status_code == 403
    assert score(client, world, session_id, "finance", calls[0], PERFECT).status_code == 403
    # An admin may see and close every session, but scores only where it takes part.
    assert score(client, world, session_id, "admin", calls[0], PERFECT).status_code == 403
    assert score(client, world, session_id, "other_supplier", calls[0], PERFECT).status_code == 404


def test_a_score_is_refused_as_an_evaluation_is_stored_once_and_amended_with_put(
    client: FlaskClient, world: World, calls: list[str]
) -> None:
    session_id = json_of(open_session(client, world, calls[:3]))["id"]
    bad = score(client, world, session_id, "supplier", calls[0], PERFECT | {"greeting": "maybe"})
    assert bad.status_code == 422 and errors_at(bad, "json.answers.greeting")
    outside = score(client, world, session_id, "supplier", calls[5], PERFECT)
    assert outside.status_code == 422 and errors_at(outside, "json.call_ref")
    first = score(client, world, session_id, "supplier", calls[0], PERFECT)
    assert first.status_code == 201 and json_of(first)["score"] == "100.00"
    again = score(client, world, session_id, "supplier", calls[0], PERFECT)
    assert again.status_code == 200 and json_of(again)["id"] == json_of(first)["id"]
    other = score(client, world, session_id, "supplier", calls[0], HARSH)
    assert other.status_code == 409 and errors_at(other, "json.call_ref")
    amended = client.put(
        f"/api/v1/calibrations/{session_id}/scores",
        json={"call_ref": calls[0], "answers": HARSH},
        headers=world.headers("supplier"),
    )
    assert amended.status_code == 200 and json_of(amended)["score"] == "43.50"
    missing = client.put(
        f"/api/v1/calibrations/{session_id}/scores",
        json={"call_ref": calls[1], "answers": HARSH},
        headers=world.headers("supplier"),
    )
    assert missing.status_code == 404


def every_answer_set(value: Any) -> Iterator[dict[str, Any]]:
    """Yield every mapping in a JSON document that holds answers or a score."""
    if isinstance(value, dict):
        if "answers" in value or "score" in value or "deviation" in value:
            yield value
        for item in value.values():
            yield from every_answer_set(item)
    elif isinstance(value, list):
        for item in value:
            yield from every_answer_set(item)


def reads_of_an_open_session(
    client: FlaskClient, world: World, session_id: int, who: str, call: str
) -> list[Any]:
    """Every answer a participant can get about an open session through the API."""
    headers = world.headers(who)
    url = f"/api/v1/calibrations/{session_id}"
    return [
        client.get(url, headers=headers),
        client.get(f"/api/v1/calibrations?contract_id={world.ids['contract']}", headers=headers),
        client.get("/api/v1/calibrations", headers=headers),
        score(client, world, session_id, who, call, MIXED if who == "client" else HARSH),
        score(client, world, session_id, who, call, PERFECT),  # a 409 about its own score
        score(client, world, session_id, who, call, {"greeting": "maybe"}),  # a 422
        score(client, world, session_id, who, "not-in-it", PERFECT),  # a 422
        client.put(
            f"{url}/scores",
            json={"call_ref": call, "answers": MIXED if who == "client" else HARSH},
            headers=headers,
        ),
        client.post(f"{url}/close", headers=world.headers("supplier")),  # a 403
    ]


def test_an_open_session_never_shows_a_participant_anothers_answers_or_score(
    client: FlaskClient, world: World, calls: list[str]
) -> None:
    session_id = json_of(open_session(client, world, calls[:2]))["id"]
    for call in calls[:2]:
        assert score(client, world, session_id, "client", call, MIXED).status_code == 201
    assert score(client, world, session_id, "supplier", calls[0], HARSH).status_code == 201
    marks = {"client": '"80.63"', "supplier": '"43.50"'}
    for who, other in (("client", "supplier"), ("supplier", "client")):
        own_id = world.ids[f"user:{who}"]
        for response in reads_of_an_open_session(client, world, session_id, who, calls[0]):
            body = response.get_data(as_text=True)
            assert marks[other] not in body, (who, response.status_code, body)
            for found in every_answer_set(json.loads(body)):
                assert found.get("user_id", own_id) == own_id, (who, body)
    # Who has finished is no secret: the client scored both calls, the supplier one.
    seen = json_of(
        client.get(f"/api/v1/calibrations/{session_id}", headers=world.headers("supplier"))
    )
    assert [p["finished"] for p in seen["participants"]] == [True, False]


def test_after_the_close_every_participant_sees_every_score_and_the_agreement(
    app: Flask, client: FlaskClient, world: World, calls: list[str], second_supplier: str
) -> None:
    people = [world.ids["user:client"], world.ids["user:supplier"], world.ids["user:supplier2"]]
    session_id = json_of(open_session(client, world, calls[:3], participants=people))["id"]
    plan = {"client": [PERFECT, MIXED, HARSH], "supplier": [PERFECT, HARSH, HARSH]}
    plan[second_supplier] = [MIXED, MIXED, HARSH]
    for who, answers in plan.items():
        for call, given in zip(calls[:3], answers, strict=True):
            assert score(client, world, session_id, who, call, given).status_code == 201
    closed = client.post(
        f"/api/v1/calibrations/{session_id}/close", headers=world.headers("client")
    )
    assert closed.status_code == 200
    body = json_of(closed)
    assert body["status"] == "closed" and body["closed_at"] is not None
    agreement = body["agreement"]
    assert agreement["alpha"] is not None and Decimal(agreement["alpha"]) <= 1
    assert agreement["calls"] == 3 and agreement["participants_scored"] == 3
    assert agreement["sides"] == ["client", "supplier"]
    rows = {row["user_id"]: row for row in agreement["participants"]}
    assert rows[world.ids["user:client"]]["deviation"] is None  # the reference
    # supplier: |100-100|, |43.50-80.63|, |43.50-43.50| -> 37.13 / 3
    assert rows[world.ids["user:supplier"]]["deviation"] == "12.38"
    assert {q["question"] for q in agreement["questions"]} >= {"greeting", "tone"}
    seen = json_of(
        client.get(f"/api/v1/calibrations/{session_id}", headers=world.headers("supplier"))
    )
    assert len(seen["scores"]) == 9
    again = client.post(f"/api/v1/calibrations/{session_id}/close", headers=world.headers("admin"))
    assert again.status_code == 409
    late = score(client, world, session_id, "supplier", calls[0], MIXED)
    assert late.status_code == 409


def test_a_closed_session_never_changes_in_the_database(
    app: Flask, client: FlaskClient, world: World, calls: list[str]
) -> None:
    session_id = json_of(open_session(client, world, calls[:2]))["id"]
    score(client, world, session_id, "supplier", calls[0], PERFECT)
    client.post(f"/api/v1/calibrations/{session_id}/close", headers=world.headers("client"))
    engine = app.extensions["fiducia.engine"]
    for statement in (
        f"UPDATE calibration_sessions SET title = 'x' WHERE id = {session_id}",
        f"UPDATE calibration_scores SET score_hundredths = 0 WHERE session_id = {session_id}",
        f"DELETE FROM calibration_scores WHERE session_id = {session_id}",
    ):
        with pytest.raises(Exception, match="never changes"), engine.begin() as connection:
            connection.execute(text(statement))


def test_both_organizations_hear_a_session_open_and_close_with_no_score_in_the_notice(
    app: Flask, client: FlaskClient, world: World, calls: list[str]
) -> None:
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        session.execute(update(Organization).values(webhook_url="https://hooks.example.test/x"))
        session.execute(
            update(Organization)
            .where(Organization.id == world.ids["supplier"])
            .values(language="it")
        )
    session_id = json_of(open_session(client, world, calls[:2]))["id"]
    score(client, world, session_id, "supplier", calls[0], HARSH)
    client.post(f"/api/v1/calibrations/{session_id}/close", headers=world.headers("client"))
    with app.extensions["fiducia.sessionmaker"]() as session:
        notices = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        sent = [(n.organization_id, n.payload["event"]) for n in notices]
        payloads = [n.payload for n in notices]
    parties = [world.ids["client"], world.ids["supplier"]]
    assert sent == [(org, "calibration.opened") for org in parties] + [
        (org, "calibration.closed") for org in parties
    ]
    assert payloads[0]["session_id"] == session_id and payloads[0]["calls"] == 2
    assert payloads[0]["summary"] == (
        f"Calibration session {session_id} (“October calibration”) is open: 2 calls, each"
        " scored blind by 2 participants."
    )
    assert payloads[2]["summary"].startswith(f"Calibration session {session_id} (")
    assert "is closed" in payloads[2]["summary"]
    assert payloads[1]["summary"].startswith(f"La sessione di calibrazione {session_id} (")
    assert '"43.50"' not in json.dumps(payloads)


def test_the_scheduler_closes_a_session_when_its_closing_time_comes(
    app: Flask, client: FlaskClient, world: World, calls: list[str]
) -> None:
    session_id = json_of(
        open_session(client, world, calls[:2], closes_at="2026-11-30T18:00:00+01:00")
    )["id"]
    factory = app.extensions["fiducia.sessionmaker"]
    assert close_due_sessions(factory, datetime(2026, 11, 30, 16, 59, tzinfo=UTC)) == 0
    assert close_due_sessions(factory, datetime(2026, 11, 30, 17, 0, tzinfo=UTC)) == 1
    assert close_due_sessions(factory, datetime(2026, 12, 1, tzinfo=UTC)) == 0
    assert build_scheduler(app).get_job("calibration").func is calibration_job
    seen = json_of(
        client.get(f"/api/v1/calibrations/{session_id}", headers=world.headers("client"))
    )
    assert seen["status"] == "closed" and seen["closed_at"].startswith("2026-11-30T17:00")
