"""Scoring a call in the browser, and the preview that gives its live score (issue 11)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import PERFECT, evaluation
from tests.conftest import World, json_of, row_counts
from tests.web import test_dispute_pages
from tests.web.test_dispute_pages import OPEN_MONTH, Browse
from tests.web.test_pages import csrf

browse = test_dispute_pages.browse  # the fixture: a signed-in test client per user

NEW = "/evaluations/new"
CONTRACT_MONTH = "contract_id={contract}&period=2026-10"


def page_of(world: World) -> str:
    return f"{NEW}?{CONTRACT_MONTH.format(contract=world.ids['contract'])}"


def fields(**changes: Any) -> dict[str, str]:
    """Return the scoring form as a browser sends it: call fields and one radio per question."""
    answers = {f"answer-{key}": str(value) for key, value in PERFECT.items()}
    call = {
        "call_ref": "web-001",
        "agent_ref": "agent-7",
        "team": "inbound-a",
        "call_at": "2026-10-14T10:30",
        "evaluator_ref": "qa-1",
        "comment": "",
    }
    return call | answers | changes


def send(browse: Browse, who: str, world: World, form: dict[str, str]) -> Any:
    client = browse(who)
    return client.post(page_of(world), data={"csrf_token": csrf(client, NEW), **form})


def preview(browse: Browse, who: str, world: World, answers: dict[str, Any], **body: Any) -> Any:
    client = browse(who)
    token = csrf(client, NEW)
    payload = {"contract_id": world.ids["contract"], "period": "2026-10", "answers": answers}
    return client.post("/evaluations/preview", json=payload | body, headers={"X-CSRFToken": token})


@pytest.mark.parametrize(("who", "source"), [("supplier", "supplier"), ("client", "client")])
def test_an_evaluator_scores_a_call_on_the_page_and_finds_it_stored(
    browse: Browse, world: World, who: str, source: str
) -> None:
    shown = browse(who).get(page_of(world))
    assert shown.status_code == 200
    text = shown.text
    assert 'id="score-form"' in text and "Europe/Rome" in text
    assert 'value="na"' in text  # N/A offered where the form allows it
    assert "critical: compliance" in text
    stored = send(browse, who, world, fields(**{"answer-greeting": "no"}))
    assert stored.status_code == 302, stored.text
    page = browse(who).get(stored.location, follow_redirects=True).text
    assert "95.00" in page and "web-001" in page
    rows = browse(who).get(f"/evaluations?contract_id={world.ids['contract']}").text
    assert "web-001" in rows and "95.00" in rows and source.replace("_", " ") in rows


def test_the_call_time_is_read_in_the_contracts_time_zone(
    app: Flask, browse: Browse, world: World
) -> None:
    send(browse, "supplier", world, fields(call_at="2026-10-31T23:30"))
    api = app.test_client().get(
        f"/api/v1/evaluations?contract_id={world.ids['contract']}",
        headers=world.headers("supplier"),
    )
    assert json_of(api)[0]["call_at"] == "2026-10-31T22:30:00+00:00"  # Rome is UTC+1 then


def test_a_refused_evaluation_keeps_every_answer_and_names_the_question(
    app: Flask, browse: Browse, world: World
) -> None:
    browse("supplier")  # signed in before counting
    before = row_counts(app)
    form = fields(**{"answer-greeting": "no"})
    del form["answer-tone"]
    refused = send(browse, "supplier", world, form)
    assert refused.status_code == 422
    text = refused.text
    assert "an answer is required" in text
    assert 'value="no" checked' in text  # what was typed stays
    assert 'name="call_ref" maxlength="200" required value="web-001"' in text
    unnamed = send(browse, "supplier", world, fields(agent_ref=""))
    assert unnamed.status_code == 422 and "This is required." in unnamed.text
    assert row_counts(app) == before


@pytest.mark.parametrize(("who", "status"), [("finance", 403), ("other_supplier", 404)])
def test_only_the_contracts_evaluators_open_its_form(
    app: Flask, browse: Browse, world: World, who: str, status: int
) -> None:
    assert browse(who).get(page_of(world)).status_code == status
    before = row_counts(app)
    client = browse(who)
    sent = client.post(
        page_of(world), data={"csrf_token": csrf(client, "/evaluations"), **fields()}
    )
    assert sent.status_code == status
    assert preview(browse, who, world, PERFECT).status_code == status
    assert row_counts(app) == before


def test_the_preview_lists_what_is_left_then_scores_like_the_server(
    browse: Browse, world: World
) -> None:
    partial = json_of(preview(browse, "client", world, {"greeting": "no"}))
    assert partial["score"] is None and len(partial["missing"]) == len(PERFECT) - 1
    bad = preview(browse, "client", world, {"tone": 9})
    assert bad.status_code == 422
    assert list(json_of(bad)["errors"]["answers"]) == ["tone"]
    whole = json_of(preview(browse, "client", world, PERFECT | {"greeting": "no"}))
    assert (whole["score"], whole["passed"], whole["missing"]) == ("95.00", True, [])


def test_the_preview_asks_for_a_contract_and_month(browse: Browse, world: World) -> None:
    assert preview(browse, "client", world, PERFECT, period="someday").status_code == 400
    client = browse("client")
    refused = client.post(
        "/evaluations/preview", data="not json", headers={"X-CSRFToken": csrf(client, NEW)}
    )
    assert refused.status_code == 400


ANSWER = {
    "yes_no_na": st.sampled_from(["yes", "no", "na"]),
    "scale": st.integers(1, 5),
}
KINDS = {
    key: ("scale" if isinstance(value, int) else "yes_no_na") for key, value in PERFECT.items()
}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.fixed_dictionaries({key: ANSWER[kind] for key, kind in KINDS.items()}))
def test_the_preview_and_the_stored_score_are_equal(
    app: Flask, world: World, answers: dict[str, Any]
) -> None:
    client = app.test_client()
    preview_body = {
        "contract_id": world.ids["contract"],
        "call_at": "2026-10-14T10:30:00+02:00",
        "answers": answers,
    }
    previewed = client.post(
        "/api/v1/evaluations/preview", json=preview_body, headers=world.headers("supplier")
    )
    call_ref = "prop-" + "-".join(str(value) for value in answers.values())
    record = evaluation(world, call_ref=call_ref, answers=answers)
    stored = client.post("/api/v1/evaluations", json=record, headers=world.headers("supplier"))
    if previewed.status_code == 422:  # an answer the form refuses: refused alike when stored
        assert stored.status_code == 422
        return
    assert stored.status_code in (200, 201), stored.get_json()
    seen, kept = json_of(previewed), json_of(stored)
    for name in ("score", "passed", "critical_errors", "section_scores"):
        assert seen[name] == kept[name], name
    assert seen["missing"] == []


@pytest.mark.parametrize(("who", "status"), [("finance", 403), ("other_supplier", 404)])
def test_the_api_preview_is_for_the_contracts_evaluators_only(
    app: Flask, world: World, who: str, status: int
) -> None:
    body = {
        "contract_id": world.ids["contract"],
        "call_at": "2026-10-14T10:30:00+02:00",
        "answers": PERFECT,
    }
    client = app.test_client()
    assert (
        client.post(
            "/api/v1/evaluations/preview", json=body, headers=world.headers(who)
        ).status_code
        == status
    )
    good = client.post("/api/v1/evaluations/preview", json=body, headers=world.headers("admin"))
    assert json_of(good)["score"] == "100.00"
    bad = client.post(
        "/api/v1/evaluations/preview",
        json=body | {"call_at": "2026-10-14T10:30"},
        headers=world.headers("admin"),
    )
    assert bad.status_code == 422 and "call_at" in json_of(bad)["errors"]["json"]


def test_the_author_amends_on_the_scoring_page_with_the_answers_filled_in(
    app: Flask, browse: Browse, world: World
) -> None:
    record = evaluation(world, source="client", answers={"tone": 3}, call_at=OPEN_MONTH)
    stored = json_of(
        app.test_client().post("/api/v1/evaluations", json=record, headers=world.headers("client"))
    )
    url = f"/evaluations/{stored['id']}/rescore"
    assert browse("supplier").get(url).status_code == 403
    assert browse("other_client").get(url).status_code == 404
    shown = browse("client").get(url)
    assert shown.status_code == 200 and "Amend call call-001" in shown.text
    assert 'name="answer-tone" value="3" checked' in shown.text
    answers = {f"answer-{key}": str(value) for key, value in PERFECT.items()}
    client = browse("client")
    amended = client.post(
        f"/evaluations/{stored['id']}/amend",
        data={"csrf_token": csrf(client, url), **answers, "reason": "tone was fine"},
    )
    assert amended.status_code == 302
    page = client.get(amended.location).text
    assert "Revision 2" in page and "100.00" in page
