"""A call reference is compared trimmed and NFKC-normalized, its case kept (DESIGN 13), on
every path that takes one: `ADV-1`, ` ADV-1` and `ＡＤＶ-1` are one call, never two."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.calls.models import Call
from service.evaluations.models import Evaluation
from service.evaluations.schemas import EVALUATIONS
from tests.api import test_calls, test_uploads
from tests.api.conftest import evaluation
from tests.conftest import World, errors_at, json_of, row_counts
from tests.integration.test_logged_calls import logged_contract

# The same call, written as typed, with a stray space, and in full-width letters.
SPELLINGS = ["ADV-1", " ADV-1", "ＡＤＶ-1"]
BLANKS = ["   ", "\u3000", " \t "]


def logged_refs(app: Flask) -> list[str]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        return list(session.scalars(select(Call.call_ref).order_by(Call.call_ref)))


def evaluated(app: Flask) -> list[tuple[str, str]]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        query = select(Evaluation.call_ref, Evaluation.source).order_by(Evaluation.id)
        return [(ref, source) for ref, source in session.execute(query)]


def a_call(call_ref: str, **changes: Any) -> dict[str, Any]:
    return test_calls.calls(1)[0] | {"call_ref": call_ref} | changes


# The call log ----------------------------------------------------------------------------


def log_json(client: FlaskClient, world: World, *records: dict[str, Any]) -> Any:
    return client.post(
        test_calls.url(world), json={"calls": list(records)}, headers=world.headers("supplier")
    )


def log_file(client: FlaskClient, world: World, *records: dict[str, Any]) -> Any:
    return test_calls.upload(client, world, test_calls.csv_of(list(records)))


LOGGERS = {"batch": log_json, "upload": log_file}


@pytest.mark.parametrize("way", LOGGERS)
def test_a_reference_logged_three_ways_is_one_call_logged_once(
    app: Flask, client: FlaskClient, world: World, way: str
) -> None:
    answers = [LOGGERS[way](client, world, a_call(ref)) for ref in SPELLINGS]

    assert [response.status_code for response in answers] == [201, 200, 200]
    assert [json_of(response)["created"] for response in answers] == [1, 0, 0]
    assert [json_of(response)["unchanged"] for response in answers] == [0, 1, 1]
    assert logged_refs(app) == ["ADV-1"]


@pytest.mark.parametrize("way", LOGGERS)
def test_another_spelling_with_other_content_is_a_409_naming_the_call(
    app: Flask, client: FlaskClient, world: World, way: str
) -> None:
    LOGGERS[way](client, world, a_call("ADV-1"))
    before = row_counts(app)

    response = LOGGERS[way](client, world, a_call("ＡＤＶ-1 ", agent_ref="someone-else"))

    assert response.status_code == 409
    where = "json.calls.0.call_ref" if way == "batch" else "files.file.2.call_ref"
    assert errors_at(response, where) == [
        "call 'ADV-1' is logged with other content: agent_ref agent-0 (here someone-else)"
    ]
    assert row_counts(app) == before


@pytest.mark.parametrize("way", LOGGERS)
def test_two_spellings_of_one_call_in_one_batch_are_a_repeat(
    app: Flask, client: FlaskClient, world: World, way: str
) -> None:
    before = row_counts(app)

    response = LOGGERS[way](client, world, a_call("ADV-1"), a_call("ＡＤＶ-1"))

    assert response.status_code == 409
    where = "json.calls.1.call_ref" if way == "batch" else "files.file.3.call_ref"
    earlier = 0 if way == "batch" else 2  # an index, or the file's row (its header is 1)
    assert errors_at(response, where) == [f"call 'ADV-1' repeats {earlier} of this batch"]
    assert row_counts(app) == before


@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize("way", LOGGERS)
def test_a_reference_of_only_spaces_is_a_422_naming_it(
    app: Flask, client: FlaskClient, world: World, way: str, blank: str
) -> None:
    before = row_counts(app)

    response = LOGGERS[way](client, world, a_call("ADV-1"), a_call(blank))

    assert response.status_code == 422
    where = "json.calls.1.call_ref" if way == "batch" else "files.file.3.call_ref"
    assert errors_at(response, where) == ["This is required."]
    assert row_counts(app) == before


# Evaluations -----------------------------------------------------------------------------


def submit_one(client: FlaskClient, world: World, ref: str, **changes: Any) -> Any:
    record = evaluation(world, call_ref=ref, **changes)
    return client.post("/api/v1/evaluations", json=record, headers=world.headers("supplier"))


def submit_batch(client: FlaskClient, world: World, *refs: str, **changes: Any) -> Any:
    records = [evaluation(world, call_ref=ref, **changes) for ref in refs]
    return client.post(
        "/api/v1/evaluations/batch",
        json={"evaluations": records},
        headers=world.headers("supplier"),
    )


def upload_sheet(client: FlaskClient, world: World, *refs: str, xlsx: bool, **changes: Any) -> Any:
    rows = [test_uploads.row(number, call_ref=ref, **changes) for number, ref in enumerate(refs)]
    if xlsx:
        return test_uploads.upload(client, world, test_uploads.as_xlsx(rows), name="e.xlsx")
    return test_uploads.upload(client, world, test_uploads.as_csv(rows))


def test_an_evaluation_submitted_three_ways_of_writing_its_call_is_stored_once(
    app: Flask, client: FlaskClient, world: World
) -> None:
    answers = [submit_one(client, world, ref) for ref in SPELLINGS]

    assert [response.status_code for response in answers] == [201, 200, 200]
    assert len({json_of(response)["id"] for response in answers}) == 1
    assert [json_of(response)["call_ref"] for response in answers] == ["ADV-1"] * 3
    assert evaluated(app) == [("ADV-1", "supplier")]


def test_another_spelling_with_other_answers_is_a_409_pointing_at_the_stored_one(
    app: Flask, client: FlaskClient, world: World
) -> None:
    stored = json_of(submit_one(client, world, "ADV-1"))

    response = submit_one(client, world, " ＡＤＶ-1 ", answers={"tone": 2})

    assert response.status_code == 409
    assert f"evaluation {stored['id']} is stored" in errors_at(response, "json.call_ref")[0]
    assert evaluated(app) == [("ADV-1", "supplier")]


def test_a_batch_stores_the_normalized_reference_through_the_compiled_loader(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(record: Any) -> Any:
        raise AssertionError("marshmallow loaded a record the compiled check passed")

    submit_one(client, world, "ADV-1")
    monkeypatch.setattr(EVALUATIONS.schema, "load", refuse)

    response = submit_batch(client, world, " ＡＤＶ-1 ", "ADV-2\u3000")

    assert response.status_code == 201
    assert (json_of(response)["created"], json_of(response)["unchanged"]) == (1, 1)
    assert evaluated(app) == [("ADV-1", "supplier"), ("ADV-2", "supplier")]


def test_two_spellings_of_one_call_in_one_evaluation_batch_are_a_repeat(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)

    response = submit_batch(client, world, "ADV-1", "ＡＤＶ-1")

    assert response.status_code == 422
    assert errors_at(response, "json.evaluations.1.call_ref") == ["repeats record 0 of this batch"]
    assert row_counts(app) == before


@pytest.mark.parametrize("blank", BLANKS)
def test_an_evaluation_of_a_reference_of_only_spaces_is_a_422_naming_it(
    app: Flask, client: FlaskClient, world: World, blank: str
) -> None:
    before = row_counts(app)

    one = submit_one(client, world, blank)
    batch = submit_batch(client, world, "ADV-1", blank)

    assert one.status_code == batch.status_code == 422
    assert errors_at(one, "json.call_ref") == ["This is required."]
    assert errors_at(batch, "json.evaluations.1.call_ref") == ["This is required."]
    assert row_counts(app) == before


@pytest.mark.parametrize("xlsx", [False, True], ids=["csv", "xlsx"])
def test_a_spreadsheet_row_of_another_spelling_is_the_stored_evaluation(
    app: Flask, client: FlaskClient, world: World, xlsx: bool
) -> None:
    first = upload_sheet(client, world, "ADV-1", xlsx=xlsx)
    again = upload_sheet(client, world, " ＡＤＶ-1 ", "ＡＤＶ-2", xlsx=xlsx)
    changed = upload_sheet(client, world, "ＡＤＶ-1", xlsx=xlsx, tone=2)

    assert first.status_code == again.status_code == 201
    assert (json_of(again)["created"], json_of(again)["unchanged"]) == (1, 1)
    assert changed.status_code == 409
    assert "stored for this call" in errors_at(changed, "files.file.2.call_ref")[0]
    assert evaluated(app) == [("ADV-1", "supplier"), ("ADV-2", "supplier")]


def test_an_evaluation_of_a_spaced_reference_pairs_with_the_logged_call(
    app: Flask, client: FlaskClient, world: World
) -> None:
    contract_id = logged_contract(app, world)
    world.ids["logged"] = contract_id
    logged = client.post(
        test_calls.url(world, key="logged"),
        json={"calls": [a_call("ADV-1")]},
        headers=world.headers("supplier"),
    )
    assert logged.status_code == 201
    record = evaluation(
        world, contract_id=contract_id, call_ref=" ADV-1 ", source="client",
        call_at=a_call("ADV-1")["call_at"],
    )  # fmt: skip
    assert (
        client.post("/api/v1/evaluations", json=record, headers=world.headers("client")).status_code
        == 201
    )

    card = json_of(
        client.get(
            f"/api/v1/contracts/{contract_id}/scorecard?period=2026-11",
            headers=world.headers("client"),
        )
    )

    assert card["n"] == 1 and not card["unlogged"]
    assert card["mean"] == "100.00"


def test_a_reference_longer_than_200_characters_once_normalized_is_a_422_naming_it(
    app: Flask, client: FlaskClient, world: World
) -> None:
    long = "\ufdfa" * 12  # 12 characters typed, 216 once NFKC spells each out
    before = row_counts(app)

    logged = log_json(client, world, a_call(long))
    uploaded = log_file(client, world, a_call(long))
    one = submit_one(client, world, long)

    assert logged.status_code == uploaded.status_code == one.status_code == 422
    assert errors_at(logged, "json.calls.0.call_ref") == ["must be at most 200 characters"]
    assert errors_at(uploaded, "files.file.2.call_ref") == ["must be at most 200 characters"]
    assert errors_at(one, "json.call_ref") == ["Length must be between 1 and 200."]
    assert row_counts(app) == before
