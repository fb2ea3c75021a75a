"""DESIGN §5, §6 and §16 computed the plain way, over rows read back: the tests' yardstick.

The service aggregates in SQL; these functions filter, pick, pair, correct and sum in plain
Python, then apply the pure rules of `contracts/`, so a test can check the service's figures
and money against a computation that shares none of its SQL.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts import payout, stats
from contracts.periods import Period
from contracts.terms import parse_terms
from service.evaluations.models import Evaluation
from service.volumes.models import DailyVolume

RANK = {"client": 3, "third_party": 2, "supplier": 1}


def python_aggregate(
    rows: list[Evaluation],
    period: Period,
    tolerance: int,
    min_pairs: int,
    timezone: str = "Europe/Rome",
) -> dict[str, Any]:
    """Compute DESIGN §5 the plain way: filter, pick, pair, correct, sum."""
    zone = ZoneInfo(timezone)
    in_month = [
        row
        for row in rows
        if Period.of(row.call_at.astimezone(zone).date()) == period
        and row.score_hundredths is not None
        and not row.retracted  # a retracted evaluation counts nowhere (DESIGN 12)
    ]
    by_call: dict[str, dict[str, int]] = {}
    for row in in_month:
        assert row.score_hundredths is not None
        by_call.setdefault(row.call_ref, {})[row.source] = row.score_hundredths
    differences = []
    for scores in by_call.values():
        audits = [s for s in ("client", "third_party") if s in scores]
        if "supplier" in scores and audits:
            differences.append(scores["supplier"] - scores[audits[0]])
    pairs = len(differences)
    # d in points, rounded half up to 2 decimals, kept here in hundredths
    inflation = (
        int((Decimal(sum(differences)) / pairs).quantize(Decimal(1), ROUND_HALF_UP)) if pairs else 0
    )
    lower_by = inflation if pairs >= min_pairs and inflation > tolerance * 100 else 0
    # Self-scores must be verified to count (DESIGN 13): too few pairs, and only audits count.
    verified = pairs >= min_pairs
    counted = []
    for row in in_month:
        sources = [s for s in by_call[row.call_ref] if verified or s != "supplier"]
        if row.source not in sources:
            continue
        best = max(sources, key=RANK.__getitem__)
        if row.source == best:
            assert row.score_hundredths is not None
            score = row.score_hundredths
            if row.source == "supplier":
                score = max(score - lower_by, 0)
            counted.append((score, row))
    return {
        "n": len(counted),
        "sum": sum(score for score, _ in counted),
        "sum_squares": sum(score * score for score, _ in counted),
        "passed": sum(1 for _, row in counted if row.passed),
        "compliance": sum(1 for _, row in counted if row.critical_compliance),
        "customer": sum(1 for _, row in counted if row.critical_customer),
        "business": sum(1 for _, row in counted if row.critical_business),
        "pairs": pairs,
        "difference": sum(differences),
        "lowered_by": lower_by,
        "verified": verified,
    }


def plain_total(
    session: Session, contract_id: int, period: Period, terms_document: dict[str, Any]
) -> Decimal:
    """Return what a contract's period pays under the terms, computed the plain way."""
    terms = parse_terms(terms_document)
    assert terms.quality is not None and terms.quality.self_assessment is not None
    rule = terms.quality.self_assessment
    rows = list(session.scalars(select(Evaluation).where(Evaluation.contract_id == contract_id)))
    plain = python_aggregate(rows, period, rule.tolerance, rule.min_pairs, terms.timezone)
    units = session.scalar(
        select(func.coalesce(func.sum(DailyVolume.units), 0)).where(
            DailyVolume.contract_id == contract_id,
            DailyVolume.day >= period.first_day,
            DailyVolume.day < period.end_day,
        )
    )
    statistics = stats.SufficientStatistics(
        n=plain["n"],
        sum_hundredths=plain["sum"],
        sum_squares_hundredths=plain["sum_squares"],
        passed=plain["passed"],
        critical_errors={c: plain[c] for c in ("customer", "business", "compliance")},
    )
    check = stats.self_assessment_check(plain["pairs"], plain["difference"], rule)
    figures = payout.PeriodFigures(int(units or 0), stats.figures(statistics), check)
    return payout.compute_statement(terms, figures).total


def plain_service_levels(
    calls: list[dict[str, Any]],
    surveys: list[dict[str, Any]],
    period: Period,
    timezone: str,
    *,
    short_abandon_s: int,
    answered_within_s: int,
    within_days: int,
    top_box_from: int,
) -> dict[str, Any]:
    """Compute DESIGN §16's KPIs of a month the plain way, over the calls as they were sent.

    Each call is a dict with `call_ref`, `call_at` (aware), `direction`, `outcome`, `wait_s`,
    `caller_ref` (None where not sent); each survey `call_ref`, `csat`, `resolved`. Each
    figure is exact, None with nothing to divide by; `logged` counts the month's inbound calls.
    """
    zone = ZoneInfo(timezone)

    def in_month(call: dict[str, Any]) -> bool:
        return Period.of(call["call_at"].astimezone(zone).date()) == period

    def short(call: dict[str, Any]) -> bool:
        wait = call["wait_s"]
        return call["outcome"] == "abandoned" and wait is not None and wait < short_abandon_s

    inbound = [call for call in calls if call["direction"] == "inbound"]
    month = [call for call in inbound if in_month(call)]
    answered = [call for call in month if call["outcome"] == "answered"]
    abandoned = [call for call in month if call["outcome"] == "abandoned" and not short(call)]
    offered = len(answered) + len(abandoned)
    within = [c for c in answered if c["wait_s"] is not None and c["wait_s"] <= answered_within_s]
    waits = [call["wait_s"] for call in answered if call["wait_s"] is not None]
    window = timedelta(days=within_days)
    with_caller = [call for call in answered if call["caller_ref"] is not None]
    repeated = [
        call
        for call in with_caller
        if any(
            other["caller_ref"] == call["caller_ref"]
            and timedelta(0) < other["call_at"] - call["call_at"] <= window
            for other in inbound
        )
    ]
    month_refs = {call["call_ref"] for call in calls if in_month(call)}
    answers = [survey for survey in surveys if survey["call_ref"] in month_refs]
    with_resolved = [survey for survey in answers if survey["resolved"] is not None]

    def share(numerator: int, denominator: int) -> Fraction | None:
        return Fraction(numerator, denominator) if denominator else None

    return {
        "logged": len(month),
        "service_level": share(len(within), offered),
        "abandoned": share(len(abandoned), offered),
        "answer_speed": share(sum(waits), len(waits)),
        "repeat_contacts": share(len(repeated), len(with_caller)),
        "csat": share(sum(1 for s in answers if s["csat"] >= top_box_from), len(answers)),
        "resolved": share(sum(1 for s in with_resolved if s["resolved"]), len(with_resolved)),
    }
