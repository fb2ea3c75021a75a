"""A month's deadlines under its terms (DESIGN 8, 12, 13): written once, read everywhere.

Every deadline is a midnight in the terms' time zone, a whole number of days after the month
ends: the call log closes, then (under two-stage samples) the self-assessments are due and the
audit sample is revealed, then the audits are due. The month's dispute window runs from the
month's end, or under two-stage samples from the audits' due date; until it closes the authors
of the month's evaluations may amend or retract them, and the close does not finalize the month
before it. A revision's own date never moves any of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from contracts.periods import Period
from contracts.terms import Terms


@dataclass(frozen=True, slots=True)
class Timeline:
    """A month's deadlines, each an aware instant in the terms' time zone."""

    begins: datetime  # the month's first instant: a commitment made later is late
    ends: datetime
    log_closes: datetime  # no call of the month is logged after it; samples are drawn at it
    self_due: datetime | None  # two stages: self-assessments due, the audit sample revealed
    audit_due: datetime | None  # two stages: the audits due
    window_closes: datetime  # authors amend or retract until then; finalized after
    holds_until: datetime  # a dispute still waiting holds the month back until then at most
    # Where the terms pay on repeat contacts (DESIGN 16): the month's figure is final only
    # `within_days` after the month, and the close waits for it.
    repeats_final: datetime | None = None


def month_timeline(terms: Terms, period: Period) -> Timeline:
    """Return a month's deadlines under the terms in force for it."""
    zone = ZoneInfo(terms.timezone)

    def midnight(day: date, days: int = 0) -> datetime:
        return datetime.combine(day + timedelta(days=days), time(), zone)

    end = period.end_day
    log_days = terms.log_closes_days
    stages = None if terms.sampling is None else terms.sampling.stages
    self_due = audit_due = None
    window_from = end
    if stages is not None:
        self_days = log_days + stages.self_stage.due_days
        audit_days = self_days + stages.audit_stage.due_days
        self_due, audit_due = midnight(end, self_days), midnight(end, audit_days)
        window_from = end + timedelta(days=audit_days)
    window = terms.dispute_window_days
    repeat_days = None if terms.service is None else terms.service.within_days
    return Timeline(
        begins=midnight(period.first_day),
        ends=midnight(end),
        log_closes=midnight(end, log_days),
        self_due=self_due,
        audit_due=audit_due,
        window_closes=midnight(window_from, window),
        holds_until=midnight(window_from, window + terms.disputes.decide_within_days),
        repeats_final=None if repeat_days is None else midnight(end, repeat_days),
    )
