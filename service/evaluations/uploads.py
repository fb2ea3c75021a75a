"""Evaluations in a spreadsheet: the template of a contract's month, and reading a filled one.

`read_sheet` is pure: bytes in, rows of fields and each bad row's problems out. The service
functions below it turn the rows into records and store them through `submit_evaluations`,
all or nothing, or only try them (a dry run) inside a savepoint that is rolled back.

Reading is bounded by what is counted, not by bytes (DESIGN §14): the rows of a file, blank
ones included, its header's width and each CSV line's length; a workbook's declared
dimension, its parts and its shared strings, before openpyxl reads them. A file is read
before anything is written (`read_upload`, then `store_upload`), so no lock waits on it.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse
from sqlalchemy.orm import Session

from contracts import forms as form_rules
from contracts.periods import Period
from service.agreements.models import Contract
from service.agreements.service import get_contract, period_of, terms_for_period
from service.edge.actors import Actor
from service.edge.downloads import as_cell
from service.edge.errors import Conflict, Forbidden, Invalid, NotFound
from service.evaluations.models import SOURCES
from service.evaluations.schemas import EvaluationIn
from service.evaluations.service import ROLE_SOURCE, Submission, submit_evaluations
from service.forms.service import find_form, parsed_form

# The columns every template has before its form's questions, and what each holds.
COLUMNS: dict[str, str] = {
    "call_ref": "Call reference (text, required)",
    "agent_ref": "Agent reference (text, required)",
    "team": "Team (text, optional)",
    "call_at": "When the call took place (2026-10-14T10:30:00+02:00)",
    "evaluator_ref": "Evaluator reference (text, optional)",
    "comment": "Comment (text, optional)",
}
TEXT_COLUMNS = ("call_ref", "agent_ref", "team", "evaluator_ref", "comment")
REQUIRED_COLUMNS = ("call_ref", "agent_ref", "call_at")
HEADER_ROWS = 2  # the keys, then what each column holds (a question's text)
MAX_ROWS = 10_000  # evaluations a file
# Rows a file may have in all, the header and blank rows counted: room for the evaluations
# and any blank rows a spreadsheet keeps; a sheet declaring millions of rows is refused.
MAX_SHEET_ROWS = 2 * MAX_ROWS
# The template's six columns and a question each: a form of a thousand questions is past use.
MAX_COLUMNS = 1_000
# A CSV line: a full row of the template (comments of 10,000 characters) is far shorter.
MAX_LINE_LENGTH = 65_536
MAX_BYTES = 10 * 1024 * 1024
# What an XLSX may unpack to: a full file of MAX_ROWS rows is a fraction; a zip bomb is not.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_PARTS = 1_000
# Parts openpyxl parses whole (the workbook, styles, relations): a real one is kilobytes.
MAX_WHOLE_PART_BYTES = 8 * 1024 * 1024
# Distinct texts of a workbook, held in memory while it is read: a full file of MAX_ROWS
# rows has a few per row (reference, agent, time, comment).
MAX_SHARED_STRINGS = 100_000
SHEET = "Evaluations"
CALL_AT_FORMAT = (
    "ISO 8601 with an offset, e.g. 2026-10-14T10:30:00+02:00 or 2026-10-14T08:30:00Z. A time "
    "without an offset (or a date-time cell) is refused unless the upload says "
    "naive_times_in_contract_zone=true; then it is read in the contract's time zone ({zone})."
)
FORMATS = ("xlsx", "csv")
ZIP_MAGIC = b"PK\x03\x04"
STRING_TAG = f"{{{SHEET_MAIN_NS}}}si"


class Refused(Exception):
    """The file as a whole cannot be read; the message says why, naming what is wrong."""


# Reading --------------------------------------------------------------------------------


@dataclass
class Sheet:
    """What a file held: its rows of fields by spreadsheet row number, and each bad row's
    problems by column."""

    form: form_rules.Form
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    errors: dict[int, dict[str, list[str]]] = field(default_factory=dict)


def read_sheet(
    content: bytes,
    forms: Sequence[form_rules.Form],
    zone_of: Callable[[datetime], ZoneInfo] | None,
) -> Sheet:
    """Read an XLSX or CSV file of evaluations on one of `forms`; raise Refused for the file.

    `zone_of` gives the time zone of a time written without an offset; None refuses such
    times. Each row becomes the fields of an evaluation: texts as typed, `call_at` an aware
    time, `answers` the filled answer cells (scale values as integers).
    """
    if len(content) > MAX_BYTES:
        raise Refused(f"the file is larger than the limit of {MAX_BYTES:,} bytes")
    table = _xlsx_rows(content) if content.startswith(ZIP_MAGIC) else _csv_rows(content)
    header = next(table, None)
    if header is None:
        raise Refused("the file is empty: start from the template")
    columns, form = _columns(header, forms)
    questions = {q.key: q for section in form.sections for q in section.questions}
    sheet = Sheet(form)
    for number, cells in _counted(table):
        values = {
            name: cells[index] if index < len(cells) else None for index, name in columns.items()
        }
        if number == 2 and _text(values.get("call_ref")) == COLUMNS["call_ref"]:
            continue  # the template's second header row
        if all(_text(value) is None for value in values.values()):
            continue
        if len(sheet.rows) + len(sheet.errors) == MAX_ROWS:
            raise Refused(f"row {number} is past the limit of {MAX_ROWS:,} evaluations a file")
        fields, problems = _row(values, questions, zone_of)
        if problems:
            sheet.errors[number] = problems
        else:
            sheet.rows[number] = fields
    if not sheet.rows and not sheet.errors:
        raise Refused("the file has no evaluations under its header")
    return sheet


def _counted(table: Iterator[Sequence[Any]]) -> Iterator[tuple[int, Sequence[Any]]]:
    """Number the rows under the header (row 2 on), refusing a row past MAX_SHEET_ROWS,
    blank ones counted, or wider than MAX_COLUMNS."""
    for number, cells in enumerate(table, start=2):
        if number > MAX_SHEET_ROWS:
            raise Refused(
                f"row {number:,} is past the limit of {MAX_SHEET_ROWS:,} rows a file "
                "(blank rows count)"
            )
        if len(cells) > MAX_COLUMNS:
            raise Refused(
                f"row {number:,} has {len(cells):,} cells; a file has at most "
                f"{MAX_COLUMNS:,} columns"
            )
        yield number, cells


def _xlsx_rows(content: bytes) -> Iterator[Sequence[Any]]:
    """Yield the rows of the workbook's evaluations sheet (else its first) as cell values."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            _check_parts(archive.infolist())
        reader = _BoundedReader(io.BytesIO(content), read_only=True, data_only=True)
        reader.read()
        workbook = reader.wb
    except Refused:
        raise
    except Exception:  # openpyxl fails on a damaged file in many ways; all mean the same
        raise Refused("the file is not a readable XLSX workbook") from None
    try:
        sheet = workbook[SHEET] if SHEET in workbook.sheetnames else workbook.worksheets[0]
        _check_dimension(sheet)
        yield from sheet.iter_rows(values_only=True)
    except Refused:
        raise
    except Exception:  # a damaged sheet is found while reading it
        raise Refused("the file is not a readable XLSX workbook") from None
    finally:
        workbook.close()


def _check_parts(parts: Sequence[zipfile.ZipInfo]) -> None:
    """Refuse a workbook of too many parts, or that unpacks to more than its bounds allow.

    A part's declared size bounds what reading it yields (zipfile stops there), so the sizes
    are known before anything is unpacked.
    """
    if len(parts) > MAX_PARTS:
        raise Refused(f"the workbook holds more than {MAX_PARTS:,} parts")
    if sum(part.file_size for part in parts) > MAX_UNPACKED_BYTES:
        raise Refused(f"the workbook unpacks to more than {MAX_UNPACKED_BYTES:,} bytes")
    for part in parts:
        read_whole = part.filename.endswith((".xml", ".rels")) and not (
            part.filename.startswith("xl/worksheets/") or part.filename.endswith("Strings.xml")
        )
        if read_whole and part.file_size > MAX_WHOLE_PART_BYTES:
            raise Refused(
                f"the workbook's part {part.filename} unpacks to more than "
                f"{MAX_WHOLE_PART_BYTES:,} bytes"
            )


class _BoundedReader(ExcelReader):
    """openpyxl's workbook reader, counting the shared strings before it keeps them."""

    def read_strings(self) -> None:
        found = self.package.find(SHARED_STRINGS)
        if found is not None:
            with self.archive.open(found.PartName[1:]) as part:
                _count_shared_strings(part)
        super().read_strings()


def _count_shared_strings(part: IO[bytes]) -> None:
    """Refuse a shared strings table of more than MAX_SHARED_STRINGS, keeping none of them."""
    strings = 0
    for _event, element in iterparse(part):
        if element.tag == STRING_TAG:
            strings += 1
            if strings > MAX_SHARED_STRINGS:
                raise Refused(f"the workbook holds more than {MAX_SHARED_STRINGS:,} shared strings")
            element.clear()


def _check_dimension(sheet: Any) -> None:
    """Refuse a sheet that declares more rows or columns than a file holds (it is read as
    declared: every missing row and cell is made)."""
    rows, columns = sheet.max_row or 0, sheet.max_column or 0
    if rows > MAX_SHEET_ROWS:
        raise Refused(
            f"the sheet declares {rows:,} rows; a file holds at most {MAX_SHEET_ROWS:,} rows "
            f"({MAX_ROWS:,} evaluations)"
        )
    if columns > MAX_COLUMNS:
        raise Refused(f"the sheet declares {columns:,} columns; a file has at most {MAX_COLUMNS:,}")


def _csv_rows(content: bytes) -> Iterator[Sequence[Any]]:
    """Yield the rows of a UTF-8 CSV file (a comma, or the semicolon of Italian Excel)."""
    if b"\x00" in content:
        raise Refused("the file is neither an XLSX workbook nor CSV text")
    try:
        content.decode("utf-8-sig")  # to say where a file is not UTF-8, before any row
    except UnicodeDecodeError as error:
        raise Refused(
            f"the file is not UTF-8 text (byte {error.start + 1}); save it as CSV UTF-8"
        ) from None
    lines = _lines(content)
    first_line = next(lines, None)
    if first_line is None:
        return
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    try:
        yield from csv.reader(itertools.chain([first_line], lines), delimiter=delimiter)
    except csv.Error as error:
        raise Refused(f"the file is not readable CSV: {error}") from None


def _lines(content: bytes) -> Iterator[str]:
    """Yield a CSV file's lines as they are read, refusing one longer than MAX_LINE_LENGTH
    before it is read whole."""
    text = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    number = 0
    while line := text.readline(MAX_LINE_LENGTH + 2):  # room for a line's \r\n
        number += 1
        if len(line.rstrip("\r\n")) > MAX_LINE_LENGTH:
            raise Refused(f"line {number:,} is longer than {MAX_LINE_LENGTH:,} characters")
        yield line


def _columns(
    header: Sequence[Any], forms: Sequence[form_rules.Form]
) -> tuple[dict[int, str], form_rules.Form]:
    """Return each known column's position and the form whose questions the header has."""
    if len(header) > MAX_COLUMNS:
        raise Refused(f"the header has {len(header):,} columns; a file has at most {MAX_COLUMNS:,}")
    names = [_text(cell) for cell in header]
    columns = {index: name for index, name in enumerate(names) if name is not None}
    counted = Counter(columns.values())
    repeated = sorted(name for name, times in counted.items() if times > 1)
    if repeated:
        raise Refused(f"the header repeats the columns {', '.join(repeated)}")
    given = set(columns.values())

    def expected(form: form_rules.Form) -> set[str]:
        return set(COLUMNS) | set(form.question_keys())

    closest = max(forms, key=lambda form: len(given & expected(form)))
    unknown = sorted(given - expected(closest))
    missing = [name for name in [*COLUMNS, *closest.question_keys()] if name not in given]
    if unknown or missing:
        said = [f"form {closest.ref}'s template"]
        if unknown:
            said.append(f"unknown columns: {', '.join(unknown)}")
        if missing:
            said.append(f"missing columns: {', '.join(missing)}")
        raise Refused("the header is not the template's (" + "; ".join(said) + ")")
    return columns, closest


def _row(
    values: Mapping[str, Any],
    questions: Mapping[str, form_rules.Question],
    zone_of: Callable[[datetime], ZoneInfo] | None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Return a row's fields and its problems by column."""
    fields: dict[str, Any] = {name: _text(values[name]) for name in TEXT_COLUMNS}
    problems: dict[str, list[str]] = {
        name: ["This is required."] for name in REQUIRED_COLUMNS if _text(values[name]) is None
    }
    if "call_at" not in problems:
        call_at, problem = _instant(values["call_at"], zone_of)
        if problem:
            problems["call_at"] = [problem]
        fields["call_at"] = call_at
    fields["answers"] = {
        key: _answer(question, values[key])
        for key, question in questions.items()
        if _text(values[key]) is not None
    }
    return fields, problems


def _text(value: Any) -> str | None:
    """Return a cell as the text typed into it, trimmed; None when empty.

    A number typed into a text column reads as typed (`123`, not `123.0`); a call reference
    kept as text keeps its leading zeros (`00123`).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, float | Decimal):
        text = format(Decimal(str(value)).normalize(), "f")
    elif isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, date | time):
        text = value.isoformat()
    else:
        text = str(value)
    return text.strip() or None


def _instant(
    value: Any, zone_of: Callable[[datetime], ZoneInfo] | None
) -> tuple[datetime | None, str | None]:
    """Return a cell as an aware time, or why it is not one."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = _text(value) or ""
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None, f"{text!r} is not a time: write it as 2026-10-14T10:30:00+02:00"
    if moment.tzinfo is None or moment.utcoffset() is None:
        if zone_of is None:
            return None, (
                "a time without an offset: add one (2026-10-14T10:30:00+02:00), or upload "
                "with naive_times_in_contract_zone=true to read it in the contract's time zone"
            )
        moment = moment.replace(tzinfo=zone_of(moment))
    return moment, None


def _answer(question: form_rules.Question, value: Any) -> Any:
    """Return an answer as forms hold it: a scale's whole number as a number, else the text.

    Anything else is left as typed, for the form's rules to name.
    """
    if isinstance(value, bool) and question.kind == "yes_no":
        return "yes" if value else "no"
    text = _text(value) or ""
    if question.kind == "scale" and text.lstrip("-").isdecimal() and len(text) < 10:
        return int(text)
    return text.lower() if text.lower() in ("yes", "no", "na") else text


# The template ---------------------------------------------------------------------------


def allowed_values(question: form_rules.Question) -> str:
    """Say in words which values a question's cells take."""
    if question.kind == "scale":
        assert question.scale is not None
        low, high = question.scale
        said = f"a whole number from {low} to {high}"
    else:
        said = "yes or no"
    if question.na:
        said += ", or na (not applicable)"
    if question.critical:
        said += f"; a no is a critical error ({question.critical})"
    return said


def _choices(question: form_rules.Question) -> list[str]:
    if question.kind == "scale":
        assert question.scale is not None
        choices = [str(value) for value in range(question.scale[0], question.scale[1] + 1)]
    else:
        choices = ["yes", "no"]
    return [*choices, "na"] if question.na else choices


def _headers(form: form_rules.Form) -> tuple[list[str], list[str]]:
    """Return the template's two header rows: the column keys and what each holds."""
    questions = [q for section in form.sections for q in section.questions]
    keys = [*COLUMNS, *(question.key for question in questions)]
    texts = [*COLUMNS.values(), *(question.text for question in questions)]
    return keys, texts


def template_csv(form: form_rules.Form) -> bytes:
    """Return the CSV template of a form: its two header rows, UTF-8 with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in _headers(form):
        writer.writerow([as_cell(value) for value in row])
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(form: form_rules.Form, timezone: str) -> bytes:
    """Return the XLSX template of a form: its header, text columns kept as text, choices
    offered in each question's cells, and a sheet explaining every column's values."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET
    keys, texts = _headers(form)
    sheet.append([as_cell(key) for key in keys])
    sheet.append([as_cell(text) for text in texts])
    questions = {q.key: q for section in form.sections for q in section.questions}
    last_row = HEADER_ROWS + MAX_ROWS
    for index, key in enumerate(keys, start=1):
        letter = get_column_letter(index)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        described = sheet.cell(row=2, column=index)
        described.font = Font(italic=True)
        described.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[letter].width = 22 if key in COLUMNS else 16
        if key in COLUMNS:
            # Text as typed: a spreadsheet would otherwise drop a reference's leading zeros.
            sheet.column_dimensions[letter].number_format = "@"
            continue
        question = questions[key]
        sheet.cell(row=1, column=index).comment = Comment(
            f"{question.text}\nAllowed: {allowed_values(question)}", "Fiducia"
        )
        if question.kind == "yes_no":
            sheet.column_dimensions[letter].number_format = "@"
        choices = DataValidation(
            type="list",
            formula1='"' + ",".join(_choices(question)) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=key,
            error=f"Allowed: {allowed_values(question)}",
        )
        choices.add(f"{letter}{HEADER_ROWS + 1}:{letter}{last_row}")
        sheet.add_data_validation(choices)
    sheet.freeze_panes = f"A{HEADER_ROWS + 1}"

    notes = workbook.create_sheet("Allowed values")
    notes.append(["column", "holds", "allowed values"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    fixed = {
        "call_ref": "text, up to 200 characters; one evaluation per call and source",
        "agent_ref": "text, up to 200 characters",
        "team": "text, up to 200 characters, or empty",
        "call_at": CALL_AT_FORMAT.format(zone=timezone),
        "evaluator_ref": "text, up to 200 characters, or empty",
        "comment": "text, up to 10,000 characters, or empty",
    }
    for key, holds in COLUMNS.items():
        notes.append([key, holds, fixed[key]])
    for key, question in questions.items():
        notes.append([as_cell(key), as_cell(question.text), allowed_values(question)])
    notes.append([])
    notes.append(["", "An empty answer cell leaves the answer out: the form then names it."])
    for letter, width in (("A", 22), ("B", 60), ("C", 80)):
        notes.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# The service ----------------------------------------------------------------------------

UPLOADERS = ("supplier", "client", "admin")


@dataclass(frozen=True, slots=True)
class Template:
    """A template file for a contract's month."""

    content: bytes
    filename: str


def evaluation_template(
    *, session: Session, actor: Actor, contract_id: int, period: Period, format: str
) -> Template:
    """Return the template (XLSX or CSV) for a contract's month, on the form its terms name."""
    contract = uploadable_contract(session, actor, contract_id)
    terms = terms_for_period(contract, period)
    form = _form(session, contract, terms.form_ref)
    content = template_xlsx(form, terms.timezone) if format == "xlsx" else template_csv(form)
    name = f"evaluations-contract-{contract.id}-{period}-{form.code}-{form.version}.{format}"
    return Template(content, name)


@dataclass
class UploadReport:
    """What an upload did, or would do: counts, and every bad row by number and column."""

    created: int = 0
    unchanged: int = 0
    rejected: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ReadUpload:
    """A spreadsheet read for a contract, before anything is written: the source its
    evaluations will have and what the file held."""

    contract_id: int
    source: str
    sheet: Sheet


def read_upload(
    *,
    session: Session,
    actor: Actor,
    contract_id: int,
    content: bytes,
    source: str | None = None,
    naive_times_in_contract_zone: bool = False,
) -> ReadUpload:
    """Read a spreadsheet of evaluations for a contract (its forms, its time zone); refuse
    the file as a whole with a 422 naming it. Nothing is written or locked."""
    contract = uploadable_contract(session, actor, contract_id)
    source = _source(actor, source)
    forms = [_form(session, contract, ref) for ref in _form_refs(contract)]

    def zone_of(naive: datetime) -> ZoneInfo:
        return ZoneInfo(terms_for_period(contract, Period.of(naive.date())).timezone)

    try:
        sheet = read_sheet(content, forms, zone_of if naive_times_in_contract_zone else None)
    except Refused as error:
        raise Invalid(str(error), {"file": [str(error)]}, location="files") from None
    return ReadUpload(contract.id, source, sheet)


def store_upload(
    *, session: Session, actor: Actor, upload: ReadUpload, dry_run: bool = True
) -> UploadReport:
    """Store the evaluations of a spreadsheet read, all or nothing; a dry run stores nothing.

    A confirmed upload with a bad row is a 422 (a stored call with other content a 409)
    naming every bad row and column, as `errors.files.file.<row>.<column>`.
    """
    contract = uploadable_contract(session, actor, upload.contract_id)
    sheet = upload.sheet
    numbers = sorted([*sheet.rows, *sheet.errors])
    errors = {numbers.index(number): problems for number, problems in sheet.errors.items()}
    records = _records(contract, upload.source, sheet, numbers, errors)

    refused, invalid, conflict = dict(errors), bool(errors), False
    while True:
        # Each round sets aside the records refused; the good ones say what they would do.
        good = {index: record for index, record in records.items() if index not in refused}
        outcome, found, conflicted = _attempt(
            session, actor, good, len(numbers), keep=not dry_run and not refused
        )
        if not found:
            break
        refused |= found
        conflict, invalid = conflict or conflicted, invalid or not conflicted
    report = UploadReport(
        created=outcome.created,
        unchanged=outcome.unchanged,
        rejected=len(refused),
        rows=[
            {"row": numbers[index], "errors": _by_column(problems)}
            for index, problems in sorted(refused.items())
        ],
        ids=[] if dry_run else outcome.ids,
    )
    if refused and not dry_run:
        found_rows = {str(row["row"]): row["errors"] for row in report.rows}
        refusal = Invalid if invalid else Conflict
        raise refusal(
            f"no evaluation was stored: {len(found_rows)} rows need another look",
            {"file": found_rows},
            location="files",
        )
    return report


def uploadable_contract(session: Session, actor: Actor, contract_id: int) -> Contract:
    """Return a contract whose evaluations the caller may upload: 404 outside it, else 403."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    if actor.role not in UPLOADERS:
        raise Forbidden(f"the {actor.role} role does not submit evaluations")
    return contract


def _source(actor: Actor, source: str | None) -> str:
    """Return the source of the uploaded evaluations: the role's own unless an admin names it."""
    if source is None:
        if actor.role in ROLE_SOURCE:
            return ROLE_SOURCE[actor.role]
        raise Invalid(
            "an admin names the source of the evaluations",
            {"source": [f"required for an admin: one of {', '.join(SOURCES)}"]},
            location="form",
        )
    if source not in SOURCES:
        raise Invalid(
            "no such source", {"source": [f"one of {', '.join(SOURCES)}"]}, location="form"
        )
    if not actor.is_admin and source != ROLE_SOURCE[actor.role]:
        raise Forbidden(f"a {actor.role} submits only {ROLE_SOURCE[actor.role]}-source evaluations")
    return source


def _form_refs(contract: Contract) -> list[str]:
    """Return the forms the contract's terms name, latest terms first, each once."""
    refs = [version.document["form"] for version in reversed(contract.terms_versions)]
    return list(dict.fromkeys(refs))


def _form(session: Session, contract: Contract, ref: str) -> form_rules.Form:
    found = find_form(session, contract.client_id, ref)
    if found is None:  # pragma: no cover - terms are only stored with a published form
        raise NotFound(f"the client publishes no form {ref}")
    return parsed_form(found)


def _records(
    contract: Contract,
    source: str,
    sheet: Sheet,
    numbers: Sequence[int],
    errors: dict[int, Any],
) -> dict[int, dict[str, Any]]:
    """Load each good row as the API loads an evaluation; record problems by index."""
    schema = EvaluationIn()
    records: dict[int, dict[str, Any]] = {}
    for index, number in enumerate(numbers):
        fields = sheet.rows.get(number)
        if fields is None:
            continue
        call_at: datetime = fields["call_at"]
        form_ref = terms_for_period(contract, period_of(contract, call_at)).form_ref
        if form_ref != sheet.form.ref:
            errors[index] = {
                "call_at": [
                    f"calls of {period_of(contract, call_at)} are scored on form {form_ref}; "
                    f"this file has the columns of form {sheet.form.ref}"
                ]
            }
            continue
        given = {name: value for name, value in fields.items() if value is not None}
        try:
            records[index] = schema.load(
                given
                | {
                    "contract_id": contract.id,
                    "source": source,
                    "form": form_ref,
                    "call_at": call_at.isoformat(),
                }
            )
        except ValidationError as error:
            errors[index] = error.messages
    return records


def _attempt(
    session: Session,
    actor: Actor,
    records: Mapping[int, Mapping[str, Any]],
    size: int,
    *,
    keep: bool,
) -> tuple[Submission, dict[int, Any], bool]:
    """Submit records inside a savepoint, kept only when asked and nothing is refused.

    Return the outcome, the refused records' problems by index, and whether they conflict
    with stored evaluations.
    """
    if not records:
        return Submission(), {}, False
    savepoint = session.begin_nested()
    try:
        outcome = submit_evaluations(session=session, actor=actor, records=records, size=size)
    except (Invalid, Conflict) as error:
        savepoint.rollback()
        found = error.errors.get("evaluations") if isinstance(error.errors, dict) else None
        if not found:  # pragma: no cover - a batch's refusals always name their records
            raise
        return Submission(), dict(found), isinstance(error, Conflict)
    if keep:
        savepoint.commit()
    else:
        savepoint.rollback()
    return outcome, {}, False


# Where a record's problem shows in the file: the form follows the call's month.
COLUMN_OF = {"form": "call_at", "contract_id": "call_ref"}


def _by_column(problems: Mapping[str, Any]) -> dict[str, list[str]]:
    """Return a record's problems by the column of the file they are about."""
    columns: dict[str, list[str]] = {}
    for name, messages in problems.items():
        if name == "answers" and isinstance(messages, Mapping):
            for key, said in messages.items():
                column = "answers" if key == "_schema" else str(key)
                columns.setdefault(column, []).extend(_messages(said))
        elif isinstance(messages, list | Mapping):
            columns.setdefault(COLUMN_OF.get(name, name), []).extend(_messages(messages))
    return columns


def _messages(said: Any) -> list[str]:
    if isinstance(said, Mapping):
        return [str(message) for value in said.values() for message in _messages(value)]
    if isinstance(said, list):
        return [str(message) for message in said]
    return [str(said)]
