"""Self-scores count only once audits verify them (DESIGN 13): with fewer than `min_pairs`
audited pairs only the audits count, and the statement and the scorecard say so."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from service.edge.actors import Actor
from service.evaluations.submission import submit_evaluations
from service.volumes.service import upsert_volumes
from tests.api.conftest import PERFECT
from tests.conftest import World, json_of
from tests.web import test_dispute_pages
from tests.web.test_dispute_pages import Browse

browse = test_dispute_pages.browse  # the fixture: a signed-in test client per user

# Answers that score 46.33: every scale at its lowest, two yes/no failed.
POOR = PERFECT | {
    "active_listening": 1, "procedure": 1, "stays_calm": 1, "de_escalation": 1, "tone": 1,
    "ownership": 1, "greeting": "no", "closing": "no",
}  # fmt: skip


def october(app: Flask, world: World, assessed: int, audited: int) -> None:
    """The call center scores `assessed` October calls perfect; the client audits the first
    `audited` of them, poor; 2,000 units a day."""
    start = datetime(2026, 10, 2, 8, tzinfo=UTC)
    records: dict[int, dict[str, Any]] = {}
    for number in range(assessed):
        call = {
            "contract_id": world.ids["contract"], "call_ref": f"oct-{number:03d}",
            "agent_ref": "agent-1", "team": None, "call_at": start + timedelta(hours=5 * number),
            "form": "standard@1", "evaluator_ref": None, "comment": None,
        }  # fmt: skip
        records[len(records)] = call | {"source": "supplier", "answers": PERFECT}
        if number < audited:
            records[len(records)] = call | {"source": "client", "answers": POOR}
    days = [{"date": date(2026, 10, day), "units": 2000} for day in range(1, 32)]
    admin = Actor(user_id=world.ids["user:admin"], role="admin", organization_id=None)
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        submit_evaluations(session=session, actor=admin, records=records)
        upsert_volumes(
            session=session, actor=admin, contract_id=world.ids["contract"], volumes=days
        )


def test_too_few_audited_pairs_leave_only_the_audits_counting_and_say_so(
    app: Flask, client: FlaskClient, world: World, browse: Browse
) -> None:
    # Issue 20, point 3: the month stayed unverified, the self-scores counted at face value,
    # and the band paid a bonus although every audit said otherwise.
    october(app, world, assessed=100, audited=10)

    statement = json_of(
        client.post(
            f"/api/v1/contracts/{world.ids['contract']}/statements",
            json={"period": "2026-10"},
            headers=world.headers("finance"),
        )
    )
    card = json_of(
        client.get(
            f"/api/v1/contracts/{world.ids['contract']}/scorecard?period=2026-10",
            headers=world.headers("supplier"),
        )
    )
    page = browse("client").get("/scorecards?period=2026-10").text

    figures = statement["figures"]
    assert (figures["n"], figures["mean"]) == (10, "46.33")  # only the audits
    assert figures["self_assessment"] | {"inflation": None} == {
        "status": "unverified", "pairs": 10, "inflation": None, "applied": False,
        "counted": False,
    }  # fmt: skip
    band = next(line for line in statement["lines"] if line["code"] == "quality_band")
    assert band["amount"] == "0.00"  # 10 evaluations: under the minimum sample of 60
    assert band["description"].endswith(
        "; supplier self-scores do not count, unverified: 10 audited calls, fewer than the 20"
        " needed"
    )
    assert band["basis"]["self_assessment"]["counted"] is False
    assert (card["n"], card["mean"], card["self_assessment"]["counted"]) == (10, "46.33", False)
    assert "self-scores not counted: only audits count" in page


def test_enough_audited_pairs_let_the_self_scores_count_lowered_by_their_inflation(
    app: Flask, client: FlaskClient, world: World
) -> None:
    october(app, world, assessed=100, audited=20)

    card = json_of(
        client.get(
            f"/api/v1/contracts/{world.ids['contract']}/scorecard?period=2026-10",
            headers=world.headers("client"),
        )
    )

    assert card["self_assessment"]["status"] == "corrected"
    assert card["self_assessment"]["counted"] is True
    assert card["self_assessment"]["inflation"] == "53.67"  # 100.00 - 46.33
    assert card["n"] == 100 and card["mean"] == "46.33"  # 20 audits, 80 self-scores lowered
