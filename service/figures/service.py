"""A month as the database sees it (DESIGN §5): one relation decides what counts, and every
figure of the month is a GROUP BY over it.

The relation, `month_calls`, has a row per contract and call of the month: the call's counted
audit and counted self-assessment (each with its score, pass and critical flags, agent and
team), the supplier's own score and the audit it pairs with, whether the call is in each
sample and was evaluated for it on time, whether it is logged, and its audits and disputes.
It is the only place where precedence (from `contracts.terms.SOURCES`), the sources the terms
list, the terms' form, retraction, samples and logged calls are applied. Each contract brings
its rules as a row of a `scopes` table sent with the query, so a month of 500 contracts costs
the same two statements as a month of one: the figures of every contract (and, asked for, of
every agent and team), then the re-sum of the self-scores a contract lowers, if any does.

Scorecards show these figures; statements pay on them: a scorecard and a statement of the same
month can never disagree.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from contracts import disputes as dispute_rules
from contracts import payout, stats
from contracts.deadlines import Timeline, month_timeline
from contracts.forms import CRITICAL_CATEGORIES
from contracts.periods import Period
from contracts.terms import AUDIT_SOURCES, SOURCES, Terms
from service.agreements.models import Contract
from service.agreements.service import terms_for_period
from service.calls.models import Call, CallSample, SampledCall
from service.calls.samples import NO_DEADLINE, is_late
from service.database.engine import Month, reading_whole_months, rows_document, rows_table
from service.disputes.figures import DisputeFigures
from service.disputes.models import Dispute
from service.evaluations.models import Evaluation
from service.volumes.models import DailyVolume

# The supplier's own evaluation ranks last: an audit of a call always counts before it, so a
# month's figures split into what audits count and what self-assessments count alone.
SUPPLIER = "supplier"
assert SOURCES[-1] == SUPPLIER, "self-assessments rank below every audit"
AUDITS = tuple(source for source in SOURCES if source in AUDIT_SOURCES)  # by precedence
FLAGS = ("passed", *(f"critical_{category}" for category in CRITICAL_CATEGORIES))
LEVELS = ("contract", "agent_ref", "team")


@dataclass(frozen=True, slots=True)
class Group:
    """The figures of one agent or one team in a period."""

    key: str
    statistics: stats.SufficientStatistics


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
    disputes: DisputeFigures | None = None
    groups: Mapping[str, Sequence[Group]] = field(default_factory=dict)  # by agent, by team


@dataclass(frozen=True, slots=True)
class Scope:
    """What a contract's month counts: its terms (the form, the sources, the call log's
    rules) and the month's sample, if its seeds were committed."""

    contract: Contract
    period: Period
    terms: Terms
    terms_version_id: int
    form_id: int
    sample: CallSample | None
    sample_sizes: Mapping[str, int] = field(default_factory=dict)  # calls drawn, by purpose

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


def scopes_of(
    session: Session,
    contracts: Sequence[Contract],
    period: Period,
    overrides: Mapping[int, tuple[Terms, int]] | None = None,
) -> list[Scope]:
    """Return each contract's scope of a month, its sample and the sample's sizes read in two
    queries.

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
    sizes: dict[int, dict[str, int]] = {}
    if samples:
        by_id = {sample.id: sample.contract_id for sample in samples.values()}
        query = (
            select(SampledCall.sample_id, SampledCall.purpose, func.count())
            .where(SampledCall.sample_id.in_(by_id))
            .group_by(SampledCall.sample_id, SampledCall.purpose)
        )
        for sample_id, purpose, count in session.execute(query):
            sizes.setdefault(by_id[sample_id], {})[purpose] = int(count)
    scopes = []
    for contract in contracts:
        in_force = terms_for_period(contract, period)
        terms, form_id = (overrides or {}).get(
            contract.id, (in_force.terms, in_force.version.form_id)
        )
        scopes.append(
            Scope(
                contract, period, terms, in_force.version.id, form_id,
                samples.get(contract.id), sizes.get(contract.id, {}),
            )
        )  # fmt: skip
    return scopes


# The scopes table's columns: the form and the sources a contract's terms count, what its
# call log asks, its sample, its due dates, and how much its self-scores are lowered.
SCOPE_COLUMNS: tuple[tuple[str, type[Any]], ...] = (
    ("contract_id", int), ("form_id", int), *((f"lists_{source}", int) for source in SOURCES),
    ("logged_only", int), ("sampled_only", int), ("two_stages", int), ("sample_id", int),
    ("lower_by", int), ("self_due", datetime), ("audit_due", datetime),
)  # fmt: skip
PERIOD = bindparam("period", type_=Month())
# The contracts read: their ids bound the month's index scan to their calls (a scorecard's
# one stale contract reads its own evaluations, not the whole month's).
CONTRACTS: BindParameter[int] = bindparam("contract_ids", expanding=True)


def _scopes_document(
    dialect: str, scopes: Sequence[Scope], lower_by: Mapping[int, int] | None = None
) -> str:
    """Return the scopes as the statement's `scopes_rows` parameter, one row per contract."""
    rows = []
    for scope in scopes:
        timeline = scope.timeline
        rows.append(
            (
                scope.contract.id,
                scope.form_id,
                *(int(source in scope.sources) for source in SOURCES),
                int(scope.terms.require_logged_calls),
                int(scope.sampled_only),
                int(scope.two_stages),
                scope.drawn_sample_id or 0,  # 0 is no sample: ids start at 1, nothing matches
                (lower_by or {}).get(scope.contract.id, 0),
                timeline.self_due or NO_DEADLINE,
                timeline.audit_due or NO_DEADLINE,
            )
        )
    return rows_document(dialect, SCOPE_COLUMNS, rows)


def _disputes_by_evaluation(scopes: Any) -> Any:
    """Each disputed evaluation of the month: its disputes (not withdrawn) by how they went,
    and the ids of those still waiting."""
    settled = Dispute.status.in_(("decided", "arbitrated"))

    def settled_as(outcome: str) -> Any:
        return func.count(case((settled & (Dispute.outcome == outcome), 1)))

    waiting = Dispute.status.in_(dispute_rules.UNRESOLVED)
    return (
        select(
            Dispute.evaluation_id,
            func.count().label("disputed"),
            settled_as("accepted").label("accepted"),
            settled_as("partly_accepted").label("partly_accepted"),
            settled_as("rejected").label("rejected"),
            func.count(case((waiting, 1))).label("open"),
            func.aggregate_strings(case((waiting, cast(Dispute.id, String))), ",").label(
                "open_ids"
            ),
        )
        .join(scopes, scopes.c.contract_id == Dispute.contract_id)
        .where(Dispute.period == PERIOD, Dispute.status != "withdrawn")
        .group_by(Dispute.evaluation_id)
        .subquery("disputed")
    )


DISPUTE_COUNTS = ("disputed", "accepted", "partly_accepted", "rejected", "open")


def _per_call(scopes: Any) -> Any:
    """Group a month's evaluations by contract and call: each source's scored evaluation on
    the terms' form (not retracted), its flags, agent and team; whether each side evaluated
    the call on time for its sample; its audits and their disputes."""
    e = Evaluation
    disputed = _disputes_by_evaluation(scopes)
    on_form = and_(e.form_id == scopes.c.form_id, e.retracted.is_(False))
    scored = and_(on_form, e.score_hundredths.is_not(None))
    # A self-assessment made once the audit sample was revealed knew what it would be measured
    # against (two-stage samples): it counts nowhere and pairs with nothing.
    on_time = or_(e.source != SUPPLIER, scopes.c.two_stages == 0, e.created_at <= scopes.c.self_due)

    def of(source: str, value: Any) -> Any:
        return func.max(case((and_(scored, on_time, e.source == source), value)))

    per_source = []
    for source in SOURCES:
        per_source += [
            of(source, e.score_hundredths).label(f"{source}_score"),
            *(of(source, case((getattr(e, flag), 1), else_=0)).label(f"{source}_{flag}")
              for flag in FLAGS),
            of(source, e.agent_ref).label(f"{source}_agent_ref"),
            of(source, e.team).label(f"{source}_team"),
        ]  # fmt: skip
    audit = e.source.in_(AUDIT_SOURCES)
    listed = or_(
        *(and_(e.source == source, getattr(scopes.c, f"lists_{source}") == 1) for source in SOURCES)
    )
    self_done = and_(on_form, e.source == SUPPLIER, e.created_at <= scopes.c.self_due)
    audit_done = and_(on_form, audit, e.created_at <= scopes.c.audit_due)
    return (
        select(
            e.contract_id,
            e.call_ref,
            *per_source,
            func.max(case((self_done, 1), else_=0)).label("self_done"),
            func.max(case((audit_done, 1), else_=0)).label("audit_done"),
            func.count(case((and_(scored, listed), 1))).label("listed"),
            func.count(case((and_(audit, e.retracted.is_(False)), 1))).label("audits"),
            *(
                func.coalesce(func.sum(getattr(disputed.c, name)), 0).label(name)
                for name in DISPUTE_COUNTS
            ),
            func.aggregate_strings(disputed.c.open_ids, ",").label("open_ids"),
        )
        .join(scopes, scopes.c.contract_id == e.contract_id)
        .outerjoin(disputed, disputed.c.evaluation_id == e.id)
        .where(e.period == PERIOD, e.contract_id.in_(CONTRACTS))
        .group_by(e.contract_id, e.call_ref)
        .subquery("per_call")
    )


def _with_the_log(scopes: Any, *, logged: bool, sampled: bool) -> Any:
    """Add to each call of the month its scope's rules and whether it is in each sample and
    in the log (looked up only where some scope asks)."""
    call = _per_call(scopes)
    query = select(call, *(c for c in scopes.c if c.name != "contract_id")).join(
        scopes, scopes.c.contract_id == call.c.contract_id
    )
    flags: list[Any] = []
    for purpose in ("self", "audit"):
        if sampled:
            drawn = aliased(SampledCall, name=f"in_{purpose}")
            query = query.outerjoin(
                drawn,
                and_(
                    drawn.sample_id == scopes.c.sample_id,
                    drawn.purpose == purpose,
                    drawn.call_ref == call.c.call_ref,
                ),
            )
            found = case((drawn.call_ref.is_not(None), 1), else_=0)
            flags.append(found.label(f"in_{purpose}"))
        else:
            flags.append(literal(0).label(f"in_{purpose}"))
    if logged:
        log = aliased(Call, name="logged_call")
        query = query.outerjoin(
            log,
            and_(
                log.contract_id == call.c.contract_id,
                log.period == PERIOD,
                log.call_ref == call.c.call_ref,
                log.outcome == "answered",  # only an answered call may be evaluated (DESIGN 16)
            ),
        )
        flags.append(case((log.call_ref.is_not(None), 1), else_=0).label("logged"))
    else:
        flags.append(literal(0).label("logged"))
    return query.add_columns(*flags).subquery("with_the_log")


def month_calls(scopes: Any, *, logged: bool, sampled: bool, lowering: bool = False) -> Any:
    """Return the month's relation: a row per contract and call, what counts decided once.

    Per call: the counted audit (the first source by precedence that the terms list, of the
    audit sample where only sampled calls count) and, where no audit counts, the counted
    self-assessment (of the self sample where the terms sample); the supplier's own score
    and the audit it pairs with (any audit, or only the audit sample's under two stages);
    coverage of each sample on time; whether its evaluations are left out for want of a
    logged call; its audits and disputes.
    """
    row = _with_the_log(scopes, logged=logged, sampled=sampled)
    logged_ok = or_(row.c.logged_only == 0, row.c.logged == 1)
    self_side = and_(
        logged_ok, or_(row.c.in_self == 1, and_(row.c.sampled_only == 0, row.c.two_stages == 0))
    )
    audit_side = and_(logged_ok, or_(row.c.sampled_only == 0, row.c.in_audit == 1))
    # The audit that counts: the first listed audit source, by precedence, that scored it.
    chosen = case(
        *(
            (
                and_(
                    getattr(row.c, f"lists_{source}") == 1,
                    getattr(row.c, f"{source}_score").is_not(None),
                ),
                source,
            )
            for source in AUDITS
        ),
    )
    judged = select(
        row,
        case((audit_side, chosen)).label("audit_source"),
        case(
            (
                and_(self_side, getattr(row.c, f"lists_{SUPPLIER}") == 1),
                getattr(row.c, f"{SUPPLIER}_score").is_not(None),
            ),
            else_=False,
        ).label("self_counts"),
        case((self_side, getattr(row.c, f"{SUPPLIER}_score"))).label("own"),
        case(
            (
                and_(logged_ok, or_(row.c.two_stages == 0, row.c.in_audit == 1)),
                func.coalesce(*(getattr(row.c, f"{source}_score") for source in AUDITS)),
            )
        ).label("paired_audit"),
    ).subquery("judged")

    def audit_value(name: str) -> Any:
        return case(
            *((judged.c.audit_source == source, getattr(judged.c, f"{source}_{name}"))
              for source in AUDITS)
        )  # fmt: skip

    def self_value(name: str) -> Any:
        counts = and_(judged.c.audit_source.is_(None), judged.c.self_counts)
        return case((counts, getattr(judged.c, f"{SUPPLIER}_{name}")))

    names = ("score", *FLAGS, "agent_ref", "team")
    columns = [
        judged.c.contract_id,
        judged.c.call_ref,
        *(audit_value(name).label(f"audit_{name}") for name in names),
        *(self_value(name).label(f"self_{name}") for name in names),
        judged.c.own,
        judged.c.paired_audit,
        case((and_(judged.c.in_self == 1, judged.c.self_done == 1), 1), else_=0).label(
            "self_covered"
        ),
        case((and_(judged.c.in_audit == 1, judged.c.audit_done == 1), 1), else_=0).label(
            "audit_covered"
        ),
        case(
            (and_(judged.c.logged_only == 1, judged.c.logged == 0), judged.c.listed), else_=0
        ).label("unlogged"),
        judged.c.audits,
        *(getattr(judged.c, name) for name in DISPUTE_COUNTS),
        judged.c.open_ids,
    ]
    if lowering:
        columns.append(judged.c.lower_by)
    return select(*columns).cte("month_calls")


def _sums(calls: Any, side: str) -> list[Any]:
    """Return the sufficient statistics of one side's counted evaluations (audit, self)."""
    score = getattr(calls.c, f"{side}_score")
    return [
        func.count(score).label(f"{side}_n"),
        func.coalesce(func.sum(score), 0).label(f"{side}_sum"),
        func.coalesce(func.sum(score * score), 0).label(f"{side}_sum_squares"),
        *(
            func.coalesce(func.sum(getattr(calls.c, f"{side}_{flag}")), 0).label(f"{side}_{flag}")
            for flag in FLAGS
        ),
    ]


# What a month's contract row counts besides the sums: pairs, coverage, the log, disputes.
MONTH_COUNTS = ("self_covered", "audit_covered", "unlogged", "audits", "disputed", "accepted",
                "partly_accepted", "rejected", "open")  # fmt: skip


def _contract_level(calls: Any) -> Select[Any]:
    paired = and_(calls.c.own.is_not(None), calls.c.paired_audit.is_not(None))
    return select(
        literal("contract").label("level"),
        calls.c.contract_id,
        cast(null(), String).label("key"),
        *_sums(calls, "audit"),
        *_sums(calls, "self"),
        func.count(case((paired, 1))).label("pairs"),
        func.coalesce(func.sum(case((paired, calls.c.own - calls.c.paired_audit))), 0).label(
            "difference"
        ),
        *(func.coalesce(func.sum(getattr(calls.c, name)), 0).label(name) for name in MONTH_COUNTS),
        func.aggregate_strings(calls.c.open_ids, ",").label("open_ids"),
    ).group_by(calls.c.contract_id)


def _group_level(calls: Any, level: str) -> Select[Any]:
    """Group the counted evaluations by the agent (or team) of the evaluation that counts."""
    key = func.coalesce(getattr(calls.c, f"audit_{level}"), getattr(calls.c, f"self_{level}"))
    zeros = [literal(0).label("pairs"), literal(0).label("difference")]
    zeros += [literal(0).label(name) for name in MONTH_COUNTS]
    return (
        select(
            literal(level).label("level"),
            calls.c.contract_id,
            key.label("key"),
            *_sums(calls, "audit"),
            *_sums(calls, "self"),
            *zeros,
            cast(null(), String).label("open_ids"),
        )
        .where(key.is_not(None))
        .group_by(calls.c.contract_id, key)
    )


def _levels(calls: Any, levels: tuple[str, ...]) -> Any:
    """Every level's figures in one statement: the contract's, and each agent's and team's."""
    selects = [_contract_level(calls)] + [_group_level(calls, level) for level in levels[1:]]
    return selects[0] if len(selects) == 1 else union_all(*selects)


def _lowered(calls: Any, levels: tuple[str, ...]) -> Any:
    """Sum again the counted self-scores each lowered by its contract's inflation (not below
    0), per level: the re-sum of a contract whose self-scores are corrected."""
    score = calls.c.self_score
    lowered = case((score - calls.c.lower_by < 0, 0), else_=score - calls.c.lower_by)
    selects = []
    for level in levels:
        key = cast(null(), String) if level == "contract" else func.coalesce(
            calls.c.audit_agent_ref if level == "agent_ref" else calls.c.audit_team,
            getattr(calls.c, f"self_{level}"),
        )  # fmt: skip
        grouping = [calls.c.contract_id] + ([] if level == "contract" else [key])
        query = select(
            literal(level).label("level"),
            calls.c.contract_id,
            key.label("key"),
            func.count(score).label("n"),
            func.coalesce(func.sum(lowered), 0).label("sum"),
            func.coalesce(func.sum(lowered * lowered), 0).label("sum_squares"),
        ).where(calls.c.lower_by > 0, score.is_not(None))
        if level != "contract":
            query = query.where(key.is_not(None))
        selects.append(query.group_by(*grouping))
    return selects[0] if len(selects) == 1 else union_all(*selects)


@functools.cache
def figures_statement(dialect: str, levels: tuple[str, ...], logged: bool, sampled: bool) -> Any:
    """Return the month's figures statement (built once per shape; its parameters are the
    period and the scopes)."""
    scopes = rows_table(dialect, "scopes", SCOPE_COLUMNS)
    return _levels(month_calls(scopes, logged=logged, sampled=sampled), levels)


@functools.cache
def lowered_statement(dialect: str, levels: tuple[str, ...], logged: bool, sampled: bool) -> Any:
    """Return the re-sum of lowered self-scores (built once per shape)."""
    scopes = rows_table(dialect, "scopes", SCOPE_COLUMNS)
    return _lowered(month_calls(scopes, logged=logged, sampled=sampled, lowering=True), levels)


def _statistics(row: Any, side: str) -> stats.SufficientStatistics:
    return stats.SufficientStatistics(
        n=int(getattr(row, f"{side}_n")),
        sum_hundredths=int(getattr(row, f"{side}_sum")),
        sum_squares_hundredths=int(getattr(row, f"{side}_sum_squares")),
        passed=int(getattr(row, f"{side}_passed")),
        critical_errors={
            category: int(getattr(row, f"{side}_critical_{category}"))
            for category in CRITICAL_CATEGORIES
        },
    )


def _plus(
    audits: stats.SufficientStatistics, own: stats.SufficientStatistics | None
) -> stats.SufficientStatistics:
    """Add the self-assessments that count (None: they do not) to the audits."""
    if own is None:
        return audits
    return stats.SufficientStatistics(
        n=audits.n + own.n,
        sum_hundredths=audits.sum_hundredths + own.sum_hundredths,
        sum_squares_hundredths=audits.sum_squares_hundredths + own.sum_squares_hundredths,
        passed=audits.passed + own.passed,
        critical_errors={
            category: audits.critical_errors.get(category, 0) + own.critical_errors.get(category, 0)
            for category in CRITICAL_CATEGORIES
        },
    )


def _as_lowered(own: stats.SufficientStatistics, row: Any) -> stats.SufficientStatistics:
    """Return self-assessments' statistics with their scores lowered (flags as they were)."""
    return stats.SufficientStatistics(
        n=int(row.n),
        sum_hundredths=int(row.sum),
        sum_squares_hundredths=int(row.sum_squares),
        passed=own.passed,
        critical_errors=own.critical_errors,
    )


NONE_COUNTED = stats.SufficientStatistics(0, 0, 0)


@dataclass
class _Read:
    """What the month's statements returned, by contract and by level."""

    months: dict[int, Any] = field(default_factory=dict)
    groups: dict[tuple[int, str, str], Any] = field(default_factory=dict)
    lowered: dict[tuple[int, str, str | None], Any] = field(default_factory=dict)


def aggregate_month(
    session: Session,
    contracts: Sequence[Contract],
    period: Period,
    overrides: Mapping[int, tuple[Terms, int]] | None = None,
    *,
    groups: bool = False,
) -> dict[int, PeriodAggregate]:
    """Compute every contract's month over the one relation, whatever the number of contracts:
    one statement for the figures (with each agent's and team's if `groups`), a second for
    the contracts whose self-scores are lowered, if any are; then the units.
    """
    if not contracts:
        return {}
    levels = LEVELS if groups else LEVELS[:1]
    scopes = scopes_of(session, contracts, period, overrides)
    dialect = session.get_bind().dialect.name
    asks = {
        "logged": any(scope.terms.require_logged_calls for scope in scopes),
        "sampled": any(scope.drawn_sample_id for scope in scopes),
    }
    read = _Read()
    statement = figures_statement(dialect, levels, **asks)
    parameters = {
        "period": period,
        "scopes_rows": _scopes_document(dialect, scopes),
        "contract_ids": [scope.contract.id for scope in scopes],
    }
    with reading_whole_months(session):
        for row in session.execute(statement, parameters):
            if row.level == "contract":
                read.months[row.contract_id] = row
            else:
                read.groups[(row.contract_id, row.level, row.key)] = row
    samples = {scope.contract.id: _sample_figures(scope, read.months.get(scope.contract.id))
               for scope in scopes}  # fmt: skip
    checks = {scope.contract.id: _check(scope, read, samples) for scope in scopes}
    lower_by = {id_: stats.inflation_hundredths(check) for id_, check in checks.items()}
    if any(lower_by.values()):
        lowering = [scope for scope in scopes if lower_by[scope.contract.id]]
        document = _scopes_document(dialect, lowering, lower_by)
        statement = lowered_statement(dialect, levels, **asks)
        with reading_whole_months(session):
            lowered = {"scopes_rows": document, "contract_ids": [s.contract.id for s in lowering]}
            for row in session.execute(statement, parameters | lowered):
                read.lowered[(row.contract_id, row.level, row.key)] = row
    units = _units(session, scopes, period)
    return {
        scope.contract.id: _aggregate(scope, read, checks[scope.contract.id], units, samples)
        for scope in scopes
    }


def _check(
    scope: Scope, read: _Read, samples: Mapping[int, payout.SampleFigures | None]
) -> stats.SelfAssessmentCheck:
    """Judge a contract's self-assessment inflation: whether its self-scores count, and
    lowered by how much. Unverified self-scores count only where the client's audit sample
    fell short (DESIGN 13)."""
    row = read.months.get(scope.contract.id)
    sample = samples.get(scope.contract.id)
    return stats.self_assessment_check(
        int(row.pairs) if row else 0,
        int(row.difference) if row else 0,
        None if scope.terms.quality is None else scope.terms.quality.self_assessment,
        audits_short=sample is not None and sample.drawn and "audit" in sample.short(),
    )


def _counted(
    row: Any, lowered: Any, check: stats.SelfAssessmentCheck
) -> stats.SufficientStatistics:
    """Return a level's counted statistics: its audits, and its self-assessments as the
    check says (as they are, lowered, or not at all)."""
    own = _statistics(row, "self")
    if not check.counted:
        return _statistics(row, "audit")
    if check.applied:
        own = _as_lowered(own, lowered) if lowered is not None else NONE_COUNTED
    return _plus(_statistics(row, "audit"), own)


def _aggregate(
    scope: Scope,
    read: _Read,
    check: stats.SelfAssessmentCheck,
    units: Mapping[int, int],
    samples: Mapping[int, payout.SampleFigures | None],
) -> PeriodAggregate:
    id_ = scope.contract.id
    row = read.months.get(id_)
    statistics = (
        NONE_COUNTED
        if row is None
        else _counted(row, read.lowered.get((id_, "contract", None)), check)
    )  # noqa: E501
    grouped: dict[str, list[Group]] = {}
    for (contract_id, level, key), group in sorted(read.groups.items()):
        if contract_id == id_:
            counted = _counted(group, read.lowered.get((id_, level, key)), check)
            if counted.n:
                grouped.setdefault(level, []).append(Group(key, counted))
    return PeriodAggregate(
        terms_version_id=scope.terms_version_id,
        terms=scope.terms,
        statistics=statistics,
        self_assessment=check,
        units=units[id_],
        sampling=samples[id_],
        unlogged=(int(row.unlogged) if row else 0) if scope.terms.require_logged_calls else None,
        disputes=_disputes(row),
        groups=grouped,
    )


def _disputes(row: Any) -> DisputeFigures:
    """Return a month's dispute figures from its contract row (none without a row)."""
    if row is None:
        return DisputeFigures(0, 0, 0, 0, 0, 0, ())
    waiting = tuple(sorted(int(each) for each in (row.open_ids or "").split(",") if each))
    return DisputeFigures(
        audits=int(row.audits),
        disputed=int(row.disputed),
        accepted=int(row.accepted),
        partly_accepted=int(row.partly_accepted),
        rejected=int(row.rejected),
        open=len(waiting),
        still_open=waiting,
    )


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


def aggregate_groups(
    session: Session, contract: Contract, period: Period
) -> tuple[stats.SelfAssessmentCheck, dict[str, list[Group]]]:
    """Return a month's correction and its figures per agent and per team, in SQL: the
    contract's correction applies to every group."""
    aggregate = aggregate_month(session, [contract], period, groups=True)[contract.id]
    return aggregate.self_assessment, {
        level: list(aggregate.groups.get(level, ())) for level in LEVELS[1:]
    }


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
            .where(Call.outcome == "answered")  # only answered calls are paid (DESIGN 16)
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


def _sample_figures(scope: Scope, month: Any) -> payout.SampleFigures | None:
    """Return what a month's samples say: committed, drawn, and how much of each is covered."""
    rule = scope.terms.sampling
    if rule is None:
        return None
    sample = scope.sample
    timeline = scope.timeline
    covered = {
        purpose: int(getattr(month, f"{purpose}_covered")) if month is not None else 0
        for purpose in ("self", "audit")
    }
    drawn = sample is not None and sample.drawn
    audit_drawn = sample is not None and sample.audit_drawn
    return payout.SampleFigures(
        commitment=None if sample is None else sample.commitment,
        seed=sample.seed if sample is not None and drawn else None,
        counts=rule.counts,
        min_coverage=rule.min_coverage,
        audit=payout.SampleShare(scope.sample_sizes.get("audit", 0), covered["audit"]),
        self_assessment=payout.SampleShare(scope.sample_sizes.get("self", 0), covered["self"]),
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
