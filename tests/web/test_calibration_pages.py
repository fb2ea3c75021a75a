"""The calibration pages: open a session, score its calls blind, close it, read the agreement."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import PERFECT
from tests.api.test_calibration import HARSH, MIXED
from tests.conftest import World, json_of, seed_month
from tests.web.test_pages import csrf, sign_in

ITALIAN = {"Accept-Language": "it"}


def browser(app: Flask, world: World, who: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.tokens[who])
    return client


def form_of(answers: dict[str, object]) -> dict[str, str]:
    return {f"answer-{key}": str(value) for key, value in answers.items()}


@pytest.fixture
def opened(app: Flask, client: FlaskClient, world: World) -> int:
    """A session on two of October's calls, opened on the page by the client."""
    seed_month(app, world, "2026-10", calls=4, audited_every=2)
    page = browser(app, world, "client")
    contract = world.ids["contract"]
    new = page.get(f"/contracts/{contract}/calibrations/new")
    assert new.status_code == 200 and "2026-10-1" in new.text
    response = page.post(
        f"/contracts/{contract}/calibrations/new",
        data={
            "csrf_token": csrf(page, f"/contracts/{contract}/calibrations/new"),
            "title": "Two calls",
            "calls": ["2026-10-0", "2026-10-1"],
            "participants": [str(world.ids["user:client"]), str(world.ids["user:supplier"])],
            "reference": str(world.ids["user:client"]),
            "closes_at": "",
        },
    )
    assert response.status_code == 302, response.text
    match = re.search(r"/calibrations/(\d+)$", response.headers["Location"])
    assert match is not None
    return int(match.group(1))


def score_on_page(page: FlaskClient, session_id: int, call: str, answers: dict[str, object]) -> str:
    path = f"/calibrations/{session_id}/score?call={call}"
    shown = page.get(path)
    assert shown.status_code == 200
    stored = page.post(path, data={"csrf_token": csrf(page, path)} | form_of(answers))
    assert stored.status_code == 302, stored.text
    return str(stored.headers["Location"])


def test_a_refused_session_names_the_fields_and_keeps_what_was_chosen(
    app: Flask, world: World
) -> None:
    seed_month(app, world, "2026-10", calls=4, audited_every=2)
    page = browser(app, world, "client")
    path = f"/contracts/{world.ids['contract']}/calibrations/new"
    refused = page.post(
        path,
        data={
            "csrf_token": csrf(page, path),
            "title": "Too few",
            "calls": ["2026-10-0"],
            "participants": [str(world.ids["user:client"])],
        },
    )
    assert refused.status_code == 422
    assert 'id="refusal"' in refused.text and "field-error" in refused.text
    assert 'value="2026-10-0" id="call-' in refused.text and "checked" in refused.text


def test_the_scoring_page_moves_on_to_the_next_call_and_shows_only_ones_own_scores(
    app: Flask, world: World, opened: int
) -> None:
    supplier = browser(app, world, "supplier")
    client = browser(app, world, "client")
    assert score_on_page(client, opened, "2026-10-0", MIXED).endswith("call=2026-10-1")
    assert score_on_page(client, opened, "2026-10-1", MIXED).endswith(f"/calibrations/{opened}")
    score_on_page(supplier, opened, "2026-10-0", HARSH)
    # Every page a participant can open about the open session shows no other's score.
    marks = {"client": ("80,63", "80.63"), "supplier": ("43,50", "43.50")}
    for who, page, other in (("client", client, "supplier"), ("supplier", supplier, "client")):
        for path in (
            f"/calibrations/{opened}",
            f"/calibrations/{opened}/score?call=2026-10-0",
            f"/calibrations/{opened}/score?call=2026-10-1",
            f"/contracts/{world.ids['contract']}/calibrations",
        ):
            for headers in ({}, ITALIAN):
                shown = page.get(path, headers=headers)
                assert shown.status_code == 200, path
                for mark in marks[other]:
                    assert mark not in shown.text, (who, path)
    own = client.get(f"/calibrations/{opened}/score?call=2026-10-0")
    assert 'value="3" checked' in own.text  # its own answers are filled in to amend


def test_the_client_closes_and_every_participant_reads_alpha_in_both_languages(
    app: Flask, world: World, opened: int
) -> None:
    client, supplier = browser(app, world, "client"), browser(app, world, "supplier")
    for call, mine, theirs in (("2026-10-0", PERFECT, PERFECT), ("2026-10-1", HARSH, MIXED)):
        score_on_page(client, opened, call, mine)
        score_on_page(supplier, opened, call, theirs)
    assert 'id="close-form"' not in supplier.get(f"/calibrations/{opened}").text
    path = f"/calibrations/{opened}"
    closed = client.post(f"{path}/close", data={"csrf_token": csrf(client, path)})
    assert closed.status_code == 302
    alpha = json_of(
        app.test_client().get(f"/api/v1/calibrations/{opened}", headers=world.headers("client"))
    )["agreement"]["alpha"]
    english = supplier.get(path)
    assert english.status_code == 200 and 'id="alpha"' in english.text
    assert f"{float(alpha):.3f}" in english.text
    assert "43.50" in english.text and "80.63" in english.text  # every score, once closed
    italian = supplier.get(path, headers=ITALIAN)
    assert f"{float(alpha):.3f}".replace(".", ",") in italian.text
    assert "Concordanza" in italian.text or "concordanza" in italian.text


def test_pages_keep_their_boundaries(app: Flask, world: World, opened: int) -> None:
    other = browser(app, world, "other_supplier")
    assert other.get(f"/calibrations/{opened}").status_code == 404
    assert other.get(f"/contracts/{world.ids['contract']}/calibrations").status_code == 404
    finance = browser(app, world, "finance")
    assert finance.get(f"/calibrations/{opened}").status_code == 200
    assert finance.get(f"/calibrations/{opened}/score?call=2026-10-0").status_code == 404
    assert finance.get(f"/contracts/{world.ids['contract']}/calibrations/new").status_code == 403
