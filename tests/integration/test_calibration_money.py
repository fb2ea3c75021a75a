"""The gate on quality money (DESIGN 17): a month pays quality only when a recent, big enough
session agreed well enough; and calibration scores count in no figure."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.accounts.models import Organization
from service.agreements.models import TermsVersion
from service.calibration import service
from service.demo import seed
from service.edge.actors import Actor
from tests.api.conftest import PERFECT
from tests.conftest import World, json_of, seed_month

RULE = {"min_alpha": "0.667", "valid_days": 90, "min_calls": 10, "min_participants": 3}
SCALES = ("active_listening", "procedure", "stays_calm", "de_escalation", "tone", "ownership")


def variant(level: int) -> dict[str, Any]:
    """Answers that score higher as `level` (0 to 9) rises."""
    value = 1 + level // 2
    return (
        dict(PERFECT) | {key: value for key in SCALES} | {"greeting": "yes" if level % 2 else "no"}
    )


def gate_the_terms(app: Flask, world: World) -> None:
    """Give the world's contract the calibration rule, as if its terms had always said it."""
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        version = session.scalars(
            select(TermsVersion).where(TermsVersion.contract_id == world.ids["contract"])
        ).one()
        document = copy.deepcopy(version.document)
        document["quality"]["calibration"] = RULE
        version.document = document


def ungate_the_terms(app: Flask, world: World) -> None:
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        version = session.scalars(
            select(TermsVersion).where(TermsVersion.contract_id == world.ids["contract"])
        ).one()
        document = copy.deepcopy(version.document)
        del document["quality"]["calibration"]
        version.document = document


def calibrate(
    app: Flask,
    world: World,
    *,
    closed_at: datetime,
    calls: int = 10,
    agree: bool = True,
    people: tuple[str, ...] = ("client", "supplier", "supplier2"),
) -> int:
    """Run a session on September's calls, closed at `closed_at`; return its id."""
    refs = [f"2026-09-{number}" for number in range(calls)]
    opened_at = closed_at.replace(day=1)
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        actors = {
            who: Actor(world.ids[f"user:{who}"], "client" if who == "client" else "supplier",
                       world.ids["client" if who == "client" else "supplier"])
            for who in people
        }  # fmt: skip
        opened = service.open_session(
            session=session,
            actor=actors["client"],
            contract_id=world.ids["contract"],
            draft=service.Draft("Calibration", refs, [a.user_id for a in actors.values()]),
            now=opened_at,
        )
        for place, actor in enumerate(actors.values()):
            for number, ref in enumerate(refs):
                level = number if agree else (number * 7 + place * 3) % 10
                service.submit_score(
                    session=session,
                    actor=actor,
                    session_id=opened.id,
                    call_ref=ref,
                    answers=variant(level),
                    now=opened_at,
                )
        service.close_session(
            session=session, actor=actors["client"], session_id=opened.id, now=closed_at
        )
        return opened.id


@pytest.fixture
def month(app: Flask, world: World) -> World:
    """October's evaluations (enough to pay quality), September's calls to calibrate on,
    a second supplier user, and terms gated on calibration."""
    seed_month(app, world, "2026-09", calls=12, audited_every=3, seed=2)
    seed_month(app, world, "2026-10", calls=90, audited_every=2, seed=3)
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        supplier = session.get(Organization, world.ids["supplier"])
        added = seed.member(session, supplier, role="supplier", email="qa2@example.test")
        world.ids["user:supplier2"] = added.user.id
    gate_the_terms(app, world)
    return world


def statement(client: FlaskClient, world: World) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/contracts/{world.ids['contract']}/statements",
        json={"period": "2026-10"},
        headers=world.headers("finance"),
    )
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return json_of(response)  # type: ignore[no-any-return]


def quality_lines(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        line["code"]: line
        for line in body["lines"]
        if line["code"] == "quality_band" or line["code"].startswith("critical_")
    }


def scorecard(client: FlaskClient, world: World) -> dict[str, Any]:
    url = f"/api/v1/contracts/{world.ids['contract']}/scorecard?period=2026-10"
    return json_of(client.get(url, headers=world.headers("supplier")))  # type: ignore[no-any-return]


CASES = {
    "none": ({}, None),
    "too_small": ({"calls": 6}, "is too small: 6 calls scored by two or more and 3 participants"),
    "too_old": ({"closed_at": datetime(2026, 7, 15, 10, tzinfo=UTC)}, "closed on 2026-07-15"),
    "too_low": ({"agree": False}, "agreed at alpha"),
}


@pytest.mark.parametrize("reason", list(CASES))
def test_a_month_without_a_qualifying_session_pays_no_quality_and_says_why(
    app: Flask, client: FlaskClient, month: World, reason: str
) -> None:
    changes, words = CASES[reason]
    session_id = None
    if reason != "none":
        closed_at = changes.pop("closed_at", datetime(2026, 10, 20, 10, tzinfo=UTC))
        session_id = calibrate(app, month, closed_at=closed_at, **changes)
    body = statement(client, month)
    lines = quality_lines(body)
    assert set(lines) == {"quality_band", "critical_compliance", "critical_customer"}
    for line in lines.values():
        assert line["amount"] == "0.00"
        assert line["basis"]["reason"] == "calibration"
        gate = line["basis"]["calibration"]
        assert (gate["session_id"], gate["qualifies"], gate["reason"]) == (
            session_id,
            False,
            reason,
        )
    band = lines["quality_band"]["description"]
    if session_id is None:
        assert band == (
            "No quality band adjustment: no calibration session had closed by the month's end"
        )
    else:
        assert band.startswith(f"No quality band adjustment: calibration session {session_id} ")
        assert words in band
    assert Decimal(body["total"]) == Decimal(body["volume_only"])
    card = scorecard(client, month)["calibration"]
    assert (card["session_id"], card["qualifies"], card["reason"]) == (session_id, False, reason)


def test_a_qualifying_session_lets_the_month_pay_its_quality(
    app: Flask, client: FlaskClient, month: World
) -> None:
    session_id = calibrate(app, month, closed_at=datetime(2026, 8, 20, 10, tzinfo=UTC))
    body = statement(client, month)
    lines = quality_lines(body)
    for line in lines.values():
        gate = line["basis"]["calibration"]
        assert (gate["session_id"], gate["qualifies"], gate["reason"]) == (session_id, True, None)
        assert gate["alpha"] == "1.0000"  # every participant scored every call alike
    assert (
        lines["quality_band"]["basis"]["reason"]
        if "reason" in lines["quality_band"]["basis"]
        else True
    )
    assert "calibration" not in lines["quality_band"]["description"]
    card = scorecard(client, month)["calibration"]
    assert card == {
        "session_id": session_id,
        "closed_at": "2026-08-20T10:00:00+00:00",
        "alpha": "1.0000",
        "ci": card["ci"],
        "qualifies": True,
        "reason": None,
    }


def test_calibration_scores_count_in_no_figure_statement_or_list(
    app: Flask, client: FlaskClient, world: World
) -> None:
    seed_month(app, world, "2026-09", calls=12, audited_every=3, seed=2)
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        supplier = session.get(Organization, world.ids["supplier"])
        world.ids["user:supplier2"] = seed.member(
            session, supplier, role="supplier", email="qa2@example.test"
        ).user.id
    contract = world.ids["contract"]
    reads = [
        f"/api/v1/contracts/{contract}/scorecard?period=2026-09",
        f"/api/v1/contracts/{contract}/scorecard/agents?period=2026-09",
        f"/api/v1/evaluations?contract_id={contract}&period=2026-09",
        "/api/v1/scorecards?period=2026-09",
    ]
    before = [json_of(client.get(url, headers=world.headers("client"))) for url in reads]
    draft = statement_of(client, world, "2026-09")
    calibrate(app, world, closed_at=datetime(2026, 9, 25, 10, tzinfo=UTC), agree=False)
    after = [json_of(client.get(url, headers=world.headers("client"))) for url in reads]
    assert after == before
    again = statement_of(client, world, "2026-09")
    assert (again["lines"], again["total"]) == (draft["lines"], draft["total"])


def statement_of(client: FlaskClient, world: World, period: str) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/contracts/{world.ids['contract']}/statements",
        json={"period": period},
        headers=world.headers("finance"),
    )
    return json_of(response)  # type: ignore[no-any-return]
