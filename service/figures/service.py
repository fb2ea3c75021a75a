"""A contract's month as the database sees it: sufficient statistics in SQL (DESIGN §5).

Scorecards show these figures; statements pay on them. Both read them here, so a scorecard
and a statement of the same month can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Select, and_, case, cast, exists, false, func, or_, select, true
from sqlalchemy.orm import Session

from contracts import payout, stats
from contracts.forms import CRITICAL_CATEGORIES
from contracts.periods import Period
from contracts.terms import AUDIT_SOURCES, SOURCES, Terms
from service.agreements.models import Contract
from service.agreements.service import terms_for_period
from service.calls.models import Call, SampledCall
from service.calls.samples import coverage, sample_of
from service.calls.service import calls_in, log_closes_at
from service.evaluations.models import Evaluation
from service.volumes.service import units_in

PACK = 100_000  # above any score in hundredths (10,000), so rank * PACK + score sorts by rank

# Precedence of sources when one call has several evaluations: client > third_party > supplier.
RANK = case(
    (Evaluation.source == "client", 3), (Evaluation.source == "third_party", 2), else_=1
).label("rank")


@dataclass(frozen=True, slots=True)
class PeriodAggregate:
    """What the database says about a contract's period: the inputs of a statement."""

    terms_version_id: int
    terms: Terms
    statistics: stats.SufficientStatistics
    self_assessment: stats.SelfAssessmentCheck
    units: int
    sampling: payout.SampleFigures | None = None  # when the terms sample the call log
    unlogged: int | None = None  # evaluations left out: their call is not in the log


@dataclass(frozen=True, slots=True)
class Scope:
    """What a period's aggregate reads: a contract's month, in its time zone, on one form.

    Under terms that use the call log, only evaluations of logged calls count
    (`logged_only`), and with `counts: sampled` only those of sampled calls: of the drawn
    sample `sample_id`, or none at all while it is not drawn (`sample_id` None).
    """

    contract_id: int
    period: Period
    timezone: str
    form_id: int
    logged_only: bool = False
    sampled_only: bool = False
    sample_id: int | None = None


def _scope(
    session: Session, contract: Contract, period: Period, terms: Terms, form_id: int | None
) -> Scope:
    form_id = form_id if form_id is not None else terms_for_period(contract, period).version.form_id
    sampled_only = terms.sampling is not None and terms.sampling.counts == "sampled"
    sample = sample_of(session, contract.id, period) if sampled_only else None
    drawn = sample.id if sample is not None and sample.drawn else None
    return Scope(
        contract.id,
        period,
        terms.timezone,
        form_id,
        logged_only=terms.require_logged_calls,
        sampled_only=sampled_only,
        sample_id=drawn,
    )


def _in_sample(scope: Scope, purpose: str) -> Any:
    return exists().where(
        SampledCall.sample_id == scope.sample_id,
        SampledCall.purpose == purpose,
        SampledCall.call_ref == Evaluation.call_ref,
    )


def _logged() -> Any:
    return exists().where(
        Call.contract_id == Evaluation.contract_id, Call.call_ref == Evaluation.call_ref
    )


def _counted(scope: Scope, *, audits_anywhere: bool = False) -> list[Any]:
    """Return what the call log asks of a counted evaluation (DESIGN 13).

    Under `counts: sampled` an audit counts if its call is in the audit sample, a
    self-assessment if its call is in the self sample; `audits_anywhere` lets any audit of a
    self-sampled call pair with it for the self-assessment check.
    """
    conditions = [_logged()] if scope.logged_only else []
    if scope.sampled_only and scope.sample_id is None:
        conditions.append(false())  # nothing counts before the samples are drawn
    elif scope.sampled_only:
        audit = true() if audits_anywhere else _in_sample(scope, "audit")
        supplier = Evaluation.source == "supplier"
        conditions.append(or_(and_(supplier, _in_sample(scope, "self")), and_(~supplier, audit)))
    return conditions


def _in_scope(scope: Scope, sources: Sequence[str]) -> list[Any]:
    """Return the conditions of a month's scored evaluations, on the terms' form, from `sources`.

    Only the form the terms name counts: an evaluation stored on another form (before that
    was refused at submission) never moves the figures. The row holds the current revision;
    a retracted evaluation counts nowhere (DESIGN 12).
    """
    start, end = scope.period.bounds(scope.timezone)
    return [
        Evaluation.contract_id == scope.contract_id,
        Evaluation.call_at >= start,
        Evaluation.call_at < end,
        Evaluation.form_id == scope.form_id,
        Evaluation.score_hundredths.is_not(None),
        Evaluation.retracted.is_(False),
        Evaluation.source.in_(sources),
    ]


def _scored_in(scope: Scope, sources: Sequence[str], *, audits_anywhere: bool = False) -> Any:
    """Select the counted evaluations of a contract's month (see `_in_scope`, `_counted`)."""
    return (
        select(
            Evaluation.call_ref,
            Evaluation.source,
            Evaluation.agent_ref,
            Evaluation.team,
            Evaluation.score_hundredths.label("score"),
            Evaluation.passed,
            Evaluation.critical_customer,
            Evaluation.critical_business,
            Evaluation.critical_compliance,
            RANK,
        )
        .where(*_in_scope(scope, sources), *_counted(scope, audits_anywhere=audits_anywhere))
        .cte("scored")
    )


def _pairs(session: Session, scope: Scope) -> tuple[int, int]:
    """Return the supplier/audit pairs of a month and the sum of their differences (hundredths).

    One pass grouped by call: the supplier's score beside the score of the call's highest
    ranked audit (rank and score packed in one number, so MAX picks the audit by rank). Any
    audit of a counted self-assessment pairs with it, sampled for audit or not.
    """
    scored = _scored_in(scope, SOURCES, audits_anywhere=True)
    own = func.max(case((scored.c.source == "supplier", scored.c.score)))
    packed = func.max(
        case((scored.c.source.in_(AUDIT_SOURCES), scored.c.rank * PACK + scored.c.score))
    )
    per_call = (
        select(own.label("own"), (packed % PACK).label("audit"))
        .group_by(scored.c.call_ref)
        .subquery("per_call")
    )
    query = select(
        func.count(), func.coalesce(func.sum(per_call.c.own - per_call.c.audit), 0)
    ).where(per_call.c.own.is_not(None), per_call.c.audit.is_not(None))
    pairs, difference = session.execute(query).one()
    return int(pairs), int(difference)


def _aggregate(
    scope: Scope,
    sources: Sequence[str],
    lower_supplier_by: int,
    group_by: Sequence[str] = (),
) -> Select[Any]:
    """Build the one-pass aggregate: one evaluation per call by precedence, corrected scores."""
    scored = _scored_in(scope, sources)
    best = (
        select(scored.c.call_ref, func.max(scored.c.rank).label("rank"))
        .group_by(scored.c.call_ref)
        .subquery("best")
    )
    lowered = scored.c.score - lower_supplier_by
    score = cast(
        case((scored.c.source != "supplier", scored.c.score), (lowered < 0, 0), else_=lowered),
        BigInteger,
    )
    columns = [getattr(scored.c, name) for name in group_by]
    return (
        select(
            *columns,
            func.count().label("n"),
            func.coalesce(func.sum(score), 0).label("sum"),
            func.coalesce(func.sum(score * score), 0).label("sum_squares"),
            func.coalesce(func.sum(case((scored.c.passed, 1), else_=0)), 0).label("passed"),
            *[
                func.coalesce(
                    func.sum(case((getattr(scored.c, f"critical_{category}"), 1), else_=0)), 0
                ).label(category)
                for category in CRITICAL_CATEGORIES
            ],
        )
        .select_from(scored)
        .join(best, and_(best.c.call_ref == scored.c.call_ref, best.c.rank == scored.c.rank))
        .group_by(*columns)
    )


def _statistics(row: Any) -> stats.SufficientStatistics:
    return stats.SufficientStatistics(
        n=int(row.n),
        sum_hundredths=int(row.sum),
        sum_squares_hundredths=int(row.sum_squares),
        passed=int(row.passed),
        critical_errors={category: int(getattr(row, category)) for category in CRITICAL_CATEGORIES},
    )


def _sources_and_rule(terms: Terms) -> tuple[Sequence[str], Any]:
    if terms.quality is None:
        return SOURCES, None
    return terms.quality.sources, terms.quality.self_assessment


def _self_assessment(session: Session, scope: Scope, terms: Terms) -> stats.SelfAssessmentCheck:
    """Measure the month's self-assessment inflation and decide whether to correct it."""
    _, rule = _sources_and_rule(terms)
    pairs, difference = _pairs(session, scope)
    return stats.self_assessment_check(pairs, difference, rule)


def aggregate_period(
    session: Session,
    contract: Contract,
    period: Period,
    terms: Terms | None = None,
    form_id: int | None = None,
) -> PeriodAggregate:
    """Compute the sufficient statistics of a contract's period in SQL, correction included.

    `terms` and the id of their form override the terms in force (for simulations); the
    version id stays the real one.
    """
    in_force = terms_for_period(contract, period)
    version_id = in_force.version.id
    terms = terms or in_force.terms
    scope = _scope(session, contract, period, terms, form_id)
    sources, _ = _sources_and_rule(terms)
    check = _self_assessment(session, scope, terms)
    lower_by = stats.inflation_hundredths(check)
    row = session.execute(_aggregate(scope, sources, lower_by)).one()
    return PeriodAggregate(
        terms_version_id=version_id,
        terms=terms,
        statistics=_statistics(row),
        self_assessment=check,
        units=_units(session, contract, period, terms),
        sampling=_sample_figures(session, contract, period, terms, scope.form_id),
        unlogged=_unlogged(session, scope, sources) if scope.logged_only else None,
    )


def _units(session: Session, contract: Contract, period: Period, terms: Terms) -> int:
    """Return the units a period pays: its logged calls, or its declared daily volumes."""
    if terms.volume.source == "calls":
        return calls_in(session, contract.id, period, terms.volume.direction)
    return units_in(session, contract.id, period)


def _unlogged(session: Session, scope: Scope, sources: Sequence[str]) -> int:
    """Count the month's evaluations left out because their call is not in the log."""
    query = (
        select(func.count()).select_from(Evaluation).where(*_in_scope(scope, sources), ~_logged())
    )
    return int(session.scalar(query) or 0)


def _sample_figures(
    session: Session, contract: Contract, period: Period, terms: Terms, form_id: int
) -> payout.SampleFigures | None:
    """Return what a period's samples say: committed, drawn, and how much of each is covered."""
    rule = terms.sampling
    if rule is None:
        return None
    sample = sample_of(session, contract.id, period)
    closes = log_closes_at(contract, period)
    shares = {"audit": payout.SampleShare(0, 0), "self": payout.SampleShare(0, 0)}
    if sample is not None and sample.drawn:
        shares = coverage(session, contract, period, sample, form_id)
    return payout.SampleFigures(
        commitment=None if sample is None else sample.commitment,
        seed=sample.seed if sample is not None and sample.drawn else None,
        counts=rule.counts,
        min_coverage=rule.min_coverage,
        audit=shares["audit"],
        self_assessment=shares["self"],
        log_closes=f"{closes:%Y-%m-%d %H:%M} {terms.timezone}",
    )


@dataclass(frozen=True, slots=True)
class Group:
    """The figures of one agent or one team in a period."""

    key: str
    statistics: stats.SufficientStatistics


def aggregate_groups(
    session: Session, contract: Contract, period: Period, columns: Sequence[str]
) -> tuple[stats.SelfAssessmentCheck, dict[str, list[Group]]]:
    """Return a period's correction and its statistics per value of each column, in SQL.

    `columns` are `agent_ref` and `team`: the contract's correction applies to every group.
    """
    terms = terms_for_period(contract, period).terms
    scope = _scope(session, contract, period, terms, None)
    sources, _ = _sources_and_rule(terms)
    check = _self_assessment(session, scope, terms)
    lower_by = stats.inflation_hundredths(check)
    groups: dict[str, list[Group]] = {}
    for column in columns:
        query = _aggregate(scope, sources, lower_by, [column]).order_by(column)
        groups[column] = [
            Group(getattr(row, column), _statistics(row))
            for row in session.execute(query)
            if getattr(row, column) is not None
        ]
    return check, groups
