"""A month's service levels counted in SQL (DESIGN §16): the inbound calls of the month, their
surveys and the client's daily counts, never loaded into Python.

Three statements per contract and month: the log's counts, the repeat contacts (a window over
the month's callers and the next month's), and the surveys with the client's days. The
figures and the money come from `contracts.service_levels`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, extract, func, literal, select
from sqlalchemy.orm import Session

from contracts.periods import Period
from contracts.service_levels import (
    ServiceCounts,
    ServiceFigures,
    Thresholds,
    service_figures,
    thresholds_of,
)
from contracts.terms import Terms
from service.agreements.models import Contract
from service.agreements.service import terms_for_period
from service.calls.models import Call
from service.database.engine import reading_whole_months
from service.surveys.models import ClientCount, SurveyAnswer

MS_A_DAY = 86_400_000


def month_service(
    session: Session, contract: Contract, period: Period, terms: Terms | None = None
) -> ServiceFigures:
    """Return a contract's month of service levels under its terms (those in force unless
    given): the counts in SQL, the figures and the reconciliation by the rules."""
    terms = terms or terms_for_period(contract, period).terms
    counts = month_counts(session, contract.id, period, thresholds_of(terms.service))
    return service_figures(counts, terms.service)


def month_counts(
    session: Session, contract_id: int, period: Period, thresholds: Thresholds
) -> ServiceCounts:
    """Count a month's inbound calls, repeats, surveys and client days, in SQL."""
    with reading_whole_months(session):
        log = _log_counts(session, contract_id, period, thresholds)
        repeated = _repeats(session, contract_id, period, thresholds.within_days)
        surveys = _survey_counts(session, contract_id, period, thresholds.top_box_from)
    days, client = _client_days(session, contract_id, period)
    month_days = (period.end_day - period.first_day).days
    return ServiceCounts(
        logged=int(log.logged),
        answered=int(log.answered or 0),
        within=int(log.within or 0),
        abandoned=int(log.abandoned or 0),
        waited=int(log.waited or 0),
        wait_sum=int(log.wait_sum or 0),
        with_caller=int(log.with_caller or 0),
        repeated=repeated,
        responses=int(surveys.responses),
        top_box=int(surveys.top_box or 0),
        resolved_answers=int(surveys.resolved_answers or 0),
        resolved=int(surveys.resolved or 0),
        client=client if days == month_days else None,
        client_days=days,
        days=month_days,
    )


def _inbound(contract_id: int, period: Period) -> list[ColumnElement[bool]]:
    return [Call.contract_id == contract_id, Call.period == period, Call.direction == "inbound"]


def _log_counts(session: Session, contract_id: int, period: Period, thresholds: Thresholds) -> Any:
    answered = Call.outcome == "answered"
    short = and_(Call.wait_s.is_not(None), Call.wait_s < thresholds.short_abandon_s)
    abandoned = and_(Call.outcome == "abandoned", ~short)
    query = select(
        func.count().label("logged"),
        func.count(case((answered, 1))).label("answered"),
        # An answered call whose wait is not logged is not proven answered in time.
        func.count(case((and_(answered, Call.wait_s <= thresholds.answered_within_s), 1))).label(
            "within"
        ),
        func.count(case((abandoned, 1))).label("abandoned"),
        func.count(case((and_(answered, Call.wait_s.is_not(None)), 1))).label("waited"),
        func.sum(case((answered, Call.wait_s))).label("wait_sum"),
        func.count(case((and_(answered, Call.caller_ref.is_not(None)), 1))).label("with_caller"),
    ).where(*_inbound(contract_id, period))
    return session.execute(query).one()


def _milliseconds_between(dialect: str, later: Any, earlier: Any) -> Any:
    """Return the milliseconds from `earlier` to `later`, as each database counts them."""
    if dialect == "postgresql":
        return extract("epoch", later - earlier) * 1000
    return func.round((func.julianday(later) - func.julianday(earlier)) * MS_A_DAY)


def _repeats(session: Session, contract_id: int, period: Period, within_days: int) -> int:
    """Count the month's answered inbound calls with a caller who called again (inbound, any
    outcome) after it and at most `within_days` × 24 h later, in this month or the next."""
    pool = (
        select(Call.caller_ref, Call.call_at)
        .where(
            Call.contract_id == contract_id,
            Call.period.in_((period, period.next())),
            Call.direction == "inbound",
            Call.caller_ref.is_not(None),
        )
        .distinct()
        .subquery("pool")
    )
    # Each caller's next distinct time: a call at the same instant is not one "after" it.
    following = func.lead(pool.c.call_at).over(
        partition_by=pool.c.caller_ref, order_by=pool.c.call_at
    )
    times = select(pool.c.caller_ref, pool.c.call_at, following.label("next_at")).subquery("times")
    dialect = session.get_bind().dialect.name
    gap = _milliseconds_between(dialect, times.c.next_at, times.c.call_at)
    query = (
        select(func.count())
        .select_from(Call)
        .join(times, and_(times.c.caller_ref == Call.caller_ref, times.c.call_at == Call.call_at))
        .where(*_inbound(contract_id, period), Call.outcome == "answered")
        .where(times.c.next_at.is_not(None), gap <= literal(within_days * MS_A_DAY))
    )
    return int(session.scalar(query) or 0)


def _survey_counts(session: Session, contract_id: int, period: Period, top_box_from: int) -> Any:
    answer = SurveyAnswer
    query = select(
        func.count().label("responses"),
        func.count(case((answer.csat >= top_box_from, 1))).label("top_box"),
        func.count(answer.resolved).label("resolved_answers"),
        func.count(case((answer.resolved.is_(True), 1))).label("resolved"),
    ).where(answer.contract_id == contract_id, answer.period == period)
    return session.execute(query).one()


def _client_days(session: Session, contract_id: int, period: Period) -> tuple[int, int]:
    """Return how many days of the month the client counted, and its count of them."""
    days, offered = session.execute(
        select(func.count(), func.sum(ClientCount.offered)).where(
            ClientCount.contract_id == contract_id,
            ClientCount.day >= period.first_day,
            ClientCount.day < period.end_day,
        )
    ).one()
    return int(days), int(offered or 0)
