"""A month as the database sees it: sufficient statistics in SQL (DESIGN §5), every contract
of the month in one pass.

Scorecards show these figures; statements pay on them. Both read them here, so a scorecard
and a statement of the same month can never disagree. Each contract brings its own rules
(the form and sources its terms name, its samples, whether unlogged calls count) as a row of
a `scopes` table sent with the query, so a month of 500 contracts costs the same handful of
statements as a month of one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    and_,
    case,
    cast,
    column,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    values,
)
from sqlalchemy.orm import Session

from contracts import payout, stats
from contracts.deadlines import Timeline, month_timeline
from contracts.forms import CRITICAL_CATEGORIES
from contracts.periods import Period
from contracts.terms import AUDIT_SOURCES, SOURCES, Terms
from service.agreements.models import Contract
from service.agreements.service import terms_for_period
from service.calls.models import Call, CallSample, SampledCall
from service.calls.samples import NO_DEADLINE, Drawn, coverage_by_contract, is_late
from service.database.engine import UTCDateTime
from service.evaluations.models import Evaluation
from service.volumes.models import DailyVolume

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
    """What a contract's month counts: its terms (the form, the sources, the call log's
    rules) and the month's sample, if its seed was committed."""

    contract: Contract
    period: Period
    terms: Terms
    terms_version_id: int
    form_id: int
    sample: CallSample | None

    @property
    def sampled_only(self) -> bool:
        """Say whether only evaluations of sampled calls count (`counts: sampled`)."""
        return self.terms.sampling is not None and self.terms.sampling.counts == "sampled"

    @property
    def drawn_sample_id(self) -> int | None:
        """Return the id of the month's drawn sample (None: none drawn yet, nothing counts)."""
        return self.sample.id if self.sample is not None and self.sample.drawn else None

    @property
    def sources(self) -> Sequence[str]:
        return SOURCES if self.terms.quality is None else self.terms.quality.sources

    @property
    def timeline(self) -> Timeline:
        """Return the month's deadlines under the scope's terms."""
        return month_timeline(self.terms, self.period)

    @property
    def two_stages(self) -> bool:
        """Say whether the terms draw two-stage samples (the self-assessments have a due date)."""
        return self.terms.sampling is not None and self.terms.sampling.stages is not None

    @property
    def self_due(self) -> datetime:
        """Return when the month's self-assessments are due (scheme 1 and no samples: never)."""
        return self.timeline.self_due or NO_DEADLINE


def scopes_of(
    session: Session,
    contracts: Sequence[Contract],
    period: Period,
    overrides: Mapping[int, tuple[Terms, int]] | None = None,
) -> list[Scope]:
    """Return each contract's scope of a month, the samples read in one query.

    `overrides` gives a contract other terms and the id of their form (a simulation); its
    terms version id stays the real one.
    """
    ids = [contract.id for contract in contracts]
    samples = {
        sample.contract_id: sample
        for sample in session.scalars(
            select(CallSample).where(CallSample.contract_id.in_(ids), CallSample.period == period)
        )
    }
    scopes = []
    for contract in contracts:
        in_force = terms_for_period(contract, period)
        terms, form_id = (overrides or {}).get(
            contract.id, (in_force.terms, in_force.version.form_id)
        )
        scopes.append(
            Scope(contract, period, terms, in_force.version.id, form_id, samples.get(contract.id))
        )
    return scopes


def _scopes_table(
    scopes: Sequence[Scope],
    lower_by: Mapping[int, int] | None = None,
    unverified: Collection[int] = (),
) -> Any:
    """Return the scopes as a table of the query (a VALUES list), one row per contract.

    A contract in `unverified` counts no supplier evaluation: its self-scores are not
    verified (DESIGN 13).
    """
    names = (
        "contract_id", "form_id", "client", "third_party", "supplier", "logged_only",
        "sampled_only", "two_stages", "sample_id", "lower_by",
    )  # fmt: skip
    rows = [
        (
            scope.contract.id,
            scope.form_id,
            int("client" in scope.sources),
            int("third_party" in scope.sources),
            int("supplier" in scope.sources and scope.contract.id not in unverified),
            int(scope.terms.require_logged_calls),
            int(scope.sampled_only),
            int(scope.two_stages),
            scope.drawn_sample_id or 0,  # 0 is no sample: ids start at 1, so nothing matches
            (lower_by or {}).get(scope.contract.id, 0),
            scope.self_due,
        )
        for scope in scopes
    ]
    columns: list[Any] = [
        column(name, BigInteger if name == "sample_id" else Integer) for name in names
    ]
    columns.append(column("self_due", UTCDateTime))
    return values(*columns, name="scopes").data(rows).cte("scopes")


def _in_sample(scopes: Any, purpose: str) -> Any:
    return exists().where(
        SampledCall.sample_id == scopes.c.sample_id,
        SampledCall.purpose == purpose,
        SampledCall.call_ref == Evaluation.call_ref,
    )


def _logged() -> Any:
    """Return the condition that an evaluation's call is in the log of its own month.

    A reference logged in another month is another call (DESIGN 13): a November evaluation
    counts only on November's log, so a month's figures change only with its own inputs.
    """
    return exists().where(
        Call.contract_id == Evaluation.contract_id,
        Call.period == Evaluation.period,
        Call.call_ref == Evaluation.call_ref,
    )


def _in_scope(scopes: Any, period: Period, *, all_sources: bool = False) -> list[Any]:
    """Return the conditions of a month's scored evaluations, each on its scope's terms.

    Only the form the terms name counts: an evaluation stored on another form (before that
    was refused at submission) never moves the figures. The row holds the current revision;
    a retracted evaluation counts nowhere (DESIGN 12). Only the sources the terms list count,
    unless `all_sources` (the self-assessment check pairs every source).
    """
    conditions = [
        Evaluation.contract_id == scopes.c.contract_id,
        Evaluation.period == period,
        Evaluation.form_id == scopes.c.form_id,
        Evaluation.score_hundredths.is_not(None),
        Evaluation.retracted.is_(False),
    ]
    if not all_sources:
        conditions.append(
            or_(
                *(
                    and_(Evaluation.source == source, getattr(scopes.c, source) == 1)
                    for source in SOURCES
                )
            )
        )
    return conditions


def _counted(table: Any, scopes: Sequence[Scope], *, audits_anywhere: bool = False) -> list[Any]:
    """Return what the call log asks of a counted evaluation (DESIGN 13).

    Where the terms require it, the call is in the log. Under `counts: sampled`, an audit
    counts if its call is in the audit sample, a self-assessment if its call is in the self
    sample, and nothing before the samples are drawn; `audits_anywhere` lets every audit
    through, to pair (see `_one_pass`). Under two-stage samples a self-assessment counts only
    if made by its due date and of the self sample, whatever `counts` says: once the self
    sample is drawn the call center knows no other call can be audited in the sample, so no
    audit could ever verify it. A condition no scope needs is left out, so a month of
    contracts that use no call log is planned as plainly as it is.
    """
    conditions = []
    supplier = Evaluation.source == "supplier"
    if any(scope.two_stages for scope in scopes):
        # A self-assessment made once the audit sample was revealed knew what it would be
        # measured against: it counts nowhere, and pairs with nothing.
        conditions.append(or_(~supplier, Evaluation.created_at <= table.c.self_due))
    if any(scope.terms.require_logged_calls for scope in scopes):
        conditions.append(or_(table.c.logged_only == 0, _logged()))
    if any(scope.sampled_only or scope.two_stages for scope in scopes):
        in_self = _in_sample(table, "self")
        audit = true() if audits_anywhere else _in_sample(table, "audit")
        conditions.append(
            or_(
                and_(table.c.sampled_only == 0, or_(table.c.two_stages == 0, ~supplier, in_self)),
                and_(supplier, in_self),
                and_(~supplier, audit),
            )
        )
    return conditions


def _scored(
    scopes: Sequence[Scope],
    period: Period,
    lower_by: Mapping[int, int] | None = None,
    unverified: Collection[int] = (),
) -> Any:
    """Select the counted evaluations of every scope's month (see `_in_scope`, `_counted`)."""
    table = _scopes_table(scopes, lower_by, unverified)
    return (
        select(
            Evaluation.contract_id,
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
            table.c.lower_by,
        )
        .join(table, table.c.contract_id == Evaluation.contract_id)
        .where(*_in_scope(table, period), *_counted(table, scopes))
        .cte("scored")
    )


# A call's counted evaluation, packed in one number so that MAX picks it by precedence and
# carries its figures: rank (3 bits) above score in hundredths (14 bits) above four flags.
SCORE_AT, RANK_AT = 16, 2**18
FLAGS = ("passed", "critical_customer", "critical_business", "critical_compliance")


def _one_pass(
    session: Session, scopes: Sequence[Scope], period: Period
) -> dict[int, tuple[tuple[int, int], stats.SufficientStatistics]]:
    """Read every contract's month once: its supplier/audit pairs and its uncorrected sums.

    Per call, in one grouping: the supplier's own score and the highest ranked audit (any
    audit of a counted self-assessment pairs with it, sampled for audit or not, except under
    two-stage samples, where only the audit sample pairs), and the
    call's counted evaluation by precedence, packed with its flags. Per contract: the pairs,
    the sum of their differences, and the sufficient statistics of the counted evaluations
    as they stand, which is what a contract whose self-scores are not lowered pays on.
    """
    table = _scopes_table(scopes)
    score = Evaluation.score_hundredths
    flags = sum(
        (
            case((getattr(Evaluation, flag).is_(True), 2 ** (len(FLAGS) - 1 - place)), else_=0)
            for place, flag in enumerate(FLAGS)
        ),
        literal(0),
    )
    counted = or_(
        *(and_(Evaluation.source == name, getattr(table.c, name) == 1) for name in SOURCES)
    )
    pairing: Any = Evaluation.source.in_(AUDIT_SOURCES)
    if any(scope.sampled_only for scope in scopes):
        in_audit = _in_sample(table, "audit")
        counted &= or_(table.c.sampled_only == 0, Evaluation.source == "supplier", in_audit)
    if any(scope.two_stages for scope in scopes):
        # Only the audit sample, drawn at random out of the self sample, measures the
        # inflation: an audit the client chose knowing the self-scores would bias it.
        pairing &= or_(table.c.two_stages == 0, _in_sample(table, "audit"))
    per_call = (
        select(
            Evaluation.contract_id,
            func.max(case((Evaluation.source == "supplier", score))).label("own"),
            (func.max(case((pairing, RANK * PACK + score))) % PACK).label("audit"),
            func.max(case((counted, RANK * RANK_AT + score * SCORE_AT + flags))).label("best"),
        )
        .join(table, table.c.contract_id == Evaluation.contract_id)
        .where(*_in_scope(table, period, all_sources=True))
        .where(*_counted(table, scopes, audits_anywhere=True))
        .group_by(Evaluation.contract_id, Evaluation.call_ref)
        .subquery("per_call")
    )
    paired = and_(per_call.c.own.is_not(None), per_call.c.audit.is_not(None))
    best = per_call.c.best
    counted_score = cast((best // SCORE_AT) % (RANK_AT // SCORE_AT), BigInteger)

    def bit(place: int) -> Any:
        return func.coalesce(func.sum((best // 2 ** (len(FLAGS) - 1 - place)) % 2), 0)

    query = select(
        per_call.c.contract_id,
        func.count(case((paired, 1))).label("pairs"),
        func.coalesce(func.sum(case((paired, per_call.c.own - per_call.c.audit))), 0).label(
            "difference"
        ),
        func.count(best).label("n"),
        func.coalesce(func.sum(counted_score), 0).label("sum"),
        func.coalesce(func.sum(counted_score * counted_score), 0).label("sum_squares"),
        bit(0).label("passed"),
        *[
            bit(place).label(flag.removeprefix("critical_"))
            for place, flag in enumerate(FLAGS)
            if place
        ],
    ).group_by(per_call.c.contract_id)
    return {
        row.contract_id: ((int(row.pairs), int(row.difference)), _statistics(row))
        for row in session.execute(query)
    }


def _aggregate(scored: Any, group_by: Sequence[str] = ()) -> Select[Any]:
    """Build the one-pass aggregate: one evaluation per call by precedence, corrected scores."""
    best = (
        select(scored.c.contract_id, scored.c.call_ref, func.max(scored.c.rank).label("rank"))
        .group_by(scored.c.contract_id, scored.c.call_ref)
        .subquery("best")
    )
    lowered = scored.c.score - scored.c.lower_by
    score = cast(
        case((scored.c.source != "supplier", scored.c.score), (lowered < 0, 0), else_=lowered),
        BigInteger,
    )
    columns = [scored.c.contract_id, *(getattr(scored.c, name) for name in group_by)]
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
        .join(
            best,
            and_(
                best.c.contract_id == scored.c.contract_id,
                best.c.call_ref == scored.c.call_ref,
                best.c.rank == scored.c.rank,
            ),
        )
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


NONE_COUNTED = stats.SufficientStatistics(0, 0, 0)


def _checks(
    scopes: Sequence[Scope],
    passed: Mapping[int, tuple[tuple[int, int], stats.SufficientStatistics]],
    samples: Mapping[int, payout.SampleFigures | None],
) -> dict[int, stats.SelfAssessmentCheck]:
    """Judge each contract's self-assessment inflation: whether its self-scores count, and
    lowered by how much. Unverified self-scores count only where the client's audit sample
    fell short (DESIGN 13)."""
    checks = {}
    for scope in scopes:
        id_ = scope.contract.id
        sample = samples.get(id_)
        checks[id_] = stats.self_assessment_check(
            *passed.get(id_, ((0, 0), NONE_COUNTED))[0],
            None if scope.terms.quality is None else scope.terms.quality.self_assessment,
            audits_short=sample is not None and sample.drawn and "audit" in sample.short(),
        )
    return checks


def _judged(
    session: Session, scopes: Sequence[Scope], period: Period
) -> tuple[
    dict[int, stats.SelfAssessmentCheck],
    dict[int, stats.SufficientStatistics],
    dict[int, payout.SampleFigures | None],
]:
    """Return each contract's self-assessment check, its counted statistics as they stand,
    and its samples' figures: the pairs and coverage first, as they decide the check."""
    passed = _one_pass(session, scopes, period)
    coverage = _coverage(session, scopes, period)
    samples = {scope.contract.id: _sample_figures(scope, coverage) for scope in scopes}
    checks = _checks(scopes, passed, samples)
    found = {id_: statistics for id_, (_, statistics) in passed.items()}
    return checks, found, samples


def _corrections(
    checks: Mapping[int, stats.SelfAssessmentCheck],
) -> tuple[dict[int, int], set[int]]:
    """Return how much each contract's self-scores are lowered, and the contracts whose
    self-scores do not count at all."""
    lowered = {id_: stats.inflation_hundredths(check) for id_, check in checks.items()}
    unverified = {id_ for id_, check in checks.items() if not check.counted}
    return lowered, unverified


def aggregate_month(
    session: Session,
    contracts: Sequence[Contract],
    period: Period,
    overrides: Mapping[int, tuple[Terms, int]] | None = None,
) -> dict[int, PeriodAggregate]:
    """Compute every contract's month in SQL, correction included, in a fixed number of queries.

    The pairs and the samples' coverage of every contract first (they decide each contract's
    correction), then one grouped aggregate of the contracts whose self-scores are lowered or
    left out, the units and the unlogged evaluations, whatever the number of contracts.
    """
    if not contracts:
        return {}
    scopes = scopes_of(session, contracts, period, overrides)
    checks, found, samples = _judged(session, scopes, period)
    lowered, unverified = _corrections(checks)
    corrected = [
        scope for scope in scopes if lowered[scope.contract.id] or scope.contract.id in unverified
    ]
    if corrected:
        # A contract whose self-scores are lowered, or left out, is summed again without them.
        query = _aggregate(_scored(corrected, period, lowered, unverified))
        again = {row.contract_id: _statistics(row) for row in session.execute(query)}
        found |= {
            scope.contract.id: again.get(scope.contract.id, NONE_COUNTED) for scope in corrected
        }
    units = _units(session, scopes, period)
    unlogged = _unlogged(session, scopes, period)
    return {
        scope.contract.id: PeriodAggregate(
            terms_version_id=scope.terms_version_id,
            terms=scope.terms,
            statistics=found.get(scope.contract.id, NONE_COUNTED),
            self_assessment=checks[scope.contract.id],
            units=units[scope.contract.id],
            sampling=samples[scope.contract.id],
            unlogged=unlogged.get(scope.contract.id) if scope.terms.require_logged_calls else None,
        )
        for scope in scopes
    }


def aggregate_period(
    session: Session,
    contract: Contract,
    period: Period,
    terms: Terms | None = None,
    form_id: int | None = None,
) -> PeriodAggregate:
    """Compute one contract's month (see `aggregate_month`).

    `terms` and the id of their form override the terms in force (for simulations); the
    version id stays the real one.
    """
    overrides = None
    if terms is not None:
        in_force = terms_for_period(contract, period).version.form_id
        overrides = {contract.id: (terms, form_id if form_id is not None else in_force)}
    return aggregate_month(session, [contract], period, overrides)[contract.id]


def _units(session: Session, scopes: Sequence[Scope], period: Period) -> dict[int, int]:
    """Return the units each contract's month pays: its logged calls, or its declared days."""
    ids = [scope.contract.id for scope in scopes]
    declared = dict(
        session.execute(
            select(DailyVolume.contract_id, func.sum(DailyVolume.units))
            .where(
                DailyVolume.contract_id.in_(ids),
                DailyVolume.day >= period.first_day,
                DailyVolume.day < period.end_day,
            )
            .group_by(DailyVolume.contract_id)
        ).all()
    )
    logging = [scope.contract.id for scope in scopes if scope.terms.volume.source == "calls"]
    logged: dict[tuple[int, str | None], int] = {}
    if logging:
        query = (
            select(Call.contract_id, Call.direction, func.count())
            .where(Call.contract_id.in_(logging), Call.period == period)
            .group_by(Call.contract_id, Call.direction)
        )
        logged = {(contract, direction): n for contract, direction, n in session.execute(query)}
    units = {}
    for scope in scopes:
        volume, id_ = scope.terms.volume, scope.contract.id
        if volume.source == "calls":
            units[id_] = sum(
                n
                for (contract, direction), n in logged.items()
                if contract == id_ and volume.direction in (None, direction)
            )
        else:
            units[id_] = int(declared.get(id_) or 0)
    return units


def _coverage(
    session: Session, scopes: Sequence[Scope], period: Period
) -> dict[tuple[int, str], payout.SampleShare]:
    """Count how much of each contract's drawn samples its sides evaluated on time, in one
    query."""
    drawn = []
    for scope in scopes:
        if scope.terms.sampling is None or scope.drawn_sample_id is None:
            continue
        timeline = scope.timeline
        drawn.append(
            Drawn(
                scope.contract.id,
                scope.drawn_sample_id,
                scope.form_id,
                timeline.self_due or NO_DEADLINE,
                timeline.audit_due or NO_DEADLINE,
            )
        )
    return coverage_by_contract(session, drawn, period)


def _sample_figures(
    scope: Scope, coverage: Mapping[tuple[int, str], payout.SampleShare]
) -> payout.SampleFigures | None:
    """Return what a month's samples say: committed, drawn, and how much of each is covered."""
    rule = scope.terms.sampling
    if rule is None:
        return None
    sample, id_ = scope.sample, scope.contract.id
    timeline = scope.timeline
    empty = payout.SampleShare(0, 0)
    drawn = sample is not None and sample.drawn
    audit_drawn = sample is not None and sample.audit_drawn
    return payout.SampleFigures(
        commitment=None if sample is None else sample.commitment,
        seed=sample.seed if sample is not None and drawn else None,
        counts=rule.counts,
        min_coverage=rule.min_coverage,
        audit=coverage.get((id_, "audit"), empty),
        self_assessment=coverage.get((id_, "self"), empty),
        log_closes=_shown(timeline.log_closes, scope),
        scheme=rule.scheme if sample is None else sample.scheme,
        audit_commitment=None if sample is None else sample.commitment_audit,
        audit_seed=sample.seed_audit if sample is not None and audit_drawn else None,
        self_due=None if timeline.self_due is None else _shown(timeline.self_due, scope),
        audit_due=None if timeline.audit_due is None else _shown(timeline.audit_due, scope),
        committed_at=None if sample is None else sample.committed_at.isoformat(),
        late=sample is not None and is_late(timeline, sample),
    )


def _shown(moment: datetime, scope: Scope) -> str:
    """Write a deadline for people: its local day and time, and the zone."""
    return f"{moment:%Y-%m-%d %H:%M} {scope.terms.timezone}"


def _unlogged(session: Session, scopes: Sequence[Scope], period: Period) -> dict[int, int]:
    """Count each month's evaluations left out because their call is not in the log."""
    logging = [scope for scope in scopes if scope.terms.require_logged_calls]
    if not logging:
        return {}
    table = _scopes_table(logging)
    query = (
        select(Evaluation.contract_id, func.count())
        .join(table, table.c.contract_id == Evaluation.contract_id)
        .where(*_in_scope(table, period), ~_logged())
        .group_by(Evaluation.contract_id)
    )
    return {contract: int(n) for contract, n in session.execute(query)}


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
    scopes = scopes_of(session, [contract], period)
    checks, _, _ = _judged(session, scopes, period)
    lowered, unverified = _corrections(checks)
    scored = _scored(scopes, period, lowered, unverified)
    groups: dict[str, list[Group]] = {}
    for name in columns:
        query = _aggregate(scored, [name]).order_by(getattr(scored.c, name))
        groups[name] = [
            Group(getattr(row, name), _statistics(row))
            for row in session.execute(query)
            if getattr(row, name) is not None
        ]
    return checks[contract.id], groups
