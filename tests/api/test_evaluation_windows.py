"""An evaluation changes only in its month's window, which no revision moves (DESIGN 13).

The world's contract is on the shipped quality terms: a 5-day window from the month's end, in
Rome. October's closed at midnight on 6 November, November's at midnight on 6 December.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from contracts.periods import Period
from service.evaluations.models import Evaluation
from service.jobs.service import run_close
from tests.api.conftest import PERFECT, evaluation
from tests.conftest import World, errors_at, json_of, seed_month

URL = "/api/v1/evaluations"
OCTOBER_CLOSES = datetime(2026, 11, 5, 23, 0, tzinfo=UTC)  # 6 November, midnight in Rome
NOVEMBER_CLOSES = datetime(2026, 12, 5, 23, 0, tzinfo=UTC)


def at(moment: datetime) -> Any:
    return time_machine.travel(moment, tick=False)


TONES = itertools.cycle((1, 2, 3, 4))  # each amendment changes the answers


def change(client: FlaskClient, world: World, who: str, evaluation_id: int, kind: str) -> Any:
    """Amend (a new tone each time) or retract an evaluation as `who`."""
    body: dict[str, Any] = {"reason": "not our call"}
    if kind == "revisions":
        body = {"answers": PERFECT | {"tone": next(TONES)}, "reason": "listened again"}
    return client.post(f"{URL}/{evaluation_id}/{kind}", json=body, headers=world.headers(who))


def test_an_audit_changes_until_its_months_window_closes_and_then_only_by_a_dispute(
    client: FlaskClient, world: World
) -> None:
    with at(OCTOBER_CLOSES - timedelta(days=3)):
        record = evaluation(world, source="client", answers={"tone": 3})
        audit = json_of(client.post(URL, json=record, headers=world.headers("client")))["id"]
    with at(OCTOBER_CLOSES - timedelta(minutes=1)):
        amended = change(client, world, "client", audit, "revisions")
    with at(OCTOBER_CLOSES):
        late = change(client, world, "client", audit, "revisions")
        gone = change(client, world, "client", audit, "retraction")
        items = [{"question": "tone", "proposed_answer": 5, "reason": "calm throughout"}]
        disputed = client.post(
            f"{URL}/{audit}/disputes", json={"items": items}, headers=world.headers("supplier")
        )
    with at(OCTOBER_CLOSES + timedelta(days=2)):
        verdict = [{"question": "tone", "accepted": True, "reason": "heard it"}]
        decided = client.post(
            f"/api/v1/disputes/{json_of(disputed)['id']}/decision",
            json={"items": verdict},
            headers=world.headers("client"),
        )
        after = json_of(client.get(f"{URL}/{audit}", headers=world.headers("client")))

    assert amended.status_code == 201
    assert (late.status_code, gone.status_code) == (409, 409)
    for refused in (late, gone):
        assert errors_at(refused, "path.evaluation_id") == [
            "the window of 2026-10 closed at 2026-11-06T00:00:00+01:00"
        ]
        assert "only a dispute decision changes this one now" in json_of(refused)["message"]
    assert decided.status_code == 200
    assert (after["revision"], after["score"]) == (3, "100.00")


def test_each_revision_leaves_a_self_assessments_window_where_it_was(
    client: FlaskClient, world: World
) -> None:
    # Issue 20, point 7: amended every few days, each revision restarted the window.
    record = evaluation(world, call_at="2026-11-14T10:30:00+01:00")
    own = json_of(client.post(URL, json=record, headers=world.headers("supplier")))["id"]
    outcomes = []
    for day in (27, 31, 35, 39, 43):  # 27 November to 13 December, every 4 days
        with at(datetime(2026, 11, 1, 10, tzinfo=UTC) + timedelta(days=day - 1)):
            outcomes.append(change(client, world, "supplier", own, "revisions").status_code)

    assert outcomes == [201, 201, 201, 409, 409]  # 9 December is past 6 December
    with at(NOVEMBER_CLOSES):
        refused = change(client, world, "supplier", own, "retraction")
    assert errors_at(refused, "path.evaluation_id") == [
        "the window of 2026-11 closed at 2026-12-06T00:00:00+01:00"
    ]


def test_a_final_months_audits_amended_late_no_longer_move_the_next_statement(
    app: Flask, client: FlaskClient, world: World
) -> None:
    # Issue 20, point 6: 13 September audits amended after September was final moved October
    # by a prior-period adjustment, while the supplier may dispute only a few a month.
    factory = app.extensions["fiducia.sessionmaker"]
    with at(datetime(2026, 10, 2, 9, tzinfo=UTC)):
        seed_month(app, world, "2026-09", seed=5)
        seed_month(app, world, "2026-10", seed=6)
    with at(datetime(2026, 10, 7, 9, tzinfo=UTC)):  # September's window closed on 6 October
        run_close(factory, contract_id=world.ids["contract"], period=Period(2026, 9))
    with factory() as session:
        audits = list(
            session.scalars(
                select(Evaluation.id)
                .where(Evaluation.period == Period(2026, 9), Evaluation.source == "client")
                .order_by(Evaluation.id)
                .limit(13)
            )
        )
    with at(datetime(2026, 10, 20, 9, tzinfo=UTC)):
        poor = PERFECT | {"tone": 1, "greeting": "no", "closing": "no", "ownership": 1}
        statuses = {
            client.post(
                f"{URL}/{audit}/revisions",
                json={"answers": poor, "reason": "stricter now"},
                headers=world.headers("client"),
            ).status_code
            for audit in audits
        }
    with at(datetime(2026, 11, 3, 9, tzinfo=UTC)):
        october = json_of(
            client.post(
                f"/api/v1/contracts/{world.ids['contract']}/statements",
                json={"period": "2026-10"},
                headers=world.headers("finance"),
            )
        )

    assert statuses == {409}
    assert [line["code"] for line in october["lines"]].count("prior_period_adjustment") == 0
    assert Decimal(october["total"]) > 0
