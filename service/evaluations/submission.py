"""Submitting evaluations, all or nothing, and scoring answers without storing them.

Each is scored on the form its month's terms name; the same content again answers with the
stored evaluation, other content is a 409 that points at it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, column, insert, literal, select, text, tuple_
from sqlalchemy import table as table_clause
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from contracts import forms as form_rules
from contracts.errors import RuleError
from contracts.periods import Period
from contracts.text import said
from service.agreements.models import Contract
from service.agreements.service import (
    get_contract,
    lock_contracts,
    period_of,
    terms_for_period,
    visible_contracts,
)
from service.database.engine import copy_rows, upsert_statement, utcnow
from service.database.stamps import touch
from service.edge.actors import Actor
from service.edge.errors import Conflict, Forbidden, Invalid, NotFound
from service.evaluations.models import SCORED_COLUMNS, Evaluation, EvaluationRevision
from service.evaluations.reads import get_evaluation
from service.forms.models import Form
from service.forms.service import ScoringForm, find_form, scoring_form_of
from service.language.i18n import N_

# The one source each role may submit; admins may submit any (third_party only through them).
ROLE_SOURCE = {"supplier": "supplier", "client": "client"}


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
        raise Invalid(N_("no evaluation was stored: fix every record listed"), named(errors))

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
                N_("evaluations with these calls are stored with other content"), named(conflicts)
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
    records = _agents_from_log(session, records, errors)
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
        rows[index] = _row(actor, record, form.stored, score, now) | {"period": period}
    return rows


MISSING = "Missing data for required field."
# The call log's agents, read as a plain table: the call log's domain reads evaluations, so
# this one does not import it back.
LOGGED_AGENTS = table_clause(
    "calls", column("contract_id"), column("call_ref"), column("agent_ref"), column("team")
)


def _agents_from_log(
    session: Session, records: Mapping[int, Mapping[str, Any]], errors: dict[int, Any]
) -> dict[int, Mapping[str, Any]]:
    """Give each record without an agent the agent (and team) its call is logged under: the
    client side audits a logged call without being shown its agent (DESIGN 18)."""
    wanted = {
        (record["contract_id"], record["call_ref"])
        for record in records.values()
        if record.get("agent_ref") is None
    }
    logged: dict[tuple[int, str], tuple[str, str | None]] = {}
    if wanted:
        columns = LOGGED_AGENTS.c
        query = select(
            columns.contract_id, columns.call_ref, columns.agent_ref, columns.team
        ).where(tuple_(columns.contract_id, columns.call_ref).in_(sorted(wanted)))
        logged = {(c, ref): (agent, team) for c, ref, agent, team in session.execute(query)}
    found: dict[int, Mapping[str, Any]] = {}
    for index, record in records.items():
        if record.get("agent_ref") is not None:
            found[index] = record
            continue
        log = logged.get((record["contract_id"], record["call_ref"]))
        if log is None:
            # As the schema says it: given or logged, an agent is required.
            errors[index] = {"agent_ref": [MISSING]}
            continue
        found[index] = {**record, "agent_ref": log[0], "team": record.get("team") or log[1]}
    return found


def _form_of(
    session: Session,
    contract: Contract,
    record: Mapping[str, Any],
    forms: dict[tuple[int, str], ScoringForm | None],
) -> tuple[ScoringForm | None, str, Period]:
    """Return the record's form if it is the one its terms name (else why not), and its month."""
    period, named = _form_of_the_terms(contract, record["call_at"])
    if record["form"] != named:
        problem = said(
            "the terms of contract %(contract)s for %(month)s name form %(form)s",
            contract=contract.id,
            month=period,
            form=named,
        )
        return None, problem, period
    key = (contract.client_id, named)
    if key not in forms:
        found = find_form(session, contract.client_id, named)
        forms[key] = None if found is None else scoring_form_of(found)
    return forms[key], said("the client publishes no form %(form)s", form=named), period


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
            errors[index] = {
                "call_ref": [said("repeats record %(record)s of this batch", record=earlier)]
            }
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
    touch(session, {(row["contract_id"], row["period"]) for row in rows})
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
# What COPY cannot take as the row holds it: documents go as JSON, the month as its text.
COPIED_AS: dict[str, Callable[[Any], str]] = {
    "answers": json.dumps,
    "section_scores": json.dumps,
    "period": str,
}


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
        ([COPIED_AS[n](row[n]) if n in COPIED_AS else row[n] for n in names] for row in rows),
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
                    said(
                        "evaluation %(id)s is stored for this call with other content; to change"
                        " it, amend its answers, giving a reason",
                        id=evaluation_id,
                    )
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
            raise NotFound(
                said(
                    "no such contract %(contract)s (record %(record)s)",
                    contract=record["contract_id"],
                    record=index,
                )
            )
    if not actor.is_admin:
        allowed = ROLE_SOURCE.get(actor.role)
        if allowed is None:
            raise Forbidden(said("the %(role)s role does not submit evaluations", role=actor.role))
        for index, record in records.items():
            if record["source"] != allowed:
                raise Forbidden(
                    said(
                        "a %(role)s submits only %(source)s-source evaluations"
                        " (record %(record)s is %(given)s)",
                        role=actor.role,
                        source=allowed,
                        record=index,
                        given=record["source"],
                    )
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
        raise Forbidden(said("the %(role)s role does not submit evaluations", role=actor.role))
    period, named = _form_of_the_terms(contract, call_at)
    form = find_form(session, contract.client_id, named)
    if form is None:
        raise Invalid(
            N_("the terms name a form that is not published"),
            {
                "call_at": [
                    said(
                        "the terms for %(month)s name form %(form)s, which is not published",
                        month=period,
                        form=named,
                    )
                ]
            },
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
            raise Invalid(N_("the answers do not fit the form"), {"answers": problems}) from None
        return Preview(form.stored, None, missing)
    return Preview(form.stored, score, [])
