"""Uploading evaluations in a spreadsheet: a contract's template, and a filled one stored.

A file read (`spreadsheets.read_sheet`) is stored through `submit_evaluations`, all or
nothing, or only tried (a dry run) inside a savepoint that is rolled back.

A file is read before anything is written (`read_upload`, then `store_upload`), so no lock
waits on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from contracts import forms as form_rules
from contracts.periods import Period
from service.agreements.models import Contract
from service.agreements.service import get_contract, period_of, terms_for_period
from service.edge.actors import Actor
from service.edge.errors import Conflict, Forbidden, Invalid, Location, NotFound
from service.evaluations.models import SOURCES
from service.evaluations.schemas import EvaluationIn
from service.evaluations.spreadsheets import Refused, Sheet, read_sheet, template_csv, template_xlsx
from service.evaluations.submission import ROLE_SOURCE, Submission, submit_evaluations
from service.forms.service import find_form, parsed_form

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
    source = source_of(actor, source)
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


def source_of(actor: Actor, source: str | None, *, location: Location = "form") -> str:
    """Return the source of the uploaded evaluations: the role's own unless an admin names it."""
    if source is None:
        if actor.role in ROLE_SOURCE:
            return ROLE_SOURCE[actor.role]
        raise Invalid(
            "an admin names the source of the evaluations",
            {"source": [f"required for an admin: one of {', '.join(SOURCES)}"]},
            location=location,
        )
    if source not in SOURCES:
        raise Invalid(
            "no such source", {"source": [f"one of {', '.join(SOURCES)}"]}, location=location
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
