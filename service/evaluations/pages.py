"""The evaluation list, filtered, a page at a time; scoring a call in the browser with its
live score. One evaluation's page is in `disputes`."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from contracts.calls import normalize_call_ref
from contracts.periods import Period
from service.accounts.web_sessions import page
from service.agreements.models import Contract
from service.agreements.service import get_contract, list_contracts, period_of, terms_for_period
from service.edge.errors import FiduciaError, Invalid
from service.edge.schemas import MAX_ID
from service.edge.sessions import get_session
from service.evaluations.models import SOURCES, Evaluation
from service.evaluations.reads import evaluations_page, get_evaluation
from service.evaluations.revisions import require_author
from service.evaluations.schemas import EvaluationIn, PreviewIn, PreviewOut
from service.evaluations.submission import (
    ROLE_SOURCE,
    preview_evaluation,
    scoring_form,
    submit_evaluation,
)
from service.language.formatting import number
from service.language.i18n import translated, translated_tree
from service.privacy.policy import Lens
from service.web.forms import Refusal, answer_of, given, loaded, questions, refusal, typed
from service.web.query import PAGE_SIZE, chosen_period, given_number, page_number

blp = Blueprint("evaluation_pages", __name__)


def _filters() -> dict[str, Any]:
    """Read the list's filters from the query string, leaving out what is not given."""
    filters: dict[str, Any] = {}
    contract_id = given_number("contract_id", MAX_ID, _("a contract"))
    if contract_id is not None:
        filters["contract_id"] = contract_id
    if request.args.get("period"):
        filters["period"] = chosen_period()
    if request.args.get("agent_ref"):
        filters["agent_ref"] = request.args["agent_ref"].strip()
    if request.args.get("source") in SOURCES:
        filters["source"] = request.args["source"]
    return filters


@blp.get("/evaluations")
@page
def evaluations() -> Any:
    """List evaluations, filtered by contract, month, agent and source, a page at a time."""
    db, filters = get_session(), _filters()
    shown = evaluations_page(
        session=db, actor=g.actor, number=page_number(), size=PAGE_SIZE, **filters
    )
    return render_template(
        "evaluations/evaluations.html",
        contracts=list_contracts(session=db, actor=g.actor),
        rows=shown.rows,
        total=shown.total,
        page=shown.number,
        pages=shown.pages,
        filters=filters,
        sources=SOURCES,
    )


# The fields of an evaluation besides its answers, as the scoring page names them.
CALL_FIELDS = ("call_ref", "agent_ref", "team", "call_at", "evaluator_ref", "comment")


def _source() -> str:
    """Return the source the caller scores as: its own side, or third party for an admin."""
    return ROLE_SOURCE.get(g.actor.role, "third_party")


def _local_time(text: str | None, zone: str) -> str | None:
    """Read a `datetime-local` value as a time in the contract's zone, as ISO 8601."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # the schema names the field and says what it wants
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.isoformat()


def _chosen_contract() -> Contract | None:
    contract_id = given_number("contract_id", MAX_ID, _("a contract"))
    if contract_id is None:
        return None
    return get_contract(session=get_session(), actor=g.actor, contract_id=contract_id)


@blp.get("/evaluations/new")
@page
def new_evaluation() -> Any:
    """Score a call in the browser: choose the contract and month, then answer its form."""
    return scoring_page(_chosen_contract(), chosen_period())


@blp.get("/evaluations/<id:evaluation_id>/rescore")
@page
def rescore(evaluation_id: int) -> Any:
    """Amend an evaluation on the scoring page: its answers pre-filled, the live score, why."""
    db = get_session()
    found = get_evaluation(session=db, actor=g.actor, evaluation_id=evaluation_id)
    require_author(g.actor, found, "amends")
    contract = get_contract(session=db, actor=g.actor, contract_id=found.contract_id)
    return scoring_page(contract, period_of(contract, found.call_at), amending=found)


def scoring_page(
    contract: Contract | None,
    period: Period,
    refused: Refusal | None = None,
    amending: Evaluation | None = None,
) -> Any:
    """Render the scoring page (the contract's form for the month); after a refusal, with its
    messages and every answer as typed; to amend an evaluation, with its answers."""
    db = get_session()
    form = zone = None
    if contract is not None:
        zone = terms_for_period(contract, period).timezone
        start = datetime.combine(period.first_day, time(), ZoneInfo(zone))
        form = scoring_form(session=db, actor=g.actor, contract_id=contract.id, call_at=start)
    shown = render_template(
        "evaluations/new.html",
        contracts=list_contracts(session=db, actor=g.actor),
        contract=contract,
        period=period,
        zone=zone,
        form=form.parsed if form else None,
        questions=questions(form.parsed) if form else {},
        source=amending.source if amending else _source(),
        refused=refused,
        amending=amending,
        prefill=_prefill(),
        agents_as_logged=Lens(g.actor).as_logged,
    )
    return shown, refused.status if refused else 200


# What a link may fill in for a call to score (the to-do list of sampled calls does).
PREFILLED = ("call_ref", "agent_ref", "team", "call_at")


def _prefill() -> dict[str, str]:
    """Return the call fields the query string fills in, each cut to what the form takes;
    the reference as it will be stored."""
    prefill = {name: request.args.get(name, "") for name in PREFILLED}
    if not Lens(g.actor).as_logged:  # the client side's audit takes its agent from the log
        prefill["agent_ref"] = prefill["team"] = ""
    prefill["call_ref"] = normalize_call_ref(prefill["call_ref"])
    return {name: value[:200] for name, value in prefill.items()}


@blp.post("/evaluations/new")
@page
def submit() -> Any:
    """Store the evaluation scored on the page; a refusal keeps every answer typed."""
    db = get_session()
    contract = _chosen_contract()
    period = chosen_period()
    if contract is None:
        raise Invalid("choose a contract first", {"contract_id": ["choose a contract"]})
    zone = terms_for_period(contract, period).timezone
    fields = {name: typed(name) for name in CALL_FIELDS}
    fields["call_at"] = _local_time(fields["call_at"], zone)
    try:
        start = datetime.combine(period.first_day, time(), ZoneInfo(zone))
        form = scoring_form(session=db, actor=g.actor, contract_id=contract.id, call_at=start)
        answers = {
            question.key: answer_of(question, request.form.get(f"answer-{question.key}"))
            for question in questions(form.parsed).values()
        }
        record = loaded(
            EvaluationIn(),
            given(
                contract_id=contract.id,
                source=_source(),
                form=form.stored.ref,
                answers=given(**answers),
                **fields,
            ),
        )
        stored, created = submit_evaluation(session=db, actor=g.actor, record=record)
    except FiduciaError as error:
        fields_shown = ("answers", "form", *CALL_FIELDS)
        return scoring_page(contract, period, refusal("score", error, fields=fields_shown))
    values = {"call": stored.call_ref, "score": number(stored.score, 2)}
    if created:
        flash(_("Call %(call)s is stored: it scores %(score)s.", **values))
    else:
        flash(
            _("Call %(call)s was already stored with these answers: it scores %(score)s.", **values)
        )
    return redirect(url_for("dispute_pages.evaluation", evaluation_id=stored.id))


@blp.post("/evaluations/preview")
@page
def preview() -> Any:
    """Score the answers given so far, storing nothing: the page's live score (JSON)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"message": _("send the answers as a JSON object")}), 400
    try:
        contract = get_contract(
            session=get_session(), actor=g.actor, contract_id=int(body.get("contract_id") or 0)
        )
        period = Period.parse(str(body.get("period")))
        zone = terms_for_period(contract, period).timezone
        call_at = (
            _local_time(body.get("call_at") or None, zone)
            or datetime.combine(period.first_day, time(), ZoneInfo(zone)).isoformat()
        )
        checked = loaded(
            PreviewIn(),
            {"contract_id": contract.id, "call_at": call_at, "answers": body.get("answers")},
        )
        scored = preview_evaluation(session=get_session(), actor=g.actor, **checked)
    except FiduciaError as error:
        said = {"message": translated(error.message), "errors": translated_tree(error.errors)}
        return jsonify(said), error.status.value
    except ValueError:
        return jsonify({"message": _("name the contract and the month"), "errors": {}}), 400
    return jsonify(PreviewOut().dump(scored))
