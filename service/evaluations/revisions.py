"""An evaluation's revisions after its submission (DESIGN 12).

Its author side amends or retracts it inside its window; the decision of a dispute revises
it too, and holds it while the dispute waits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts import forms as form_rules
from contracts.errors import RuleError
from contracts.terms import AUDIT_SOURCES
from contracts.text import said
from service.agreements.models import Contract
from service.agreements.service import lock_contracts, timeline_of
from service.database.engine import reread_locked, utcnow
from service.edge.actors import Actor
from service.edge.errors import Conflict, Forbidden, Invalid
from service.evaluations.models import Evaluation, EvaluationRevision
from service.evaluations.reads import get_evaluation
from service.evaluations.submission import scored_columns
from service.forms.service import parsed_form
from service.language.i18n import N_
from service.notices.service import enqueue_for_both

# Who authored an evaluation of each source, and so may amend it, retract it and decide its
# disputes (DESIGN 12).
AUTHOR_ROLE = {"supplier": "supplier", "client": "client", "third_party": "admin"}


def amend_evaluation(
    *,
    session: Session,
    actor: Actor,
    evaluation_id: int,
    answers: Mapping[str, Any],
    reason: str,
    now: datetime | None = None,
) -> Evaluation:
    """Add a revision with new answers, scored on the same form; it reinstates a retraction.

    Only the author side may (DESIGN 12), and not while a dispute of it waits.
    """
    evaluation = _for_author(session, actor, evaluation_id, "amends", now)
    if dict(answers) == evaluation.answers and not evaluation.retracted:
        raise Invalid(
            N_("an amendment changes the answers"),
            {"answers": [said("the same as revision %(revision)s", revision=evaluation.revision)]},
        )
    settled = {
        question: [N_("a dispute decided this answer; it changes no more")]
        for question in evaluation.settled_questions
        if answers.get(question) != evaluation.answers.get(question)
    }
    if settled:
        raise Invalid(N_("an amendment keeps what disputes decided"), {"answers": settled})
    add_revision(
        session, evaluation, kind="amendment", answers=answers, actor=actor, reason=reason, now=now
    )
    _announce(session, evaluation, now)
    return evaluation


def retract_evaluation(
    *,
    session: Session,
    actor: Actor,
    evaluation_id: int,
    reason: str,
    now: datetime | None = None,
) -> Evaluation:
    """Stop an evaluation counting, keeping it and its history; an amendment reinstates it."""
    evaluation = _for_author(session, actor, evaluation_id, "retracts", now)
    if evaluation.retracted:
        raise Conflict(
            said("evaluation %(id)s is already retracted", id=evaluation.id),
            {
                "evaluation_id": [
                    said("retracted at revision %(revision)s", revision=evaluation.revision)
                ]
            },
            location="path",
        )
    add_revision(
        session,
        evaluation,
        kind="retraction",
        answers=evaluation.answers,
        actor=actor,
        reason=reason,
        now=now,
        retracted=True,
    )
    _announce(session, evaluation, now)
    return evaluation


def _announce(session: Session, evaluation: Evaluation, now: datetime | None) -> None:
    """Tell both organizations an audit changed (a supplier's own amendment concerns no one)."""
    if evaluation.source not in AUDIT_SOURCES:
        return
    contract = session.get_one(Contract, evaluation.contract_id)
    notice = {
        "event": "evaluation.amended",
        "evaluation_id": evaluation.id,
        "contract_id": evaluation.contract_id,
        "call_ref": evaluation.call_ref,
        "revision": evaluation.revision,
        "retracted": evaluation.retracted,
        "score": None if evaluation.score is None else str(evaluation.score),
    }
    enqueue_for_both(session, (contract.client_id, contract.supplier_id), notice, now)


def _for_author(
    session: Session, actor: Actor, evaluation_id: int, verb: str, now: datetime | None
) -> Evaluation:
    """Return an evaluation locked for a new revision by its author side: 404, 403, or 409."""
    evaluation = lock_evaluation(
        session, get_evaluation(session=session, actor=actor, evaluation_id=evaluation_id)
    )
    require_author(actor, evaluation, verb)
    if evaluation.held_by_dispute_id is not None:
        raise Conflict(
            said(
                "dispute %(id)s of this evaluation is waiting for a verdict; it changes the"
                " evaluation when decided",
                id=evaluation.held_by_dispute_id,
            ),
            {"evaluation_id": [said("held by dispute %(id)s", id=evaluation.held_by_dispute_id)]},
            location="path",
        )
    _check_window_open(session, evaluation, now or utcnow())
    if evaluation.source == "supplier":
        _check_self_assessment_open(session, evaluation)
    return evaluation


@dataclass(frozen=True, slots=True)
class Deadline:
    """Until when an evaluation's author may change it, and why then."""

    until: datetime
    self_assessments_due: bool  # a two-stage month's self-assessments, due before its window


def change_deadline(session: Session, evaluation: Evaluation) -> Deadline:
    """Return until when an evaluation's author may amend or retract it (DESIGN 13).

    Its month's window, never a revision's: counted from the month's end, or under two-stage
    samples from the audits' due date. A self-assessment of a month sampled in two stages
    changes only until the self-assessments are due: then the audit sample is drawn from
    them, and a change made knowing it would hide what the audits measure.
    """
    contract = session.get_one(Contract, evaluation.contract_id)
    timeline = timeline_of(contract, evaluation.period)
    if evaluation.source == "supplier" and timeline.self_due is not None:
        return Deadline(timeline.self_due, True)
    return Deadline(timeline.window_closes, False)


def _check_window_open(session: Session, evaluation: Evaluation, now: datetime) -> None:
    """Refuse to change an evaluation past its deadline: then only a dispute decision does."""
    deadline = change_deadline(session, evaluation)
    if now < deadline.until:
        return
    when, period = deadline.until.isoformat(), evaluation.period
    if deadline.self_assessments_due:
        raise Conflict(
            said(
                "the self-assessments of %(month)s were due at %(when)s: the audit sample is"
                " drawn from them, and they change no more",
                month=period,
                when=when,
            ),
            {
                "evaluation_id": [
                    said(
                        "the self-assessments of %(month)s were due at %(when)s",
                        month=period,
                        when=when,
                    )  # fmt: skip
                ]
            },
            location="path",
        )
    raise Conflict(
        said(
            "the window to change the evaluations of %(month)s closed at %(when)s; only a"
            " dispute decision changes this one now",
            month=period,
            when=when,
        ),
        {
            "evaluation_id": [
                said("the window of %(month)s closed at %(when)s", month=period, when=when)
            ]
        },
        location="path",
    )


def _check_self_assessment_open(session: Session, evaluation: Evaluation) -> None:
    """Refuse to change a self-assessment once it is measured against an audit.

    The audits of a month measure how much the supplier's own scores flatter (DESIGN 5):
    rewriting an audited call's self-score would hide it.
    """
    audit = session.scalar(
        select(Evaluation.id).where(
            Evaluation.contract_id == evaluation.contract_id,
            Evaluation.call_ref == evaluation.call_ref,
            Evaluation.source.in_(AUDIT_SOURCES),
        )
    )
    if audit is not None:
        raise Conflict(
            said(
                "evaluation %(id)s audits this call: the self-assessment stands beside it", id=audit
            ),
            {"evaluation_id": [said("the call is audited by evaluation %(id)s", id=audit)]},
            location="path",
        )


# What only an evaluation's author side does, by the verb `require_author` is given: each
# said whole (by an admin, by a party), so that each translates as a sentence.
AUTHOR_ONLY = {
    "amends": (
        N_("only an admin amends a %(source)s-source evaluation"),
        N_("only the %(author)s amends a %(source)s-source evaluation"),
    ),
    "retracts": (
        N_("only an admin retracts a %(source)s-source evaluation"),
        N_("only the %(author)s retracts a %(source)s-source evaluation"),
    ),
    "decides the disputes of": (
        N_("only an admin decides the disputes of a %(source)s-source evaluation"),
        N_("only the %(author)s decides the disputes of a %(source)s-source evaluation"),
    ),
}


def require_author(actor: Actor, evaluation: Evaluation, verb: str) -> None:
    """Refuse with 403 unless the caller is the evaluation's author side."""
    author = AUTHOR_ROLE[evaluation.source]
    if actor.role != author:
        by_admin, by_party = AUTHOR_ONLY[verb]
        template = by_admin if author == "admin" else by_party
        raise Forbidden(said(template, author=author, source=evaluation.source))


def lock_evaluation(session: Session, evaluation: Evaluation) -> Evaluation:
    """Re-read an evaluation under a row lock until commit, after its contract's lock.

    The contract is locked as evaluation writers lock it, so a statement being computed
    waits for the new revision, and two revisions of one evaluation queue.
    """
    lock_contracts(session, [evaluation.contract_id], "evaluations")
    return reread_locked(session, Evaluation, evaluation.id)


def add_revision(
    session: Session,
    evaluation: Evaluation,
    *,
    kind: str,
    answers: Mapping[str, Any],
    actor: Actor,
    reason: str | None = None,
    dispute_id: int | None = None,
    retracted: bool = False,
    now: datetime | None = None,
) -> Evaluation:
    """Score `answers` on the evaluation's form and make them its current revision.

    The caller holds the evaluation's lock (`lock_evaluation`). An amendment, and a
    dispute's accepted answers, reinstate a retracted evaluation.
    """
    try:
        score = form_rules.score_evaluation(parsed_form(evaluation.form), answers)
    except RuleError as error:
        raise Invalid(N_("the answers do not fit the form"), {"answers": error.errors}) from None
    if kind in ("decision", "arbitration"):
        retracted = False  # an accepted dispute says the audit stands, with these answers
    now = now or utcnow()
    columns = scored_columns(answers, score, retracted=retracted)
    evaluation.revision += 1
    evaluation.revised_at = now
    for name, value in columns.items():
        setattr(evaluation, name, value)
    session.add(
        EvaluationRevision(
            evaluation_id=evaluation.id,
            revision=evaluation.revision,
            kind=kind,
            reason=reason,
            dispute_id=dispute_id,
            created_at=now,
            created_by=actor.recorded_user_id,
            **columns,
        )
    )
    session.flush()
    return evaluation


def hold(evaluation: Evaluation, dispute_id: int | None) -> None:
    """Mark the dispute that waits on an evaluation (None: none waits any more)."""
    evaluation.held_by_dispute_id = dispute_id


def settle(evaluation: Evaluation, questions: Iterable[str]) -> None:
    """Mark questions a dispute decided: no amendment or later dispute changes them."""
    evaluation.settled_questions = sorted(set(evaluation.settled_questions) | set(questions))
