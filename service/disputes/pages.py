"""The pages of revisions and disputes: an evaluation with its history, amending, retracting
and disputing it; each role's disputes, one dispute's thread, and every step taken on it.

An evaluation's own page lives here rather than in `evaluations`: it shows the evaluation's
disputes, and disputes build on evaluations, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from service.accounts.web_sessions import page
from service.agreements.service import contract_timezone, get_contract, list_contracts
from service.database.engine import utcnow
from service.disputes import service
from service.disputes.models import Dispute, DisputeItem
from service.disputes.schemas import DisputeIn, EscalationIn, VerdictIn
from service.edge.errors import Conflict, Invalid
from service.edge.paging import Page
from service.edge.schemas import MAX_PAGE
from service.edge.sessions import get_session
from service.evaluations.reads import get_evaluation, list_revisions
from service.evaluations.revisions import (
    AUTHOR_ROLE,
    amend_evaluation,
    change_deadline,
    retract_evaluation,
)
from service.evaluations.schemas import AmendmentIn, RetractionIn
from service.forms.service import parsed_form
from service.language.formatting import moment, number
from service.language.i18n import N_
from service.language.labels import label
from service.web.forms import Refusal, answer_of, given, loaded, questions, refusal, typed
from service.web.query import PAGE_SIZE, given_number

blp = Blueprint("dispute_pages", __name__)

# What each role works through, the list it acts on first: (key, title, statuses).
SECTIONS: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    "supplier": (
        ("open", N_("Waiting for a decision"), ("open",)),
        ("decided", N_("Decided"), ("decided",)),
        ("escalated", N_("With the arbiter"), ("escalated",)),
    ),
    "client": (
        ("open", N_("To decide"), ("open",)),
        ("decided", N_("Decided"), ("decided", "escalated", "arbitrated")),
    ),
    "finance": (
        ("open", N_("Waiting for the client's decision"), ("open",)),
        ("decided", N_("Decided"), ("decided", "escalated", "arbitrated")),
    ),
    "admin": (
        ("escalated", N_("To arbitrate"), ("escalated",)),
        ("open", N_("Open"), ("open",)),
    ),
}
# A verdict as its radio buttons send it.
VERDICTS = {"accept": True, "reject": False}


@dataclass(frozen=True, slots=True)
class Section:
    """One list of the disputes page: its key (for its pager), title and page of disputes."""

    key: str
    title: str
    disputes: Page[Dispute]


@blp.get("/evaluations/<id:evaluation_id>")
@page
def evaluation(evaluation_id: int) -> Any:
    """Show one evaluation: its answers and scores, its revisions and disputes, what to do."""
    return evaluation_page(evaluation_id)


def evaluation_page(evaluation_id: int, refused: Refusal | None = None) -> Any:
    """Render an evaluation's page; after a refused form, with its messages and what was typed."""
    db = get_session()
    found = get_evaluation(session=db, actor=g.actor, evaluation_id=evaluation_id)
    form = parsed_form(found.form)
    shown = render_template(
        "evaluations/evaluation.html",
        evaluation=found,
        form=form,
        questions=questions(form),
        revisions=list_revisions(session=db, actor=g.actor, evaluation_id=found.id),
        disputes=service.disputes_of(db, found.id),
        authored=g.actor.role == AUTHOR_ROLE[found.source],
        changeable_until=change_deadline(db, found).until,
        now=utcnow(),
        disputable_until=service.disputable_until(db, g.actor, found),
        refused=refused,
    )
    return shown, refused.status if refused else 200


@blp.post("/evaluations/<id:evaluation_id>/amend")
@page
def amend(evaluation_id: int) -> Any:
    """Amend an evaluation (its author side): every answer again, and why."""
    db = get_session()
    found = get_evaluation(session=db, actor=g.actor, evaluation_id=evaluation_id)
    answers = {
        question.key: answer_of(question, typed(f"answer-{question.key}"))
        for question in questions(parsed_form(found.form)).values()
    }
    try:
        body = loaded(AmendmentIn(), given(answers=given(**answers), reason=typed("reason")))
        amended = amend_evaluation(session=db, actor=g.actor, evaluation_id=found.id, **body)
    except (Invalid, Conflict) as error:
        return evaluation_page(found.id, refusal("amend", error, fields=("answers", "reason")))
    flash(
        _(
            "Revision %(number)s is stored: the score is now %(score)s.",
            number=amended.revision,
            score=number(amended.score, 2),
        )
    )
    return redirect(url_for(".evaluation", evaluation_id=found.id))


@blp.post("/evaluations/<id:evaluation_id>/retract")
@page
def retract(evaluation_id: int) -> Any:
    """Retract an evaluation (its author side): it stays, with its history, and stops counting."""
    try:
        body = loaded(RetractionIn(), given(reason=typed("reason")))
        retracted = retract_evaluation(
            session=get_session(), actor=g.actor, evaluation_id=evaluation_id, **body
        )
    except (Invalid, Conflict) as error:
        return evaluation_page(evaluation_id, refusal("retract", error, fields=("reason",)))
    flash(
        _(
            "Retracted as revision %(number)s: it no longer counts anywhere.",
            number=retracted.revision,
        )
    )
    return redirect(url_for(".evaluation", evaluation_id=retracted.id))


@blp.get("/disputes")
@page
def disputes() -> Any:
    """List the caller's disputes in the sections its role works through, nearest deadline first."""
    db, now = get_session(), utcnow()
    sections = [
        Section(key, _(title), _page_of(key, statuses))
        for key, title, statuses in SECTIONS[g.actor.role]
    ]
    listed = [dispute for section in sections for dispute in section.disputes.rows]
    return render_template(
        "disputes/disputes.html",
        sections=sections,
        contracts={contract.id: contract for contract in list_contracts(session=db, actor=g.actor)},
        steps={dispute.id: service.next_steps(g.actor, dispute, now) for dispute in listed},
        now=now,
    )


def _page_of(key: str, statuses: tuple[str, ...]) -> Page[Dispute]:
    """Return the page of a section's disputes its own `?<key>_page=` asks for."""
    number = given_number(f"{key}_page", MAX_PAGE, _("a page number")) or 1
    return service.disputes_page(
        session=get_session(), actor=g.actor, number=number, size=PAGE_SIZE, status=statuses
    )


@blp.get("/disputes/<id:dispute_id>")
@page
def dispute(dispute_id: int) -> Any:
    """Show a dispute: its questions, its thread, and the step the caller may take on it."""
    return dispute_page(dispute_id)


def dispute_page(dispute_id: int, refused: Refusal | None = None) -> Any:
    """Render a dispute's page; after a refused step, with its messages and what was typed."""
    db, now = get_session(), utcnow()
    found = service.get_dispute(session=db, actor=g.actor, dispute_id=dispute_id)
    form = parsed_form(found.evaluation.form)
    shown = render_template(
        "disputes/dispute.html",
        dispute=found,
        evaluation=found.evaluation,
        contract=get_contract(session=db, actor=g.actor, contract_id=found.contract_id),
        form=form,
        questions=questions(form),
        steps=service.next_steps(g.actor, found, now),
        now=now,
        refused=refused,
    )
    return shown, refused.status if refused else 200


@blp.post("/evaluations/<id:evaluation_id>/dispute")
@page
def open_dispute(evaluation_id: int) -> Any:
    """Dispute questions of an audit (its supplier): for each, the answer proposed and why."""
    db = get_session()
    found = get_evaluation(session=db, actor=g.actor, evaluation_id=evaluation_id)
    contested = request.form.getlist("contest")
    chosen = [q for q in questions(parsed_form(found.form)).values() if q.key in contested]
    items = [
        given(
            question=question.key,
            proposed_answer=answer_of(question, typed(f"proposed-{question.key}")),
            reason=typed(f"reason-{question.key}"),
        )
        for question in chosen
    ]
    try:
        body = loaded(DisputeIn(), given(items=items or None, comment=typed("comment")))
        opened = service.open_dispute(session=db, actor=g.actor, evaluation_id=found.id, **body)
    except (Invalid, Conflict) as error:
        return evaluation_page(
            found.id,
            refusal("dispute", error, fields=("items", "comment"), items=[q.key for q in chosen]),
        )
    zone = contract_timezone(get_contract(session=db, actor=g.actor, contract_id=found.contract_id))
    flash(
        _(
            "Dispute %(id)s is open; it is to be decided by %(when)s.",
            id=opened.id,
            when=moment(opened.decide_by, zone),
        )
    )
    return redirect(url_for(".dispute", dispute_id=opened.id))


@blp.post("/disputes/<id:dispute_id>/decide")
@page
def decide(dispute_id: int) -> Any:
    """Decide every contested question (the audit's author side): accept or reject, and why."""
    return _rule_on(dispute_id, "decide", service.decide, lambda item: True)


@blp.post("/disputes/<id:dispute_id>/arbitrate")
@page
def arbitrate(dispute_id: int) -> Any:
    """Arbitrate every question the decision rejected (an admin): final."""
    return _rule_on(
        dispute_id, "arbitrate", service.arbitrate, lambda item: item.decision_accepted is False
    )


def _rule_on(
    dispute_id: int,
    step: str,
    take: Callable[..., Dispute],
    asked: Callable[[DisputeItem], bool],
) -> Any:
    """Take a step that rules on questions: a verdict and a reason for each question asked."""
    db = get_session()
    found = service.get_dispute(session=db, actor=g.actor, dispute_id=dispute_id)
    questions_asked = [item.question for item in found.items if asked(item)]
    items = [
        given(
            question=question,
            accepted=VERDICTS.get(request.form.get(f"verdict-{question}", "")),
            reason=typed(f"reason-{question}"),
        )
        for question in questions_asked
    ]
    try:
        # Item by item: with no question to rule on, the step's own refusal says why.
        verdicts = loaded(VerdictIn(many=True), items, field="items")
        ruled = take(session=db, actor=g.actor, dispute_id=found.id, items=verdicts)
    except (Invalid, Conflict) as error:
        return dispute_page(
            found.id, refusal(step, error, fields=("items",), items=questions_asked)
        )
    flash(_ruled(ruled))
    return redirect(url_for(".dispute", dispute_id=ruled.id))


def _ruled(ruled: Dispute) -> str:
    """Say how a decision or an arbitration went, and what it did to the score."""
    last = ruled.steps[-1]
    values = {
        "id": ruled.id,
        "status": label(ruled.status),
        "outcome": label(ruled.outcome or ""),
        "before": number(last.score_before, 2),
        "after": number(last.score_after, 2),
    }
    if values["before"] == values["after"]:
        return _("Dispute %(id)s is %(status)s (%(outcome)s); the score stays %(after)s.", **values)
    return _(
        "Dispute %(id)s is %(status)s (%(outcome)s); the score went from %(before)s to %(after)s"
        " (revision %(revision)s).",
        revision=last.revision,
        **values,
    )


@blp.post("/disputes/<id:dispute_id>/escalate")
@page
def escalate(dispute_id: int) -> Any:
    """Escalate a decision that rejected a question (the supplier): an admin arbitrates it."""
    try:
        body = loaded(EscalationIn(), given(reason=typed("reason")))
        escalated = service.escalate(
            session=get_session(), actor=g.actor, dispute_id=dispute_id, **body
        )
    except (Invalid, Conflict) as error:
        return dispute_page(dispute_id, refusal("escalate", error, fields=("reason",)))
    flash(_("Dispute %(id)s is escalated: an admin arbitrates what was rejected.", id=escalated.id))
    return redirect(url_for(".dispute", dispute_id=escalated.id))


@blp.post("/disputes/<id:dispute_id>/withdraw")
@page
def withdraw(dispute_id: int) -> Any:
    """Withdraw an open dispute (the supplier)."""
    try:
        withdrawn = service.withdraw(session=get_session(), actor=g.actor, dispute_id=dispute_id)
    except Conflict as error:
        return dispute_page(dispute_id, refusal("withdraw", error))
    flash(_("Dispute %(id)s is withdrawn; the audit stands as it was.", id=withdrawn.id))
    return redirect(url_for(".dispute", dispute_id=withdrawn.id))
