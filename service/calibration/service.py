"""Calibration sessions: open one, score its calls blind, close it and measure the agreement.

Blindness is kept here, in one place: while a session is open, `scores_seen` gives a caller its
own scores and nobody else's, and every view, page and error is made from what it returns.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from contracts import agreement as rules
from contracts import forms
from contracts.errors import RuleError
from contracts.periods import Period
from contracts.terms import Terms
from service.accounts.models import User
from service.agreements.models import Contract
from service.agreements.service import (
    contract_timezone,
    get_contract,
    period_of,
    terms_for_period,
    visible_contracts,
)
from service.calibration.models import (
    CalibrationCall,
    CalibrationParticipant,
    CalibrationScore,
    CalibrationSession,
)
from service.calls.models import Call
from service.database.engine import utcnow
from service.edge.actors import OPERATOR, Actor
from service.edge.errors import Conflict, Forbidden, Invalid, NotFound
from service.evaluations.models import Evaluation
from service.forms.models import Form
from service.forms.service import find_form, parsed_form
from service.notices.service import enqueue_for_both


def side_of(user: User, contract: Contract) -> str | None:
    """Return the side a user scores for in a contract's session (None: it may not take part).

    Finance reads and never scores: only the client role speaks for the client.
    """
    if user.role == "admin":
        return "third_party"
    if user.role == "client" and user.organization_id == contract.client_id:
        return "client"
    if user.role == "supplier" and user.organization_id == contract.supplier_id:
        return "supplier"
    return None


# Opening a session


@dataclass(frozen=True, slots=True)
class Draft:
    """What a client asks for when it opens a session."""

    title: str
    calls: Sequence[str]
    participants: Sequence[int]
    reference: int | None = None
    closes_at: datetime | None = None


def open_session(
    *,
    session: Session,
    actor: Actor,
    contract_id: int,
    draft: Draft,
    now: datetime | None = None,
) -> CalibrationSession:
    """Open a blind session on calls of a contract (its client or an admin).

    Every problem is named by its field (`participants.2`, `calls.0`, `reference`).
    """
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    actor.require("client")
    now = now or utcnow()
    errors: dict[str, Any] = {}
    calls, form = _calls_of(session, contract, draft.calls, errors)
    sides = _participants_of(session, contract, draft.participants, errors)
    if draft.reference is not None and draft.reference not in draft.participants:
        errors["reference"] = ["the reference must be one of the participants"]
    if draft.closes_at is not None and draft.closes_at <= now:
        errors["closes_at"] = ["must be in the future"]
    if errors or form is None:
        raise Invalid("the session was not opened: fix every field listed", errors)
    opened = CalibrationSession(
        contract_id=contract.id,
        title=draft.title,
        status="open",
        reference_id=draft.reference,
        form_id=form.id,
        seed=secrets.randbelow(2**63),
        closes_at=draft.closes_at,
        created_at=now,
        created_by=actor.recorded_user_id,
    )
    opened.calls = [
        CalibrationCall(call_ref=ref, position=index, call_at=calls[ref])
        for index, ref in enumerate(draft.calls)
    ]
    opened.participants = [
        CalibrationParticipant(user_id=user_id, position=index, side=sides[user_id])
        for index, user_id in enumerate(draft.participants)
    ]
    session.add(opened)
    session.flush()
    enqueue_for_both(session, _parties(contract), _notice("calibration.opened", opened), now)
    return opened


def _calls_of(
    session: Session, contract: Contract, refs: Sequence[str], errors: dict[str, Any]
) -> tuple[dict[str, datetime], Form | None]:
    """Return when each call happened (from the log, else from an evaluation of it) and the
    one form all of them are scored on; record each problem by the call's index."""
    logged = dict(
        session.execute(
            select(Call.call_ref, Call.call_at).where(
                Call.contract_id == contract.id, Call.call_ref.in_(set(refs))
            )
        ).all()
    )
    evaluated = dict(
        session.execute(
            select(Evaluation.call_ref, func.min(Evaluation.call_at))
            .where(Evaluation.contract_id == contract.id, Evaluation.call_ref.in_(set(refs)))
            .group_by(Evaluation.call_ref)
        ).all()
    )
    found: dict[str, datetime] = {}
    problems: dict[int, list[str]] = {}
    named: dict[str, str] = {}
    for index, ref in enumerate(refs):
        call_at = logged.get(ref) or evaluated.get(ref)
        if ref in found:
            problems[index] = ["this call is listed twice"]
        elif call_at is None:
            problems[index] = [f"contract {contract.id} has no logged or evaluated call {ref}"]
        else:
            found[ref] = call_at
            period = period_of(contract, call_at)
            named[ref] = terms_for_period(contract, period).form_ref
            first = next(iter(named.values()))
            if named[ref] != first:
                problems[index] = [
                    f"its month's terms name form {named[ref]}, the session's first call's {first}:"
                    " a session scores every call on one form"
                ]
    if problems:
        errors["calls"] = problems
    form = None
    if named and not problems:
        ref = next(iter(named.values()))
        form = find_form(session, contract.client_id, ref)
        if form is None:
            errors["calls"] = {0: [f"the terms name form {ref}, which is not published"]}
    return found, form


def _participants_of(
    session: Session, contract: Contract, user_ids: Sequence[int], errors: dict[str, Any]
) -> dict[int, str]:
    """Return each participant's side; record each one who may not take part by index."""
    users = {
        user.id: user for user in session.scalars(select(User).where(User.id.in_(set(user_ids))))
    }
    sides: dict[int, str] = {}
    problems: dict[int, list[str]] = {}
    for index, user_id in enumerate(user_ids):
        user = users.get(user_id)
        side = None if user is None or not user.active else side_of(user, contract)
        if user_id in sides:
            problems[index] = ["this participant is listed twice"]
        elif side is None:
            problems[index] = [
                "a participant is an active client or supplier user of the contract, or an admin"
            ]
        else:
            sides[user_id] = side
    if problems:
        errors["participants"] = problems
    return sides


def _parties(contract: Contract) -> tuple[int, int]:
    return contract.client_id, contract.supplier_id


def _notice(event: str, opened: CalibrationSession) -> dict[str, Any]:
    """Return a session's notice: what it is, and once closed its alpha (never a score)."""
    payload: dict[str, Any] = {
        "event": event,
        "session_id": opened.id,
        "contract_id": opened.contract_id,
        "title": opened.title,
        "calls": len(opened.calls),
        "participants": len(opened.participants),
        "closes_at": opened.closes_at.isoformat() if opened.closes_at else None,
    }
    if event == "calibration.closed":
        found = opened.agreement or {}
        payload |= {
            "closed_at": opened.closed_at.isoformat() if opened.closed_at else None,
            "alpha": found.get("alpha"),
            "ci": found.get("ci"),
        }
    return payload


# Reading sessions


def visible_sessions(actor: Actor) -> Select[CalibrationSession]:
    """Select the sessions of the contracts the caller may see."""
    contracts = visible_contracts(actor).with_only_columns(Contract.id)
    return select(CalibrationSession).where(CalibrationSession.contract_id.in_(contracts))


def get_calibration(*, session: Session, actor: Actor, session_id: int) -> CalibrationSession:
    """Return a session the caller may see, or 404."""
    found = session.scalar(visible_sessions(actor).where(CalibrationSession.id == session_id))
    if found is None:
        raise NotFound("no such calibration session")
    return found


def list_calibrations(
    *, session: Session, actor: Actor, contract_id: int | None = None
) -> list[CalibrationSession]:
    """List the sessions the caller may see, newest first; a contract it may not see is 404."""
    query = visible_sessions(actor)
    if contract_id is not None:
        get_contract(session=session, actor=actor, contract_id=contract_id)
        query = query.where(CalibrationSession.contract_id == contract_id)
    return list(session.scalars(query.order_by(CalibrationSession.id.desc())))


def scores_seen(
    session: Session, actor: Actor, calibration: CalibrationSession
) -> list[CalibrationScore]:
    """Return the scores of a session the caller may see: while it is open, its own only."""
    query = select(CalibrationScore).where(CalibrationScore.session_id == calibration.id)
    if calibration.is_open:
        query = query.where(CalibrationScore.user_id == actor.user_id)
    return list(session.scalars(query.order_by(CalibrationScore.id)))


def finished(session: Session, calibration: CalibrationSession) -> set[int]:
    """Return the participants who have scored every call (this much is no one's secret)."""
    counts = session.execute(
        select(CalibrationScore.user_id, func.count())
        .where(CalibrationScore.session_id == calibration.id)
        .group_by(CalibrationScore.user_id)
    ).all()
    return {user_id for user_id, count in counts if count == len(calibration.calls)}


@dataclass(frozen=True, slots=True)
class View:
    """A session as one caller may see it."""

    calibration: CalibrationSession
    scores: list[CalibrationScore]
    finished: set[int]
    participant: bool
    form_ref: str

    @property
    def agreement(self) -> dict[str, Any] | None:
        return None if self.calibration.is_open else self.calibration.agreement


def view_of(session: Session, actor: Actor, calibration: CalibrationSession) -> View:
    """Return what a caller sees of a session (blind while it is open)."""
    return View(
        calibration,
        scores_seen(session, actor, calibration),
        finished(session, calibration),
        _participant(calibration, actor) is not None,
        _form_ref(session, calibration),
    )


def _form_ref(session: Session, calibration: CalibrationSession) -> str:
    form = session.get(Form, calibration.form_id)
    assert form is not None
    return f"{form.code}@{form.version}"


def _participant(calibration: CalibrationSession, actor: Actor) -> CalibrationParticipant | None:
    return next((p for p in calibration.participants if p.user_id == actor.user_id), None)


# Scoring


def _scorer(
    session: Session, actor: Actor, session_id: int
) -> tuple[CalibrationSession, CalibrationParticipant]:
    """Return an open session, locked, and the caller's place in it: 404 if it may not see
    it, 403 if it does not take part, 409 once closed."""
    calibration = get_calibration(session=session, actor=actor, session_id=session_id)
    if actor.role == "finance":
        raise Forbidden("the finance role does not score calls")
    participant = _participant(calibration, actor)
    if participant is None:
        raise Forbidden("only the session's participants score its calls")
    _lock(session, calibration)
    if not calibration.is_open:
        raise Conflict(
            "the session is closed and never changes",
            {"session_id": [f"session {calibration.id} closed at {calibration.closed_at}"]},
            location="path",
        )
    return calibration, participant


def _lock(session: Session, calibration: CalibrationSession) -> None:
    """Hold the session's row until commit: scores and the close never cross."""
    session.execute(
        select(CalibrationSession.id)
        .where(CalibrationSession.id == calibration.id)
        .with_for_update()
    ).all()
    session.refresh(calibration, ["status"])


def _scored(
    session: Session, calibration: CalibrationSession, call_ref: str, answers: Mapping[str, Any]
) -> forms.Score:
    """Score answers for a call of the session on the session's form, as an evaluation is."""
    if call_ref not in {call.call_ref for call in calibration.calls}:
        raise Invalid(
            "the call is not in the session",
            {"call_ref": [f"not a call of session {calibration.id}"]},
        )
    form = session.get(Form, calibration.form_id)
    assert form is not None  # a session's form is published, and a form is never deleted
    try:
        return forms.score_evaluation(parsed_form(form), answers)
    except RuleError as error:
        raise Invalid("the answers do not fit the form", {"answers": error.errors}) from None


def _own(
    session: Session, calibration: CalibrationSession, user_id: int, call_ref: str
) -> CalibrationScore | None:
    return session.scalar(
        select(CalibrationScore).where(
            CalibrationScore.session_id == calibration.id,
            CalibrationScore.user_id == user_id,
            CalibrationScore.call_ref == call_ref,
        )
    )


def _write(row: CalibrationScore, answers: Mapping[str, Any], score: forms.Score) -> None:
    row.answers = dict(answers)
    row.score_hundredths = None if score.score is None else int(score.score * 100)
    row.passed = score.passed
    row.critical_errors = list(score.critical_errors)
    row.section_scores = {
        key: None if value is None else f"{value:.2f}"
        for key, value in score.section_scores.items()
    }


def submit_score(
    *,
    session: Session,
    actor: Actor,
    session_id: int,
    call_ref: str,
    answers: Mapping[str, Any],
    now: datetime | None = None,
) -> tuple[CalibrationScore, bool]:
    """Store a participant's score of a call; return it and whether it is new.

    The same answers again are the stored score; other answers are a 409 (amend with PUT).
    """
    calibration, participant = _scorer(session, actor, session_id)
    score = _scored(session, calibration, call_ref, answers)
    stored = _own(session, calibration, participant.user_id, call_ref)
    if stored is not None:
        if stored.answers == dict(answers):
            return stored, False
        raise Conflict(
            "you scored this call already, with other answers",
            {"call_ref": [f"your score {stored.id} of {call_ref} differs: amend it with PUT"]},
        )
    now = now or utcnow()
    row = CalibrationScore(
        session_id=calibration.id,
        call_ref=call_ref,
        user_id=participant.user_id,
        created_at=now,
        revised_at=now,
    )
    _write(row, answers, score)
    session.add(row)
    session.flush()
    return row, True


def amend_score(
    *,
    session: Session,
    actor: Actor,
    session_id: int,
    call_ref: str,
    answers: Mapping[str, Any],
    now: datetime | None = None,
) -> CalibrationScore:
    """Replace a participant's own score of a call while the session is open."""
    calibration, participant = _scorer(session, actor, session_id)
    score = _scored(session, calibration, call_ref, answers)
    stored = _own(session, calibration, participant.user_id, call_ref)
    if stored is None:
        raise NotFound(
            "you have not scored this call", {"call_ref": [f"no score of yours for {call_ref}"]}
        )
    _write(stored, answers, score)
    stored.revised_at = now or utcnow()
    session.flush()
    return stored


# Closing


def close_session(
    *, session: Session, actor: Actor, session_id: int, now: datetime | None = None
) -> CalibrationSession:
    """Close a session and measure its agreement, once (the client's side or an admin)."""
    calibration = get_calibration(session=session, actor=actor, session_id=session_id)
    actor.require("client")
    _lock(session, calibration)
    if not calibration.is_open:
        raise Conflict(
            "the session is already closed",
            {"session_id": [f"session {calibration.id} closed at {calibration.closed_at}"]},
            location="path",
        )
    return _close(session, calibration, actor, now or utcnow())


def _close(
    session: Session, calibration: CalibrationSession, actor: Actor, now: datetime
) -> CalibrationSession:
    calibration.agreement = measured(session, calibration)
    calibration.status = "closed"
    calibration.closed_at = now
    calibration.closed_by = actor.recorded_user_id
    session.flush()
    contract = calibration.contract
    enqueue_for_both(session, _parties(contract), _notice("calibration.closed", calibration), now)
    return calibration


def close_due(
    session: Session, now: datetime | None = None, *, session_id: int | None = None
) -> int:
    """Close the open sessions (or the one named) whose closing time has come, as the
    scheduler does; return how many closed."""
    now = now or utcnow()
    query = select(CalibrationSession).where(
        CalibrationSession.status == "open", CalibrationSession.closes_at <= now
    )
    if session_id is not None:
        query = query.where(CalibrationSession.id == session_id)
    closed = 0
    for calibration in session.scalars(query.order_by(CalibrationSession.id)).all():
        _lock(session, calibration)
        if calibration.is_open:
            _close(session, calibration, OPERATOR, now)
            closed += 1
    return closed


def measured(session: Session, calibration: CalibrationSession) -> dict[str, Any]:
    """Measure a session's agreement from every score of it (see contracts.agreement)."""
    form = session.get(Form, calibration.form_id)
    assert form is not None
    rules_form = parsed_form(form)
    scores = session.scalars(
        select(CalibrationScore).where(CalibrationScore.session_id == calibration.id)
    ).all()
    by_cell = {(score.call_ref, score.user_id): score for score in scores}
    people = calibration.participants
    rows = [[by_cell.get((call.call_ref, p.user_id)) for p in people] for call in calibration.calls]
    totals = [[None if cell is None else cell.score for cell in row] for row in rows]
    answers = [[None if cell is None else cell.answers for cell in row] for row in rows]
    reference = next(
        (i for i, p in enumerate(people) if p.user_id == calibration.reference_id), None
    )
    found = rules.agreement(rules_form, totals, answers, reference, calibration.seed)
    scored = [i for i, p in enumerate(people) if any(row[i] is not None for row in totals)]
    return {
        "level": "interval",
        "alpha": _text(found.alpha.value),
        "alpha_reason": found.alpha.reason,
        "ci": None
        if found.interval.low is None or found.interval.high is None
        else [_text(found.interval.low), _text(found.interval.high)],
        "ci_reason": found.interval.reason,
        "seed": str(found.interval.seed),
        "resamples": found.interval.resamples,
        "calls": sum(sum(v is not None for v in row) >= 2 for row in totals),
        "participants_scored": len(scored),
        "sides": sorted({people[i].side for i in scored}),
        "questions": [
            {
                "question": each.question,
                "level": each.level,
                "alpha": _text(each.alpha),
                "reason": each.reason,
                "disagreement": _text(each.disagreement),
                "differs": [
                    {"user_id": p.user_id, "share": _text(share)}
                    for p, share in zip(people, each.differs, strict=True)
                ],
            }
            for each in found.questions
        ],
        "participants": [
            {
                "user_id": p.user_id,
                "name": p.user.name,
                "side": p.side,
                "calls_scored": deviation.calls_scored,
                "deviation": _text(deviation.deviation),
            }
            for p, deviation in zip(people, found.deviations, strict=True)
        ],
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


# The gate on a month's money


def records_of(
    session: Session, contracts: Sequence[Contract], until: datetime
) -> dict[int, list[rules.SessionRecord]]:
    """Return each contract's sessions closed before `until`, as the gate weighs them."""
    found: dict[int, list[rules.SessionRecord]] = defaultdict(list)
    ids = [contract.id for contract in contracts]
    zones = {contract.id: ZoneInfo(contract_timezone(contract)) for contract in contracts}
    closed = session.scalars(
        select(CalibrationSession).where(
            CalibrationSession.contract_id.in_(ids),
            CalibrationSession.status == "closed",
            CalibrationSession.closed_at < until,
        )
    )
    for calibration in closed:
        assert calibration.closed_at is not None and calibration.agreement is not None
        agreed = calibration.agreement
        found[calibration.contract_id].append(
            rules.SessionRecord(
                session_id=calibration.id,
                closed_at=calibration.closed_at.isoformat(),
                closed_on=calibration.closed_at.astimezone(zones[calibration.contract_id]).date(),
                alpha=None if agreed["alpha"] is None else Decimal(agreed["alpha"]),
                ci=None
                if agreed["ci"] is None
                else (Decimal(agreed["ci"][0]), Decimal(agreed["ci"][1])),
                calls=agreed["calls"],
                participants=agreed["participants_scored"],
                sides=frozenset(agreed["sides"]),
            )
        )
    return found


def standing(
    session: Session, contract: Contract, period: Period, terms: Terms
) -> rules.Standing | None:
    """Judge a contract's month by its calibration under `terms` (None: they ask for none)."""
    return standings(session, [contract], period, {contract.id: terms})[contract.id]


def standings(
    session: Session,
    contracts: Sequence[Contract],
    period: Period,
    terms: Mapping[int, Terms] | None = None,
) -> dict[int, rules.Standing | None]:
    """Judge each contract's month by its calibration, under the terms in force (or given)."""
    chosen = {
        contract.id: (terms or {}).get(contract.id) or terms_for_period(contract, period).terms
        for contract in contracts
    }
    gated = [c for c in contracts if (q := chosen[c.id].quality) and q.calibration]
    if not gated:
        return {contract.id: None for contract in contracts}
    latest = max(period.bounds(chosen[c.id].timezone)[1] for c in gated)
    records = records_of(session, gated, latest)
    judged: dict[int, rules.Standing | None] = {contract.id: None for contract in contracts}
    last_day = period.end_day - timedelta(days=1)
    for contract in gated:
        quality = chosen[contract.id].quality
        assert quality is not None and quality.calibration is not None
        # The gate counts a session by the day it closed in the contract's time zone.
        judged[contract.id] = rules.standing(
            quality.calibration, records[contract.id], period.first_day, last_day
        )
    return judged
