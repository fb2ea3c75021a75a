"""Evaluations in a spreadsheet: the template of a form, and reading a filled one.

`read_sheet` is pure: bytes in, rows of fields and each bad row's problems out.

Reading is bounded by what is counted, not by bytes (DESIGN §14): the rows of a file, blank
ones included, its header's width and each CSV line's length; a workbook's declared
dimension, its parts and its shared strings, before openpyxl reads them.
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

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from contracts import forms as form_rules
from service.edge.downloads import as_cell

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
