"""Evaluations uploaded as a spreadsheet: the template, a dry run, all or nothing, per role."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.evaluations import spreadsheets
from service.evaluations.models import Evaluation
from service.evaluations.spreadsheets import MAX_BYTES
from tests.api.conftest import PERFECT
from tests.conftest import World, errors_at, json_of, row_counts

PERIOD = "2026-10"
QUESTIONS = list(PERFECT)
COLUMNS = ["call_ref", "agent_ref", "team", "call_at", "evaluator_ref", "comment", *QUESTIONS]


def template(client: FlaskClient, world: World, who: str = "supplier", **query: str) -> Any:
    return client.get(
        f"/api/v1/contracts/{world.ids['contract']}/evaluations/template",
        query_string={"period": PERIOD, "format": "xlsx"} | query,
        headers=world.headers(who),
    )


def row(number: int, **changes: Any) -> dict[str, Any]:
    """Return a good row of the world's form: a perfect call in October 2026."""
    return {
        "call_ref": f"call-{number:05d}",
        "agent_ref": "agent-7",
        "team": "inbound-a",
        "call_at": f"2026-10-14T10:{number % 60:02d}:00+02:00",
        "evaluator_ref": "qa-1",
        "comment": None,
        **PERFECT,
        **changes,
    }


def as_csv(rows: list[dict[str, Any]], columns: list[str] = COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for values in rows:
        writer.writerow(["" if values.get(c) is None else values.get(c) for c in columns])
    return out.getvalue().encode()


def as_xlsx(rows: list[dict[str, Any]], columns: list[str] = COLUMNS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(columns)
    for values in rows:
        sheet.append([values.get(column) for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(
    client: FlaskClient,
    world: World,
    content: bytes,
    who: str = "supplier",
    name: str = "evaluations.csv",
    contract: str = "contract",
    **form: str,
) -> Any:
    return client.post(
        f"/api/v1/contracts/{world.ids[contract]}/evaluations/upload",
        data={"file": (io.BytesIO(content), name), **form},
        headers=world.headers(who),
        content_type="multipart/form-data",
    )


def stored(app: Flask) -> list[Evaluation]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        return list(session.scalars(select(Evaluation).order_by(Evaluation.call_ref)))


def test_a_good_csv_file_stores_exactly_its_rows(
    app: Flask, client: FlaskClient, world: World
) -> None:
    response = upload(client, world, as_csv([row(1), row(2, tone=3), row(3, team=None)]))

    assert response.status_code == 201, json_of(response)
    body = json_of(response)
    assert (body["created"], body["unchanged"], body["rejected"], body["rows"]) == (3, 0, 0, [])
    evaluations = stored(app)
    assert [e.call_ref for e in evaluations] == ["call-00001", "call-00002", "call-00003"]
    assert {e.source for e in evaluations} == {"supplier"}
    assert [str(e.score) for e in evaluations] == ["100.00", "96.25", "100.00"]
    assert evaluations[2].team is None
    assert body["ids"] == [e.id for e in evaluations]


def test_the_same_file_again_is_unchanged_and_stores_nothing_new(
    app: Flask, client: FlaskClient, world: World
) -> None:
    content = as_xlsx([row(1), row(2)])
    assert upload(client, world, content, name="a.xlsx").status_code == 201
    before = row_counts(app)

    again = upload(client, world, content, name="a.xlsx")

    assert again.status_code == 201
    assert (json_of(again)["created"], json_of(again)["unchanged"]) == (0, 2)
    assert row_counts(app) == before


def test_a_dry_run_counts_what_would_be_stored_and_stores_nothing(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert upload(client, world, as_csv([row(1)])).status_code == 201
    before = row_counts(app)

    response = upload(client, world, as_csv([row(1), row(2), row(3)]), dry_run="true")

    assert response.status_code == 200
    body = json_of(response)
    assert (body["created"], body["unchanged"], body["rejected"]) == (2, 1, 0)
    assert row_counts(app) == before


def test_bad_rows_store_nothing_and_name_each_row_and_column(
    app: Flask, client: FlaskClient, world: World
) -> None:
    rows = [
        row(1),
        row(2, tone=9),
        row(3, agent_ref=None, call_at="yesterday"),
        row(4),
        row(5, verification=None),
    ]
    before = row_counts(app)

    checked = upload(client, world, as_csv(rows), dry_run="true")
    confirmed = upload(client, world, as_csv(rows))

    assert checked.status_code == 200
    body = json_of(checked)
    assert (body["created"], body["unchanged"], body["rejected"]) == (2, 0, 3)
    by_row = {entry["row"]: entry["errors"] for entry in body["rows"]}
    assert sorted(by_row) == [3, 4, 6]  # the header is row 1
    assert set(by_row[3]) == {"tone"}
    assert set(by_row[4]) == {"agent_ref", "call_at"}
    assert set(by_row[6]) == {"verification"}
    assert confirmed.status_code == 422
    assert set(errors_at(confirmed, "files.file")) == {"3", "4", "6"}
    assert errors_at(confirmed, "files.file.4.agent_ref") == ["This is required."]
    assert row_counts(app) == before


def test_a_call_stored_with_other_content_is_a_conflict_naming_its_row(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert upload(client, world, as_csv([row(1)])).status_code == 201
    before = row_counts(app)

    response = upload(client, world, as_csv([row(2), row(1, tone=2)]))

    assert response.status_code == 409
    assert (
        "stored for this call with other content" in errors_at(response, "files.file.3.call_ref")[0]
    )
    assert row_counts(app) == before


def test_a_call_ref_keeps_its_leading_zeros_in_xlsx_and_csv(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert (
        upload(client, world, as_xlsx([row(1, call_ref="00123")]), name="x.xlsx").status_code == 201
    )
    assert upload(client, world, as_csv([row(2, call_ref="000456")])).status_code == 201
    # A number typed into a text column reads as typed, not as a float.
    assert (
        upload(
            client, world, as_xlsx([row(3, call_ref=789, agent_ref=7.0)]), name="y.xlsx"
        ).status_code
        == 201
    )

    found = {e.call_ref: e.agent_ref for e in stored(app)}
    assert found == {"00123": "agent-7", "000456": "agent-7", "789": "7"}


def test_a_time_without_an_offset_is_refused_by_default_naming_call_at(
    app: Flask, client: FlaskClient, world: World
) -> None:
    rows = [row(1, call_at="2026-10-14T10:30:00"), row(2, call_at=datetime(2026, 10, 14, 11, 0))]
    before = row_counts(app)

    response = upload(client, world, as_xlsx(rows), name="naive.xlsx")

    assert response.status_code == 422
    assert "without an offset" in errors_at(response, "files.file.2.call_at")[0]
    assert "without an offset" in errors_at(response, "files.file.3.call_at")[0]
    assert row_counts(app) == before


def test_naive_times_are_read_in_the_contracts_zone_when_asked(
    app: Flask, client: FlaskClient, world: World
) -> None:
    rows = [
        row(1, call_at="2026-10-14T10:30:00"),
        row(2, call_at=datetime(2026, 10, 14, 11, 0)),
        row(3, call_at="2026-10-14T10:30:00Z"),  # an offset is kept as it is
    ]

    response = upload(
        client, world, as_xlsx(rows), name="naive.xlsx", naive_times_in_contract_zone="true"
    )

    assert response.status_code == 201, json_of(response)
    times = [e.call_at.astimezone(UTC) for e in stored(app)]
    assert times == [  # Europe/Rome is two hours ahead of UTC in October
        datetime(2026, 10, 14, 8, 30, tzinfo=UTC),
        datetime(2026, 10, 14, 9, 0, tzinfo=UTC),
        datetime(2026, 10, 14, 10, 30, tzinfo=UTC),
    ]


def test_a_file_of_more_than_ten_thousand_rows_is_refused_naming_the_limit(
    app: Flask, client: FlaskClient, world: World
) -> None:
    # Short rows: the limit is counted before any row is read through.
    rows = as_csv([{"call_ref": n} for n in range(10_001)])
    before = row_counts(app)

    response = upload(client, world, rows, dry_run="true")

    assert response.status_code == 422
    assert errors_at(response, "files.file") == [
        "row 10002 is past the limit of 10,000 evaluations a file"
    ]
    assert row_counts(app) == before


def test_a_file_over_the_byte_limit_is_refused_naming_it(
    client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert MAX_BYTES == 10 * 1024 * 1024
    monkeypatch.setattr(spreadsheets, "MAX_BYTES", 2_000)  # the same check, with a small body

    response = upload(client, world, as_csv([row(n) for n in range(30)]))

    assert response.status_code == 422
    assert errors_at(response, "files.file") == ["the file is larger than the limit of 2,000 bytes"]


def test_a_header_that_is_not_the_templates_refuses_the_file_naming_the_columns(
    app: Flask, client: FlaskClient, world: World
) -> None:
    columns = [c for c in COLUMNS if c != "tone"] + ["mood"]
    before = row_counts(app)

    response = upload(client, world, as_csv([row(1, mood="yes")], columns))

    assert response.status_code == 422
    message = errors_at(response, "files.file")[0]
    assert "unknown columns: mood" in message and "missing columns: tone" in message
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("content", "name", "said"),
    [
        (b"PK\x03\x04 not really a zip", "broken.xlsx", "not a readable XLSX"),
        (b"\x00\x01\x02\xff binary", "blob.bin", "neither an XLSX"),
        ("call_ref;agent_ref\nè".encode("latin-1"), "latin.csv", "not UTF-8"),
        (b"", "empty.csv", "empty"),
        (",".join(COLUMNS).encode(), "header-only.csv", "no evaluations"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_422_never_a_500(
    app: Flask, client: FlaskClient, world: World, content: bytes, name: str, said: str
) -> None:
    before = row_counts(app)

    response = upload(client, world, content, name=name)

    assert response.status_code == 422
    assert said in errors_at(response, "files.file")[0]
    assert row_counts(app) == before


def test_a_semicolon_csv_with_a_bom_is_read(app: Flask, client: FlaskClient, world: World) -> None:
    content = as_csv([row(1)]).decode().replace(",", ";").encode("utf-8-sig")

    assert upload(client, world, content).status_code == 201
    assert [e.call_ref for e in stored(app)] == ["call-00001"]


def test_the_xlsx_template_round_trips(app: Flask, client: FlaskClient, world: World) -> None:
    response = template(client, world)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('standard-1.xlsx"')
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Evaluations", "Allowed values"]
    sheet = workbook["Evaluations"]
    header = [cell.value for cell in sheet[1]]
    assert header == COLUMNS
    assert sheet.cell(row=2, column=header.index("tone") + 1).value == (
        "Uses a calm, polite tone throughout"
    ) or sheet.cell(row=2, column=1).value.startswith("Call reference")
    allowed = {r[0]: r[2] for r in workbook["Allowed values"].iter_rows(values_only=True)}
    assert "+02:00" in allowed["call_at"]
    assert allowed["tone"].startswith("a whole number from 1 to 5")
    assert allowed["greeting"].startswith("yes or no")

    for number in range(1, 4):
        values = row(number, call_ref=f"007{number}")
        sheet.append([values[column] for column in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)

    uploaded = upload(client, world, buffer.getvalue(), name="filled.xlsx")

    assert uploaded.status_code == 201, json_of(uploaded)
    assert [e.call_ref for e in stored(app)] == ["0071", "0072", "0073"]


def test_the_csv_template_round_trips(app: Flask, client: FlaskClient, world: World) -> None:
    response = template(client, world, "client", format="csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert lines[0] == COLUMNS and len(lines) == 2
    filled = io.StringIO()
    writer = csv.writer(filled)
    writer.writerows(lines)
    writer.writerow([row(1)[column] or "" for column in COLUMNS])

    uploaded = upload(client, world, filled.getvalue().encode(), "client", dry_run="false")

    assert uploaded.status_code == 201, json_of(uploaded)
    body = json_of(uploaded)
    assert body["rows"] == [] and body["created"] == 1
    assert [e.source for e in stored(app)] == ["client"]


@pytest.mark.parametrize("who", ["other_client", "other_supplier"])
def test_another_organizations_contract_is_not_found(
    app: Flask, client: FlaskClient, world: World, who: str
) -> None:
    before = row_counts(app)

    assert template(client, world, who).status_code == 404
    assert upload(client, world, as_csv([row(1)]), who).status_code == 404
    assert row_counts(app) == before


def test_finance_may_neither_download_nor_upload(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)

    assert template(client, world, "finance").status_code == 403
    assert upload(client, world, as_csv([row(1)]), "finance").status_code == 403
    assert row_counts(app) == before


def test_an_admin_names_the_source(app: Flask, client: FlaskClient, world: World) -> None:
    missing = upload(client, world, as_csv([row(1)]), "admin")
    named = upload(client, world, as_csv([row(1)]), "admin", source="third_party")

    assert missing.status_code == 422
    assert errors_at(missing, "form.source")
    assert named.status_code == 201
    assert [e.source for e in stored(app)] == ["third_party"]


def test_a_supplier_may_not_upload_client_audits(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)

    response = upload(client, world, as_csv([row(1)]), source="client")

    assert response.status_code == 403
    assert row_counts(app) == before


def test_a_month_before_the_contracts_form_names_call_at(client: FlaskClient, world: World) -> None:
    response = upload(client, world, as_csv([row(1, call_at="1999-10-14T10:00:00+02:00")]))

    assert response.status_code == 422
    assert errors_at(response, "files.file.2.call_at")
