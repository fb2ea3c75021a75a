"""Call logs uploaded as the telephony writes them (issue 26): Asterisk, VICIdial, Amazon
Connect and Twilio files, import profiles, dry runs, and who may do what."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import World, errors_at, json_of, row_counts

PROFILE = {
    "timezone": "America/New_York",
    "agent": {"field": "dstchannel", "pattern": "^[^/]+/([^-]+)-"},
    "directions": {"from-pstn": "inbound", "from-internal": "outbound"},
    "queue": {"field": "lastdata", "pattern": "^([^,]+)"},
}


def url(world: World, tail: str, key: str = "contract") -> str:
    return f"/api/v1/contracts/{world.ids[key]}{tail}"


def upload(
    client: FlaskClient, world: World, content: bytes, who: str = "supplier", **query: str
) -> Any:
    said = "&".join(f"{name}={value}" for name, value in query.items())
    return client.post(
        url(world, f"/calls/upload?{said}"),
        data={"file": (io.BytesIO(content), "export")},
        headers=world.headers(who),
    )


def put_profile(
    client: FlaskClient, world: World, name: str, body: Any, who: str = "supplier"
) -> Any:
    return client.put(url(world, f"/import-profiles/{name}"), json=body, headers=world.headers(who))


def exported(client: FlaskClient, world: World) -> dict[str, dict[str, Any]]:
    answer = client.get(
        url(world, "/calls/export?period=2026-11"), headers=world.headers("supplier")
    )
    return {row["call_ref"]: row for row in map(json.loads, answer.data.decode().splitlines())}


def service_of(client: FlaskClient, world: World) -> dict[str, Any]:
    card = client.get(url(world, "/scorecard?period=2026-11"), headers=world.headers("client"))
    return json_of(card)["service"]


def epoch(*when: int) -> int:
    return int(datetime(*when, tzinfo=UTC).timestamp())  # type: ignore[misc]


def cdr(
    start: str,
    disposition: str,
    duration: int,
    billsec: int,
    *,
    answer: str = "",
    context: str = "from-pstn",
    dstchannel: str = "SIP/1001-0000002a",
    uniqueid: str | None = None,
    lastdata: str = "support,t,,,300",
) -> str:
    """Return one line of Master.csv as cdr_csv writes it: texts quoted, numbers bare."""
    clid = '"""Caller"" <1000>"'
    head = (f'"","1000","2000","{context}",{clid},"SIP/trunk-00000001","{dstchannel}","Queue",'
            f'"{lastdata}","{start}","{answer}","{start}",{duration},{billsec},"{disposition}",'
            '"DOCUMENTATION"')  # fmt: skip
    return head if uniqueid is None else f'{head},"{uniqueid}",""'


def test_an_asterisk_master_csv_reads_local_times_across_the_clocks_going_back(
    client: FlaskClient, world: World
) -> None:
    assert put_profile(client, world, "asterisk", PROFILE).status_code == 200
    # New York's clocks go back at 02:00 on 1 November 2026: 01:30 happens twice; the
    # uniqueid (the epoch the channel was made) says which.
    lines = [
        cdr("2026-11-01 00:30:00", "ANSWERED", 312, 300, answer="2026-11-01 00:30:12",
            uniqueid=f"{epoch(2026, 11, 1, 4, 30)}.1"),
        cdr("2026-11-01 01:30:00", "ANSWERED", 125, 100, answer="2026-11-01 01:30:25",
            uniqueid=f"{epoch(2026, 11, 1, 5, 30)}.2"),
        cdr("2026-11-01 01:30:00", "ANSWERED", 65, 60, answer="2026-11-01 01:30:05",
            dstchannel="PJSIP/anna-00000003", uniqueid=f"{epoch(2026, 11, 1, 6, 30)}.3"),
        cdr("2026-11-01 03:00:00", "NO ANSWER", 40, 0, dstchannel="",
            uniqueid=f"{epoch(2026, 11, 1, 8, 0)}.4"),
        cdr("2026-11-02 10:00:00", "BUSY", 7, 0, context="from-internal", dstchannel="",
            lastdata="SIP/trunk/5551234", uniqueid=f"{epoch(2026, 11, 2, 15, 0)}.5"),
    ]  # fmt: skip
    answer = upload(client, world, "\n".join(lines).encode(), format="asterisk")
    assert answer.status_code == 201, answer.data
    assert json_of(answer) == {"created": 5, "unchanged": 0, "rejected": []}
    calls = exported(client, world)
    at = {ref: datetime.fromisoformat(row["call_at"]).astimezone(UTC) for ref, row in calls.items()}
    assert sorted(at.values()) == [
        datetime(2026, 11, 1, 4, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 15, 0, tzinfo=UTC),
    ]
    first = calls[f"{epoch(2026, 11, 1, 4, 30)}.1"]
    assert (first["agent_ref"], first["queue"], first["direction"], first["outcome"]) == (
        "1001",
        "support",
        "inbound",
        "answered",
    )
    assert (first["wait_s"], first["handle_s"], first["duration_s"]) == (12, 300, 312)
    assert calls[f"{epoch(2026, 11, 1, 6, 30)}.3"]["agent_ref"] == "anna"
    abandoned = calls[f"{epoch(2026, 11, 1, 8, 0)}.4"]
    assert (abandoned["outcome"], abandoned["agent_ref"], abandoned["wait_s"]) == (
        "abandoned",
        None,
        40,
    )
    busy = calls[f"{epoch(2026, 11, 2, 15, 0)}.5"]
    assert (busy["direction"], busy["outcome"]) == ("outbound", "busy")
    # Inbound: 4 offered, answered in 12, 25 and 5 s, one abandoned.
    service = service_of(client, world)
    assert service["offered"]["log"] == 4
    assert service["service_level"] == {"value": "0.5000", "numerator": 2, "denominator": 4}
    assert service["abandoned"] == {"value": "0.2500", "numerator": 1, "denominator": 4}
    assert service["answer_speed"] == {"value": "14.0", "answered": 3}
    again = upload(client, world, gzip.compress("\n".join(lines).encode()), format="asterisk")
    assert (again.status_code, json_of(again)["unchanged"]) == (200, 5)


def test_a_master_csv_without_uniqueid_is_refused_saying_how_to_log_it(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)
    lines = [cdr("2026-11-03 10:00:00", "ANSWERED", 60, 50, answer="2026-11-03 10:00:10")]
    answer = upload(client, world, "\n".join(lines).encode(), format="asterisk")
    assert answer.status_code == 422
    assert "loguniqueid=yes" in errors_at(answer, "files.file")[0]
    assert row_counts(app) == before


def test_malformed_rows_are_refused_by_row_number_and_column_and_nothing_is_logged(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert put_profile(client, world, "asterisk", PROFILE).status_code == 200
    before = row_counts(app)
    lines = [
        cdr("2026-11-03 10:00:00", "ANSWERED", 60, 50, answer="2026-11-03 10:00:10",
            uniqueid="1793700000.1"),
        cdr("2026-11-03 10:05:00", "MAYBE", 60, 50, uniqueid="1793700300.2"),
        cdr("yesterday", "ANSWERED", 60, 50, uniqueid="1793700600.3"),
        cdr("2026-11-03 10:15:00", "ANSWERED", 60, 50, context="from-elsewhere",
            uniqueid="1793700900.4"),
        cdr("2026-11-03 10:20:00", "ANSWERED", 60, 50, dstchannel="", uniqueid="1793701200.5"),
    ]  # fmt: skip
    answer = upload(client, world, "\n".join(lines).encode(), format="asterisk")
    assert answer.status_code == 422
    rejected = [(r["row"], r["column"]) for r in json_of(answer)["rejected"]]
    assert rejected == [(2, "disposition"), (3, "start"), (4, "dcontext"), (5, "dstchannel")]
    assert "from-elsewhere" in errors_at(answer, "files.file.4.dcontext")[0]
    assert row_counts(app) == before


def test_a_vicidial_closer_log_counts_its_abandons(client: FlaskClient, world: World) -> None:
    header = ["closecallid", "lead_id", "list_id", "campaign_id", "call_date", "start_epoch",
              "end_epoch", "length_in_sec", "status", "phone_code", "phone_number", "user",
              "comments", "processed", "queue_seconds", "user_group", "xfercallid",
              "term_reason", "uniqueid", "agent_only", "queue_position",
              "called_count"]  # fmt: skip

    def row(ref: str, when: str, start: str, length: int, status: str, user: str, queue: str,
            term: str) -> str:  # fmt: skip
        values = [ref, "77", "101", "SUPPORT", when, start, "", str(length), status, "1",
                  "5550100", user, "", "N", queue, "TEAM_A" if user != "VDCL" else "", "0",
                  term, f"1793786400.{ref}", "", "1", "1"]  # fmt: skip
        return "\t".join(values)

    lines = [
        "\t".join(header),
        row("5001", "2026-11-04 09:00:00", str(epoch(2026, 11, 4, 8, 0)), 130, "SALE", "6001",
            "10.00", "CALLER"),
        # No start_epoch: call_date is read in the contract's zone (Rome, +01:00).
        row("5002", "2026-11-04 09:05:00", "", 45, "DROP", "VDCL", "45.00", "ABANDON"),
        row("5003", "2026-11-04 09:10:00", "", 90, "TIMEOT", "VDCL", "90.00", "QUEUETIMEOUT"),
        row("5004", "2026-11-04 09:15:00", "", 200, "NI", "6002", "25.40", "AGENT"),
    ]  # fmt: skip
    answer = upload(client, world, "\n".join(lines).encode(), format="vicidial")
    assert answer.status_code == 201, answer.data
    calls = exported(client, world)
    assert set(calls) == {"5001", "5002", "5003", "5004"}
    assert datetime.fromisoformat(calls["5002"]["call_at"]) == datetime(
        2026, 11, 4, 8, 5, tzinfo=UTC
    )
    assert (calls["5002"]["outcome"], calls["5002"]["agent_ref"]) == ("abandoned", None)
    assert (calls["5004"]["agent_ref"], calls["5004"]["wait_s"], calls["5004"]["handle_s"]) == (
        "6002",
        25,
        175,
    )
    service = service_of(client, world)
    assert service["service_level"] == {"value": "0.2500", "numerator": 1, "denominator": 4}
    assert service["abandoned"] == {"value": "0.5000", "numerator": 2, "denominator": 4}
    assert service["answer_speed"] == {"value": "17.5", "answered": 2}


def contact(contact_id: str, updated: str, **fields: Any) -> dict[str, Any]:
    record = {
        "AWSAccountId": "123456789012",
        "ContactId": contact_id,
        "Channel": "VOICE",
        "InitiationMethod": "INBOUND",
        "InitiationTimestamp": "2026-11-05T10:00:00Z",
        "DisconnectTimestamp": None,
        "LastUpdateTimestamp": updated,
        "Agent": None,
        "Queue": {"Name": "Billing", "Duration": 8, "ARN": "arn:aws:connect:queue/1"},
        "Attributes": {},
    }
    return record | fields


def test_connect_records_keep_the_latest_update_and_count_abandoned_contacts(
    client: FlaskClient, world: World
) -> None:
    done = {"Username": "maria", "AgentInteractionDuration": 240, "AfterContactWorkDuration": 30}
    records = [
        contact("c-1", "2026-11-05T10:05:00Z", Agent=done,
                DisconnectTimestamp="2026-11-05T10:04:30Z"),
        contact("c-2", "2026-11-05T10:03:00Z",
                Queue={"Name": "Billing", "Duration": 62}),
        # An earlier snapshot of c-1, written after the final one: the final one is read.
        contact("c-1", "2026-11-05T10:00:10Z"),
        contact("c-3", "2026-11-05T11:00:00Z", Queue={"Name": "Sales", "Duration": 30},
                Agent={"Username": "luca", "AgentInteractionDuration": 100}),
        contact("c-4", "2026-11-05T12:00:00Z", InitiationMethod="OUTBOUND", Queue=None,
                Agent={"Username": "maria", "AgentInteractionDuration": 50}),
    ]  # fmt: skip
    lines = "\n".join(json.dumps(record) for record in records)
    answer = upload(client, world, lines.encode(), format="connect")
    assert answer.status_code == 201, answer.data
    assert json_of(answer)["created"] == 4
    calls = exported(client, world)
    assert (calls["c-1"]["agent_ref"], calls["c-1"]["wait_s"], calls["c-1"]["handle_s"]) == (
        "maria",
        8,
        270,
    )
    assert calls["c-1"]["duration_s"] == 270
    assert (calls["c-2"]["outcome"], calls["c-2"]["agent_ref"], calls["c-2"]["queue"]) == (
        "abandoned",
        None,
        "Billing",
    )
    assert calls["c-4"]["direction"] == "outbound"
    service = service_of(client, world)
    assert service["service_level"] == {"value": "0.3333", "numerator": 1, "denominator": 3}
    assert service["abandoned"] == {"value": "0.3333", "numerator": 1, "denominator": 3}
    assert service["answer_speed"] == {"value": "19.0", "answered": 2}
    # The same contacts as a JSON array are the same calls.
    again = upload(client, world, json.dumps(records, indent=2).encode(), format="connect")
    assert (again.status_code, json_of(again)["unchanged"]) == (200, 4)


def test_a_connect_contact_neither_inbound_nor_outbound_is_refused_by_record(
    client: FlaskClient, world: World
) -> None:
    records = [contact("c-1", "2026-11-05T10:05:00Z"),
               contact("c-2", "2026-11-05T10:05:00Z", InitiationMethod="TRANSFER")]  # fmt: skip
    answer = upload(client, world, json.dumps(records).encode(), format="connect")
    assert answer.status_code == 422
    assert [(r["row"], r["column"]) for r in json_of(answer)["rejected"]] == [
        (2, "InitiationMethod")
    ]


def test_a_twilio_export_maps_its_statuses_and_queue_time(
    client: FlaskClient, world: World
) -> None:
    header = "sid,date_created,start_time,end_time,direction,status,from,to,duration,queue_time"
    start = '"Wed, 04 Nov 2026 09:0{}:00 +0000"'
    lines = [
        header,
        f"CA01,x,{start.format(0)},,inbound,completed,+15550100,client:anna,180,4500",
        f"CA02,x,{start.format(1)},,inbound,no-answer,+15550101,+15550200,0,30000",
        f"CA03,x,{start.format(2)},,outbound-dial,completed,+15550200,client:marco,60,0",
        f"CA04,x,{start.format(3)},,inbound,completed,+15550102,client:marco,90,22000",
    ]
    answer = upload(client, world, "\n".join(lines).encode(), format="twilio")
    assert answer.status_code == 201, answer.data
    calls = exported(client, world)
    assert (calls["CA01"]["agent_ref"], calls["CA01"]["wait_s"]) == ("anna", 5)  # 4.5 s
    assert (calls["CA02"]["outcome"], calls["CA02"]["agent_ref"]) == ("abandoned", None)
    assert (calls["CA03"]["direction"], calls["CA03"]["outcome"]) == ("outbound", "answered")
    service = service_of(client, world)
    assert service["service_level"] == {"value": "0.3333", "numerator": 1, "denominator": 3}
    assert service["abandoned"] == {"value": "0.3333", "numerator": 1, "denominator": 3}
    assert service["answer_speed"] == {"value": "13.5", "answered": 2}


def test_a_dry_run_shows_the_mapping_and_every_refusal_and_writes_nothing(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert put_profile(client, world, "asterisk", PROFILE).status_code == 200
    before = row_counts(app)
    lines = [
        cdr("2026-11-03 10:00:00", "ANSWERED", 60, 50, answer="2026-11-03 10:00:10",
            uniqueid="1793700000.1"),
        cdr("2026-11-03 10:05:00", "MAYBE", 60, 50, uniqueid="1793700300.2"),
    ]  # fmt: skip
    answer = upload(client, world, "\n".join(lines).encode(), format="asterisk", dry_run="true")
    assert answer.status_code == 200, answer.data
    body = json_of(answer)
    assert (body["rows"], body["good"], body["bad"]) == (2, 1, 1)
    assert body["mapped"][0] | {"call_at": None} == {
        "row": 1, "call_ref": "1793700000.1", "call_at": None, "agent_ref": "1001",
        "queue": "support", "direction": "inbound", "duration_s": "60", "outcome": "answered",
        "wait_s": "10", "handle_s": "50",
    }  # fmt: skip
    assert body["mapped"][0]["call_at"] == "2026-11-03T10:00:00-05:00"
    assert [(r["row"], r["column"]) for r in body["rejected"]] == [(2, "disposition")]
    assert row_counts(app) == before


def test_only_the_supplier_or_an_admin_uploads_and_another_contract_is_not_found(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)
    content = cdr("2026-11-03 10:00:00", "ANSWERED", 60, 50, uniqueid="1.1").encode()
    for who, status in (("client", 403), ("finance", 403), ("other_supplier", 404),
                        ("other_client", 404)):  # fmt: skip
        assert upload(client, world, content, who, format="asterisk").status_code == status, who
    assert row_counts(app) == before
    unknown = upload(client, world, content, format="avaya")
    assert unknown.status_code == 422
    assert errors_at(unknown, "query.format")


def test_a_profile_is_stored_by_the_supplier_and_read_by_both_parties(
    client: FlaskClient, world: World
) -> None:
    assert json_of(client.get(url(world, "/import-profiles/asterisk"),
                              headers=world.headers("client")))["agent"] is None  # fmt: skip
    for who, status in (("client", 403), ("finance", 403), ("other_supplier", 404)):
        assert put_profile(client, world, "asterisk", PROFILE, who).status_code == status, who
    assert put_profile(client, world, "asterisk", PROFILE, "admin").status_code == 200
    stored = put_profile(client, world, "asterisk", PROFILE)
    assert stored.status_code == 200
    read = json_of(
        client.get(url(world, "/import-profiles/asterisk"), headers=world.headers("client"))
    )
    assert {key: read[key] for key in PROFILE} == PROFILE
    missing = client.get(url(world, "/import-profiles/avaya"), headers=world.headers("client"))
    assert missing.status_code == 404
    other = client.get(
        url(world, "/import-profiles/asterisk"), headers=world.headers("other_client")
    )
    assert other.status_code == 404


def test_a_bad_profile_is_a_422_naming_the_field(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)
    cases = [
        ({"agent": {"field": "dstchannel", "pattern": "SIP/(\\w+"}}, "json.agent.pattern"),
        ({"agent": {"field": "dstchannel", "pattern": "SIP/\\w+"}}, "json.agent.pattern"),
        ({"agent": {"field": "dstchan", "pattern": "SIP/(\\w+)"}}, "json.agent.field"),
        ({"queue": {"field": "lastdata", "pattern": "(a)(b)"}}, "json.queue.pattern"),
        ({"timezone": "Mars/Olympus"}, "json.timezone"),
        ({"directions": {"from-pstn": "sideways"}}, "json.directions"),
        ({"colour": "red"}, "json.colour"),
    ]
    for body, path in cases:
        answer = put_profile(client, world, "asterisk", body)
        assert answer.status_code == 422, body
        assert errors_at(answer, path), body
    vicidial = put_profile(client, world, "vicidial", {"directions": {"x": "inbound"}})
    assert errors_at(vicidial, "json.directions")
    assert row_counts(app) == before


def test_files_that_cannot_be_read_are_a_422_never_a_500(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)
    header = "closecallid\tcall_date\tstart_epoch\tlength_in_sec\tuser\tterm_reason\n"
    cases = [
        ("asterisk", cdr("0001-01-01 00:00:00", "ANSWERED", 1, 1, uniqueid="1.1").encode()),
        ("asterisk", b'"a","b"\n'),
        ("twilio", b"\x1f\x8bnot gzip at all"),
        ("connect", b'[{"ContactId": "c-1"}'),
        ("connect", b'{"ContactId": "c-1"} 42'),
        ("connect", b"[]"),
        ("vicidial", (header + "1\tyesterday\t\t60\t6001\tAGENT").encode()),
        ("vicidial", b"colour\tsize\nred\t1\n"),
    ]
    for name, content in cases:
        answer = upload(client, world, content, format=name)
        assert answer.status_code == 422, (name, content, answer.data)
    assert row_counts(app) == before
