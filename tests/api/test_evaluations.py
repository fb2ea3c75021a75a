"""Submitting, scoring and reading evaluations."""

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from contracts.periods import Period
from service.evaluations.models import Evaluation
from tests.api.conftest import evaluation
from tests.conftest import World, json_of, row_counts

URL = "/api/v1/evaluations"


def test_a_supplier_submits_an_evaluation_and_gets_its_score(
    client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    # Communication: greeting (weight 1) fails, so the section is (0 + 2 + 1) / 4 = 75%;
    # the total is (20 * 0.75 + 30 + 15 + 15 + 20) / 100 = 95.
    record = make_evaluation(answers={"greeting": "no"})
    response = client.post(URL, json=record, headers=world.headers("supplier"))
    assert response.status_code == 201
    body = json_of(response)
    assert body["score"] == "95.00"
    assert body["passed"] is True
    assert body["critical_errors"] == []
    assert body["section_scores"]["communication"] == "75.00"
    assert body["section_scores"]["trust"] == "100.00"
    assert body["call_at"] == "2026-10-14T08:30:00+00:00"
    assert body["form"] == "standard@1"


def test_a_failed_identity_check_fails_the_whole_form(
    client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    record = make_evaluation(answers={"verification": "no"})
    body = json_of(client.post(URL, json=record, headers=world.headers("supplier")))
    assert body["score"] == "0.00"
    assert body["passed"] is False
    assert body["critical_errors"] == ["compliance"]


def test_the_same_evaluation_again_answers_200_with_the_stored_one(
    app: Flask, client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    first = client.post(URL, json=make_evaluation(), headers=world.headers("supplier"))
    before = row_counts(app)
    again = client.post(URL, json=make_evaluation(), headers=world.headers("supplier"))
    assert again.status_code == 200
    assert json_of(again)["id"] == json_of(first)["id"]
    assert row_counts(app) == before


def test_the_same_instant_written_with_another_offset_is_the_same_evaluation(
    client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    first = client.post(URL, json=make_evaluation(), headers=world.headers("supplier"))
    again = client.post(
        URL, json=make_evaluation(call_at="2026-10-14T08:30:00Z"), headers=world.headers("supplier")
    )
    assert again.status_code == 200
    assert json_of(again)["id"] == json_of(first)["id"]


def test_other_content_for_a_stored_call_is_409_naming_the_stored_id(
    app: Flask, client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    first = json_of(client.post(URL, json=make_evaluation(), headers=world.headers("supplier")))
    before = row_counts(app)
    response = client.post(
        URL, json=make_evaluation(answers={"tone": 3}), headers=world.headers("supplier")
    )
    assert response.status_code == 409
    assert json_of(response)["errors"]["json"]["stored_id"] == first["id"]
    # It names what to change (the fields of an amendment), not a URL.
    assert json_of(response)["errors"]["json"]["call_ref"] == [
        f"evaluation {first['id']} is stored for this call with other content; to change it, "
        "amend its answers, giving a reason"
    ]
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"call_at": "2026-10-14T10:30:00"}, "call_at"),
        ({"answers": {"greeting": "maybe"}}, "answers"),
        ({"answers": {"tone": 9}}, "answers"),
        ({"answers": {"greeting": "na"}}, "answers"),
        ({"answers": {"favourite_colour": "yes"}}, "answers"),
        ({"form": "standard@7"}, "form"),
        ({"form": "standard"}, "form"),
        ({"source": "robot"}, "source"),
        ({"agent_ref": ""}, "agent_ref"),
    ],
)
def test_a_bad_evaluation_is_422_naming_the_field(
    app: Flask,
    client: FlaskClient,
    world: World,
    make_evaluation: Any,
    changes: dict[str, Any],
    field: str,
) -> None:
    before = row_counts(app)
    response = client.post(URL, json=make_evaluation(**changes), headers=world.headers("supplier"))
    assert response.status_code == 422, response.get_json()
    assert field in json_of(response)["errors"]["json"]
    assert row_counts(app) == before


def test_a_missing_answer_is_named_by_its_question(
    client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    record = make_evaluation()
    del record["answers"]["closing"]
    response = client.post(URL, json=record, headers=world.headers("supplier"))
    assert response.status_code == 422
    assert "closing" in json_of(response)["errors"]["json"]["answers"]


@pytest.mark.parametrize(
    ("who", "source", "status"),
    [
        ("supplier", "client", 403),
        ("supplier", "third_party", 403),
        ("client", "supplier", 403),
        ("client", "third_party", 403),
        ("finance", "client", 403),
        ("other_supplier", "supplier", 404),
        ("other_client", "client", 404),
        ("other_finance", "client", 404),
    ],
)
def test_who_may_submit_which_source(
    app: Flask,
    client: FlaskClient,
    world: World,
    make_evaluation: Any,
    who: str,
    source: str,
    status: int,
) -> None:
    before = row_counts(app)
    response = client.post(URL, json=make_evaluation(source=source), headers=world.headers(who))
    assert response.status_code == status
    assert row_counts(app) == before


@pytest.mark.parametrize(("who", "source"), [("client", "client"), ("admin", "third_party")])
def test_audits_come_from_the_client_and_third_parties_through_an_admin(
    client: FlaskClient, world: World, make_evaluation: Any, who: str, source: str
) -> None:
    response = client.post(URL, json=make_evaluation(source=source), headers=world.headers(who))
    assert response.status_code == 201
    assert json_of(response)["source"] == source


def test_a_batch_is_stored_whole(client: FlaskClient, world: World, make_evaluation: Any) -> None:
    records = [make_evaluation(call_ref=f"call-{n}") for n in range(5)]
    response = client.post(
        f"{URL}/batch", json={"evaluations": records}, headers=world.headers("supplier")
    )
    assert response.status_code == 201
    body = json_of(response)
    assert body["created"] == 5 and body["unchanged"] == 0
    again = client.post(
        f"{URL}/batch",
        json={"evaluations": records + [make_evaluation(call_ref="call-new")]},
        headers=world.headers("supplier"),
    )
    assert json_of(again)["created"] == 1
    assert json_of(again)["unchanged"] == 5
    assert json_of(again)["ids"][:5] == body["ids"]


@pytest.mark.parametrize("size", [5, 40], ids=["inline", "staged"])
def test_a_batch_large_or_small_keeps_every_field_and_its_key(
    app: Flask, client: FlaskClient, world: World, make_evaluation: Any, size: int
) -> None:
    # 40 records go through COPY and a staging table on PostgreSQL, 5 through one INSERT.
    records = [
        make_evaluation(call_ref=f"call-{n}", comment=f"note {n}\ttab \\ back", team="T")
        for n in range(size)
    ]
    records[-1]["answers"]["greeting"] = "no"
    headers = world.headers("supplier")
    body = json_of(client.post(f"{URL}/batch", json={"evaluations": records}, headers=headers))
    assert body["created"] == size and len(set(body["ids"])) == size
    last = json_of(client.get(f"{URL}/{body['ids'][-1]}", headers=headers))
    assert (last["call_ref"], last["score"], last["comment"]) == (
        f"call-{size - 1}",
        "95.00",
        f"note {size - 1}\ttab \\ back",
    )
    assert last["section_scores"]["communication"] == "75.00"
    assert last["call_at"] == "2026-10-14T08:30:00+00:00" and last["team"] == "T"
    revisions = json_of(client.get(f"{URL}/{body['ids'][-1]}/revisions", headers=headers))
    assert [revision["kind"] for revision in revisions] == ["submission"]

    again = client.post(f"{URL}/batch", json={"evaluations": records}, headers=headers)
    assert (json_of(again)["created"], json_of(again)["unchanged"]) == (0, size)
    assert json_of(again)["ids"] == body["ids"]

    records[2]["answers"]["tone"] = 1
    before = row_counts(app)
    changed = client.post(
        f"{URL}/batch",
        json={"evaluations": [*records, make_evaluation(call_ref="new")]},
        headers=headers,
    )
    assert changed.status_code == 409
    assert set(json_of(changed)["errors"]["json"]["evaluations"]) == {"2"}
    assert row_counts(app) == before


def test_one_bad_record_rejects_the_batch_listing_every_bad_record(
    app: Flask, client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    records = [make_evaluation(call_ref=f"call-{n}") for n in range(6)]
    records[1]["call_at"] = "2026-10-14T10:30:00"  # naive
    records[3]["answers"]["tone"] = 11  # off the scale
    del records[4]["agent_ref"]
    records[5]["call_ref"] = "call-0"  # the same call twice
    before = row_counts(app)
    response = client.post(
        f"{URL}/batch", json={"evaluations": records}, headers=world.headers("supplier")
    )
    assert response.status_code == 422
    errors = json_of(response)["errors"]["json"]["evaluations"]
    assert set(errors) == {"1", "3", "4", "5"}
    assert "call_at" in errors["1"]
    assert "tone" in errors["3"]["answers"]
    assert "agent_ref" in errors["4"]
    assert "call_ref" in errors["5"]
    assert row_counts(app) == before


def test_a_batch_touching_another_organizations_contract_writes_nothing(
    app: Flask, client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    records = [
        make_evaluation(call_ref="mine"),
        make_evaluation(call_ref="theirs", contract_id=world.ids["other_contract"]),
    ]
    before = row_counts(app)
    response = client.post(
        f"{URL}/batch", json={"evaluations": records}, headers=world.headers("supplier")
    )
    assert response.status_code == 404
    assert row_counts(app) == before


def test_a_batch_over_1000_records_is_422(
    client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    records = [make_evaluation(call_ref=f"c{n}") for n in range(1001)]
    response = client.post(
        f"{URL}/batch", json={"evaluations": records}, headers=world.headers("supplier")
    )
    assert response.status_code == 422
    assert "evaluations" in json_of(response)["errors"]["json"]


def _submit(client: FlaskClient, world: World, who: str, records: list[dict[str, Any]]) -> None:
    response = client.post(
        f"{URL}/batch", json={"evaluations": records}, headers=world.headers(who)
    )
    assert response.status_code == 201, response.get_json()


def test_the_list_filters_by_the_contracts_month_source_and_agent(
    client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    # Europe/Rome: 2026-09-30T23:30+02:00 is still September there, though October in UTC+3.
    _submit(
        client,
        world,
        "supplier",
        [
            make_evaluation(call_ref="sep-late", call_at="2026-09-30T21:30:00+00:00"),
            make_evaluation(call_ref="oct-early", call_at="2026-09-30T22:30:00+00:00"),
            make_evaluation(call_ref="oct-2", agent_ref="agent-9"),
        ],
    )
    _submit(client, world, "client", [make_evaluation(call_ref="oct-2", source="client")])

    def refs(who: str, query: str) -> list[str]:
        response = client.get(f"{URL}?{query}", headers=world.headers(who))
        assert response.status_code == 200
        return [e["call_ref"] for e in json_of(response)]

    contract = world.ids["contract"]
    assert refs("client", f"contract_id={contract}&period=2026-09") == ["sep-late"]
    assert refs("client", "period=2026-10") == ["oct-early", "oct-2", "oct-2"]
    assert refs("client", "period=2026-10&source=client") == ["oct-2"]
    assert refs("supplier", "period=2026-10&agent_ref=agent-9") == ["oct-2"]
    assert refs("other_client", "period=2026-10") == []
    assert (
        client.get(
            f"{URL}?contract_id={contract}", headers=world.headers("other_supplier")
        ).status_code
        == 404
    )


def test_the_list_is_paginated(client: FlaskClient, world: World, make_evaluation: Any) -> None:
    _submit(client, world, "supplier", [make_evaluation(call_ref=f"c{n:02d}") for n in range(25)])
    response = client.get(f"{URL}?page=2&page_size=10", headers=world.headers("client"))
    assert [e["call_ref"] for e in json_of(response)] == [f"c{n:02d}" for n in range(10, 20)]
    assert '"total": 25' in response.headers["X-Pagination"]


def test_another_organizations_evaluation_is_404(
    client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    created = json_of(client.post(URL, json=make_evaluation(), headers=world.headers("supplier")))
    url = f"{URL}/{created['id']}"
    assert client.get(url, headers=world.headers("client")).status_code == 200
    for who in ("other_client", "other_supplier", "other_finance"):
        assert client.get(url, headers=world.headers(who)).status_code == 404


def test_an_evaluation_keeps_the_contracts_month_of_its_call(
    app: Flask, client: FlaskClient, world: World
) -> None:
    # 23:30 UTC on 31 October is already November in the contract's Rome.
    record = evaluation(world, call_at="2026-10-31T23:30:00+00:00", call_ref="midnight")
    response = client.post("/api/v1/evaluations", json=record, headers=world.headers("supplier"))
    assert response.status_code == 201

    with app.extensions["fiducia.sessionmaker"]() as session:
        stored = session.get_one(Evaluation, json_of(response)["id"])
    assert stored.period == Period(2026, 11)
