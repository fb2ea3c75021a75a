"""Statements: drafts computed from the month's data, corrections carried once, finals frozen."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased, lazyload, selectinload

from contracts import payout, stats
from contracts.money import minor_unit
from contracts.periods import Period
from contracts.terms import Terms
from contracts.text import said
from service.agreements.models import Contract
from service.agreements.service import (
    PeriodTerms,
    checked_terms,
    get_contract,
    lock_contracts,
    terms_for_period,
    timeline_of,
    visible_contracts,
)
from service.calibration.service import standing
from service.calls.models import Call
from service.calls.samples import sample_of
from service.database.engine import utcnow
from service.disputes.figures import (
    DisputeFigures,
    dispute_figures,
)
from service.disputes.schemas import DisputeBasisDocument
from service.edge.actors import Actor
from service.edge.errors import Conflict, Invalid, NotFound
from service.edge.paging import Page, page_of
from service.evaluations.models import Evaluation
from service.figures.schemas import FiguresDocument
from service.figures.service import PeriodAggregate, aggregate_month, aggregate_period
from service.language.i18n import N_
from service.notices.service import enqueue
from service.statements.models import CarriedAdjustment, Statement
from service.statements.reasons import stored_lines
from service.surveys.kpis import month_service
from service.surveys.models import ClientCountChange, SurveyAnswer
from service.volumes.models import VolumeChange

PRIOR = payout.PRIOR_ADJUSTMENT


@dataclass(frozen=True, slots=True)
class Computed:
    """A statement as the rules compute it from an aggregate."""

    aggregate: PeriodAggregate
    figures: stats.Figures
    statement: payout.Statement


@dataclass(frozen=True, slots=True)
class Payout:
    """A computed statement as the API shows it, its lines worded as a statement stores them."""

    currency: str
    lines: list[dict[str, Any]]
    total: Decimal
    volume_only: Decimal


def payout_of(computed: Computed) -> Payout:
    """Return a computed statement with its lines worded under the terms it was computed with."""
    statement = computed.statement
    lines = stored_lines(statement, computed.aggregate.terms)
    return Payout(statement.currency, lines, statement.total, statement.volume_only)


@dataclass(frozen=True, slots=True)
class Simulation:
    """What draft terms would have paid for a period, beside what the actual terms pay."""

    period: Period
    simulated: Payout
    actual: Payout | None

    @property
    def difference(self) -> Decimal | None:
        return None if self.actual is None else self.simulated.total - self.actual.total


@dataclass(frozen=True, slots=True)
class Drafted:
    """A contract's draft as the close wrote it, with the month's dispute figures it read."""

    statement: Statement
    created: bool
    disputes: DisputeFigures


def refresh_drafts(
    session: Session, contracts: Sequence[Contract], period: Period, now: datetime
) -> dict[int, Drafted | None]:
    """Compute (or recompute) every contract's draft of an ended month at once, for the close.

    Set-based: the contracts are locked together, their statements read FOR UPDATE in one
    query, the month aggregated in one pass (its dispute figures with it), the finals whose
    corrections the drafts carry listed in one query, and the drafts written in one flush.
    A contract whose statement is final already gets None: it never changes.
    """
    ids = [contract.id for contract in contracts]
    lock_contracts(session, ids, "statement")
    for contract in contracts:
        _check_period(contract, period, now)
    existing = {
        statement.contract_id: statement
        for statement in session.scalars(
            _locked(
                select(Statement).where(Statement.contract_id.in_(ids), Statement.period == period)
            ).options(lazyload(Statement.contract), selectinload(Statement.carried))
        )
    }
    # (The contracts stay as loaded, with their terms: each statement finds its contract in
    # the session.)
    aggregates = aggregate_month(session, contracts, period)
    finals = _finals_by_contract(session, ids, period)
    drafted: dict[int, Drafted | None] = {}
    for contract in contracts:
        statement = existing.get(contract.id)
        if statement is not None and statement.is_final:
            drafted[contract.id] = None
            continue
        adjustments = _adjustments(session, contract, finals.get(contract.id, []))
        aggregate = aggregates[contract.id]
        computed = compute(session, contract, period, None, adjustments, aggregate=aggregate)
        created = statement is None
        if statement is None:
            statement = Statement(contract_id=contract.id, period=period, status="draft")
            session.add(statement)
        disputes = _disputes_of(aggregate)
        _store(statement, computed, disputes, now)
        drafted[contract.id] = Drafted(statement, created, disputes)
    session.flush()
    return drafted


def _disputes_of(aggregate: PeriodAggregate) -> DisputeFigures:
    """Return the month's dispute figures, as the month's one read counted them."""
    assert aggregate.disputes is not None, "aggregating a month counts its disputes"
    return aggregate.disputes


def compute(
    session: Session,
    contract: Contract,
    period: Period,
    terms: Terms | None = None,
    prior_adjustments: Sequence[payout.PriorAdjustment] = (),
    form_id: int | None = None,
    aggregate: PeriodAggregate | None = None,
) -> Computed:
    """Aggregate a contract's period in SQL (unless given) and apply the terms (those in
    force by default)."""
    aggregate = aggregate or aggregate_period(session, contract, period, terms, form_id)
    figures = stats.figures(aggregate.statistics)
    statement = payout.compute_statement(
        aggregate.terms,
        payout.PeriodFigures(
            units=aggregate.units,
            quality=figures,
            self_assessment=aggregate.self_assessment,
            sampling=aggregate.sampling,
            unlogged=aggregate.unlogged,
            calibration=standing(session, contract, period, aggregate.terms),
            service=(
                None
                if aggregate.terms.service is None
                else month_service(session, contract, period, aggregate.terms)
            ),
        ),
        prior_adjustments,
    )
    return Computed(aggregate, figures, statement)


def refresh_draft(
    *,
    session: Session,
    actor: Actor,
    contract_id: int,
    period: Period,
    now: datetime | None = None,
) -> tuple[Statement, bool]:
    """Compute (or recompute) a contract's draft of an ended period; return it and whether it
    is new. Clients, finance and admins may; the close does it as the operator when its
    set-based pass (`refresh_drafts`) failed, contract by contract.

    The contract and the statement are locked first (see `lock_contracts`), so a final
    statement is never overwritten and the stamp `computed_at` is taken once every input
    written before it is visible.
    """
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    actor.require("client", "finance")
    lock_contracts(session, [contract.id], "statement")
    now = now or utcnow()
    _check_period(contract, period, now)
    statement = session.scalar(
        _locked(
            select(Statement).where(
                Statement.contract_id == contract.id, Statement.period == period
            )
        )
    )
    if statement is not None and statement.is_final:
        raise Conflict(
            said(
                "the statement of %(month)s is final and never changes; corrections go into the"
                " next statement",
                month=period,
            ),
            {
                "period": [
                    said("statement %(id)s of %(month)s is final", id=statement.id, month=period)
                ]
            },
        )
    adjustments = prior_adjustments(session, contract, period)
    computed = compute(session, contract, period, None, adjustments)
    disputes = _disputes_of(computed.aggregate)
    created = statement is None
    if statement is None:
        statement = Statement(contract_id=contract.id, period=period, status="draft")
        session.add(statement)
    _store(statement, computed, disputes, now)
    session.flush()
    return statement, created


def lock_statement(session: Session, statement: Statement) -> Statement:
    """Re-read a statement under a row lock held until commit (SQLite: the write lock)."""
    return session.scalars(_locked(select(Statement).where(Statement.id == statement.id))).one()


def _locked(query: Select[Any]) -> Select[Any]:
    """Read the statement row afresh, locked FOR UPDATE until commit."""
    return query.with_for_update(of=Statement).execution_options(populate_existing=True)


def _check_period(contract: Contract, period: Period, now: datetime) -> None:
    first_terms = contract.terms_versions[0]
    if period.first_day < first_terms.effective_from:
        raise Invalid(
            N_("the contract had no terms then"),
            {
                "period": [
                    said("the contract's terms start on %(day)s", day=first_terms.effective_from)
                ]
            },
        )
    timezone = terms_for_period(contract, period).timezone
    _, end = period.bounds(timezone)
    if now < end:
        raise Invalid(
            N_("a statement is computed once its period has ended"),
            {
                "period": [
                    said(
                        "%(month)s ends at %(when)s (%(zone)s)",
                        month=period,
                        when=end.isoformat(),
                        zone=timezone,
                    )
                ]
            },
        )


# Amounts are stored in minor units as 64-bit integers.
MAX_MINOR = 2**63 - 1


def _store(
    statement: Statement, computed: Computed, disputes: DisputeFigures, now: datetime
) -> None:
    result = computed.statement
    exponent = minor_unit(result.currency)
    largest = max(abs(amount.scaleb(exponent)) for amount in (result.total, result.volume_only))
    if largest > MAX_MINOR:
        raise Invalid(
            N_("the statement's amounts are too large to store"),
            {
                "period": [
                    said(
                        "its total %(total)s %(currency)s is past what can be stored; check the"
                        " terms' prices and the volumes",
                        total=result.total,
                        currency=result.currency,
                    )
                ]
            },
        )
    statement.currency = result.currency
    statement.terms_version_id = computed.aggregate.terms_version_id
    # The basis says how the month's audits were contested, and which disputes still wait.
    statement.figures = FiguresDocument().dump(computed) | {
        "disputes": DisputeBasisDocument().dump(disputes)
    }
    statement.lines = stored_lines(result, computed.aggregate.terms)
    statement.carried = [
        CarriedAdjustment(
            corrects_id=line.basis["statement_id"], amount_minor=int(line.amount.scaleb(exponent))
        )
        for line in result.lines
        if line.code == PRIOR
    ]
    statement.total_minor = int(result.total.scaleb(exponent))
    statement.volume_only_minor = int(result.volume_only.scaleb(exponent))
    statement.computed_at = now


def prior_adjustments(
    session: Session, contract: Contract, period: Period
) -> list[payout.PriorAdjustment]:
    """Return the corrections of finalized periods that this period's statement carries.

    A final statement is recomputed with today's data when its inputs changed after it was
    computed; the difference not yet carried by a later statement becomes a line. The earliest
    statement still open after a final one carries it, so it is carried exactly once. What
    was carried so far is summed in SQL from the stored minor units (`CarriedAdjustment`).
    """
    finals = _finals_by_contract(session, [contract.id], period)
    return _adjustments(session, contract, finals.get(contract.id, []))


def _adjustments(
    session: Session, contract: Contract, finals: Sequence[Any]
) -> list[payout.PriorAdjustment]:
    """Return the corrections of a contract's `finals` (see `prior_adjustments`)."""
    adjustments = []
    for final in finals:
        if not _inputs_changed(session, contract.id, final.period, final.computed_at):
            continue
        version = _terms_version(contract, final.terms_version_id)
        recomputed = compute(
            session, contract, final.period, version.terms, form_id=version.version.form_id
        ).statement.total
        carried = Decimal(final.carried_minor).scaleb(-minor_unit(final.currency))
        if recomputed != carried:
            adjustments.append(
                payout.PriorAdjustment(
                    statement_id=final.id, period=str(final.period), amount=recomputed - carried
                )
            )
    return adjustments


def _finals_by_contract(
    session: Session, contract_ids: Sequence[int], period: Period
) -> dict[int, list[Any]]:
    """Return, for each contract, the final statements before `period` that no open statement
    follows, in one query for them all.

    Each comes with what it has carried so far: its own total (without the corrections it
    carried for others) plus the corrections of it that later statements carried.
    """
    carrier = aliased(Statement)
    last_open = (
        select(func.max(carrier.period))
        .where(carrier.contract_id == Statement.contract_id, carrier.period < period)
        .where(carrier.status != "final")
        .scalar_subquery()
    )
    carried_for_others = (
        select(func.coalesce(func.sum(CarriedAdjustment.amount_minor), 0))
        .where(CarriedAdjustment.statement_id == Statement.id)
        .scalar_subquery()
    )
    carried_for_it = (
        select(func.coalesce(func.sum(CarriedAdjustment.amount_minor), 0))
        .join(carrier, carrier.id == CarriedAdjustment.statement_id)
        .where(CarriedAdjustment.corrects_id == Statement.id, carrier.period < period)
        .scalar_subquery()
    )
    query = (
        select(
            Statement.contract_id,
            Statement.id,
            Statement.period,
            Statement.currency,
            Statement.terms_version_id,
            Statement.computed_at,
            (Statement.total_minor - carried_for_others + carried_for_it).label("carried_minor"),
        )
        .where(Statement.contract_id.in_(contract_ids), Statement.period < period)
        .where(Statement.status == "final", Statement.period > func.coalesce(last_open, ""))
        .order_by(Statement.contract_id, Statement.period)
    )
    finals: dict[int, list[Any]] = {}
    for row in session.execute(query):
        finals.setdefault(row.contract_id, []).append(row)
    return finals


def _terms_version(contract: Contract, version_id: int) -> PeriodTerms:
    """Return the terms version a statement was computed with, from the contract's versions."""
    return PeriodTerms(
        next(version for version in contract.terms_versions if version.id == version_id)
    )


def _inputs_changed(session: Session, contract_id: int, period: Period, since: datetime) -> bool:
    """Say whether an evaluation (or a revision of one), a volume, a logged call, a survey
    answer or a client's count of the period arrived after `since`."""
    late_evaluation = exists().where(
        Evaluation.contract_id == contract_id,
        Evaluation.period == period,
        Evaluation.revised_at > since,
    )
    late_volume = exists().where(
        VolumeChange.contract_id == contract_id,
        VolumeChange.day >= period.first_day,
        VolumeChange.day < period.end_day,
        VolumeChange.changed_at > since,
    )
    late_call = exists().where(
        Call.contract_id == contract_id, Call.period == period, Call.logged_at > since
    )
    late_survey = exists().where(
        SurveyAnswer.contract_id == contract_id,
        SurveyAnswer.period == period,
        SurveyAnswer.created_at > since,
    )
    late_count = exists().where(
        ClientCountChange.contract_id == contract_id,
        ClientCountChange.day >= period.first_day,
        ClientCountChange.day < period.end_day,
        ClientCountChange.changed_at > since,
    )
    changed = late_evaluation | late_volume | late_call | late_survey | late_count
    return bool(session.scalar(select(changed)))


def content_hash(statement: Statement) -> str:
    """Return the SHA-256 of a statement's frozen content.

    The fields are named as the API shows them, so anyone can recompute it from a statement's
    JSON with the standard library alone (the README's recipe). Changing this changes every
    stored hash's meaning: it never changes.
    """
    content = {
        "contract_id": statement.contract_id,
        "period": str(statement.period),
        "currency": statement.currency,
        "terms_version_id": statement.terms_version_id,
        "figures": statement.figures,
        "lines": statement.lines,
        "total": str(statement.total),
        "volume_only": str(statement.volume_only),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class HashCheck:
    """A statement's stored content hash beside the hash of its content as stored now."""

    statement_id: int
    status: str
    content_hash: str | None
    recomputed: str

    @property
    def matches(self) -> bool:
        """Say whether the statement is final and its stored content hashes to its hash."""
        return self.content_hash is not None and self.content_hash == self.recomputed


def verify_statement(*, session: Session, actor: Actor, statement_id: int) -> HashCheck:
    """Recompute a statement's content hash from its stored content (both parties may)."""
    statement = get_statement(session=session, actor=actor, statement_id=statement_id)
    return HashCheck(
        statement.id, statement.status, statement.content_hash, content_hash(statement)
    )


def finalized_notice(statement: Statement) -> dict[str, Any]:
    """Return the JSON notice of a finalized statement."""
    return {
        "event": "statement.finalized",
        "statement_id": statement.id,
        "contract_id": statement.contract_id,
        "period": str(statement.period),
        "currency": statement.currency,
        "total": str(statement.total),
        "volume_only": str(statement.volume_only),
        "content_hash": statement.content_hash,
        "finalized_at": statement.finalized_at.isoformat() if statement.finalized_at else None,
    }


def visible_statements(actor: Actor) -> Select[Statement]:
    """Select the statements of the contracts the caller may see."""
    contracts = visible_contracts(actor).with_only_columns(Contract.id)
    return select(Statement).where(Statement.contract_id.in_(contracts))


def get_statement(*, session: Session, actor: Actor, statement_id: int) -> Statement:
    """Return a statement the caller may see, or 404."""
    statement = session.scalar(visible_statements(actor).where(Statement.id == statement_id))
    if statement is None:
        raise NotFound(N_("no such statement"))
    return statement


def list_statements(
    *,
    session: Session,
    actor: Actor,
    period: Period | None = None,
    contract_id: int | None = None,
    status: str | None = None,
) -> list[Statement]:
    """List the visible statements, filtered; a contract the caller may not see is a 404."""
    if contract_id is not None:
        get_contract(session=session, actor=actor, contract_id=contract_id)
    query = statements_query(actor=actor, period=period, contract_id=contract_id, status=status)
    return list(session.scalars(query.order_by(Statement.period, Statement.contract_id)))


def statements_page(
    *, session: Session, actor: Actor, number: int, size: int, period: Period | None = None
) -> Page[Statement]:
    """Return page `number` of the visible statements, newest month first (for the pages)."""
    query = statements_query(actor=actor, period=period)
    order = (Statement.period.desc(), Statement.contract_id.desc())
    return page_of(session, query, number, size, *order)


def statements_query(
    *,
    actor: Actor,
    period: Period | None = None,
    contract_id: int | None = None,
    status: str | None = None,
) -> Select[Statement]:
    """Select the visible statements, filtered."""
    query = visible_statements(actor)
    if period is not None:
        query = query.where(Statement.period == period)
    if contract_id is not None:
        query = query.where(Statement.contract_id == contract_id)
    if status is not None:
        query = query.where(Statement.status == status)
    return query


def finalize(
    *, session: Session, actor: Actor, statement_id: int, now: datetime | None = None
) -> Statement:
    """Make a draft final for good, in this transaction and under its row lock (finance or
    admin; the close does it as the operator).

    Stamped and hashed, and its notice queued; never modified again. Its report files are
    made once this transaction has committed (`reports.store_reports`), never under its lock.
    """
    statement = lock_statement(session, finalizable(session, actor, statement_id))
    if statement.is_final:
        raise Conflict(
            said("statement %(id)s is already final", id=statement.id),
            {"statement_id": [N_("already final")]},
            location="path",
        )
    # The basis lists the disputes still waiting as the statement is frozen, not as drafted.
    disputes = dispute_figures(session, statement.contract, statement.period)
    freeze(session, actor, statement, disputes, now)
    session.flush()
    return statement


def freeze(
    session: Session,
    actor: Actor,
    statement: Statement,
    disputes: DisputeFigures,
    now: datetime | None = None,
) -> Statement:
    """Make a locked draft final: its samples drawn, `disputes` (counted in this transaction)
    in its basis, stamped, hashed and its notice queued; written at the session's next flush."""
    _check_samples_drawn(session, statement)
    statement.figures = statement.figures | {"disputes": DisputeBasisDocument().dump(disputes)}
    statement.status = "final"
    statement.finalized_at = now or utcnow()
    statement.finalized_by = actor.recorded_user_id
    statement.content_hash = content_hash(statement)
    enqueue(
        session,
        statement.contract.client_id,
        finalized_notice(statement),
        now,
        statement_id=statement.id,
    )
    return statement


def _check_samples_drawn(session: Session, statement: Statement) -> None:
    """Refuse to freeze a month whose terms sample the call log before its samples are drawn:
    the self sample when the log closes, the audit sample when the self-assessments are due.

    Until then its quality lines are 0 for want of a sample, not for what the calls scored.
    """
    contract, period = statement.contract, statement.period
    if terms_for_period(contract, period).terms.sampling is None:
        return
    sample = sample_of(session, contract.id, period)
    if sample is not None and sample.drawn and sample.audit_drawn:
        return
    timeline = timeline_of(contract, period)
    if sample is None or not sample.drawn:
        template = N_(
            "the samples of %(month)s are drawn when its call log closes, at %(when)s; the"
            " statement is final only after that"
        )
        when = timeline.log_closes.isoformat()
    else:
        assert timeline.self_due is not None  # only two stages draw the audit sample apart
        template = N_(
            "the samples of %(month)s are drawn (its audit sample) when the self-assessments are"
            " due, at %(when)s; the statement is final only after that"
        )
        when = timeline.self_due.isoformat()
    raise Conflict(
        said(template, month=period, when=when),
        {"statement_id": [said("the samples of %(month)s are not drawn yet", month=period)]},
        location="path",
    )


def finalizable(session: Session, actor: Actor, statement_id: int) -> Statement:
    """Return a statement the caller may finalize: 404 if it may not see it, 403 by role."""
    statement = get_statement(session=session, actor=actor, statement_id=statement_id)
    actor.require("finance")
    return statement


def simulate(
    *,
    session: Session,
    actor: Actor,
    contract_id: int,
    terms: dict[str, Any],
    periods: Sequence[Period],
) -> list[Simulation]:
    """Say what draft terms would have paid on the recorded data, storing nothing."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    if len(set(periods)) != len(periods):
        raise Invalid(N_("each period once"), {"periods": [N_("a period is repeated")]})
    draft, form = checked_terms(session, contract.client_id, terms, {})
    first_terms = contract.terms_versions[0].effective_from
    simulations = []
    for period in sorted(periods):
        actual = None
        if period.first_day >= first_terms:
            actual = payout_of(compute(session, contract, period))
        simulated = payout_of(compute(session, contract, period, draft, form_id=form.id))
        simulations.append(Simulation(period, simulated, actual))
    return simulations
