"""What disputes do to money: the draft, the close, the next statement (DESIGN 12, §7)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import time_machine
from flask import Flask
from sqlalchemy import select

from contracts.forms import score_evaluation
from contracts.periods import Period
from service.evaluations.models import Evaluation
from service.forms.service import parsed_form
from service.jobs.service import run_close
from service.statements.models import Statement
from tests.api.conftest import PERFECT
from tests.conftest import World, json_of, seed_month
from tests.plain import plain_total, python_aggregate
from tests.unit.test_terms import DESIGN_TERMS

OCTOBER = Period(2026, 10)


@dataclass
class Row:
    """A plain copy of an evaluation row, for the yardstick of `tests.plain`."""

    call_ref: str
    source: str
    call_at: datetime
    score_hundredths: int | None
    passed: bool | None
    critical_customer: bool
    critical_business: bool
    critical_compliance: bool
    retracted: bool


def plain_rows(app: Flask, world: World) -> list[Row]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        rows = session.scalars(
            select(Evaluation).where(Evaluation.contract_id == world.ids["contract"])
        )
        return [
            Row(r.call_ref, r.source, r.call_at, r.score_hundredths, r.passed,
                r.critical_customer, r.critical_business, r.critical_compliance, r.retracted)
            for r in rows
        ]  # fmt: skip


def worst_audit(app: Flask, world: World) -> Evaluation:
    with app.extensions["fiducia.sessionmaker"]() as session:
        found = session.scalars(
            select(Evaluation)
            .where(Evaluation.contract_id == world.ids["contract"], Evaluation.source == "client")
            .order_by(Evaluation.score_hundredths, Evaluation.id)
        ).first()
        assert found is not None
        session.expunge(found)
        return found


def dispute_all(app: Flask, world: World, audit: Evaluation) -> int:
    """Let the supplier contest every answer of an audit that differs from a perfect one."""
    items = [
        {"question": key, "proposed_answer": PERFECT[key], "reason": "hear the call"}
        for key, value in audit.answers.items()
        if value != PERFECT[key]
    ]
    response = app.test_client().post(
        f"/api/v1/evaluations/{audit.id}/disputes",
        json={"items": items},
        headers=world.headers("supplier"),
    )
    assert response.status_code == 201, response.get_json()
    dispute_id: int = json_of(response)["id"]
    return dispute_id


def accept_all(app: Flask, world: World, dispute_id: int) -> None:
    client = app.test_client()
    dispute = json_of(client.get(f"/api/v1/disputes/{dispute_id}", headers=world.headers("client")))
    verdicts = [
        {"question": item["question"], "accepted": True, "reason": "agreed"}
        for item in dispute["items"]
    ]
    response = client.post(
        f"/api/v1/disputes/{dispute_id}/decision",
        json={"items": verdicts},
        headers=world.headers("client"),
    )
    assert response.status_code == 200, response.get_json()


def draft(app: Flask, world: World, period: str) -> dict[str, Any]:
    response = app.test_client().post(
        f"/api/v1/contracts/{world.ids['contract']}/statements",
        json={"period": period},
        headers=world.headers("finance"),
    )
    assert response.status_code in (200, 201), response.get_json()
    body: dict[str, Any] = json_of(response)
    return body


def rescored(rows: list[Row], audit: Evaluation, app: Flask) -> list[Row]:
    """Return the rows with the audit scored on a perfect answer set, by the rules alone."""
    with app.extensions["fiducia.sessionmaker"]() as session:
        form = parsed_form(session.get_one(Evaluation, audit.id).form)
    score = score_evaluation(form, PERFECT)
    assert score.score is not None
    changed = []
    for row in rows:
        if (row.call_ref, row.source) == (audit.call_ref, audit.source):
            row = Row(row.call_ref, row.source, row.call_at, int(score.score * 100),
                      score.passed, False, False, False, False)  # fmt: skip
        changed.append(row)
    return changed


def test_an_accepted_dispute_moves_the_draft_exactly_as_the_new_answers_do(
    app: Flask, world: World
) -> None:
    seed_month(app, world, "2026-10", seed=5)
    before = draft(app, world, "2026-10")
    audit = worst_audit(app, world)
    expected_rows = rescored(plain_rows(app, world), audit, app)

    accept_all(app, world, dispute_all(app, world, audit))
    after = draft(app, world, "2026-10")

    rule = (3, 20)  # the self-assessment tolerance and pairs of the shipped terms
    plain = python_aggregate(expected_rows, OCTOBER, *rule)  # type: ignore[arg-type]
    assert after["figures"]["n"] == plain["n"]
    assert Decimal(after["figures"]["mean"]) == (Decimal(plain["sum"]) / plain["n"] / 100).quantize(
        Decimal("0.01")
    )
    with app.extensions["fiducia.sessionmaker"]() as session:
        assert Decimal(after["total"]) == plain_total(
            session, world.ids["contract"], OCTOBER, DESIGN_TERMS
        )
    assert after["figures"]["mean"] != before["figures"]["mean"]
    assert after["figures"]["disputes"] == {
        "audits": 27, "disputed": 1, "accepted": 1, "partly_accepted": 0, "rejected": 0,
        "open": 0, "still_open": [], "overturn_rate": "0.0370",
    }  # fmt: skip


def test_a_retracted_audit_stops_counting_and_an_amendment_brings_it_back(
    app: Flask, world: World
) -> None:
    with at("2026-11-03T10:00:00"):  # October has ended; its window to amend has not
        seed_month(app, world, "2026-10", seed=6)
        before = draft(app, world, "2026-10")
        audit = worst_audit(app, world)
        client = app.test_client()
        retracted = client.post(
            f"/api/v1/evaluations/{audit.id}/retraction",
            json={"reason": "wrong recording"},
            headers=world.headers("client"),
        )
        assert retracted.status_code == 200
        without = draft(app, world, "2026-10")
        with app.extensions["fiducia.sessionmaker"]() as session:
            assert Decimal(without["total"]) == plain_total(
                session, world.ids["contract"], OCTOBER, DESIGN_TERMS
            )
        # The call's supplier self-assessment counts instead of the retracted audit (or nothing).
        assert without["figures"] != before["figures"]
        client.post(
            f"/api/v1/evaluations/{audit.id}/revisions",
            json={"answers": audit.answers, "reason": "it was the right recording"},
            headers=world.headers("client"),
        )
        assert draft(app, world, "2026-10")["figures"] == before["figures"]


def at(day: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(day).replace(tzinfo=UTC), tick=False)


def test_the_close_waits_for_a_dispute_then_finalizes_and_carries_its_outcome_once(
    app: Flask, world: World
) -> None:
    factory = app.extensions["fiducia.sessionmaker"]
    with at("2026-11-03T10:00:00"):  # October has ended; its dispute window has not
        seed_month(app, world, "2026-10", seed=11)  # its worst audit moves the money
        audit = worst_audit(app, world)
        dispute_id = dispute_all(app, world, audit)
    with at("2026-11-10T10:00:00"):  # the window ended on 6 November; the dispute waits
        run = run_close(factory, contract_id=world.ids["contract"], period=OCTOBER)
        assert run.counts == {"held": 1, "items": 1}
    with at("2026-11-16T00:00:00"):  # 10 days to decide are over: final, the dispute listed
        run = run_close(factory, contract_id=world.ids["contract"], period=OCTOBER)
        assert run.counts == {"finalized": 1, "items": 1}
    with factory() as session:
        final = session.scalars(select(Statement).where(Statement.period == OCTOBER)).one()
        assert final.figures["disputes"]["still_open"] == [dispute_id]
        final_total, final_id = final.total, final.id
    with at("2026-11-20T10:00:00"):  # the client decides late, and accepts
        accept_all(app, world, dispute_id)
        with factory() as session:
            expected = plain_total(session, world.ids["contract"], OCTOBER, DESIGN_TERMS)
    assert expected != final_total
    with at("2026-12-10T10:00:00"):
        november = draft(app, world, "2026-11")
        lines = [line for line in november["lines"] if line["code"] == "prior_period_adjustment"]
        assert [(line["basis"]["statement_id"], Decimal(line["amount"])) for line in lines] == [
            (final_id, expected - final_total)
        ]
        finalized = app.test_client().post(
            f"/api/v1/statements/{november['id']}/finalize", headers=world.headers("finance")
        )
        assert finalized.status_code == 200, finalized.get_json()
    with at("2027-01-10T10:00:00"):
        december = draft(app, world, "2026-12")
        assert not [line for line in december["lines"] if line["code"] == "prior_period_adjustment"]


def test_of_two_racing_decisions_on_one_dispute_exactly_one_wins(app: Flask, world: World) -> None:
    seed_month(app, world, "2026-10", calls=12, seed=8)
    audit = worst_audit(app, world)
    dispute_id = dispute_all(app, world, audit)
    client = app.test_client()
    items = json_of(client.get(f"/api/v1/disputes/{dispute_id}", headers=world.headers("client")))[
        "items"
    ]
    racers = 6
    start = threading.Barrier(racers)

    def decide(number: int) -> int:
        verdicts = [
            {"question": item["question"], "accepted": number % 2 == 0, "reason": f"racer {number}"}
            for item in items
        ]
        own = app.test_client()
        start.wait()
        response = own.post(
            f"/api/v1/disputes/{dispute_id}/decision",
            json={"items": verdicts},
            headers=world.headers("client"),
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=racers) as pool:
        statuses = Counter(pool.map(decide, range(racers)))
    assert statuses == {200: 1, 409: racers - 1}
    revisions = json_of(
        client.get(f"/api/v1/evaluations/{audit.id}/revisions", headers=world.headers("client"))
    )
    dispute = json_of(client.get(f"/api/v1/disputes/{dispute_id}", headers=world.headers("client")))
    assert [entry["step"] for entry in dispute["history"]] == ["opened", "decided"]
    assert len(revisions) == (2 if dispute["outcome"] == "accepted" else 1)


def test_finalizing_lists_the_disputes_waiting_then_not_those_of_the_draft(
    app: Flask, world: World
) -> None:
    seed_month(app, world, "2026-10", calls=12, seed=9)
    drafted = draft(app, world, "2026-10")
    assert drafted["figures"]["disputes"]["still_open"] == []
    audit = worst_audit(app, world)
    dispute_id = dispute_all(app, world, audit)
    final = app.test_client().post(
        f"/api/v1/statements/{drafted['id']}/finalize", headers=world.headers("finance")
    )
    assert final.status_code == 200
    assert json_of(final)["figures"]["disputes"]["still_open"] == [dispute_id]


def test_a_retracted_audit_counts_in_no_dispute_figure(app: Flask, world: World) -> None:
    with at("2026-11-03T10:00:00"):  # October has ended; its window to amend has not
        seed_month(app, world, "2026-10", calls=12, seed=10)
        audit = worst_audit(app, world)
        client = app.test_client()
        url = f"/api/v1/contracts/{world.ids['contract']}/scorecard"
        before = json_of(client.get(f"{url}?period=2026-10", headers=world.headers("client")))
        client.post(
            f"/api/v1/evaluations/{audit.id}/retraction",
            json={"reason": "not our call"},
            headers=world.headers("client"),
        )
        after = json_of(client.get(f"{url}?period=2026-10", headers=world.headers("client")))
        assert after["disputes"]["audits"] == before["disputes"]["audits"] - 1
        evaluators = json_of(
            client.get(f"{url}/evaluators?period=2026-10", headers=world.headers("client"))
        )
        assert sum(row["audits"] for row in evaluators) == after["disputes"]["audits"]
