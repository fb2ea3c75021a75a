"""The SQL aggregation of a month equals a plain-Python computation over the same rows."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from contracts.periods import Period
from service.agreements.models import Contract
from service.edge.actors import Actor
from service.evaluations.models import Evaluation
from service.evaluations.submission import submit_evaluations
from service.figures.service import aggregate_period
from tests.api.conftest import PERFECT
from tests.conftest import World
from tests.plain import python_aggregate


def store_random_month(
    app: Flask, world: World, seed: int, inflate: bool, audited: float = 0.35
) -> None:
    """Store evaluations around October 2026, many on the month's edges in Rome; each call is
    audited by the client and by a third party, each as often as `audited`."""
    rng = random.Random(seed)
    admin = Actor(user_id=world.ids["user:admin"], role="admin", organization_id=None)
    edges = [
        datetime(2026, 9, 30, 21, 59, tzinfo=UTC),  # 23:59 in Rome: September
        datetime(2026, 9, 30, 22, 0, tzinfo=UTC),  # midnight in Rome: October
        datetime(2026, 10, 31, 22, 59, tzinfo=UTC),  # 23:59 CET: still October
        datetime(2026, 10, 31, 23, 0, tzinfo=UTC),  # midnight CET: November
    ]
    records = {}
    for number in range(160):
        if number < 40:
            call_at = edges[number % 4] + timedelta(seconds=number // 4)
        else:
            call_at = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(44000))
        base = {
            "contract_id": world.ids["contract"],
            "call_ref": f"call-{number}",
            "agent_ref": f"agent-{rng.randrange(4)}",
            "team": None,
            "call_at": call_at,
            "form": "standard@1",
            "evaluator_ref": None,
            "comment": None,
        }
        truth = dict(PERFECT)
        for key in ("greeting", "closing", "plain_language", "courtesy"):
            truth[key] = rng.choice(["yes", "yes", "no"])
        for key in ("tone", "procedure", "ownership"):
            truth[key] = rng.randrange(1, 6)
        if rng.random() < 0.05:
            truth["verification"] = "no"
        if rng.random() < 0.05:
            truth["correct_information"] = "no"
        own = dict(truth)
        if inflate:
            own |= {"greeting": "yes", "closing": "yes", "tone": 5, "procedure": 5}
        if rng.random() < 0.03:  # a self-assessment that fails identity checks scores 0
            own |= {"verification": "no"}
        sources = ["supplier"] + [s for s in ("client", "third_party") if rng.random() < audited]
        for source in sources:
            answers = own if source == "supplier" else truth
            records[len(records)] = base | {"source": source, "answers": answers}
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        submit_evaluations(session=session, actor=admin, records=records)


@pytest.mark.parametrize(
    ("seed", "inflate", "audited"),
    [(1, True, 0.35), (2, False, 0.35), (3, True, 0.35), (4, True, 0.05), (5, False, 0.06)],
)
def test_the_sql_aggregate_equals_the_plain_computation(
    app: Flask, world: World, seed: int, inflate: bool, audited: float
) -> None:
    store_random_month(app, world, seed, inflate, audited)
    period = Period(2026, 10)
    with app.extensions["fiducia.sessionmaker"]() as session:
        contract = session.get(Contract, world.ids["contract"])
        assert contract is not None
        aggregate = aggregate_period(session, contract, period)
        rows = list(
            session.scalars(select(Evaluation).where(Evaluation.contract_id == contract.id))
        )
    expected = python_aggregate(rows, period, tolerance=3, min_pairs=20)
    statistics = aggregate.statistics
    assert statistics.n == expected["n"]
    assert statistics.sum_hundredths == expected["sum"]
    assert statistics.sum_squares_hundredths == expected["sum_squares"]
    assert statistics.passed == expected["passed"]
    assert statistics.critical_errors["compliance"] == expected["compliance"]
    assert statistics.critical_errors["customer"] == expected["customer"]
    assert aggregate.self_assessment.pairs == expected["pairs"]
    assert aggregate.self_assessment.applied == (expected["lowered_by"] > 0)
    assert aggregate.self_assessment.counted == expected["verified"]
    if audited < 0.1:  # too few pairs: only the audits count
        assert not expected["verified"] and statistics.n < 40
    elif inflate:
        assert aggregate.self_assessment.status == "corrected"


def test_a_call_on_the_months_edge_counts_in_the_contracts_time_zone(
    app: Flask, world: World
) -> None:
    admin = Actor(user_id=world.ids["user:admin"], role="admin", organization_id=None)
    base = {
        "contract_id": world.ids["contract"],
        "source": "client",
        "agent_ref": "a",
        "team": None,
        "form": "standard@1",
        "answers": PERFECT,
        "evaluator_ref": None,
        "comment": None,
    }
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        submit_evaluations(
            session=session,
            actor=admin,
            records={
                0: base
                | {"call_ref": "late-sep", "call_at": datetime(2026, 9, 30, 21, 59, tzinfo=UTC)},
                1: base
                | {"call_ref": "early-oct", "call_at": datetime(2026, 9, 30, 22, 0, tzinfo=UTC)},
            },
        )
    with app.extensions["fiducia.sessionmaker"]() as session:
        contract = session.get(Contract, world.ids["contract"])
        assert contract is not None
        september = aggregate_period(session, contract, Period(2026, 9)).statistics
        october = aggregate_period(session, contract, Period(2026, 10)).statistics
    assert (september.n, october.n) == (1, 1)
