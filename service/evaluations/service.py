"""Submitting and reading evaluations."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Select, Table, column, insert, literal, select, text, tuple_
from sqlalchemy import table as table_clause
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from contracts import forms as form_rules
from contracts.errors import RuleError
from contracts.periods import Period
from contracts.terms import AUDIT_SOURCES
from contracts.text import said
from service.agreements.models import Contract
from service.agreements.service import (
    get_contract,
    lock_contracts,
    period_of,
    terms_for_period,
    timeline_of,
    visible_contracts,
)
from service.database.engine import copy_rows, reread_locked, upsert_statement, utcnow
from service.edge.actors import Actor
from service.edge.errors import Conflict, Forbidden, Invalid, NotFound
from service.edge.paging import Page, count, page_of
from service.evaluations.models import SCORED_COLUMNS, Evaluation, EvaluationRevision
from service.forms.models import Form
from service.forms.service import ScoringForm, find_form, parsed_form, scoring_form_of
from service.notices.service import enqueue_for_both

# The one source each role may submit; admins may submit any (third_party only through them).
ROLE_SOURCE = {"supplier": "supplier", "client": "client"}
# Who authored an evaluation of each source, and so may amend it, retract it and decide its
# disputes (DESIGN 12).
AUTHOR_ROLE = {"supplier": "supplier", "client": "client", "third_party": "admin"}


@dataclass
class Submission:
    """The outcome of a submission: ids in input order, and which were new."""

    ids: list[int] = field(default_factory=list)
    created: int = 0
    unchanged: int = 0


def submit_evaluation(
    *, session: Session, actor: Actor, record: Mapping[str, Any]
) -> tuple[Evaluation, bool]:
    """Score and store one evaluation; return it and whether it is new.

    Its problems name its fields at the top of the body (`errors.json.answers.tone`).
    """
    outcome = _submit(session, actor, {0: record}, {}, 1, lambda errors: errors[0])
    evaluation = get_evaluation(session=session, actor=actor, evaluation_id=outcome.ids[0])
    return evaluation, outcome.created == 1


def submit_evaluations(
    *,
    session: Session,
    actor: Actor,
    records: Mapping[int, Mapping[str, Any]],
    errors: dict[int, Any] | None = None,
    size: int | None = None,
    now: datetime | None = None,
) -> Submission:
    """Score and store evaluations, all or nothing.

    `records` are loaded records by input index; `errors` holds the indexes already found bad.
    Every remaining problem is added by index (`errors.json.evaluations.3.answers.tone`), and
    if any record is bad nothing is stored. `now` stamps them (the demo's months, made after
    the fact, are evaluated on their own days).
    """
    size = size if size is not None else len(records)
    return _submit(
        session, actor, records, dict(errors or {}), size, lambda bad: {"evaluations": bad}, now
    )


def _submit(
    session: Session,
    actor: Actor,
    records: Mapping[int, Mapping[str, Any]],
    errors: dict[int, Any],
    size: int,
    named: Callable[[dict[int, Any]], dict[Any, Any]],
    now: datetime | None = None,
) -> Submission:
    """Store records all or nothing; `named` puts the errors found by index where they belong."""
    contracts = _contracts_for(session, actor, records)
    rows = _scored_rows(session, actor, records, contracts, errors, now or utcnow())
    _refuse_repeats(rows, errors)
    if errors:
        # The batch is refused already; say which of its good records conflict, too.
        _settle(session, rows, _stored(session, rows.values()), errors)
        raise Invalid("no evaluation was stored: fix every record listed", named(errors))

    outcome = Submission(ids=[0] * size)
    inserted = _insert_new(session, rows.values())
    outcome.created = len(inserted)
    for index, row in rows.items():
        outcome.ids[index] = inserted.get(_key(row), 0)
    already = {index: row for index, row in rows.items() if _key(row) not in inserted}
    if already:
        conflicts: dict[int, Any] = {}
        _settle(session, already, _stored(session, already.values()), conflicts)
        if conflicts:
            # Raising rolls the request back, the rows inserted above included.
            raise Conflict(
                "evaluations with these calls are stored with other content", named(conflicts)
            )
        for index, row in already.items():
            outcome.ids[index] = row["id"]
        outcome.unchanged = len(already)
    return outcome


Key = tuple[int, str, str]


def _scored_rows(
    session: Session,
    actor: Actor,
    records: Mapping[int, Mapping[str, Any]],
    contracts: Mapping[int, Contract],
    errors: dict[int, Any],
    now: datetime,
) -> dict[int, dict[str, Any]]:
    """Score each record on the form its terms name; record each problem by index."""
    forms: dict[tuple[int, str], ScoringForm | None] = {}
    rows: dict[int, dict[str, Any]] = {}
    for index, record in records.items():
        form, problem, period = _form_of(session, contracts[record["contract_id"]], record, forms)
        if form is None:
            errors[index] = {"form": [problem]}
            continue
        try:
            score = form_rules.score_evaluation(form.parsed, record["answers"])
        except RuleError as error:
            errors[index] = {"answers": error.errors}
            continue
        rows[index] = _row(actor, record, form.stored, score, now) | {"period": str(period)}
    return rows


def _form_of(
    session: Session,
    contract: Contract,
    record: Mapping[str, Any],
    forms: dict[tuple[int, str], ScoringForm | None],
) -> tuple[ScoringForm | None, str, Period]:
    """Return the record's form if it is the one its terms name (else why not), and its month."""
    period, named = _form_of_the_terms(contract, record["call_at"])
    if record["form"] != named:
        return None, f"the terms of contract {contract.id} for {period} name form {named}", period
    key = (contract.client_id, named)
    if key not in forms:
        found = find_form(session, contract.client_id, named)
        forms[key] = None if found is None else scoring_form_of(found)
    return forms[key], f"the client publishes no form {named}", period


def _form_of_the_terms(contract: Contract, call_at: datetime) -> tuple[Period, str]:
    """Return the call's period and the form (`code@version`) its terms in force name."""
    period = period_of(contract, call_at)
    return period, terms_for_period(contract, period).form_ref


def _key(row: Mapping[str, Any]) -> Key:
    return (row["contract_id"], row["call_ref"], row["source"])


def _refuse_repeats(rows: dict[int, dict[str, Any]], errors: dict[int, Any]) -> None:
    """Refuse a record that repeats an earlier record's call and source in the same batch."""
    first: dict[Key, int] = {}
    for index, row in list(rows.items()):
        earlier = first.setdefault(_key(row), index)
        if earlier != index:
            errors[index] = {"call_ref": [f"repeats record {earlier} of this batch"]}
            del rows[index]


def _insert_new(session: Session, rows: Iterable[dict[str, Any]]) -> dict[Key, int]:
    """Insert the rows whose call and source are new, in one statement; return their ids.

    Rows already stored are skipped by the key's unique constraint itself (on a partitioned
    table, by the trigger that keeps the key: so the conflict names no target), and no
    lookup runs first. A batch on PostgreSQL is copied into a staging table first: `COPY`
    moves it in one stream, and one `INSERT ... SELECT` merges it.
    """
    rows = list(rows)
    if not rows:
        return {}
    table = cast(Table, Evaluation.__table__)
    returned = (table.c.id, table.c.contract_id, table.c.call_ref, table.c.source)
    if session.get_bind().dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        result = _merge_staged(session, rows, returned)
    else:
        statement = upsert_statement(session, table).on_conflict_do_nothing().returning(*returned)
        result = session.execute(statement, rows)
    inserted = {(contract, call, source): id_ for id_, contract, call, source in result}
    _record_submissions(session, list(inserted.values()))
    return inserted


# Batches this size and larger go through COPY on PostgreSQL; smaller ones cost less inline.
COPY_FROM = 20
DOCUMENTS = {"answers", "section_scores"}


def _merge_staged(session: Session, rows: list[dict[str, Any]], returned: Any) -> Any:
    """Copy rows into a temporary twin of `evaluations` and insert the new ones from it."""
    names = list(rows[0])  # every row has the columns `_row` makes
    session.execute(
        text(
            f"CREATE TEMPORARY TABLE evaluation_staging ON COMMIT DROP AS "
            f"SELECT {', '.join(names)} FROM evaluations WITH NO DATA"
        )
    )
    copy_rows(
        session.connection(),
        "evaluation_staging",
        names,
        ([json.dumps(row[n]) if n in DOCUMENTS else row[n] for n in names] for row in rows),
    )
    table = cast(Table, Evaluation.__table__)
    staged = table_clause("evaluation_staging", *(column(name) for name in names))
    statement = (
        postgresql.insert(table)
        .from_select(names, select(staged))
        .on_conflict_do_nothing()
        .returning(*returned)
    )
    result = session.execute(statement).all()
    session.execute(text("DROP TABLE evaluation_staging"))
    return result


def _record_submissions(session: Session, ids: list[int]) -> None:
    """Keep each new evaluation as its revision 1, copied in SQL from the rows just stored."""
    if not ids:
        return
    scored = [getattr(Evaluation, name) for name in SCORED_COLUMNS]
    copied = select(
        Evaluation.id,
        Evaluation.revision,
        literal("submission"),
        Evaluation.created_at,
        Evaluation.created_by,
        *scored,
    ).where(Evaluation.id.in_(ids))
    names = ["evaluation_id", "revision", "kind", "created_at", "created_by", *SCORED_COLUMNS]
    session.execute(insert(EvaluationRevision).from_select(names, copied))


def _stored(session: Session, rows: Iterable[Mapping[str, Any]]) -> dict[Key, tuple[int, str]]:
    """Return the id and content hash of stored evaluations with the rows' calls and sources."""
    keys = [_key(row) for row in rows]
    if not keys:
        return {}
    found = session.execute(
        select(
            Evaluation.contract_id,
            Evaluation.call_ref,
            Evaluation.source,
            Evaluation.id,
            Evaluation.content_hash,
        ).where(tuple_(Evaluation.contract_id, Evaluation.call_ref, Evaluation.source).in_(keys))
    )
    return {
        (contract, call, source): (id_, digest) for contract, call, source, id_, digest in found
    }


def _settle(
    session: Session,
    rows: Mapping[int, dict[str, Any]],
    stored: Mapping[Key, tuple[int, str]],
    errors: dict[int, Any],
) -> None:
    """Give rows stored with the same content their id; record the others as conflicts."""
    for index, row in rows.items():
        match = stored.get(_key(row))
        if match is None:
            continue
        evaluation_id, content_hash = match
        if content_hash == row["content_hash"]:
            row["id"] = evaluation_id
        else:
            errors[index] = {
                "call_ref": [
                    f"evaluation {evaluation_id} is stored for this call with other content; "
                    f"amend it (POST /api/v1/evaluations/{evaluation_id}/revisions)"
                ],
                "stored_id": evaluation_id,
            }


def _contracts_for(
    session: Session, actor: Actor, records: Mapping[int, Mapping[str, Any]]
) -> dict[int, Contract]:
    """Check the caller may submit every record: 404 outside its contracts, 403 for its role."""
    wanted = {record["contract_id"] for record in records.values()}
    found = session.scalars(visible_contracts(actor).where(Contract.id.in_(wanted))).all()
    lock_contracts(session, [contract.id for contract in found], "evaluations")
    contracts = {contract.id: contract for contract in found}
    for index, record in records.items():
        if record["contract_id"] not in contracts:
            raise NotFound(f"no such contract {record['contract_id']} (record {index})")
    if not actor.is_admin:
        allowed = ROLE_SOURCE.get(actor.role)
        if allowed is None:
            raise Forbidden(f"the {actor.role} role does not submit evaluations")
        for index, record in records.items():
            if record["source"] != allowed:
                raise Forbidden(
                    f"a {actor.role} submits only {allowed}-source evaluations "
                    f"(record {index} is {record['source']})"
                )
    return contracts


def _row(
    actor: Actor, record: Mapping[str, Any], form: Form, score: form_rules.Score, now: datetime
) -> dict[str, Any]:
    call_at = record["call_at"].astimezone(UTC)
    content = {
        "agent_ref": record["agent_ref"],
        "team": record.get("team"),
        "call_at": call_at.isoformat(),
        "form": record["form"],
        "answers": record["answers"],
        "evaluator_ref": record.get("evaluator_ref"),
        "comment": record.get("comment"),
    }
    digest = hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return {
        "contract_id": record["contract_id"],
        "call_ref": record["call_ref"],
        "source": record["source"],
        "agent_ref": record["agent_ref"],
        "team": record.get("team"),
        "call_at": call_at,
        "form_id": form.id,
        "answers": record["answers"],
        "evaluator_ref": record.get("evaluator_ref"),
        "comment": record.get("comment"),
        **scored_columns(record["answers"], score),
        "content_hash": digest,
        "created_by": actor.recorded_user_id,
        "created_at": now,
        "revised_at": now,
    }


def scored_columns(
    answers: Mapping[str, Any], score: form_rules.Score, *, retracted: bool = False
) -> dict[str, Any]:
    """Return the stored columns of an answer set and its score (see `models.Scored`)."""
    categories = set(score.critical_errors)
    return {
        "answers": dict(answers),
        "score_hundredths": None if score.score is None else int(score.score * 100),
        "passed": score.passed,
        "critical_customer": "customer" in categories,
        "critical_business": "business" in categories,
        "critical_compliance": "compliance" in categories,
        "section_scores": {
            key: None if value is None else f"{value:.2f}"
            for key, value in score.section_scores.items()
        },
        "retracted": retracted,
    }


@dataclass(frozen=True, slots=True)
class Preview:
    """What an answer set scores, stored nowhere: the score, or the questions still open."""

    form: Form
    score: form_rules.Score | None
    missing: list[str]


def scoring_form(
    *, session: Session, actor: Actor, contract_id: int, call_at: datetime
) -> ScoringForm:
    """Return the form a call of a contract is scored on: the one its month's terms name.

    Only those who may submit evaluations of the contract ask (404 elsewhere, 403 by role).
    """
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    if not actor.is_admin and actor.role not in ROLE_SOURCE:
        raise Forbidden(f"the {actor.role} role does not submit evaluations")
    period, named = _form_of_the_terms(contract, call_at)
    form = find_form(session, contract.client_id, named)
    if form is None:
        raise Invalid(
            "the terms name a form that is not published",
            {"call_at": [f"the terms for {period} name form {named}, which is not published"]},
        )
    return scoring_form_of(form)


def preview_evaluation(
    *,
    session: Session,
    actor: Actor,
    contract_id: int,
    call_at: datetime,
    answers: Mapping[str, Any],
) -> Preview:
    """Score answers as a submission would, storing nothing (the page's live score).

    Questions not answered yet are listed, and no score is given until every one is; any
    other problem is refused naming its question, as the submission would refuse it.
    """
    form = scoring_form(session=session, actor=actor, contract_id=contract_id, call_at=call_at)
    missing = [key for key in form.parsed.question_keys() if key not in answers]
    try:
        score = form_rules.score_evaluation(form.parsed, answers)
    except RuleError as error:
        problems = {key: found for key, found in error.errors.items() if key not in missing}
        if problems:
            raise Invalid("the answers do not fit the form", {"answers": problems}) from None
        return Preview(form.stored, None, missing)
    return Preview(form.stored, score, [])


def get_evaluation(*, session: Session, actor: Actor, evaluation_id: int) -> Evaluation:
    """Return an evaluation of a contract the caller may see."""
    visible = visible_contracts(actor).with_only_columns(Contract.id)
    evaluation = session.scalar(
        select(Evaluation).where(
            Evaluation.id == evaluation_id, Evaluation.contract_id.in_(visible)
        )
    )
    if evaluation is None:
        raise NotFound("no such evaluation")
    return evaluation


def evaluations_query(
    *,
    session: Session,
    actor: Actor,
    contract_id: int | None = None,
    period: Period | None = None,
    source: str | None = None,
    agent_ref: str | None = None,
) -> Select[Evaluation]:
    """Select the evaluations the caller may see, filtered; a period is each contract's month."""
    query = select(Evaluation)
    if contract_id is not None:
        get_contract(session=session, actor=actor, contract_id=contract_id)  # 404 outside
        query = query.where(Evaluation.contract_id == contract_id)
    else:
        visible = visible_contracts(actor).with_only_columns(Contract.id)
        query = query.where(Evaluation.contract_id.in_(visible))
    if period is not None:
        query = query.where(Evaluation.period == str(period))
    if source is not None:
        query = query.where(Evaluation.source == source)
    if agent_ref is not None:
        query = query.where(Evaluation.agent_ref == agent_ref)
    return query


def evaluations_page(
    *, session: Session, actor: Actor, number: int, size: int, **filters: Any
) -> Page[Evaluation]:
    """Return page `number` of the visible evaluations, newest call first (for the pages)."""
    query = evaluations_query(session=session, actor=actor, **filters)
    return page_of(session, query, number, size, Evaluation.call_at.desc(), Evaluation.id.desc())


def list_evaluations(
    *, session: Session, actor: Actor, first: int, size: int, **filters: Any
) -> tuple[list[Evaluation], int]:
    """Return a page of the visible evaluations (oldest call first) and how many there are."""
    query = evaluations_query(session=session, actor=actor, **filters)
    page = query.order_by(Evaluation.call_at, Evaluation.id).offset(first).limit(size)
    return list(session.scalars(page)), count(session, query)


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
            "an amendment changes the answers",
            {"answers": [f"the same as revision {evaluation.revision}"]},
        )
    settled = {
        question: ["a dispute decided this answer; it changes no more"]
        for question in evaluation.settled_questions
        if answers.get(question) != evaluation.answers.get(question)
    }
    if settled:
        raise Invalid("an amendment keeps what disputes decided", {"answers": settled})
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
            f"evaluation {evaluation.id} is already retracted",
            {"evaluation_id": [f"retracted at revision {evaluation.revision}"]},
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
            f"dispute {evaluation.held_by_dispute_id} of this evaluation is waiting for a "
            "verdict; it changes the evaluation when decided",
            {"evaluation_id": [f"held by dispute {evaluation.held_by_dispute_id}"]},
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
    timeline = timeline_of(contract, Period.parse(evaluation.period))
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
            f"evaluation {audit} audits this call: the self-assessment stands beside it",
            {"evaluation_id": [f"the call is audited by evaluation {audit}"]},
            location="path",
        )


def require_author(actor: Actor, evaluation: Evaluation, verb: str) -> None:
    """Refuse with 403 unless the caller is the evaluation's author side."""
    author = AUTHOR_ROLE[evaluation.source]
    if actor.role != author:
        side = "an admin" if author == "admin" else f"the {author}"
        raise Forbidden(f"only {side} {verb} a {evaluation.source}-source evaluation")


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
        raise Invalid("the answers do not fit the form", {"answers": error.errors}) from None
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


def list_revisions(
    *, session: Session, actor: Actor, evaluation_id: int
) -> list[EvaluationRevision]:
    """Return every revision of a visible evaluation, oldest first."""
    evaluation = get_evaluation(session=session, actor=actor, evaluation_id=evaluation_id)
    query = (
        select(EvaluationRevision)
        .where(EvaluationRevision.evaluation_id == evaluation.id)
        .order_by(EvaluationRevision.revision)
    )
    return list(session.scalars(query))
