"""Uploads are bounded by what is counted, and read before any lock (issue 20, point 8).

Each payload of the issue is built here, small on disk, and refused with a 4xx that names the
cap it hit, with memory growth under 50 MB measured by tracemalloc; while a file is read, no
lock stands in another writer's way.
"""

from __future__ import annotations

import gzip
import io
import re
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from service.database.engine import make_engine
from tests.api.test_calls import calls, csv_of
from tests.api.test_calls import upload as upload_calls
from tests.api.test_uploads import COLUMNS, as_csv, as_xlsx, row, stored, upload
from tests.conftest import World, errors_at, json_of, row_counts

MB = 1024 * 1024
SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)


def measured(action: Callable[[], Any]) -> tuple[Any, int]:
    """Run `action`; return what it returned and the most memory it held at once meanwhile."""
    tracemalloc.start()
    try:
        result = action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def rewritten(content: bytes, parts: dict[str, Callable[[Any], None]]) -> bytes:
    """Return an XLSX with some parts written anew (each by a function given the open part)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            if name not in parts:
                target.writestr(name, source.read(name))
        for name, write in parts.items():
            with target.open(name, "w", force_zip64=True) as part:
                write(part)
    return out.getvalue()


def with_text(text_of: str) -> Callable[[Any], None]:
    return lambda part: part.write(text_of.encode())


def sheet_declaring(content: bytes, reference: str | None, more_rows: str = "") -> bytes:
    """Return the workbook with its sheet's declared dimension replaced (None: removed) and
    `more_rows` added at the end of its rows."""
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    declared = "" if reference is None else f'<dimension ref="{reference}"/>'
    sheet = re.sub(r'<dimension ref="[^"]*" ?/>', declared, sheet)
    sheet = sheet.replace("</sheetData>", more_rows + "</sheetData>")
    return rewritten(content, {"xl/worksheets/sheet1.xml": with_text(sheet)})


def with_shared_strings(content: bytes, count: int) -> bytes:
    """Return the workbook with a shared strings table of `count` one-letter strings."""
    types = zipfile.ZipFile(io.BytesIO(content)).read("[Content_Types].xml").decode()
    types = types.replace(
        "</Types>",
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_STRINGS_TYPE}"/></Types>',
    )

    def strings(part: Any) -> None:
        part.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
        chunk = b"<si><t>a</t></si>" * 100_000
        for _ in range(count // 100_000):
            part.write(chunk)
        part.write(b"<si><t>a</t></si>" * (count % 100_000) + b"</sst>")

    return rewritten(
        content, {"[Content_Types].xml": with_text(types), "xl/sharedStrings.xml": strings}
    )


def gzipped(parts: Iterator[bytes]) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6) as file:
        for part in parts:
            file.write(part)
    return out.getvalue()


def write_beside(app: Flask, contract_id: int) -> str:
    """Write beside the request from another connection, waiting at most 0.2 s for a lock:
    say "wrote" or what stood in the way."""
    engine = make_engine(app.config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA busy_timeout = 200")
                writing = "UPDATE contracts SET name = name WHERE id = :id"
            else:
                connection.exec_driver_sql("SET lock_timeout = '200ms'")
                writing = "SELECT id FROM contracts WHERE id = :id FOR UPDATE"
            connection.execute(text(writing), {"id": contract_id})
            connection.rollback()
        return "wrote"
    except Exception as error:  # the lock it waited for, in the words of the database
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    finally:
        engine.dispose()


# A cell ten million rows down: openpyxl makes every row above it.
FAR_ROW = '<row r="10000000"><c r="A10000000" t="inlineStr"><is><t>x</t></is></c></row>'


def template_xlsx() -> bytes:
    return as_xlsx([row(1)])


# Evaluations: XLSX --------------------------------------------------------------------------


def test_a_workbook_declaring_ten_million_rows_is_refused_by_its_dimension(
    app: Flask, client: FlaskClient, world: World
) -> None:
    content = sheet_declaring(template_xlsx(), "A1:V10000000", FAR_ROW)
    assert len(content) < 10_000
    before = row_counts(app)

    response, peak = measured(lambda: upload(client, world, content, name="big.xlsx"))

    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert errors_at(response, "files.file") == [
        "the sheet declares 10,000,000 rows; a file holds at most 20,000 rows (10,000 evaluations)"
    ]
    assert peak < 50 * MB
    assert row_counts(app) == before


def test_blank_rows_count_toward_the_rows_of_a_workbook(
    app: Flask, client: FlaskClient, world: World
) -> None:
    content = sheet_declaring(template_xlsx(), None, FAR_ROW)  # no dimension: rows are counted

    response, peak = measured(lambda: upload(client, world, content, name="far.xlsx"))

    assert response.status_code == 422
    assert errors_at(response, "files.file") == [
        "row 20,001 is past the limit of 20,000 rows a file (blank rows count)"
    ]
    assert peak < 50 * MB


@pytest.mark.parametrize("count", [4_000_000, 100_001])
def test_a_workbook_of_millions_of_shared_strings_is_refused_before_they_are_read(
    app: Flask, client: FlaskClient, world: World, count: int
) -> None:
    content = with_shared_strings(template_xlsx(), count)
    assert len(content) < MB
    before = row_counts(app)

    response, peak = measured(lambda: upload(client, world, content, name="strings.xlsx"))

    assert response.status_code == 422
    (message,) = errors_at(response, "files.file")
    assert message in (
        "the workbook unpacks to more than 67,108,864 bytes",
        "the workbook holds more than 100,000 shared strings",
    )
    if count == 100_001:
        assert message == "the workbook holds more than 100,000 shared strings"
    assert peak < 50 * MB
    assert row_counts(app) == before


def test_a_workbook_of_too_many_parts_or_a_huge_part_read_whole_is_refused(
    client: FlaskClient, world: World
) -> None:
    padding = "<!--" + " " * (9 * MB) + "-->"
    styles = zipfile.ZipFile(io.BytesIO(template_xlsx())).read("xl/styles.xml").decode()
    huge = rewritten(template_xlsx(), {"xl/styles.xml": with_text(padding + styles)})
    parts = {f"docProps/extra{number}.bin": with_text("") for number in range(1_000)}
    many = rewritten(template_xlsx(), parts)

    assert errors_at(upload(client, world, huge, name="huge.xlsx"), "files.file") == [
        "the workbook's part xl/styles.xml unpacks to more than 8,388,608 bytes"
    ]
    assert errors_at(upload(client, world, many, name="many.xlsx"), "files.file") == [
        "the workbook holds more than 1,000 parts"
    ]


def test_a_header_of_forty_thousand_columns_is_refused_in_linear_time(
    app: Flask, client: FlaskClient, world: World
) -> None:
    wide_csv = ",".join([*COLUMNS, *[""] * 40_000]).encode() + b"\n"  # a line of 40 KB
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([*COLUMNS, *(f"extra_{number}" for number in range(16_384 - len(COLUMNS)))])
    buffer = io.BytesIO()
    workbook.save(buffer)
    declared = buffer.getvalue()
    undeclared = sheet_declaring(declared, None)
    for content, name, message in (
        (wide_csv, "wide.csv", "the header has 40,022 columns; a file has at most 1,000"),
        (declared, "wide.xlsx", "the sheet declares 16,384 columns; a file has at most 1,000"),
        (undeclared, "wide.xlsx", "the header has 16,384 columns; a file has at most 1,000"),
    ):
        response, peak = measured(lambda: upload(client, world, content, name=name))  # noqa: B023
        assert response.status_code == 422, name
        assert errors_at(response, "files.file") == [message], name
        assert peak < 50 * MB


def test_a_header_repeating_columns_names_each_once(client: FlaskClient, world: World) -> None:
    content = as_csv([row(1)], [*COLUMNS, "tone", "call_ref", "tone"])
    response = upload(client, world, content)
    assert errors_at(response, "files.file") == ["the header repeats the columns call_ref, tone"]


def test_blank_lines_and_long_lines_of_a_csv_file_are_counted_and_capped(
    app: Flask, client: FlaskClient, world: World
) -> None:
    blank = as_csv([row(1)]) + b"\n" * 30_000
    response = upload(client, world, blank)
    assert errors_at(response, "files.file") == [
        "row 20,001 is past the limit of 20,000 rows a file (blank rows count)"
    ]
    long_line = as_csv([row(1)]) + b"," * 70_000 + b"\n"
    response, peak = measured(lambda: upload(client, world, long_line))
    assert errors_at(response, "files.file") == ["line 3 is longer than 65,536 characters"]
    assert peak < 50 * MB


def test_a_csv_row_wider_than_any_template_is_refused_naming_it(
    client: FlaskClient, world: World
) -> None:
    content = as_csv([row(1)]) + b"x" + b"," * 1_000 + b"\n"
    assert errors_at(upload(client, world, content), "files.file") == [
        "row 3 has 1,001 cells; a file has at most 1,000 columns"
    ]


def test_a_file_is_read_before_the_upload_takes_any_lock(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.evaluations import uploads

    real, met = uploads.read_sheet, []

    def read_sheet(*args: Any, **kwargs: Any) -> Any:
        met.append(write_beside(app, world.ids["contract"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(uploads, "read_sheet", read_sheet)
    response = upload(client, world, as_csv([row(1), row(2)]))

    assert met == ["wrote"]
    assert response.status_code == 201
    assert [e.call_ref for e in stored(app)] == ["call-00001", "call-00002"]


def test_the_upload_page_reads_its_file_before_it_takes_any_lock(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.evaluations import uploads
    from tests.web.test_upload_pages import check, confirm, signed_in

    real, met = uploads.read_sheet, []

    def read_sheet(*args: Any, **kwargs: Any) -> Any:
        met.append(write_beside(app, world.ids["contract"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(uploads, "read_sheet", read_sheet)
    client = signed_in(app, world, "supplier")
    checked = check(client, world, as_csv([row(1)]))
    confirmed = confirm(client, world, checked.text)

    assert met == ["wrote", "wrote"]
    assert confirmed.status_code == 302
    assert [e.call_ref for e in stored(app)] == ["call-00001"]


# The call log: CSV, gzip too --------------------------------------------------------------


def test_a_gzip_file_of_one_sixty_megabyte_line_is_refused_at_the_line_cap(
    app: Flask, client: FlaskClient, world: World
) -> None:
    content = gzipped(iter([b"call_ref,call_at,agent_ref\n", *([b"a" * MB] * 60)]))
    assert len(content) < MB
    before = row_counts(app)

    response, peak = measured(lambda: upload_calls(client, world, content))

    assert response.status_code == 422
    assert errors_at(response, "files.file") == ["line 2 is longer than 10,000 characters"]
    assert peak < 50 * MB
    assert row_counts(app) == before


def test_two_hundred_megabytes_of_blank_lines_count_as_rows_and_are_refused(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.calls import rows

    content = gzipped(iter([csv_of(calls(2)), *([b"\n" * MB] * 200)]))
    assert len(content) < MB
    before = row_counts(app)

    response = upload_calls(client, world, content)

    assert response.status_code == 422
    assert errors_at(response, "files.file") == [
        "row 5,000,002 is past the limit of 5,000,000 rows a file (blank lines count)"
    ]
    assert row_counts(app) == before
    # Reading stays flat however many rows it counts (a tenth of them here: tracemalloc
    # watches every allocation, and slows each).
    monkeypatch.setattr(rows, "MAX_FILE_ROWS", 500_000)
    response, peak = measured(lambda: upload_calls(client, world, content))
    assert errors_at(response, "files.file") == [
        "row 500,002 is past the limit of 500,000 rows a file (blank lines count)"
    ]
    assert peak < 50 * MB


def test_a_file_unpacking_past_the_upload_limit_is_refused(
    app: Flask, client: FlaskClient, world: World
) -> None:
    app.config["MAX_UPLOAD_LENGTH"] = 100_000
    content = gzipped(iter([csv_of(calls(2000))]))
    assert len(content) < 100_000

    response = upload_calls(app.test_client(), world, content)

    assert response.status_code == 422
    assert errors_at(response, "files.file") == ["the file unpacks to more than 100,000 bytes"]


@pytest.fixture(params=["slow", pytest.param("fast", marks=pytest.mark.postgresql)])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Read a calls file the slow way (Python's csv) or the fast way (COPY: PostgreSQL's, so
    left out where no server is named)."""
    from service.calls import ingest

    if request.param == "slow":
        monkeypatch.setattr(ingest, "log_raw_file", lambda **_: None)
    return str(request.param)


def while_reading(
    monkeypatch: pytest.MonkeyPatch,
    way: str,
    midway: Callable[[], None],
    at_end: Callable[[], None],
) -> None:
    """Call `midway` once the file's second row is read, and `at_end` after its last, the way
    the file is read."""
    from service.calls import raw, rows

    if way == "slow":
        real = rows.CsvRows.__iter__

        def reading(self: Any) -> Iterator[Any]:
            for number, (index, checked) in enumerate(real(self)):
                if number == 1:
                    midway()
                yield index, checked
            at_end()

        monkeypatch.setattr(rows.CsvRows, "__iter__", reading)
        return
    real_chunks = raw._chunks

    def not_slow(self: Any) -> Iterator[Any]:
        raise AssertionError("the file went the slow way")

    monkeypatch.setattr(rows.CsvRows, "__iter__", not_slow)

    def copying(source: Any, max_bytes: int | None) -> Iterator[bytes]:
        yield from real_chunks(source, max_bytes)
        midway()  # COPY has the whole file, and has not finished yet
        at_end()

    monkeypatch.setattr(raw, "_chunks", copying)


def test_a_call_log_file_is_read_before_the_contract_is_locked(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    met: list[str] = []
    midway = lambda: met.append(write_beside(app, world.ids["contract"]))  # noqa: E731
    while_reading(monkeypatch, way, midway, lambda: None)
    response = upload_calls(client, world, csv_of(calls(3)))

    assert met == ["wrote"]
    assert (response.status_code, json_of(response)["created"]) == (201, 3)


def test_a_month_whose_log_closes_while_its_file_is_read_is_refused_naming_its_first_row(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    import time_machine

    later = time_machine.travel(datetime(2026, 12, 4, 9, 0, tzinfo=UTC), tick=True)
    # November's log closes on 3 December, while the file is read.
    while_reading(monkeypatch, way, lambda: None, later.start)
    before = row_counts(app)
    try:
        response = upload_calls(client, world, csv_of(calls(3)))
    finally:
        later.stop()

    assert response.status_code == 422
    (said,) = errors_at(response, "files.file.2.call_at")
    assert said.startswith("the call log of 2026-11 closed at 2026-12-04T00:00:00+01:00")
    assert json_of(response)["rejected"] == [{"row": 2, "column": "call_at", "message": said}]
    assert json_of(response)["message"] == "no call was logged: a month's log closed meanwhile"
    assert row_counts(app) == before


def test_a_file_spooled_in_many_chunks_logs_every_call(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.calls import ingest

    monkeypatch.setattr(ingest, "SPOOL_CHUNK", 2)
    response = upload_calls(client, world, csv_of(calls(5)))
    assert (response.status_code, json_of(response)["created"]) == (201, 5)
    again = upload_calls(client, world, csv_of(calls(5)))
    assert (again.status_code, json_of(again)["unchanged"]) == (200, 5)


# Documents: forms and terms ---------------------------------------------------------------


def test_a_form_or_terms_document_past_its_size_is_a_413(
    app: Flask, client: FlaskClient, world: World
) -> None:
    from contracts.examples import load_example

    before = row_counts(app)
    form = load_example("standard-form.yaml") | {"code": "big", "title": "x" * (4 * MB)}
    published, peak = measured(
        lambda: client.post("/api/v1/forms", json=form, headers=world.headers("client"))
    )
    assert published.status_code == 413
    assert "limit of 262,144 bytes" in json_of(published)["message"]
    terms = load_example("terms-quality.yaml") | {"notes": "x" * (4 * MB)}
    added = client.post(
        f"/api/v1/contracts/{world.ids['contract']}/terms",
        json={"effective_from": "2027-01-01", "terms": terms},
        headers=world.headers("client"),
    )
    assert added.status_code == 413
    assert row_counts(app) == before


@pytest.mark.parametrize("endpoint", ["/forms", "/contracts/{contract}/terms"])
def test_a_document_in_a_json_body_is_read_before_the_request_takes_any_lock(
    app: Flask,
    client: FlaskClient,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    endpoint: str,
) -> None:
    from contracts.examples import load_example
    from service.edge import auth

    real, met = auth.json_body, []

    def json_body() -> Any:
        met.append(write_beside(app, world.ids["contract"]))
        return real()

    monkeypatch.setattr(auth, "json_body", json_body)
    body: dict[str, Any] = load_example("standard-form.yaml") | {"code": "new"}
    if "terms" in endpoint:
        body = {"effective_from": "2027-01-01", "terms": load_example("terms-quality.yaml")}
    response = client.post(
        "/api/v1" + endpoint.format(contract=world.ids["contract"]),
        json=body,
        headers=world.headers("client"),
    )

    assert met == ["wrote"]
    assert response.status_code == 201, response.get_json()
