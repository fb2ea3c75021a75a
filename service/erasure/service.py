"""The agents' personal data in a contract (DESIGN 18): what is stored about one agent (GDPR
art. 15), and its erasure (art. 17), at once for one agent or by retention for old months.

Erasure keeps what the money and the samples rest on: scores, answers, the revisions' and the
disputes' structure, statements and samples. It turns each agent's reference into its
pseudonym (the one the client may already read) and empties the free texts (comments, dispute
reasons, revision reasons). Pseudonyms are one to one within a contract, so a sample drawn per
agent draws the same again, and no statement holds an agent.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from contracts.periods import Period
from service.agreements.models import Contract
from service.agreements.service import get_contract, lock_contracts
from service.calls.models import Call, CallSample, SampledCall
from service.database.engine import writing
from service.database.stamps import touch
from service.disputes.models import Dispute, DisputeItem, DisputeStep
from service.edge.actors import Actor
from service.edge.downloads import File, as_cell
from service.erasure.models import PrivacyRequest
from service.evaluations.models import Evaluation, EvaluationRevision
from service.privacy.policy import pseudonym

# The agents' references erasure turns into pseudonyms, by table.
REFERENCES: tuple[tuple[Any, str], ...] = (
    (Call, "agent_ref"),
    (SampledCall, "agent_ref"),
    (Evaluation, "agent_ref"),
)
# The callers' references, pseudonymized when a month's personal data is erased (retention),
# not when one agent's is: a caller is not the agent's data. The pseudonym keeps one caller's
# calls together, so the month's repeat contacts read the same.
CALLERS: tuple[tuple[Any, str], ...] = ((Call, "caller_ref"),)
# The free texts erasure empties, by table.
TEXTS: tuple[tuple[Any, str], ...] = (
    (Evaluation, "comment"),
    (EvaluationRevision, "reason"),
    (Dispute, "comment"),
    (DisputeItem, "reason"),
    (DisputeItem, "decision_reason"),
    (DisputeItem, "arbitration_reason"),
    (DisputeStep, "reason"),
)
log = logging.getLogger(__name__)
BATCH_MONTHS = 12  # contract months one retention transaction erases at most


def _owner(actor: Actor) -> None:
    """Refuse (403) any but the supplier and admins: access and erasure are the employer's."""
    actor.require("supplier")


@dataclass(frozen=True, slots=True)
class Scope:
    """What one erasure covers: a contract's rows of one agent, or of some months."""

    contract: Contract
    agent_refs: tuple[str, ...] | None = None  # None: every agent of the months
    periods: tuple[Period, ...] | None = None  # None: every month

    def where(self, model: Any) -> ColumnElement[bool]:
        """Return the condition that picks a table's rows of the scope."""
        if model is SampledCall:
            samples = select(CallSample.id).where(CallSample.contract_id == self.contract.id)
            if self.periods is not None:
                samples = samples.where(CallSample.period.in_(self.periods))
            return and_(SampledCall.sample_id.in_(samples), *self._agent(SampledCall.agent_ref))
        if model in (Call, Evaluation):
            conditions = [model.contract_id == self.contract.id, *self._agent(model.agent_ref)]
            if self.periods is not None:
                conditions.append(model.period.in_(self.periods))
            return and_(*conditions)
        evaluations = select(Evaluation.id).where(self.where(Evaluation))
        if model is EvaluationRevision:
            return EvaluationRevision.evaluation_id.in_(evaluations)
        disputes = select(Dispute.id).where(Dispute.evaluation_id.in_(evaluations))
        if model is Dispute:
            return Dispute.id.in_(disputes)
        return model.dispute_id.in_(disputes)  # a dispute's items and steps

    def _agent(self, column: Any) -> list[ColumnElement[bool]]:
        return [] if self.agent_refs is None else [column.in_(self.agent_refs)]


def erase(session: Session, scope: Scope) -> dict[str, int]:
    """Pseudonymize the references and empty the free texts of a scope; return how many rows
    of each table changed. Idempotent: what is erased already is left as it is."""
    key = scope.contract.privacy_key
    counts: dict[str, int] = {}
    _touch_months(session, scope)
    references = REFERENCES if scope.agent_refs is not None else REFERENCES + CALLERS
    for model, name in references:
        column = getattr(model, name)
        found = session.scalars(select(column).where(scope.where(model)).distinct())
        for ref in sorted({ref for ref in found if ref}):  # "": an abandoned call, no agent
            renamed = pseudonym(key, ref)
            if renamed == ref:
                continue  # erased already
            changed = _changed(
                session,
                update(model)
                .where(scope.where(model), column == ref)
                .values({name: renamed})
                .execution_options(synchronize_session=False),
            )
            label = f"{model.__tablename__}.{name}"
            counts[label] = counts.get(label, 0) + changed
    for model, name in TEXTS:
        column = getattr(model, name)
        changed = _changed(
            session,
            update(model)
            .where(scope.where(model), column.is_not(None), column != "")
            .values({name: ""})
            .execution_options(synchronize_session=False),
        )
        if changed:
            counts[f"{model.__tablename__}.{name}"] = changed
    return counts


def _touch_months(session: Session, scope: Scope) -> None:
    """Say which months' inputs the erasure rewrites (their stored figures are read again)."""
    for model in (Call, Evaluation):
        months = session.scalars(select(model.period).where(scope.where(model)).distinct())
        touch(session, [(scope.contract.id, month) for month in months])


def _changed(session: Session, statement: Any) -> int:
    """Run an UPDATE and return how many rows it changed."""
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return int(result.rowcount)


def erase_agent(
    *, session: Session, actor: Actor, contract_id: int, agent_ref: str
) -> PrivacyRequest:
    """Pseudonymize everything stored about one agent of a contract at once, and record it."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    _owner(actor)
    lock_contracts(session, [contract.id], "calls")  # one writer of the contract's log at a time
    alias = pseudonym(contract.privacy_key, agent_ref)
    counts = erase(session, Scope(contract, agent_refs=(agent_ref,)))
    request = PrivacyRequest(
        contract_id=contract.id,
        kind="erasure",
        pseudonym=alias,
        made_by=actor.recorded_user_id,
        counts=counts,
    )
    session.add(request)
    session.flush()
    return request


def retention_cutoff(now: datetime, months: int) -> Period:
    """Return the first month whose personal data is kept: older months are erased once
    `months` months have passed since they ended."""
    cutoff = Period.of(now.date())
    for _ in range(months):
        cutoff = cutoff.previous()
    return cutoff


def months_to_erase(session: Session, cutoff: Period) -> list[tuple[int, Period]]:
    """Return the contract months before `cutoff` that still hold personal data, in SQL: an
    agent's or a caller's reference that is no pseudonym, or a comment not emptied."""
    found: set[tuple[int, Period]] = set()
    for model in (Evaluation, Call):
        # "": an abandoned call has no agent.
        personal: ColumnElement[bool] = and_(
            model.agent_ref != "", model.agent_ref.not_like("op-%")
        )
        if model is Call:
            personal = or_(personal, Call.caller_ref.not_like("op-%"))  # null: no caller
        if model is Evaluation:
            commented = and_(Evaluation.comment.is_not(None), Evaluation.comment != "")
            personal = or_(personal, commented)
        query = (
            select(model.contract_id, model.period)
            .where(model.period < cutoff, personal)
            .distinct()
        )
        found |= {(contract_id, period) for contract_id, period in session.execute(query)}
    disputed = (
        select(Dispute.contract_id, Dispute.period)
        .where(Dispute.period < cutoff, Dispute.comment.is_not(None), Dispute.comment != "")
        .distinct()
    )
    found |= {(contract_id, period) for contract_id, period in session.execute(disputed)}
    return sorted(found)


def erase_months(session: Session, contract_id: int, periods: Iterable[Period]) -> dict[str, int]:
    """Erase some months of a contract (retention): every agent of them, every free text."""
    contract = session.get(Contract, contract_id)
    assert contract is not None, "a contract month found in the database has its contract"
    lock_contracts(session, [contract.id], "calls")
    return erase(session, Scope(contract, periods=tuple(periods)))


def batches(months: list[tuple[int, Period]]) -> Iterator[tuple[int, list[Period]]]:
    """Yield a contract's months to erase in one transaction, at most BATCH_MONTHS at a time."""
    by_contract: dict[int, list[Period]] = {}
    for contract_id, period in months:
        by_contract.setdefault(contract_id, []).append(period)
    for contract_id, periods in sorted(by_contract.items()):
        for start in range(0, len(periods), BATCH_MONTHS):
            yield contract_id, periods[start : start + BATCH_MONTHS]


# What access returns, table by table: the rows of one agent and the columns shown of each.
ACCESS_COLUMNS: dict[str, tuple[str, ...]] = {
    "calls": ("call_ref", "call_at", "period", "agent_ref", "team", "queue", "direction",
              "duration_s", "logged_at"),
    "sampled_calls": ("sample_id", "purpose", "call_ref", "agent_ref", "rank_key"),
    "evaluations": ("id", "call_ref", "source", "agent_ref", "team", "call_at", "period",
                    "evaluator_ref", "comment", "answers", "score_hundredths", "passed",
                    "revision", "retracted", "created_at"),
    "evaluation_revisions": ("evaluation_id", "revision", "kind", "reason", "answers",
                             "score_hundredths", "retracted", "created_at"),
    "disputes": ("id", "evaluation_id", "period", "status", "outcome", "comment", "opened_at"),
    "dispute_items": ("dispute_id", "question", "proposed_answer", "reason",
                      "decision_accepted", "decision_reason", "arbitration_accepted",
                      "arbitration_reason"),
    "dispute_steps": ("dispute_id", "step", "at", "reason"),
}  # fmt: skip
ACCESS_TABLES: dict[str, Any] = {
    "calls": Call,
    "sampled_calls": SampledCall,
    "evaluations": Evaluation,
    "evaluation_revisions": EvaluationRevision,
    "disputes": Dispute,
    "dispute_items": DisputeItem,
    "dispute_steps": DisputeStep,
}
ORDER = {
    "calls": ("call_at", "call_ref"),
    "sampled_calls": ("sample_id", "purpose", "rank_key"),
    "evaluations": ("call_at", "id"),
    "evaluation_revisions": ("evaluation_id", "revision"),
    "disputes": ("id",),
    "dispute_items": ("dispute_id", "position"),
    "dispute_steps": ("dispute_id", "at", "id"),
}


@dataclass(frozen=True, slots=True)
class AgentData:
    """Everything stored about one agent in one contract, table by table."""

    contract_id: int
    agent_ref: str
    pseudonym: str
    tables: dict[str, list[dict[str, Any]]]


def agent_data(
    *, session: Session, actor: Actor, contract_id: int, agent_ref: str, format: str = "json"
) -> AgentData:
    """Return everything stored about one agent of a contract (under its reference, or its
    pseudonym once erased), and record the access."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    _owner(actor)
    alias = pseudonym(contract.privacy_key, agent_ref)
    scope = Scope(contract, agent_refs=tuple(sorted({agent_ref, alias})))
    tables = {}
    for name, model in ACCESS_TABLES.items():
        columns = [getattr(model, column) for column in ACCESS_COLUMNS[name]]
        query = (
            select(*columns)
            .where(scope.where(model))
            .order_by(*(getattr(model, column) for column in ORDER[name]))
        )
        tables[name] = [
            {column: _plain(value) for column, value in zip(ACCESS_COLUMNS[name], row, strict=True)}
            for row in session.execute(query)
        ]
    session.add(
        PrivacyRequest(
            contract_id=contract.id,
            kind="access",
            pseudonym=alias,
            format=format,
            made_by=actor.recorded_user_id,
            counts={name: len(rows) for name, rows in tables.items()},
        )
    )
    session.flush()
    return AgentData(contract.id, agent_ref, alias, tables)


def _plain(value: Any) -> Any:
    """Return a stored value as JSON carries it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Period):
        return str(value)
    return value


def agent_data_zip(data: AgentData) -> File:
    """Return an agent's data as a zip of CSV files, one per table (cells never formulas)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in data.tables.items():
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow(ACCESS_COLUMNS[name])
            for row in rows:
                writer.writerow([as_cell(_cell(row[column])) for column in ACCESS_COLUMNS[name]])
            archive.writestr(f"{name}.csv", text.getvalue())
    return File(buffer.getvalue(), f"agent-{data.pseudonym}-contract-{data.contract_id}.zip")


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def list_requests(*, session: Session, actor: Actor) -> list[PrivacyRequest]:
    """List every access and erasure request, newest first (admins only)."""
    actor.require()
    query = select(PrivacyRequest).order_by(PrivacyRequest.made_at.desc(), PrivacyRequest.id.desc())
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class RetentionRun:
    """What one retention run erased: the contract months, and the rows changed per column."""

    months: int
    counts: dict[str, int]


def run_retention(factory: sessionmaker[Session], months: int, now: datetime) -> RetentionRun:
    """Erase the personal data of every contract month older than `months` months, a batch
    of months per transaction (one failing contract does not stop the others); idempotent."""
    with factory() as session:
        due = months_to_erase(session, retention_cutoff(now, months))
    counts: dict[str, int] = {}
    done = 0
    for contract_id, periods in batches(due):
        try:
            with writing(factory) as session:
                erased = erase_months(session, contract_id, periods)
        except SQLAlchemyError:
            log.exception("retention of contract %s failed; the next run tries again", contract_id)
            counts["failed_months"] = counts.get("failed_months", 0) + len(periods)
            continue
        for name, changed in erased.items():
            counts[name] = counts.get(name, 0) + changed
        done += len(periods)
    return RetentionRun(done, counts)
