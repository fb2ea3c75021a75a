"""A contract's month as the database sees it: sufficient statistics in SQL (DESIGN §5).

Scorecards show these figures; statements pay on them. Both read them here, so a scorecard
and a statement of the same month can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Select, and_, case, cast, func, select
from sqlalchemy.orm import Session

from contracts import stats
from contracts.forms import CRITICAL_CATEGORIES
from contracts.periods import Period
from contracts.terms import AUDIT_SOURCES, SOURCES, Terms
from service.agreements.models import Contract
from service.agreements.service import terms_for_period
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


@dataclass(frozen=True, slots=True)
class Scope:
    """What a period's aggregate reads: a contract's month, in its time zone, on one form."""

    contract_id: int
    period: Period
    timezone: str
    form_id: int


def _scope(contract: Contract, period: Period, terms: Terms, form_id: int | None) -> Scope:
    form_id = form_id if form_id is not None else terms_for_period(contract, period).version.form_id
    return Scope(contract.id, period, terms.timezone, form_id)


def _scored_in(scope: Scope, sources: Sequence[str]) -> Any:
    """Select the scored evaluations of a contract's month, on the terms' form, from `sources`.

    Only the form the terms name counts: an evaluation stored on another form (before that
    was refused at submission) never moves the figures. The row holds the current revision;
    a retracted evaluation counts nowhere (DESIGN 12).
    """
    start, end = scope.period.bounds(scope.timezone)
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
        .where(
            Evaluation.contract_id == scope.contract_id,
            Evaluation.call_at >= start,
            Evaluation.call_at < end,
            Evaluation.form_id == scope.form_id,
            Evaluation.score_hundredths.is_not(None),
            Evaluation.retracted.is_(False),
            Evaluation.source.in_(sources),
        )
        .cte("scored")
    )


def _pairs(session: Session, scope: Scope) -> tuple[int, int]:
    """Return the supplier/audit pairs of a month and the sum of their differences (hundredths).

    One pass grouped by call: the supplier's score beside the score of the call's highest
    ranked audit (rank and score packed in one number, so MAX picks the audit by rank).
    """
    scored = _scored_in(scope, SOURCES)
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
    scope = _scope(contract, period, terms, form_id)
    sources, _ = _sources_and_rule(terms)
    check = _self_assessment(session, scope, terms)
    lower_by = stats.inflation_hundredths(check)
    row = session.execute(_aggregate(scope, sources, lower_by)).one()
    return PeriodAggregate(
        terms_version_id=version_id,
        terms=terms,
        statistics=_statistics(row),
        self_assessment=check,
        units=units_in(session, contract.id, period),
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
    scope = _scope(contract, period, terms, None)
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
