"""The calibration pages: a contract's sessions, opening one, scoring its calls blind, results.

Every page of an open session is made from `service.view_of`, which gives a participant its
own scores only.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from contracts.forms import Form as RulesForm
from service.accounts.models import User
from service.accounts.web_sessions import page
from service.agreements.models import Contract
from service.agreements.service import (
    contract_timezone,
    get_contract,
    period_of,
    terms_for_period,
)
from service.calibration import service
from service.calibration.models import CalibrationSession
from service.calibration.schemas import CalibrationIn
from service.calls.models import Call
from service.database.engine import utcnow
from service.edge.errors import FiduciaError, NotFound
from service.edge.sessions import get_session
from service.evaluations.models import Evaluation
from service.forms.models import Form
from service.forms.service import parsed_form
from service.language.formatting import number
from service.web.forms import Refusal, answer_of, given, loaded, questions, refusal, typed

blp = Blueprint("calibration_pages", __name__)

# How many of a contract's latest calls the page offers to pick from.
CANDIDATES = 200


@blp.get("/contracts/<id:contract_id>/calibrations")
@page
def sessions(contract_id: int) -> Any:
    """List a contract's sessions with their status and alpha."""
    db = get_session()
    contract = get_contract(session=db, actor=g.actor, contract_id=contract_id)
    found = service.list_calibrations(session=db, actor=g.actor, contract_id=contract_id)
    return render_template(
        "calibration/sessions.html",
        contract=contract,
        sessions=found,
        zone=contract_timezone(contract),
        may_open=g.actor.is_admin or g.actor.role == "client",
    )


def _candidates(contract: Contract) -> list[tuple[str, datetime]]:
    """Return the contract's latest logged and evaluated calls, newest first."""
    db = get_session()
    logged = db.execute(
        select(Call.call_ref, Call.call_at)
        .where(Call.contract_id == contract.id)
        .order_by(Call.call_at.desc())
        .limit(CANDIDATES)
    ).all()
    evaluated = db.execute(
        select(Evaluation.call_ref, func.min(Evaluation.call_at))
        .where(Evaluation.contract_id == contract.id)
        .group_by(Evaluation.call_ref)
        .order_by(func.min(Evaluation.call_at).desc())
        .limit(CANDIDATES)
    ).all()
    calls = {ref: at for ref, at in evaluated} | {ref: at for ref, at in logged}
    return sorted(calls.items(), key=lambda item: item[1], reverse=True)[:CANDIDATES]


def _people(contract: Contract) -> list[tuple[User, str]]:
    """Return who may take part in a contract's session, with the side each scores for."""
    users = get_session().scalars(
        select(User)
        .where(User.active.is_(True))
        .where(
            User.organization_id.in_([contract.client_id, contract.supplier_id])
            | (User.role == "admin")
        )
        .order_by(User.organization_id, User.name)
    )
    return [(user, side) for user in users if (side := service.side_of(user, contract))]


def _new_page(contract: Contract, refused: Refusal | None = None) -> Any:
    return render_template(
        "calibration/new.html",
        contract=contract,
        zone=contract_timezone(contract),
        candidates=_candidates(contract),
        people=_people(contract),
        refused=refused,
        chosen_calls=set(request.form.getlist("calls")),
        chosen_people=set(request.form.getlist("participants")),
    ), (refused.status if refused else 200)


@blp.get("/contracts/<id:contract_id>/calibrations/new")
@page
def new_session(contract_id: int) -> Any:
    """Show the page to open a session: calls, participants, the reference, the close."""
    contract = get_contract(session=get_session(), actor=g.actor, contract_id=contract_id)
    g.actor.require("client")
    return _new_page(contract)


def _local(text: str | None, zone: str) -> str | None:
    """Return a datetime-local field as an ISO instant in the contract's time zone."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).isoformat()
    except ValueError:
        return text  # the schema names it


@blp.post("/contracts/<id:contract_id>/calibrations/new")
@page
def open_session(contract_id: int) -> Any:
    """Open the session chosen on the page; a refusal keeps what was chosen."""
    db = get_session()
    contract = get_contract(session=db, actor=g.actor, contract_id=contract_id)
    try:
        body = loaded(
            CalibrationIn(),
            given(
                title=typed("title"),
                calls=request.form.getlist("calls"),
                participants=[int(v) for v in request.form.getlist("participants") if v.isdigit()],
                reference=int(ref) if (ref := typed("reference")) and ref.isdigit() else None,
                closes_at=_local(typed("closes_at"), contract_timezone(contract)),
            ),
        )
        opened = service.open_session(
            session=db, actor=g.actor, contract_id=contract.id, draft=service.Draft(**body)
        )
    except FiduciaError as error:
        shown = ("title", "calls", "participants", "reference", "closes_at")
        return _new_page(contract, refusal("session", error, fields=shown))
    flash(_("Calibration session %(id)s is open.", id=opened.id))
    return redirect(url_for("calibration_pages.session_page", session_id=opened.id))


@blp.get("/calibrations/<id:session_id>")
@page
def session_page(session_id: int) -> Any:
    """Show a session: its calls and progress while open, the agreement once closed."""
    db = get_session()
    calibration = service.get_calibration(session=db, actor=g.actor, session_id=session_id)
    view = service.view_of(db, g.actor, calibration)
    contract = calibration.contract
    zone = contract_timezone(contract)
    own = {score.call_ref: score for score in view.scores if score.user_id == g.actor.user_id}
    return render_template(
        "calibration/session.html",
        view=view,
        calibration=calibration,
        contract=contract,
        zone=zone,
        own=own,
        may_close=calibration.is_open and (g.actor.is_admin or g.actor.role == "client"),
        results=None if calibration.is_open else _results(view),
        threshold=_threshold(calibration),
    )


def _threshold(calibration: CalibrationSession) -> Decimal | None:
    """Return the alpha the contract's terms ask for, in the month the session closed (or now)."""
    contract = calibration.contract
    moment = calibration.closed_at or utcnow()
    quality = terms_for_period(contract, period_of(contract, moment)).terms.quality
    if quality is None or quality.calibration is None:
        return None
    return quality.calibration.min_alpha


def _results(view: service.View) -> dict[str, Any]:
    """Return the results table: participants with the reference first, questions worst first."""
    calibration = view.calibration
    agreement = view.agreement or {}
    people = sorted(
        agreement.get("participants", []),
        key=lambda row: row["user_id"] != calibration.reference_id,
    )
    form = get_session().get(Form, calibration.form_id)
    assert form is not None
    texts = {question.key: question.text for question in questions(parsed_form(form)).values()}
    rows = []
    for found in agreement.get("questions", []):
        shares = {each["user_id"]: each["share"] for each in found.get("differs", [])}
        rows.append(
            {
                **found,
                "text": texts.get(found["question"], found["question"]),
                "cells": [shares.get(person["user_id"]) for person in people],
                "shade": _shade(found["disagreement"]),
            }
        )
    return {"people": people, "rows": rows, "agreement": agreement, "shade": _shade}


def _shade(share: str | None) -> str:
    """Return the class a share of disagreement is coloured with."""
    if share is None:
        return "d-none"
    value = Decimal(share)
    if value == 0:
        return "d0"
    return "d1" if value < Decimal("0.25") else "d2" if value < Decimal("0.5") else "d3"


def _scoring(calibration: CalibrationSession, call_ref: str, refused: Refusal | None = None) -> Any:
    db = get_session()
    view = service.view_of(db, g.actor, calibration)
    call = next((c for c in calibration.calls if c.call_ref == call_ref), None)
    if call is None or not view.participant:
        raise NotFound("no such call of the session to score")
    form = db.get(Form, calibration.form_id)
    assert form is not None
    rules_form: RulesForm = parsed_form(form)
    zone = contract_timezone(calibration.contract)
    own = {score.call_ref: score for score in view.scores if score.user_id == g.actor.user_id}
    stored = own.get(call_ref)
    return render_template(
        "calibration/score.html",
        calibration=calibration,
        view=view,
        call=call,
        own=own,
        form=rules_form,
        stored=stored,
        prefilled=stored.answers if stored else {},
        refused=refused,
        zone=zone,
        period=period_of(calibration.contract, call.call_at),
        call_at=call.call_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M:%S"),
        questions=questions(rules_form),
    ), (refused.status if refused else 200)


@blp.get("/calibrations/<id:session_id>/score")
@page
def score_page(session_id: int) -> Any:
    """Show the evaluation form for one call of the session, with the caller's progress."""
    calibration = service.get_calibration(
        session=get_session(), actor=g.actor, session_id=session_id
    )
    return _scoring(calibration, request.args.get("call", ""))


@blp.post("/calibrations/<id:session_id>/score")
@page
def store_score(session_id: int) -> Any:
    """Store (or amend) the caller's score of one call, then go on to the next unscored one."""
    db = get_session()
    calibration = service.get_calibration(session=db, actor=g.actor, session_id=session_id)
    call_ref = request.args.get("call", "")
    form = db.get(Form, calibration.form_id)
    assert form is not None
    answers = {
        question.key: answer_of(question, request.form.get(f"answer-{question.key}"))
        for question in questions(parsed_form(form)).values()
    }
    answers = given(**answers)
    try:
        view = service.view_of(db, g.actor, calibration)
        amend = any(s.call_ref == call_ref and s.user_id == g.actor.user_id for s in view.scores)
        write = service.amend_score if amend else service.submit_score
        stored = write(
            session=db, actor=g.actor, session_id=session_id, call_ref=call_ref, answers=answers
        )
    except FiduciaError as error:
        return _scoring(calibration, call_ref, refusal("score", error, fields=("answers",)))
    scored = stored[0] if isinstance(stored, tuple) else stored
    flash(
        _("Call %(call)s: your score is %(score)s.", call=call_ref, score=number(scored.score, 2))
    )
    view = service.view_of(db, g.actor, calibration)
    done = {score.call_ref for score in view.scores if score.user_id == g.actor.user_id}
    following = next((c.call_ref for c in calibration.calls if c.call_ref not in done), None)
    if following is None:
        return redirect(url_for("calibration_pages.session_page", session_id=session_id))
    return redirect(url_for("calibration_pages.score_page", session_id=session_id, call=following))


@blp.post("/calibrations/<id:session_id>/close")
@page
def close(session_id: int) -> Any:
    """Close the session and show its agreement."""
    closed = service.close_session(session=get_session(), actor=g.actor, session_id=session_id)
    flash(_("Calibration session %(id)s is closed.", id=closed.id))
    return redirect(url_for("calibration_pages.session_page", session_id=session_id))
