"""The call log over HTTP: who logs, who reads, and what a bad batch or file gets back."""

from __future__ import annotations

import gzip
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.calls import rows
from tests.conftest import World, errors_at, json_of, row_counts


def url(world: World, tail: str = "", key: str = "contract") -> str:
    return f"/api/v1/contracts/{world.ids[key]}/calls{tail}"


def calls(count: int, prefix: str = "C", day: int = 3) -> list[dict[str, Any]]:
    """Return `count` calls of November 2026 (the test clock's running month)."""
    return [
        {
            "call_ref": f"{prefix}-{number:04d}",
            "call_at": f"2026-11-{day:02d}T{8 + number % 10:02d}:{number % 60:02d}:00+01:00",
            "agent_ref": f"agent-{number % 3}",
            "team": "inbound-a",
            "queue": "billing",
            "direction": "inbound" if number % 4 else "outbound",
            "duration_s": 120 + number,
        }
        for number in range(count)
    ]


def csv_of(records: list[dict[str, Any]]) -> bytes:
    lines = [",".join(rows.COLUMNS)]
    for record in records:
        lines.append(",".join(str(record.get(name, "")) for name in rows.COLUMNS))
    return ("\n".join(lines) + "\n").encode()


def upload(client: FlaskClient, world: World, content: bytes, who: str = "supplier") -> Any:
    return client.post(
        url(world, "/upload"),
        data={"file": (io.BytesIO(content), "calls.csv")},
        headers=world.headers(who),
    )


def test_a_supplier_logs_calls_and_logging_them_again_changes_nothing(
    client: FlaskClient, world: World
) -> None:
    batch = calls(30)

    first = client.post(url(world), json={"calls": batch}, headers=world.headers("supplier"))
    again = client.post(url(world), json={"calls": batch}, headers=world.headers("supplier"))

    assert first.status_code == 201 and json_of(first) == {"created": 30, "unchanged": 0}
    assert again.status_code == 200 and json_of(again) == {"created": 0, "unchanged": 30}
    listed = client.get(url(world, "?period=2026-11"), headers=world.headers("client"))
    assert len(json_of(listed)) == 10 and listed.headers["X-Pagination"].count('"total": 30')


def test_a_call_logged_with_other_content_is_a_409_naming_it_and_nothing_is_logged(
    app: Flask, client: FlaskClient, world: World
) -> None:
    client.post(url(world), json={"calls": calls(5)}, headers=world.headers("supplier"))
    batch = calls(5) + calls(3, prefix="NEW")
    batch[2] = batch[2] | {"agent_ref": "someone-else"}
    before = row_counts(app)

    response = client.post(url(world), json={"calls": batch}, headers=world.headers("supplier"))

    assert response.status_code == 409
    assert errors_at(response, "json.calls.2.call_ref") == [
        "call 'C-0002' is logged with other content: agent_ref agent-2 (here someone-else)"
    ]
    assert row_counts(app) == before


def test_a_batch_repeating_a_call_is_refused_naming_the_repeat(
    app: Flask, client: FlaskClient, world: World
) -> None:
    batch = calls(4) + calls(1)
    before = row_counts(app)

    response = client.post(url(world), json={"calls": batch}, headers=world.headers("supplier"))

    assert response.status_code == 409
    assert errors_at(response, "json.calls.4.call_ref") == ["call 'C-0000' repeats 0 of this batch"]
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"call_ref": ""}, "call_ref", "This is required."),
        ({"call_ref": "x" * 201}, "call_ref", "must be at most 200 characters"),
        ({"call_ref": "a\x00b"}, "call_ref", "must not contain NUL characters"),
        ({"agent_ref": 7}, "agent_ref", "must be text"),
        ({"call_at": "2026-11-03T10:00:00"}, "call_at", rows.CALL_AT_MESSAGE),
        ({"call_at": "yesterday"}, "call_at", rows.CALL_AT_MESSAGE),
        ({"call_at": "1999-11-03T10:00:00Z"}, "call_at", "must fall in the years 2000 to 2199"),
        ({"call_at": "2026-11-30T10:00:00Z"}, "call_at", "is in the future"),
        ({"call_at": "2026-07-31T10:00:00Z"}, "call_at", "is before the contract's terms start"),
        ({"direction": "sideways"}, "direction", "must be one of inbound, outbound"),
        ({"duration_s": -1}, "duration_s", "must be a whole number of seconds"),
        ({"duration_s": True}, "duration_s", "must be a whole number of seconds"),
        ({"duration_s": "60"}, "duration_s", "must be a whole number of seconds"),
        ({"colour": "red"}, "colour", "unknown field"),
    ],
)
def test_a_bad_call_is_a_422_naming_its_index_and_field(
    app: Flask, client: FlaskClient, world: World, change: dict[str, Any], field: str, message: str
) -> None:
    batch = calls(3)
    batch[1] = batch[1] | change
    before = row_counts(app)

    response = client.post(url(world), json={"calls": batch}, headers=world.headers("supplier"))

    assert response.status_code == 422
    assert errors_at(response, f"json.calls.1.{field}")[0].startswith(message)
    assert row_counts(app) == before


def test_calls_of_a_month_whose_log_has_closed_are_refused(
    client: FlaskClient, world: World
) -> None:
    october = calls(1)[0] | {"call_at": "2026-10-30T10:00:00+01:00"}

    response = client.post(url(world), json={"calls": [october]}, headers=world.headers("supplier"))

    assert response.status_code == 422
    assert errors_at(response, "json.calls.0.call_at") == [
        "the call log of 2026-10 closed at 2026-11-04T00:00:00+01:00; "
        "its calls can no longer be logged"
    ]


def test_more_than_ten_thousand_calls_in_a_batch_are_refused(
    client: FlaskClient, world: World
) -> None:
    response = client.post(
        url(world), json={"calls": [{}] * 10_001}, headers=world.headers("supplier")
    )

    assert response.status_code == 422
    assert errors_at(response, "json.calls") == ["Length must be between 1 and 10000."]


@pytest.mark.parametrize(
    ("who", "status"),
    [("client", 403), ("finance", 403), ("other_supplier", 404), ("other_client", 404)],
)
def test_only_the_contracts_supplier_logs_its_calls(
    app: Flask, client: FlaskClient, world: World, who: str, status: int
) -> None:
    before = row_counts(app)

    by_json = client.post(url(world), json={"calls": calls(2)}, headers=world.headers(who))
    by_file = upload(client, world, csv_of(calls(2)), who)

    assert (by_json.status_code, by_file.status_code) == (status, status)
    assert row_counts(app) == before


def test_an_admin_logs_calls_for_a_supplier(client: FlaskClient, world: World) -> None:
    response = client.post(url(world), json={"calls": calls(2)}, headers=world.headers("admin"))

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("supplier", 200),
        ("client", 200),
        ("finance", 200),
        ("admin", 200),
        ("other_supplier", 404),
        ("other_client", 404),
        ("other_finance", 404),
    ],
)
def test_both_parties_read_the_log_and_nobody_else(
    client: FlaskClient, world: World, who: str, status: int
) -> None:
    client.post(url(world), json={"calls": calls(3)}, headers=world.headers("supplier"))

    for tail in ("", "/summary?period=2026-11", "/export?period=2026-11"):
        assert client.get(url(world, tail), headers=world.headers(who)).status_code == status


def test_the_summary_counts_a_month_per_local_day_agent_and_direction(
    client: FlaskClient, world: World
) -> None:
    # 23:30 in Rome on 3 November is 22:30 UTC: it counts on the 3rd, not the 4th.
    late = {"call_ref": "LATE", "call_at": "2026-11-03T22:30:00Z", "agent_ref": "agent-9"}
    batch = calls(8) + calls(4, prefix="D", day=5) + [late]
    client.post(url(world), json={"calls": batch}, headers=world.headers("supplier"))

    response = client.get(
        url(world, "/summary?period=2026-11"), headers=world.headers("supplier")
    )  # its agents, as logged (the client side reads them as its terms say: DESIGN 18)

    summary = json_of(response)
    assert summary["calls"] == 13
    assert summary["per_day"] == [
        {"date": "2026-11-03", "calls": 9},
        {"date": "2026-11-05", "calls": 4},
    ]
    assert summary["per_agent"] == [
        {"agent_ref": "agent-0", "calls": 5},
        {"agent_ref": "agent-1", "calls": 4},
        {"agent_ref": "agent-2", "calls": 3},
        {"agent_ref": "agent-9", "calls": 1},
    ]
    assert summary["per_direction"] == {"inbound": 9, "outbound": 3, "unknown": 1}
    assert summary["log_closes_at"] == "2026-12-04T00:00:00+01:00"


def test_a_csv_file_logs_its_calls_gzipped_or_not(client: FlaskClient, world: World) -> None:
    plain = upload(client, world, csv_of(calls(40)))
    zipped = upload(client, world, gzip.compress(csv_of(calls(40) + calls(10, prefix="Z"))))

    assert plain.status_code == 201
    assert json_of(plain) == {"created": 40, "unchanged": 0, "rejected": []}
    assert json_of(zipped) == {"created": 10, "unchanged": 40, "rejected": []}


def test_a_file_with_bad_rows_lists_every_one_and_logs_nothing(
    app: Flask, client: FlaskClient, world: World
) -> None:
    records = calls(6)
    records[1] = records[1] | {"call_at": "2026-11-03 10:00"}
    records[4] = records[4] | {"agent_ref": "", "duration_s": "long"}
    before = row_counts(app)

    response = upload(client, world, csv_of(records))

    assert response.status_code == 422
    body = json_of(response)
    assert body["created"] == 0 and body["unchanged"] == 0
    assert body["rejected"] == [
        {"row": 3, "column": "call_at", "message": rows.CALL_AT_MESSAGE},
        {"row": 6, "column": "agent_ref", "message": "This is required."},
        {
            "row": 6,
            "column": "duration_s",
            "message": "must be a whole number of seconds from 0 to 604800",
        },
    ]
    assert errors_at(response, "files.file.6.agent_ref") == ["This is required."]
    assert body["message"] == "no call was logged: 2 rows of the file are bad"
    assert row_counts(app) == before


def test_a_file_changing_a_logged_call_is_a_409_naming_its_row(
    client: FlaskClient, world: World
) -> None:
    upload(client, world, csv_of(calls(3)))
    records = calls(3)
    records[2] = records[2] | {"duration_s": 999}

    response = upload(client, world, csv_of(records))

    assert response.status_code == 409
    assert json_of(response)["rejected"] == [
        {
            "row": 4,
            "column": "call_ref",
            "message": "call 'C-0002' is logged with other content: duration_s 122 (here 999)",
        }
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"call_ref,call_at\n", "missing columns: agent_ref"),
        (b"call_ref,call_at,agent_ref,colour\n", "unknown columns: colour"),
        (b"call_ref,call_at,agent_ref,team,team\n", "repeated columns: team"),
        (b"call_ref,call_at,agent_ref\n", "the file has no calls under its header"),
        (b"call_ref,call_at,agent_ref\n\xff\xfe,x,y\n", "is not UTF-8 text"),
        (b"call_ref,call_at,agent_ref\na\x00,x,y\n", "holds a NUL byte"),
        (b"\x1f\x8b\x08\x00broken", "is not a readable gzip file"),
        (b'call_ref,call_at,agent_ref\n"a"b,x,y\n', "row 2 is not readable CSV"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_422_naming_the_file(
    app: Flask, client: FlaskClient, world: World, content: bytes, message: str
) -> None:
    before = row_counts(app)

    response = upload(client, world, content)

    assert response.status_code == 422
    assert message in errors_at(response, "files.file")[0]
    assert row_counts(app) == before


def test_a_file_past_the_row_limit_is_refused(
    client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rows, "MAX_FILE_ROWS", 5)

    response = upload(client, world, csv_of(calls(6)))

    assert response.status_code == 422
    assert errors_at(response, "files.file") == [
        "row 7 is past the limit of 5 rows a file (blank lines count)"
    ]


def test_a_file_past_the_size_limit_is_a_413(app: Flask, world: World) -> None:
    app.config["MAX_UPLOAD_LENGTH"] = 2000
    client = app.test_client()

    response = upload(client, world, csv_of(calls(40)))

    assert response.status_code == 413
    assert "limit of 2,000 bytes" in json_of(response)["message"]


def test_the_upload_takes_a_file_larger_than_any_other_body(app: Flask, world: World) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2000
    client = app.test_client()

    response = upload(client, world, csv_of(calls(40)))
    too_big = client.post(url(world), json={"calls": calls(40)}, headers=world.headers("supplier"))

    assert response.status_code == 201
    assert too_big.status_code == 413


def test_the_list_says_which_calls_were_sampled_and_filters_by_agent(
    client: FlaskClient, world: World
) -> None:
    client.post(url(world), json={"calls": calls(9)}, headers=world.headers("supplier"))

    response = client.get(
        url(world, "?period=2026-11&agent_ref=agent-1"), headers=world.headers("supplier")
    )
    sampled = client.get(url(world, "?sampled=audit"), headers=world.headers("client"))

    listed = json_of(response)
    assert [call["call_ref"] for call in listed] == ["C-0001", "C-0004", "C-0007"]
    assert listed[0]["sampled"] == [] and listed[0]["period"] == "2026-11"
    assert json_of(sampled) == []  # this contract does not sample


@pytest.mark.parametrize(
    ("who", "period", "status"),
    [("client", "2026-11", 404), ("other_client", "2026-11", 404), ("client", "2026-13", 422)],
)
def test_a_sample_that_is_not_there_is_a_404_and_a_bad_month_a_422(
    client: FlaskClient, world: World, who: str, period: str, status: int
) -> None:
    sample = f"/api/v1/contracts/{world.ids['contract']}/samples/{period}"

    assert client.get(sample, headers=world.headers(who)).status_code == status
    assert client.get(sample + "/verify", headers=world.headers(who)).status_code == status


@pytest.mark.parametrize("way", ["batch", "upload"])
def test_a_call_at_the_first_instant_of_the_month_counts_in_that_month(
    client: FlaskClient, world: World, way: str
) -> None:
    # Midnight in Rome on 1 November is 23:00 UTC on 31 October: the month's first instant
    # belongs to November and to its first day, logged one way or the other.
    first = calls(1, prefix="EDGE")[0] | {"call_at": "2026-11-01T00:00:00+01:00"}
    if way == "batch":
        client.post(url(world), json={"calls": [first]}, headers=world.headers("supplier"))
    else:
        upload(client, world, csv_of([first]))
    summary = json_of(
        client.get(url(world, "/summary?period=2026-11"), headers=world.headers("client"))
    )
    assert summary["calls"] == 1
    assert [day for day in summary["per_day"] if day["calls"]] == [
        {"date": "2026-11-01", "calls": 1}
    ]
    listed = json_of(client.get(url(world, "?period=2026-11"), headers=world.headers("client")))
    assert [call["call_at"] for call in listed] == ["2026-10-31T23:00:00+00:00"]
