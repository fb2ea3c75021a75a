"""Forms and evaluations from a QM product (Amazon Connect, Genesys Cloud): DESIGN 19.

A product's form is published as the equivalent Fiducia form version, its reading kept beside
it; the product's evaluations go through the one submission path, all or nothing, scored by
Fiducia's rules. The product's own score is kept beside each and every difference is told.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import column, select, tuple_
from sqlalchemy import table as table_clause
from sqlalchemy.orm import Session

from contracts import forms as form_rules
from contracts import qm
from contracts.errors import RuleError
from contracts.text import said
from service.agreements.service import period_of, terms_for_period
from service.database.engine import UTCDateTime, upsert_statement
from service.edge.actors import Actor
from service.edge.errors import Invalid, nest_errors
from service.evaluations.models import Evaluation
from service.evaluations.schemas import EvaluationIn
from service.evaluations.submission import submit_evaluations
from service.evaluations.uploads import source_of, uploadable_contract
from service.forms.models import Form
from service.forms.service import find_form, form_owner, publish_form
from service.imports.qm.models import EvaluationImport, FormImport
from service.language.i18n import N_

# A difference the product's score may show from Fiducia's before it is told (rounding).
TOLERANCE = Decimal("0.01")
# How many evaluations one export may hold.
MAX_EVALUATIONS = 1000

# The call log read as a plain table (the call log's domain reads evaluations, as in
# `submission`): an Amazon Connect export names its contact, not when it was.
LOGGED_CALLS = table_clause(
    "calls", column("contract_id"), column("call_ref"), column("call_at", UTCDateTime())
)


def import_form(
    *,
    session: Session,
    actor: Actor,
    format: qm.Format,
    document: object,
    code: str | None = None,
    critical: str | None = None,
    organization_id: int | None = None,
) -> tuple[Form, bool]:
    """Publish a product's form as a Fiducia form version; return it and whether it is new.

    Each import of a changed form is the code's next version; the same form again is the
    version already published (a no-op).
    """
    actor.require("client")
    owner_id = form_owner(session, actor, organization_id)
    try:
        imported = qm.read_form(format, document, code=code, version=1, critical=critical)
    except RuleError as error:
        raise Invalid(
            N_("the form has no equivalent in Fiducia where listed"), nest_errors(error.errors)
        ) from None
    form_code = imported.document["code"]
    latest = session.scalar(
        select(Form)
        .where(Form.organization_id == owner_id, Form.code == form_code)
        .order_by(Form.version.desc())
        .limit(1)
    )
    version = 1 if latest is None else latest.version
    if latest is not None and latest.document != _canonical(imported, version):
        version += 1
    form, created = publish_form(
        session=session,
        actor=actor,
        document=imported.document | {"version": version},
        organization_id=organization_id,
    )
    keep = upsert_statement(session, FormImport).values(
        form_id=form.id, format=format, source=document, reading=imported.reading
    )
    session.execute(keep.on_conflict_do_nothing())
    return form, created


def _canonical(imported: qm.ImportedForm, version: int) -> dict[str, Any] | None:
    """Return the form document as published, or None if Fiducia refuses it (publishing
    then says why, naming its fields)."""
    try:
        return form_rules.form_document(
            form_rules.parse_form(imported.document | {"version": version})
        )
    except RuleError:
        return None


@dataclass
class ImportReport:
    """What an import of evaluations did: counts, ids, Fiducia's and the product's scores."""

    created: int = 0
    unchanged: int = 0
    ids: list[int] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    differences: list[dict[str, Any]] = field(default_factory=list)


def import_evaluations(
    *,
    session: Session,
    actor: Actor,
    contract_id: int,
    format: qm.Format,
    document: object,
    source: str | None = None,
) -> ImportReport:
    """Store a product's exported evaluations of a contract's calls, all or nothing.

    Each is scored by Fiducia on the form its month's terms name, which must be a form
    imported from the same product; every problem names its path in the export, by index.
    """
    contract = uploadable_contract(session, actor, contract_id)
    source = source_of(actor, source, location="query")
    exported = _evaluations_of(format, document)
    moments = _call_times(session, contract.id, format, exported)
    readings: dict[str, Mapping[str, Any] | str] = {}
    read: dict[int, qm.ImportedEvaluation] = {}
    errors: dict[int, Any] = {}
    for index, item in enumerate(exported):
        call_at = moments[index]
        if isinstance(call_at, dict):
            errors[index] = call_at
            continue
        try:
            # Each is read on the imported form of its call's month, as the terms name it.
            reading = _reading(session, contract, format, _form_ref(contract, call_at), readings)
            evaluation = qm.read_evaluation(format, item, reading)
        except RuleError as error:
            errors[index] = nest_errors(error.errors)
            continue
        read[index] = replace(evaluation, call_at=call_at)
    records: dict[int, dict[str, Any]] = {}
    schema = EvaluationIn()
    for index, evaluation in read.items():
        assert evaluation.call_at is not None
        given = {
            "contract_id": contract.id,
            "call_ref": evaluation.call_ref,
            "source": source,
            "call_at": evaluation.call_at.isoformat(),
            "form": _form_ref(contract, evaluation.call_at),
            "answers": evaluation.answers,
            "evaluator_ref": evaluation.evaluator_ref,
        }
        if evaluation.agent_ref is not None:
            given["agent_ref"] = evaluation.agent_ref
        try:
            # As every evaluation is loaded: the same bounds on references and text.
            records[index] = schema.load(given)
        except ValidationError as error:
            errors[index] = _in_the_export(format, error.normalized_messages())
    outcome = submit_evaluations(
        session=session, actor=actor, records=records, errors=errors, size=len(exported)
    )
    return _report(session, format, outcome.ids, read, outcome.created, outcome.unchanged)


# Where each field of an evaluation is in a product's export, to name it there.
EXPORT_PATHS: dict[str, dict[str, str]] = {
    "connect": {"call_ref": "metadata.contactId", "evaluator_ref": "metadata.evaluator"},
    "genesys": {
        "call_ref": "conversation.id",
        "agent_ref": "agent.id",
        "call_at": "conversationDate",
        "evaluator_ref": "evaluator.id",
    },
}


def _in_the_export(format: qm.Format, messages: Mapping[str, Any]) -> dict[str, Any]:
    """Name a loaded record's problems by their paths in the product's export."""
    paths = EXPORT_PATHS[format]
    flat = {
        paths.get(name, name): found if isinstance(found, list) else [str(found)]
        for name, found in messages.items()
    }
    return nest_errors(flat)


def _evaluations_of(format: qm.Format, document: object) -> list[Any]:
    """Return the evaluations of an export: one object, a list, or Genesys's `entities` page."""
    if isinstance(document, Mapping) and format == "genesys" and "entities" in document:
        document = document["entities"]
    listed = document if isinstance(document, list) else [document]
    if not listed or len(listed) > MAX_EVALUATIONS:
        raise Invalid(
            N_("an export holds from 1 to 1,000 evaluations"),
            {"_schema": [f"from 1 to {MAX_EVALUATIONS} evaluations"]},
        )
    return listed


def _reading(
    session: Session,
    contract: Any,
    format: qm.Format,
    ref: str,
    readings: dict[str, Mapping[str, Any] | str],
) -> Mapping[str, Any]:
    if ref not in readings:
        form = find_form(session, contract.client_id, ref)
        kept = None if form is None else session.get(FormImport, form.id)
        if form is None or kept is None or kept.format != format:
            readings[ref] = said(
                "the terms name form %(form)s, which was not imported from %(format)s",
                form=ref,
                format=format,
            )
        else:
            readings[ref] = kept.reading
    found = readings[ref]
    if isinstance(found, str):
        raise RuleError({"form": [found]})
    return found


def _form_ref(contract: Any, call_at: datetime) -> str:
    return terms_for_period(contract, period_of(contract, call_at)).form_ref


def _call_times(
    session: Session, contract_id: int, format: qm.Format, exported: list[Any]
) -> list[datetime | dict[str, Any]]:
    """Return when each exported evaluation's call was, or the problem that says why not.

    Genesys says it (`conversationDate`); Amazon Connect's export names its contact only, so
    its time is the logged call's.
    """
    if format == "genesys":
        return [_genesys_call_at(item) for item in exported]
    contacts = [_dig(item, "metadata", "contactId") for item in exported]
    wanted = sorted({(contract_id, ref) for ref in contacts if isinstance(ref, str)})
    logged: dict[str, datetime] = {}
    if wanted:
        columns = LOGGED_CALLS.c
        query = select(columns.call_ref, columns.call_at).where(
            tuple_(columns.contract_id, columns.call_ref).in_(wanted)
        )
        logged = {ref: at for ref, at in session.execute(query)}
    times: list[datetime | dict[str, Any]] = []
    for ref in contacts:
        if not isinstance(ref, str) or not ref:
            times.append({"metadata": {"contactId": ["is required (text)"]}})
        elif ref not in logged:
            message = said(
                "contact %(ref)s is not in the contract's call log: the export says no call"
                " time, so log the contact records first",
                ref=ref,
            )
            times.append({"metadata": {"contactId": [message]}})
        else:
            times.append(logged[ref])
    return times


def _genesys_call_at(item: object) -> datetime | dict[str, Any]:
    value = _dig(item, "conversationDate")
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    return {"conversationDate": ["is required: a date and time with its offset (ISO 8601)"]}


def _dig(value: object, *names: str) -> Any:
    for name in names:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def _report(
    session: Session,
    format: qm.Format,
    ids: list[int],
    read: Mapping[int, qm.ImportedEvaluation],
    created: int,
    unchanged: int,
) -> ImportReport:
    """Keep each product score beside its evaluation and list where the two differ."""
    scores = dict(
        session.execute(
            select(Evaluation.id, Evaluation.score_hundredths).where(Evaluation.id.in_(ids))
        ).all()
    )
    report = ImportReport(created=created, unchanged=unchanged, ids=ids)
    kept = []
    for index, evaluation_id in enumerate(ids):
        evaluation = read[index]
        hundredths = scores.get(evaluation_id)
        score = None if hundredths is None else Decimal(hundredths) / 100
        product = evaluation.product_score
        entry = {
            "index": index,
            "id": evaluation_id,
            "call_ref": evaluation.call_ref,
            "score": None if score is None else f"{score:.2f}",
            "product_score": None if product is None else format_decimal(product),
        }
        report.evaluations.append(entry)
        if product is not None and (score is None or abs(score - product) > TOLERANCE):
            difference = None if score is None else format_decimal(product - score)
            report.differences.append(entry | {"difference": difference})
        kept.append(
            {
                "evaluation_id": evaluation_id,
                "format": format,
                "product_score": None if product is None else format_decimal(product),
            }
        )
    if kept:
        statement = upsert_statement(session, EvaluationImport).on_conflict_do_nothing()
        session.execute(statement, kept)
    return report


def format_decimal(value: Decimal) -> str:
    """Return a decimal as plain text, without an exponent."""
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
