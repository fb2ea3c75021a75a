"""Revisions, retractions and disputes of evaluations, per role (DESIGN 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.notices.models import WebhookDelivery
from tests.api.conftest import PERFECT, evaluation
from tests.conftest import TODAY, World, errors_at, json_of, row_counts

URL = "/api/v1/evaluations"
SECRET = "s" * 32
# A call of the month running on the test's day: its evaluations may still be amended (an
# October evaluation's window closed on 6 November).
OPEN_MONTH = "2026-11-14T10:30:00+01:00"


def audit(client: FlaskClient, world: World, **changes: Any) -> dict[str, Any]:
    """Store a client audit of the world's contract (tone 3 of 5) and return it."""
    answers = {"tone": 3} | changes.pop("answers", {})
    record = evaluation(world, source="client", answers=answers, **changes)
    response = client.post(URL, json=record, headers=world.headers("client"))
    assert response.status_code == 201, response.get_json()
    return json_of(response)


def dispute_of(
    client: FlaskClient, world: World, evaluation_id: int, who: str = "supplier", **body: Any
) -> Any:
    items = [{"question": "tone", "proposed_answer": 5, "reason": "calm and warm"}]
    return client.post(
        f"{URL}/{evaluation_id}/disputes",
        json={"items": items, "comment": "listen to minute 3"} | body,
        headers=world.headers(who),
    )


def opened(client: FlaskClient, world: World, **changes: Any) -> tuple[dict[str, Any], Any]:
    stored = audit(client, world, **changes)
    response = dispute_of(client, world, stored["id"])
    assert response.status_code == 201, response.get_json()
    return stored, json_of(response)


def decision(accepted: bool, question: str = "tone") -> dict[str, Any]:
    return {"items": [{"question": question, "accepted": accepted, "reason": "heard it"}]}


def step(client: FlaskClient, world: World, dispute: int, name: str, who: str, **body: Any) -> Any:
    return client.post(f"/api/v1/disputes/{dispute}/{name}", json=body, headers=world.headers(who))


def test_the_supplier_disputes_an_audit_and_the_client_accepts_it(
    client: FlaskClient, world: World
) -> None:
    stored, dispute = opened(client, world)
    assert stored["score"] == "96.25" and stored["revision"] == 1
    assert dispute["status"] == "open" and dispute["outcome"] is None
    assert dispute["period"] == "2026-10" and dispute["contract_id"] == world.ids["contract"]
    assert dispute["items"][0] | {} == {
        "question": "tone", "proposed_answer": 5, "reason": "calm and warm",
        "decision": None, "arbitration": None,
    }  # fmt: skip
    assert [entry["step"] for entry in dispute["history"]] == ["opened"]
    held = json_of(client.get(f"{URL}/{stored['id']}", headers=world.headers("client")))
    assert held["open_dispute_id"] == dispute["id"]

    decided = step(client, world, dispute["id"], "decision", "client", **decision(True))
    assert decided.status_code == 200, decided.get_json()
    body = json_of(decided)
    assert (body["status"], body["outcome"]) == ("decided", "accepted")
    last = body["history"][-1]
    assert (last["step"], last["score_before"], last["score_after"]) == (
        "decided",
        "96.25",
        "100.00",
    )
    assert last["by"] == world.ids["user:client"] and last["by_name"] == "client"

    now = json_of(client.get(f"{URL}/{stored['id']}", headers=world.headers("supplier")))
    assert (now["revision"], now["score"], now["answers"]["tone"]) == (2, "100.00", 5)
    assert now["open_dispute_id"] is None
    revisions = json_of(
        client.get(f"{URL}/{stored['id']}/revisions", headers=world.headers("supplier"))
    )
    assert [(r["revision"], r["kind"], r["score"], r["dispute_id"]) for r in revisions] == [
        (1, "submission", "96.25", None),
        (2, "decision", "100.00", dispute["id"]),
    ]


def test_a_rejection_is_escalated_and_an_admin_arbitrates_it_for_good(
    client: FlaskClient, world: World
) -> None:
    stored, dispute = opened(client, world)
    rejected = json_of(step(client, world, dispute["id"], "decision", "client", **decision(False)))
    assert (rejected["status"], rejected["outcome"]) == ("decided", "rejected")
    assert rejected["escalate_by"] is not None
    escalated = step(client, world, dispute["id"], "escalation", "supplier", reason="hear it")
    assert json_of(escalated)["status"] == "escalated"
    for who in ("client", "supplier", "finance"):
        refused = step(client, world, dispute["id"], "arbitration", who, **decision(True))
        assert refused.status_code == 403
    final = json_of(step(client, world, dispute["id"], "arbitration", "admin", **decision(True)))
    assert (final["status"], final["outcome"]) == ("arbitrated", "accepted")
    assert final["items"][0]["arbitration"] == {"accepted": True, "reason": "heard it"}
    again = step(client, world, dispute["id"], "arbitration", "admin", **decision(False))
    assert again.status_code == 409
    assert errors_at(again, "path.status") == ["the dispute is arbitrated"]
    revisions = json_of(
        client.get(f"{URL}/{stored['id']}/revisions", headers=world.headers("client"))
    )
    assert [r["kind"] for r in revisions] == ["submission", "arbitration"]


def test_an_open_dispute_is_withdrawn_by_the_supplier_only(
    app: Flask, client: FlaskClient, world: World
) -> None:
    stored, dispute = opened(client, world)
    before = row_counts(app)
    assert step(client, world, dispute["id"], "withdrawal", "client").status_code == 403
    assert step(client, world, dispute["id"], "withdrawal", "other_supplier").status_code == 404
    assert row_counts(app) == before
    withdrawn = json_of(step(client, world, dispute["id"], "withdrawal", "supplier"))
    assert withdrawn["status"] == "withdrawn"
    again = step(client, world, dispute["id"], "withdrawal", "supplier")
    assert again.status_code == 409 and "withdrawn" in json_of(again)["message"]
    # The evaluation is free again: it may be disputed anew, and amended.
    assert dispute_of(client, world, stored["id"]).status_code == 201


@pytest.mark.parametrize(
    ("who", "status"),
    [("client", 403), ("finance", 403), ("admin", 403), ("other_supplier", 404),
     ("other_client", 404)],
)  # fmt: skip
def test_only_the_contracts_supplier_opens_a_dispute_and_nothing_is_written_otherwise(
    app: Flask, client: FlaskClient, world: World, who: str, status: int
) -> None:
    stored = audit(client, world)
    before = row_counts(app)
    response = dispute_of(client, world, stored["id"], who=who)
    assert response.status_code == status
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("who", "status"),
    [("supplier", 403), ("finance", 403), ("admin", 403), ("other_client", 404),
     ("other_supplier", 404)],
)  # fmt: skip
def test_only_the_audits_author_side_decides(
    app: Flask, client: FlaskClient, world: World, who: str, status: int
) -> None:
    _, dispute = opened(client, world)
    before = row_counts(app)
    assert (
        step(client, world, dispute["id"], "decision", who, **decision(True)).status_code == status
    )
    assert row_counts(app) == before


def test_a_third_party_audit_is_decided_by_an_admin(client: FlaskClient, world: World) -> None:
    record = evaluation(world, source="third_party", answers={"tone": 3})
    stored = json_of(client.post(URL, json=record, headers=world.headers("admin")))
    dispute = json_of(dispute_of(client, world, stored["id"]))
    assert (
        step(client, world, dispute["id"], "decision", "client", **decision(True)).status_code
        == 403
    )
    decided = step(client, world, dispute["id"], "decision", "admin", **decision(True))
    assert json_of(decided)["outcome"] == "accepted"


def test_the_suppliers_own_evaluation_is_amended_not_disputed(
    client: FlaskClient, world: World
) -> None:
    record = evaluation(world, answers={"tone": 3})
    stored = json_of(client.post(URL, json=record, headers=world.headers("supplier")))
    response = dispute_of(client, world, stored["id"])
    assert response.status_code == 422
    assert "amend it" in errors_at(response, "path.evaluation_id")[0]


def test_a_dispute_after_the_window_is_refused_saying_when_it_closed(
    app: Flask, client: FlaskClient, world: World
) -> None:
    stored = audit(client, world)
    before = row_counts(app)
    with time_machine.travel(TODAY + timedelta(days=5, minutes=5), tick=False):
        response = dispute_of(client, world, stored["id"])
    assert response.status_code == 422
    assert "the dispute window closed at 2026-11-28" in errors_at(response, "path.evaluation_id")[0]
    assert row_counts(app) == before


def test_the_window_counts_from_the_latest_revision(client: FlaskClient, world: World) -> None:
    stored = audit(client, world, call_at=OPEN_MONTH)
    with time_machine.travel(TODAY + timedelta(days=4), tick=True):
        amended = client.post(
            f"{URL}/{stored['id']}/revisions",
            json={"answers": PERFECT | {"tone": 2}, "reason": "re-listened"},
            headers=world.headers("client"),
        )
        assert amended.status_code == 201
    with time_machine.travel(TODAY + timedelta(days=8), tick=True):
        assert dispute_of(client, world, stored["id"]).status_code == 201


def test_one_open_dispute_per_evaluation(client: FlaskClient, world: World) -> None:
    stored, dispute = opened(client, world)
    again = dispute_of(client, world, stored["id"])
    assert again.status_code == 409
    assert errors_at(again, "path.evaluation_id") == [
        f"already disputed by dispute {dispute['id']}"
    ]


def test_the_terms_cap_disputes_per_month(app: Flask, client: FlaskClient, world: World) -> None:
    from tests.unit.test_terms import DESIGN_TERMS

    terms = DESIGN_TERMS | {"disputes": {"max_per_month": 1}}
    with time_machine.travel(TODAY - timedelta(days=60), tick=False):  # in September
        added = client.post(
            f"/api/v1/contracts/{world.ids['contract']}/terms",
            json={"effective_from": "2026-10-01", "terms": terms},
            headers=world.headers("client"),
        )
    assert added.status_code == 201, added.get_json()
    opened(client, world)
    second = audit(client, world, call_ref="call-002")
    before = row_counts(app)
    response = dispute_of(client, world, second["id"])
    assert response.status_code == 422
    assert errors_at(response, "json.items") == [
        "the terms allow 1 disputes for 2026-10; 1 are opened"
    ]
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("item", "field", "message"),
    [
        ({"question": "mood"}, "question", "form standard@1 has no question mood"),
        ({"proposed_answer": 9}, "proposed_answer", None),
        ({"proposed_answer": "maybe"}, "proposed_answer", None),
        ({"proposed_answer": 3}, "proposed_answer", "is the current answer"),
        ({"proposed_answer": True}, "proposed_answer", "must be a text answer or a whole number"),
        ({"reason": ""}, "reason", None),
    ],
)
def test_a_contested_question_must_exist_and_propose_a_new_valid_answer(
    app: Flask,
    client: FlaskClient,
    world: World,
    item: dict[str, Any],
    field: str,
    message: str | None,
) -> None:
    stored = audit(client, world)
    before = row_counts(app)
    items = [{"question": "tone", "proposed_answer": 5, "reason": "calm"} | item]
    response = dispute_of(client, world, stored["id"], items=items)
    assert response.status_code == 422
    found = errors_at(response, f"json.items.0.{field}")
    if message is not None:
        assert message in found
    assert row_counts(app) == before


def test_a_decision_decides_every_question_once(client: FlaskClient, world: World) -> None:
    stored = audit(client, world, answers={"tone": 3, "greeting": "no"})
    items = [
        {"question": "tone", "proposed_answer": 5, "reason": "calm"},
        {"question": "greeting", "proposed_answer": "yes", "reason": "said hello"},
    ]
    dispute = json_of(dispute_of(client, world, stored["id"], items=items))
    partial = step(client, world, dispute["id"], "decision", "client", **decision(True))
    assert partial.status_code == 422
    assert errors_at(partial, "json.items") == ["decide every question: greeting left undecided"]
    stranger = {"items": decision(True)["items"] + decision(True, "mood")["items"]}
    mixed = step(client, world, dispute["id"], "decision", "client", **stranger)
    assert mixed.status_code == 422
    assert errors_at(mixed, "json.items") == {
        "_schema": ["decide every question: greeting left undecided"],
        "1": {"question": ["is not a question awaiting this verdict"]},
    }
    both = {"items": decision(True)["items"] + decision(False, "greeting")["items"]}
    decided = json_of(step(client, world, dispute["id"], "decision", "client", **both))
    assert decided["outcome"] == "partly_accepted"
    again = step(client, world, dispute["id"], "decision", "client", **both)
    assert again.status_code == 409 and errors_at(again, "path.status") == [
        "the dispute is decided"
    ]


def test_only_a_rejection_is_escalated_by_the_supplier_in_time(
    client: FlaskClient, world: World
) -> None:
    _, accepted = opened(client, world)
    step(client, world, accepted["id"], "decision", "client", **decision(True))
    nothing = step(client, world, accepted["id"], "escalation", "supplier", reason="more")
    assert nothing.status_code == 422
    _, rejected = opened(client, world, call_ref="call-002")
    step(client, world, rejected["id"], "decision", "client", **decision(False))
    assert (
        step(client, world, rejected["id"], "escalation", "client", reason="x").status_code == 403
    )
    with time_machine.travel(TODAY + timedelta(days=6), tick=False):
        late = step(client, world, rejected["id"], "escalation", "supplier", reason="late")
    assert late.status_code == 422 and "escalate_by" in json_of(late)["errors"]["json"]
    open_one = json_of(dispute_of(client, world, audit(client, world, call_ref="c3")["id"]))
    early = step(client, world, open_one["id"], "escalation", "supplier", reason="early")
    assert early.status_code == 409 and errors_at(early, "path.status") == ["the dispute is open"]


def test_the_author_amends_and_retracts_and_an_amendment_reinstates(
    client: FlaskClient, world: World
) -> None:
    stored = audit(client, world, call_at=OPEN_MONTH)
    url = f"{URL}/{stored['id']}"
    amended = client.post(
        f"{url}/revisions",
        json={"answers": PERFECT | {"tone": 1}, "reason": "clicked the wrong answer"},
        headers=world.headers("client"),
    )
    assert amended.status_code == 201
    assert (json_of(amended)["revision"], json_of(amended)["score"]) == (2, "92.50")
    retracted = client.post(
        f"{url}/retraction", json={"reason": "wrong call"}, headers=world.headers("client")
    )
    assert retracted.status_code == 200 and json_of(retracted)["retracted"] is True
    twice = client.post(
        f"{url}/retraction", json={"reason": "again"}, headers=world.headers("client")
    )
    assert twice.status_code == 409
    back = client.post(
        f"{url}/revisions",
        json={"answers": PERFECT | {"tone": 1}, "reason": "it was the right call"},
        headers=world.headers("client"),
    )
    assert json_of(back)["retracted"] is False and json_of(back)["revision"] == 4
    revisions = json_of(client.get(f"{url}/revisions", headers=world.headers("supplier")))
    assert [(r["kind"], r["retracted"], r["reason"]) for r in revisions] == [
        ("submission", False, None),
        ("amendment", False, "clicked the wrong answer"),
        ("retraction", True, "wrong call"),
        ("amendment", False, "it was the right call"),
    ]


@pytest.mark.parametrize(
    ("who", "status"),
    [("supplier", 403), ("finance", 403), ("admin", 403), ("other_client", 404)],
)
def test_only_the_author_side_amends_or_retracts(
    app: Flask, client: FlaskClient, world: World, who: str, status: int
) -> None:
    stored = audit(client, world)
    before = row_counts(app)
    amend = client.post(
        f"{URL}/{stored['id']}/revisions",
        json={"answers": PERFECT, "reason": "better"},
        headers=world.headers(who),
    )
    retract = client.post(
        f"{URL}/{stored['id']}/retraction", json={"reason": "x"}, headers=world.headers(who)
    )
    assert (amend.status_code, retract.status_code) == (status, status)
    assert row_counts(app) == before


def test_an_amendment_must_change_the_answers_and_fit_the_form(
    client: FlaskClient, world: World
) -> None:
    stored = audit(client, world, call_at=OPEN_MONTH)
    url = f"{URL}/{stored['id']}/revisions"
    same = client.post(
        url, json={"answers": PERFECT | {"tone": 3}, "reason": "r"}, headers=world.headers("client")
    )
    assert same.status_code == 422 and errors_at(same, "json.answers") == ["the same as revision 1"]
    bad = client.post(
        url, json={"answers": PERFECT | {"tone": 9}, "reason": "r"}, headers=world.headers("client")
    )
    assert bad.status_code == 422 and "tone" in errors_at(bad, "json.answers")
    blank = client.post(url, json={"answers": PERFECT}, headers=world.headers("client"))
    assert blank.status_code == 422 and "reason" in json_of(blank)["errors"]["json"]


def test_the_author_cannot_amend_while_a_dispute_waits(
    app: Flask, client: FlaskClient, world: World
) -> None:
    stored, dispute = opened(client, world)
    before = row_counts(app)
    response = client.post(
        f"{URL}/{stored['id']}/revisions",
        json={"answers": PERFECT, "reason": "fixing it myself"},
        headers=world.headers("client"),
    )
    assert response.status_code == 409
    assert errors_at(response, "path.evaluation_id") == [f"held by dispute {dispute['id']}"]
    assert row_counts(app) == before


def test_resubmitting_other_content_says_to_amend(client: FlaskClient, world: World) -> None:
    stored = audit(client, world)
    record = evaluation(world, source="client", answers={"tone": 1})
    response = client.post(URL, json=record, headers=world.headers("client"))
    assert response.status_code == 409
    (said,) = errors_at(response, "json.call_ref")
    assert f"evaluation {stored['id']} is stored" in said
    assert "amend its answers, giving a reason" in said and "/api/v1" not in said
    # The submission itself stays idempotent after an amendment.
    client.post(
        f"{URL}/{stored['id']}/revisions",
        json={"answers": PERFECT, "reason": "r"},
        headers=world.headers("client"),
    )
    original = evaluation(world, source="client", answers={"tone": 3})
    assert client.post(URL, json=original, headers=world.headers("client")).status_code == 200


def test_disputes_are_listed_per_contract_period_and_status_for_both_sides_only(
    client: FlaskClient, world: World
) -> None:
    _, first = opened(client, world)
    _, second = opened(client, world, call_ref="call-002")
    step(client, world, second["id"], "decision", "client", **decision(False))
    for who in ("supplier", "client", "finance", "admin"):
        listed = client.get("/api/v1/disputes?status=open", headers=world.headers(who))
        assert [d["id"] for d in json_of(listed)] == [first["id"]], who
    everything = client.get(
        f"/api/v1/disputes?contract_id={world.ids['contract']}&period=2026-10&page_size=1",
        headers=world.headers("client"),
    )
    assert len(json_of(everything)) == 1
    assert '"total": 2' in everything.headers["X-Pagination"]
    assert json_of(client.get("/api/v1/disputes", headers=world.headers("other_supplier"))) == []
    hidden = client.get(f"/api/v1/disputes/{first['id']}", headers=world.headers("other_client"))
    assert hidden.status_code == 404


def test_both_organizations_hear_of_each_step_and_of_an_amended_audit(
    app: Flask, client: FlaskClient, world: World
) -> None:
    for who, organization in (("client", "client"), ("supplier", "supplier")):
        response = client.put(
            f"/api/v1/organizations/{world.ids[organization]}/webhook",
            json={"url": "https://93.184.216.34/hook", "secret": SECRET},
            headers=world.headers(who),
        )
        assert response.status_code == 200, response.get_json()
    stored, dispute = opened(client, world, call_at=OPEN_MONTH)
    step(client, world, dispute["id"], "decision", "client", **decision(True))
    client.post(
        f"{URL}/{stored['id']}/revisions",
        json={"answers": PERFECT | {"greeting": "no"}, "reason": "recalibrated"},
        headers=world.headers("client"),
    )
    with app.extensions["fiducia.sessionmaker"]() as session:
        notices = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        heard = [(n.organization_id, n.payload["event"]) for n in notices]
    both = (world.ids["client"], world.ids["supplier"])
    assert heard == [
        (both[0], "dispute.opened"), (both[1], "dispute.opened"),
        (both[0], "dispute.decided"), (both[1], "dispute.decided"),
        (both[0], "evaluation.amended"), (both[1], "evaluation.amended"),
    ]  # fmt: skip


def test_the_scorecard_counts_disputes_and_each_evaluators_overturns(
    client: FlaskClient, world: World
) -> None:
    _, accepted = opened(client, world, evaluator_ref="qa-anna")
    step(client, world, accepted["id"], "decision", "client", **decision(True))
    _, rejected = opened(client, world, call_ref="call-002", evaluator_ref="qa-anna")
    step(client, world, rejected["id"], "decision", "client", **decision(False))
    opened(client, world, call_ref="call-003", evaluator_ref="qa-bruno")
    audit(client, world, call_ref="call-004", evaluator_ref="qa-bruno")
    _, withdrawn = opened(client, world, call_ref="call-005", evaluator_ref="qa-bruno")
    step(client, world, withdrawn["id"], "withdrawal", "supplier")

    contract = world.ids["contract"]
    card = json_of(
        client.get(
            f"/api/v1/contracts/{contract}/scorecard?period=2026-10",
            headers=world.headers("client"),
        )
    )
    assert card["disputes"] == {
        "audits": 5, "disputed": 3, "accepted": 1, "partly_accepted": 0, "rejected": 1,
        "open": 1, "overturn_rate": "0.2000",
    }  # fmt: skip
    url = f"/api/v1/contracts/{contract}/scorecard/evaluators?period=2026-10"
    for who in ("client", "finance", "supplier", "admin"):
        rows = json_of(client.get(url, headers=world.headers(who)))
        assert rows == [
            {"evaluator_ref": "qa-anna", "audits": 2, "disputed": 2, "overturned": 1,
             "overturn_rate": "0.5000"},
            {"evaluator_ref": "qa-bruno", "audits": 3, "disputed": 1, "overturned": 0,
             "overturn_rate": "0.0000"},
        ], who  # fmt: skip
    for who in ("other_client", "other_supplier"):
        assert client.get(url, headers=world.headers(who)).status_code == 404
    assert (
        client.get(url.replace("2026-10", "2026-13"), headers=world.headers("client")).status_code
        == 422
    )


def test_a_self_assessment_stays_beside_its_audit_and_changes_only_in_its_months_window(
    client: FlaskClient, world: World
) -> None:
    own = json_of(
        client.post(
            URL, json=evaluation(world, call_at=OPEN_MONTH), headers=world.headers("supplier")
        )
    )
    alone = json_of(
        client.post(
            URL,
            json=evaluation(world, call_ref="call-009", call_at=OPEN_MONTH),
            headers=world.headers("supplier"),
        )
    )
    audit(client, world, call_at=OPEN_MONTH)  # the client audits call-001, scored by the supplier
    body = {"answers": PERFECT | {"tone": 4}, "reason": "re-listened"}
    audited = client.post(
        f"{URL}/{own['id']}/revisions", json=body, headers=world.headers("supplier")
    )
    assert audited.status_code == 409
    assert "audited by evaluation" in errors_at(audited, "path.evaluation_id")[0]
    gone = client.post(
        f"{URL}/{own['id']}/retraction", json={"reason": "x"}, headers=world.headers("supplier")
    )
    assert gone.status_code == 409
    # November's window closes 5 days after the month, at midnight in Rome.
    with time_machine.travel(datetime(2026, 12, 5, 23, 0, tzinfo=UTC), tick=False):
        late = client.post(
            f"{URL}/{alone['id']}/revisions", json=body, headers=world.headers("supplier")
        )
    assert late.status_code == 409
    assert errors_at(late, "path.evaluation_id") == [
        "the window of 2026-11 closed at 2026-12-06T00:00:00+01:00"
    ]
    fixed = client.post(
        f"{URL}/{alone['id']}/revisions", json=body, headers=world.headers("supplier")
    )
    assert fixed.status_code == 201 and json_of(fixed)["revision"] == 2


def test_a_retracted_audit_is_disputed_and_an_accepted_dispute_reinstates_it(
    client: FlaskClient, world: World
) -> None:
    stored = audit(client, world, call_at=OPEN_MONTH)
    client.post(
        f"{URL}/{stored['id']}/retraction",
        json={"reason": "drop it"},
        headers=world.headers("client"),
    )
    items = [{"question": "tone", "proposed_answer": 3, "reason": "the audit was right: keep it"}]
    dispute = dispute_of(client, world, stored["id"], items=items)
    assert dispute.status_code == 201, dispute.get_json()
    decided = step(client, world, json_of(dispute)["id"], "decision", "client", **decision(True))
    assert decided.status_code == 200
    now = json_of(client.get(f"{URL}/{stored['id']}", headers=world.headers("client")))
    assert (now["retracted"], now["score"], now["revision"]) == (False, "96.25", 3)


def test_a_decided_answer_is_neither_amended_nor_disputed_again(
    client: FlaskClient, world: World
) -> None:
    stored, accepted = opened(client, world, answers={"greeting": "no"}, call_at=OPEN_MONTH)
    step(client, world, accepted["id"], "decision", "client", **decision(True))
    back = client.post(
        f"{URL}/{stored['id']}/revisions",
        json={"answers": PERFECT | {"tone": 3, "greeting": "no"}, "reason": "I prefer 3"},
        headers=world.headers("client"),
    )
    assert back.status_code == 422
    assert errors_at(back, "json.answers.tone") == [
        "a dispute decided this answer; it changes no more"
    ]
    other = client.post(
        f"{URL}/{stored['id']}/revisions",
        json={"answers": PERFECT | {"tone": 5, "greeting": "yes"}, "reason": "greeting was fine"},
        headers=world.headers("client"),
    )
    assert other.status_code == 201  # an answer no dispute decided still may change
    _, rejected = opened(client, world, call_ref="call-002")
    step(client, world, rejected["id"], "decision", "client", **decision(False))
    evaluation_id = rejected["evaluation_id"]
    again = dispute_of(client, world, evaluation_id)
    assert again.status_code == 422
    assert "escalate that dispute" in errors_at(again, "json.items.0.question")[0]


def test_a_dispute_nobody_decides_in_time_goes_to_the_admin(
    client: FlaskClient, world: World
) -> None:
    stored, dispute = opened(client, world)
    early = step(client, world, dispute["id"], "escalation", "supplier", reason="no answer")
    assert early.status_code == 409
    with time_machine.travel(TODAY + timedelta(days=10, hours=1), tick=True):
        escalated = step(client, world, dispute["id"], "escalation", "supplier", reason="no answer")
        assert escalated.status_code == 200, escalated.get_json()
        assert (json_of(escalated)["status"], json_of(escalated)["outcome"]) == ("escalated", None)
        late = step(client, world, dispute["id"], "decision", "client", **decision(True))
        assert late.status_code == 409
        final = step(client, world, dispute["id"], "arbitration", "admin", **decision(True))
    assert json_of(final)["outcome"] == "accepted"
    now = json_of(client.get(f"{URL}/{stored['id']}", headers=world.headers("supplier")))
    assert (now["score"], now["open_dispute_id"]) == ("100.00", None)
