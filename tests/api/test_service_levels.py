"""Service levels over HTTP (issue 23): the log's new fields, surveys and the client's count,
who may write them, and the scorecard's `service` object."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import World, errors_at, json_of, row_counts


def url(world: World, tail: str, key: str = "contract") -> str:
    return f"/api/v1/contracts/{world.ids[key]}{tail}"


def call(number: int, **changes: Any) -> dict[str, Any]:
    """Return an inbound call of November 2026 (the test clock's running month)."""
    record = {
        "call_ref": f"S-{number:04d}",
        "call_at": f"2026-11-03T{8 + number % 10:02d}:{number % 60:02d}:00+01:00",
        "agent_ref": f"agent-{number % 3}",
        "direction": "inbound",
        "outcome": "answered",
        "wait_s": 10 + number,
        "handle_s": 200,
        "caller_ref": f"c-{number % 5}",
    }
    record.update(changes)
    return {name: value for name, value in record.items() if value is not ...}


def log(client: FlaskClient, world: World, records: list[dict[str, Any]]) -> Any:
    return client.post(
        url(world, "/calls"), json={"calls": records}, headers=world.headers("supplier")
    )


def test_a_phone_number_as_caller_ref_is_a_422_naming_it_and_nothing_is_logged(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)
    answer = log(client, world, [call(1), call(2, caller_ref="+39 0612345678")])
    assert answer.status_code == 422
    assert "phone number" in errors_at(answer, "json.calls.1.caller_ref")[0]
    assert row_counts(app) == before


def test_a_negative_wait_is_a_422_naming_wait_s(client: FlaskClient, world: World) -> None:
    answer = log(client, world, [call(1, wait_s=-1)])
    assert answer.status_code == 422
    assert errors_at(answer, "json.calls.0.wait_s")


def test_an_abandoned_call_has_no_agent_and_an_answered_one_needs_one(
    client: FlaskClient, world: World
) -> None:
    with_agent = log(client, world, [call(1, outcome="abandoned")])
    assert with_agent.status_code == 422
    assert errors_at(with_agent, "json.calls.0.agent_ref")
    no_agent = log(client, world, [call(2, agent_ref=None)])
    assert errors_at(no_agent, "json.calls.0.agent_ref") == ["This is required."]
    outbound = log(
        client, world, [call(3, direction="outbound", outcome="abandoned", agent_ref="")]
    )
    assert errors_at(outbound, "json.calls.0.outcome")
    stored = log(client, world, [call(4, outcome="abandoned", agent_ref="")])
    assert stored.status_code == 201
    listed = json_of(
        client.get(url(world, "/calls?period=2026-11"), headers=world.headers("client"))
    )
    assert [(c["call_ref"], c["outcome"], c["agent_ref"]) for c in listed] == [
        ("S-0004", "abandoned", None)
    ]


def test_a_csv_file_carries_the_new_columns_and_the_template_names_them(
    client: FlaskClient, world: World
) -> None:
    template = client.get(url(world, "/calls/template"), headers=world.headers("supplier"))
    assert template.status_code == 200
    header = template.data.decode().splitlines()[0]
    assert header.endswith("outcome,wait_s,handle_s,caller_ref")
    lines = template.data.decode().splitlines()[:1] + [
        "U-1,2026-11-04T09:00:00+01:00,agent-1,,,inbound,60,answered,12,50,c-9",
        "U-2,2026-11-04T09:01:00+01:00,,,,inbound,,abandoned,40,,c-9",
    ]
    upload = client.post(
        url(world, "/calls/upload"),
        data={"file": (__import__("io").BytesIO("\n".join(lines).encode()), "calls.csv")},
        headers=world.headers("supplier"),
    )
    assert upload.status_code == 201, upload.data
    exported = client.get(
        url(world, "/calls/export?period=2026-11"), headers=world.headers("supplier")
    )
    rows = [__import__("json").loads(line) for line in exported.data.decode().splitlines()]
    assert [(r["call_ref"], r["outcome"], r["wait_s"], r["agent_ref"]) for r in rows] == [
        ("U-1", "answered", 12, "agent-1"),
        ("U-2", "abandoned", 40, None),
    ]
    # The client reads the service, not the people (DESIGN 18: teams by default).
    seen = client.get(url(world, "/calls/export?period=2026-11"), headers=world.headers("client"))
    rows = [__import__("json").loads(line) for line in seen.data.decode().splitlines()]
    assert [(r["call_ref"], r["agent_ref"]) for r in rows] == [("U-1", None), ("U-2", None)]


def survey(call_ref: str, **changes: Any) -> dict[str, Any]:
    return {"call_ref": call_ref, "answered_at": "2026-11-03T20:00:00+01:00", "csat": 4} | changes


def test_only_the_client_or_an_admin_sends_surveys_and_counts(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert log(client, world, [call(1)]).status_code == 201
    body = {"surveys": [survey("S-0001")]}
    count = {"offered": 100}
    before = row_counts(app)
    for who, status in (("supplier", 403), ("finance", 403), ("other_client", 404),
                        ("other_supplier", 404)):  # fmt: skip
        answer = client.post(url(world, "/surveys"), json=body, headers=world.headers(who))
        assert answer.status_code == status, who
        put = client.put(url(world, "/counts/2026-11-01"), json=count, headers=world.headers(who))
        assert put.status_code == status, who
    assert row_counts(app) == before
    sent = client.post(url(world, "/surveys"), json=body, headers=world.headers("client"))
    assert sent.status_code == 201
    assert json_of(sent) == {"created": 1, "unchanged": 0}
    again = client.post(url(world, "/surveys"), json=body, headers=world.headers("client"))
    assert (again.status_code, json_of(again)) == (200, {"created": 0, "unchanged": 1})
    other = {"surveys": [survey("S-0001", csat=2)]}
    clash = client.post(url(world, "/surveys"), json=other, headers=world.headers("admin"))
    assert clash.status_code == 409
    assert "S-0001" in errors_at(clash, "json.surveys.0.call_ref")[0]
    listed = client.get(url(world, "/surveys?period=2026-11"), headers=world.headers("supplier"))
    assert [(s["call_ref"], s["csat"]) for s in json_of(listed)] == [("S-0001", 4)]


def test_bad_surveys_are_422_naming_the_field_and_nothing_is_written(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert log(client, world, [call(1)]).status_code == 201
    before = row_counts(app)
    bad = [
        survey("S-0001", csat=0),
        survey("S-0001", csat=6),
        survey("NOT-LOGGED"),
        survey("S-0001", answered_at="2026-11-01T00:00:00+01:00"),
    ]
    for index, record in enumerate(bad):
        answer = client.post(
            url(world, "/surveys"), json={"surveys": [record]}, headers=world.headers("client")
        )
        assert answer.status_code == 422, index
    field = {0: "csat", 1: "csat", 2: "call_ref", 3: "answered_at"}
    answer = client.post(
        url(world, "/surveys"), json={"surveys": bad}, headers=world.headers("client")
    )
    for index in (0, 1):
        assert errors_at(answer, f"json.surveys.{index}.{field[index]}")
    assert row_counts(app) == before


def test_the_client_counts_a_day_and_its_history_is_kept(client: FlaskClient, world: World) -> None:
    headers = world.headers("client")
    assert (
        client.put(
            url(world, "/counts/2026-11-02"), json={"offered": 120}, headers=headers
        ).status_code
        == 200
    )
    assert (
        client.put(
            url(world, "/counts/2026-11-02"), json={"offered": 125}, headers=headers
        ).status_code
        == 200
    )
    bad = client.put(url(world, "/counts/2026-11-02"), json={"offered": -1}, headers=headers)
    assert bad.status_code == 422
    month = json_of(
        client.get(url(world, "/counts?period=2026-11"), headers=world.headers("supplier"))
    )
    assert month["offered"] == 125
    assert [(c["previous"], c["offered"]) for c in month["changes"]] == [(None, 120), (120, 125)]


def test_the_scorecard_carries_the_months_service_levels(client: FlaskClient, world: World) -> None:
    records = [call(n, wait_s=w) for n, w in enumerate((5, 15, 25, 30), start=1)]
    records.append(call(9, outcome="abandoned", agent_ref="", wait_s=60))
    assert log(client, world, records).status_code == 201
    card = json_of(
        client.get(url(world, "/scorecard?period=2026-11"), headers=world.headers("client"))
    )
    service = card["service"]
    assert service["offered"] == {"log": 5, "client": None, "reconciled": "off"}
    # within 20 s: 5 and 15 of 5 offered
    assert service["service_level"] == {"value": "0.4000", "numerator": 2, "denominator": 5}
    assert service["abandoned"] == {"value": "0.2000", "numerator": 1, "denominator": 5}
    assert service["answer_speed"] == {"value": "18.8", "answered": 4}
    assert "csat" not in service


def upload_surveys(client: FlaskClient, world: World, lines: list[str], who: str = "client") -> Any:
    body = "\n".join(["call_ref,answered_at,csat,resolved,nps", *lines]).encode()
    return client.post(
        url(world, "/surveys/upload"),
        data={"file": (io.BytesIO(body), "surveys.csv")},
        headers=world.headers(who),
    )


def test_a_csv_file_of_surveys_is_stored_all_or_nothing_naming_each_bad_row(
    app: Flask, client: FlaskClient, world: World
) -> None:
    records = [call(1), call(2), call(3, outcome="abandoned", agent_ref="")]
    assert log(client, world, records).status_code == 201
    at = "2026-11-03T20:00:00+01:00"
    good = [f"S-0001,{at},5,yes,9", f"S-0002,{at},3,false,", ""]  # a blank line is skipped
    before = row_counts(app)
    assert upload_surveys(client, world, good, who="supplier").status_code == 403
    bad = upload_surveys(client, world, [*good[:2], f"S-0001,{at},4,,", f"S-0002,{at},6,,"])
    assert bad.status_code == 422
    # Rows numbered as a spreadsheet shows them, the header being row 1.
    assert errors_at(bad, "files.file.4.call_ref") == ["repeats 2 of this batch"]
    assert errors_at(bad, "files.file.5.csat")
    abandoned = upload_surveys(client, world, [*good[:2], f"S-0003,{at},4,,"])
    assert abandoned.status_code == 422
    assert "abandoned" in errors_at(abandoned, "files.file.4.call_ref")[0]
    assert row_counts(app) == before

    sent = upload_surveys(client, world, good)
    assert (sent.status_code, json_of(sent)) == (201, {"created": 2, "unchanged": 0})
    again = upload_surveys(client, world, good)
    assert (again.status_code, json_of(again)) == (200, {"created": 0, "unchanged": 2})
    listed = json_of(
        client.get(url(world, "/surveys?period=2026-11"), headers=world.headers("supplier"))
    )
    assert [(s["call_ref"], s["csat"], s["resolved"], s["nps"]) for s in listed] == [
        ("S-0001", 5, True, 9),
        ("S-0002", 3, False, None),
    ]
    card = json_of(
        client.get(url(world, "/scorecard?period=2026-11"), headers=world.headers("client"))
    )
    # Top box from 4 (no terms say otherwise): one of two answers; one of two resolved.
    assert (card["service"]["csat"]["value"], card["service"]["csat"]["responses"]) == ("0.5000", 2)
    assert card["service"]["resolved"] == {"value": "0.5000", "responses": 2}
