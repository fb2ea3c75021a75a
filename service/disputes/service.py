"""Disputes of audits (DESIGN 12): who may take each step, and storing it with its thread.

What a step may do is `contracts.disputes`; this module checks who takes it, on which
dispute, under which lock, and stores the result: the dispute, its step, the revision its
accepted questions make, and the notices to both organizations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, selectinload

from contracts import disputes as dispute_rules
from contracts.errors import RuleError
from contracts.forms import score_evaluation
from contracts.periods import Period
from contracts.terms import AUDIT_SOURCES, Terms
from contracts.text import said
from service.agreements.models import Contract
from service.agreements.service import (
    get_contract,
    lock_contracts,
    period_of,
    terms_for_period,
    visible_contracts,
)
from service.database.engine import reread_locked, utcnow
from service.disputes.models import Dispute, DisputeItem, DisputeStep
from service.edge.actors import Actor
from service.edge.errors import Conflict, Forbidden, Invalid, NotFound, nest_errors
from service.edge.paging import Page, count, page_of
from service.evaluations import revisions
from service.evaluations.models import Evaluation
from service.evaluations.reads import get_evaluation
from service.forms.service import parsed_form
from service.language.i18n import N_
from service.notices.service import enqueue_for_both


def open_dispute(
    *,
    session: Session,
    actor: Actor,
    evaluation_id: int,
    items: Sequence[Mapping[str, Any]],
    comment: str | None = None,
    now: datetime | None = None,
) -> Dispute:
    """Dispute questions of an audit of the supplier's own contract, within the window."""
    evaluation = get_evaluation(session=session, actor=actor, evaluation_id=evaluation_id)
    if actor.role != "supplier":
        raise Forbidden(N_("only the supplier of the contract disputes its audits"))
    if evaluation.source not in AUDIT_SOURCES:
        raise Invalid(
            N_("only audits are disputed"),
            {"evaluation_id": [N_("a supplier-source evaluation is the supplier's own: amend it")]},
            location="path",
        )
    now = now or utcnow()
    contract = _contract_of(session, evaluation)
    lock_contracts(session, [contract.id], "disputes")  # the monthly cap is counted once
    evaluation = revisions.lock_evaluation(session, evaluation)
    period = period_of(contract, evaluation.call_at)
    terms = terms_for_period(contract, period).terms
    _check_disputable(session, evaluation, terms, period, now)
    contested = _contested(evaluation, items)
    ruled = _ruled(lambda: dispute_rules.open_dispute(contested, now, terms.disputes))
    dispute = Dispute(
        evaluation_id=evaluation.id,
        contract_id=contract.id,
        period=period,
        comment=comment,
        opened_at=now,
        decide_by=ruled.decide_by,
        items=[
            DisputeItem(
                position=index,
                question=item.question,
                proposed_answer=item.proposed_answer,
                reason=item.reason,
            )
            for index, item in enumerate(ruled.items)
        ],
    )
    session.add(dispute)
    session.flush()
    revisions.hold(evaluation, dispute.id)
    _record(
        session, dispute, "opened", actor, now, evaluation, comment, evaluation.score_hundredths
    )
    return dispute


def _check_disputable(
    session: Session, evaluation: Evaluation, terms: Terms, period: Period, now: datetime
) -> None:
    """Refuse an audit already disputed, past its window, or past the monthly cap.

    A retracted audit may be disputed too: a client must not drop the audits it dislikes
    unseen. An accepted dispute reinstates it with the answers accepted.
    """
    if evaluation.held_by_dispute_id is not None:
        raise Conflict(
            said(
                "dispute %(id)s of this evaluation is still waiting",
                id=evaluation.held_by_dispute_id,
            ),
            {
                "evaluation_id": [
                    said("already disputed by dispute %(id)s", id=evaluation.held_by_dispute_id)
                ]
            },
            location="path",
        )
    closes = dispute_rules.window_closes(evaluation.revised_at, terms.dispute_window_days)
    if now > closes:
        raise Invalid(
            N_("the dispute window of this evaluation is over"),
            {
                "evaluation_id": [
                    said("the dispute window closed at %(when)s", when=closes.isoformat())
                ]
            },
            location="path",
        )
    cap = terms.disputes.max_per_month
    if cap is not None:
        opened = session.scalar(
            select(func.count())
            .select_from(Dispute)
            .where(Dispute.contract_id == evaluation.contract_id, Dispute.period == period)
        )
        if (opened or 0) >= cap:
            raise Invalid(
                N_("the monthly cap of disputes is reached"),
                {
                    "items": [
                        said(
                            "the terms allow %(cap)s disputes for %(period)s;"
                            " %(opened)s are opened",
                            cap=cap,
                            period=period,
                            opened=opened,
                        )
                    ]
                },
            )


def disputable_until(
    session: Session, actor: Actor, evaluation: Evaluation, now: datetime | None = None
) -> datetime | None:
    """Return when the caller's window to dispute an audit closes, or None if it may not now.

    What `open_dispute` checks but the monthly cap, so that a page offers the form only
    where it can succeed.
    """
    if actor.role != "supplier" or evaluation.source not in AUDIT_SOURCES:
        return None
    if evaluation.held_by_dispute_id is not None:
        return None
    contract = _contract_of(session, evaluation)
    terms = terms_for_period(contract, period_of(contract, evaluation.call_at)).terms
    closes = dispute_rules.window_closes(evaluation.revised_at, terms.dispute_window_days)
    return closes if (now or utcnow()) <= closes else None


def _contested(
    evaluation: Evaluation, items: Sequence[Mapping[str, Any]]
) -> list[dispute_rules.Item]:
    """Check each contested question exists, is not settled, and its proposed answer is valid
    and new (a retracted audit's current answers may be proposed: reinstate it as it was)."""
    form = parsed_form(evaluation.form)
    problems: dict[str, list[str]] = {}
    proposed = dict(evaluation.answers)
    for index, item in enumerate(items):
        question, answer = item["question"], item["proposed_answer"]
        if question not in form.question_keys():
            problems[f"items.{index}.question"] = [f"form {form.ref} has no question {question}"]
        elif question in evaluation.settled_questions:
            problems[f"items.{index}.question"] = [
                "an earlier dispute decided it; escalate that dispute instead"
            ]
        elif answer == evaluation.answers.get(question) and not evaluation.retracted:
            problems[f"items.{index}.proposed_answer"] = ["is the current answer"]
        else:
            proposed[question] = answer
    try:
        score_evaluation(form, proposed)
    except RuleError as error:
        for index, item in enumerate(items):
            if item["question"] in error.errors:
                problems[f"items.{index}.proposed_answer"] = error.errors[item["question"]]
    if problems:
        raise Invalid(N_("the dispute names questions it cannot"), nest_errors(problems))
    return [
        dispute_rules.Item(item["question"], item["proposed_answer"], item["reason"])
        for item in items
    ]


def decide(
    *,
    session: Session,
    actor: Actor,
    dispute_id: int,
    items: Sequence[Mapping[str, Any]],
    now: datetime | None = None,
) -> Dispute:
    """Decide every contested question (the audit's author side); accepted ones revise it."""
    dispute = _locked(session, actor, dispute_id)
    revisions.require_author(actor, dispute.evaluation, "decides the disputes of")
    now = now or utcnow()
    terms = _terms_of(session, dispute)
    ruled = _ruled(
        lambda: dispute_rules.decide(_rule(dispute), _verdicts(items), now, terms.disputes)
    )
    accepted = [item for item in ruled.items if item.decision and item.decision.accepted]
    return _settle(session, dispute, ruled, "decided", actor, now, accepted)


def escalate(
    *, session: Session, actor: Actor, dispute_id: int, reason: str, now: datetime | None = None
) -> Dispute:
    """Take a dispute to an admin (the supplier): a decision that rejected a question, or one
    nobody decided by its deadline."""
    dispute = _locked(session, actor, dispute_id)
    if actor.role != "supplier":
        raise Forbidden(N_("only the supplier escalates its disputes"))
    now = now or utcnow()
    ruled = _ruled(lambda: dispute_rules.escalate(_rule(dispute), now))
    evaluation = revisions.lock_evaluation(session, dispute.evaluation)
    if evaluation.held_by_dispute_id not in (None, dispute.id):
        raise Conflict(
            said("dispute %(id)s of this evaluation is waiting", id=evaluation.held_by_dispute_id),
            {
                "dispute_id": [
                    said("dispute %(id)s waits on the evaluation", id=evaluation.held_by_dispute_id)
                ]
            },
            location="path",
        )
    _store(dispute, ruled)
    revisions.hold(evaluation, dispute.id)
    _record(
        session, dispute, "escalated", actor, now, evaluation, reason, evaluation.score_hundredths
    )
    return dispute


def arbitrate(
    *,
    session: Session,
    actor: Actor,
    dispute_id: int,
    items: Sequence[Mapping[str, Any]],
    now: datetime | None = None,
) -> Dispute:
    """Rule on every question the decision did not accept (an admin); final."""
    dispute = _locked(session, actor, dispute_id)
    actor.require("admin")
    now = now or utcnow()
    ruled = _ruled(lambda: dispute_rules.arbitrate(_rule(dispute), _verdicts(items)))
    accepted = [item for item in ruled.items if item.arbitration and item.arbitration.accepted]
    return _settle(session, dispute, ruled, "arbitrated", actor, now, accepted)


def withdraw(
    *, session: Session, actor: Actor, dispute_id: int, now: datetime | None = None
) -> Dispute:
    """Withdraw an open dispute (the supplier)."""
    dispute = _locked(session, actor, dispute_id)
    if actor.role != "supplier":
        raise Forbidden(N_("only the supplier withdraws its disputes"))
    ruled = _ruled(lambda: dispute_rules.withdraw(_rule(dispute)))
    return _settle(session, dispute, ruled, "withdrawn", actor, now or utcnow(), [])


def next_steps(actor: Actor, dispute: Dispute, now: datetime | None = None) -> frozenset[str]:
    """Return the steps the caller may take on a dispute now: what a page offers.

    The roles are those the steps above require; the states are the rules' own.
    """
    steps: set[str] = set()
    if dispute.status == "open":
        if actor.role == revisions.AUTHOR_ROLE[dispute.evaluation.source]:
            steps.add("decide")
        if actor.role == "supplier":
            steps.add("withdraw")
    if dispute.status == "escalated" and actor.is_admin:
        steps.add("arbitrate")
    if dispute.status in ("open", "decided") and actor.role == "supplier":
        # nothing was rejected, it is too late, or a decision is not overdue yet
        with suppress(RuleError, dispute_rules.IllegalStep):
            dispute_rules.escalate(_rule(dispute), now or utcnow())
            steps.add("escalate")
    return frozenset(steps)


def _settle(
    session: Session,
    dispute: Dispute,
    ruled: dispute_rules.Dispute,
    step: str,
    actor: Actor,
    now: datetime,
    accepted: Sequence[dispute_rules.Item],
) -> Dispute:
    """Store a step that ends a wait: the accepted answers become one revision."""
    evaluation = revisions.lock_evaluation(session, dispute.evaluation)
    before = evaluation.score_hundredths
    _store(dispute, ruled)
    revisions.hold(evaluation, None)
    revisions.settle(evaluation, _decided_now(dispute, ruled))
    if accepted:
        answers = dict(evaluation.answers)
        answers.update({item.question: item.proposed_answer for item in accepted})
        revisions.add_revision(
            session,
            evaluation,
            kind="decision" if step == "decided" else "arbitration",
            answers=answers,
            actor=actor,
            dispute_id=dispute.id,
            now=now,
        )
    _record(session, dispute, step, actor, now, evaluation, None, before)
    return dispute


def _decided_now(dispute: Dispute, ruled: dispute_rules.Dispute) -> list[str]:
    """Return the questions this step decided or arbitrated (none for a withdrawal)."""
    if ruled.status == "decided":
        return [item.question for item in ruled.items]
    if ruled.status == "arbitrated":
        return [item.question for item in ruled.items if item.arbitration is not None]
    return []


def _record(
    session: Session,
    dispute: Dispute,
    step: str,
    actor: Actor,
    now: datetime,
    evaluation: Evaluation,
    reason: str | None,
    before: int | None,
) -> None:
    """Add a step to the thread with the score before and after it; tell both parties."""
    dispute.steps.append(
        DisputeStep(
            step=step,
            at=now,
            by=actor.recorded_user_id,
            reason=reason,
            score_before_hundredths=before,
            score_after_hundredths=evaluation.score_hundredths,
            revision=evaluation.revision,
        )
    )
    session.flush()
    contract = session.get_one(Contract, dispute.contract_id)
    enqueue_for_both(
        session,
        (contract.client_id, contract.supplier_id),
        dispute_notice(dispute, step, evaluation),
        now,
    )


def dispute_notice(dispute: Dispute, step: str, evaluation: Evaluation) -> dict[str, Any]:
    """Return the JSON notice of a dispute's step."""
    return {
        "event": f"dispute.{step}",
        "dispute_id": dispute.id,
        "evaluation_id": dispute.evaluation_id,
        "contract_id": dispute.contract_id,
        "period": str(dispute.period),
        "status": dispute.status,
        "outcome": dispute.outcome,
        "revision": evaluation.revision,
        "score": None if evaluation.score is None else str(evaluation.score),
    }


def _rule(dispute: Dispute) -> dispute_rules.Dispute:
    """Return the rules' view of a stored dispute."""
    return dispute_rules.Dispute(
        status=cast(dispute_rules.Status, dispute.status),  # the database checks the value
        items=tuple(
            dispute_rules.Item(
                question=item.question,
                proposed_answer=item.proposed_answer,
                reason=item.reason,
                decision=_verdict(item.question, item.decision_accepted, item.decision_reason),
                arbitration=_verdict(
                    item.question, item.arbitration_accepted, item.arbitration_reason
                ),
            )
            for item in dispute.items
        ),
        opened_at=dispute.opened_at,
        decide_by=dispute.decide_by,
        decided_at=dispute.decided_at,
        escalate_by=dispute.escalate_by,
    )


def _verdict(
    question: str, accepted: bool | None, reason: str | None
) -> dispute_rules.Verdict | None:
    return None if accepted is None else dispute_rules.Verdict(question, accepted, reason or "")


def _store(dispute: Dispute, ruled: dispute_rules.Dispute) -> None:
    """Write the rules' new state of a dispute back to its rows."""
    dispute.status = ruled.status
    dispute.outcome = ruled.outcome
    dispute.decided_at = ruled.decided_at
    dispute.escalate_by = ruled.escalate_by
    for row, item in zip(dispute.items, ruled.items, strict=True):
        if item.decision is not None:
            row.decision_accepted = item.decision.accepted
            row.decision_reason = item.decision.reason
        if item.arbitration is not None:
            row.arbitration_accepted = item.arbitration.accepted
            row.arbitration_reason = item.arbitration.reason


def _verdicts(items: Sequence[Mapping[str, Any]]) -> list[dispute_rules.Verdict]:
    return [
        dispute_rules.Verdict(item["question"], item["accepted"], item["reason"]) for item in items
    ]


def _ruled(step: Callable[[], dispute_rules.Dispute]) -> dispute_rules.Dispute:
    """Take a step of the rules: an illegal one is a 409 naming the status, a bad one a 422."""
    try:
        return step()
    except dispute_rules.IllegalStep as illegal:
        raise Conflict(
            str(illegal),
            {"status": [said("the dispute is %(status)s", status=illegal.status)]},
            location="path",
        ) from None
    except RuleError as error:
        raise Invalid(N_("the dispute step breaks a rule"), nest_errors(error.errors)) from None


def _contract_of(session: Session, evaluation: Evaluation) -> Contract:
    return session.get_one(Contract, evaluation.contract_id)


def _terms_of(session: Session, dispute: Dispute) -> Terms:
    contract = session.get_one(Contract, dispute.contract_id)
    return terms_for_period(contract, dispute.period).terms


def _locked(session: Session, actor: Actor, dispute_id: int) -> Dispute:
    """Return a visible dispute re-read under its row lock (after its contract's), or 404.

    Two people deciding one dispute at once queue here: the second reads the first's
    status and is refused.
    """
    dispute = get_dispute(session=session, actor=actor, dispute_id=dispute_id)
    lock_contracts(session, [dispute.contract_id], "disputes")
    return reread_locked(session, Dispute, dispute.id)


def visible_disputes(actor: Actor) -> Select[Dispute]:
    """Select the disputes of the contracts the caller may see."""
    contracts = visible_contracts(actor).with_only_columns(Contract.id)
    return select(Dispute).where(Dispute.contract_id.in_(contracts))


def get_dispute(*, session: Session, actor: Actor, dispute_id: int) -> Dispute:
    """Return a dispute the caller may see, or 404."""
    dispute = session.scalar(visible_disputes(actor).where(Dispute.id == dispute_id))
    if dispute is None:
        raise NotFound(N_("no such dispute"))
    return dispute


def disputes_query(
    *,
    actor: Actor,
    contract_id: int | None = None,
    period: Period | None = None,
    status: Sequence[str] | str | None = None,
    evaluation_id: int | None = None,
) -> Select[Dispute]:
    """Select the visible disputes, filtered."""
    query = visible_disputes(actor)
    if contract_id is not None:
        query = query.where(Dispute.contract_id == contract_id)
    if period is not None:
        query = query.where(Dispute.period == period)
    if isinstance(status, str):
        query = query.where(Dispute.status == status)
    elif status is not None:
        query = query.where(Dispute.status.in_(status))
    if evaluation_id is not None:
        query = query.where(Dispute.evaluation_id == evaluation_id)
    return query


def list_disputes(
    *, session: Session, actor: Actor, first: int, size: int, **filters: Any
) -> tuple[list[Dispute], int]:
    """Return a page of the visible disputes (oldest first) and how many there are.

    A contract outside the caller's organization is a 404, as for every list of the API.
    """
    if filters.get("contract_id") is not None:
        get_contract(session=session, actor=actor, contract_id=filters["contract_id"])
    query = disputes_query(actor=actor, **filters)
    page = query.order_by(Dispute.opened_at, Dispute.id).offset(first).limit(size)
    return list(session.scalars(page)), count(session, query)


def disputes_page(
    *, session: Session, actor: Actor, number: int, size: int, **filters: Any
) -> Page[Dispute]:
    """Return page `number` of the visible disputes, the nearest deadline first (pages)."""
    query = disputes_query(actor=actor, **filters).options(selectinload(Dispute.items))
    deadline = case((Dispute.status == "open", Dispute.decide_by), else_=Dispute.escalate_by)
    return page_of(session, query, number, size, deadline, Dispute.id)


def disputes_of(session: Session, evaluation_id: int) -> list[Dispute]:
    """Return every dispute of an evaluation, oldest first (its page shows the threads)."""
    query = select(Dispute).where(Dispute.evaluation_id == evaluation_id).order_by(Dispute.id)
    return list(session.scalars(query))
