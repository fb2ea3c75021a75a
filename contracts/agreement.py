"""How well the people scoring the same calls agree, and whether that lets quality pay (DESIGN 17).

A calibration session is a units × coders table: its calls are the units, its participants
the coders, a missing score is missing. Krippendorff's alpha comes from the `krippendorff`
package; its 95% interval from SciPy's bootstrap over calls, with a seed stored beside it.
"""

from __future__ import annotations

import statistics
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Literal

import krippendorff
import numpy as np
from scipy.stats import DegenerateDataWarning, bootstrap

from contracts.forms import Form, Question
from contracts.terms import Calibration

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")
# What a question's kind implies: yes/no names categories, a scale orders them.
LEVEL_OF_KIND: dict[str, Level] = {"yes_no": "nominal", "scale": "ordinal"}
YES_NO = {"yes": 1, "no": 0}

# Why alpha (or its interval) is undefined.
NO_PAIRS = "no_pairs"  # no call was scored by two participants
NO_VARIATION = "no_variation"  # every value given is the same: nothing to agree or disagree on
TOO_FEW_CALLS = "too_few_calls"  # an interval needs two calls scored by two participants
UNSTABLE = "no_variation_in_resamples"  # some resampled sessions had no variation

RESAMPLES = 2000
PLACES = Decimal("0.0001")
CONFIDENCE = 0.95

# Why a month's quality lines may not move money (the gate); None when they may.
GATE_REASONS = ("none", "too_small", "too_old", "too_low")

Value = float | int | Decimal | None
Table = Sequence[Sequence[Value]]  # one row per unit (call), one column per coder


@dataclass(frozen=True, slots=True)
class Alpha:
    """Krippendorff's alpha, or None and why it is undefined."""

    value: Decimal | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Interval:
    """A 95% bootstrap interval of alpha, or None and why; how it was drawn, to redraw it."""

    low: Decimal | None
    high: Decimal | None
    seed: int
    resamples: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class QuestionAgreement:
    """How the participants agreed on one question of the form."""

    question: str
    level: Level
    alpha: Decimal | None
    reason: str | None
    disagreement: Decimal | None  # the share of calls answered by two or more that differ
    differs: tuple[Decimal | None, ...] = ()  # per coder: how often it differs (`differences`)


@dataclass(frozen=True, slots=True)
class Deviation:
    """How far one participant's total scores lie from the reference's (or the others')."""

    calls_scored: int
    deviation: Decimal | None


@dataclass(frozen=True, slots=True)
class Agreement:
    """A closed session's agreement: alpha on the totals, per question, per participant."""

    alpha: Alpha
    interval: Interval
    questions: tuple[QuestionAgreement, ...]
    deviations: tuple[Deviation, ...]


def alpha(table: Table, level: Level) -> Alpha:
    """Return Krippendorff's alpha of a units × coders table at a level of measurement."""
    pairable = _pairable(table)
    if not pairable:
        return Alpha(None, NO_PAIRS)
    if len({float(value) for row in pairable for value in row if value is not None}) < 2:
        return Alpha(None, NO_VARIATION)
    if level == "interval":
        # Exact, so a tie in the fifth decimal rounds the same way on every machine.
        return Alpha(interval_alpha(table))
    data = np.array(
        [[np.nan if value is None else float(value) for value in row] for row in pairable]
    )
    # The package takes coders as rows and units as columns.
    value = krippendorff.alpha(reliability_data=data.T, level_of_measurement=level)
    return Alpha(_rounded(value))


def _pairable(table: Table) -> list[Sequence[Value]]:
    """Return the units that two or more coders valued: only they carry agreement."""
    return [row for row in table if sum(value is not None for value in row) >= 2]


def _rounded(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(PLACES, ROUND_HALF_UP)


def interval_alpha_interval(table: Table, seed: int, resamples: int = RESAMPLES) -> Interval:
    """Return a 95% percentile bootstrap interval of the interval alpha, resampling units.

    Each resample's alpha is the interval level's closed form (sums and sums of squares per
    unit, which the tests hold equal to the package): thousands of resamples stay quick where
    the package would build a matrix of every distinct score.
    """
    pairable = _pairable(table)
    if len(pairable) < 2:
        return Interval(None, None, seed, resamples, TOO_FEW_CALLS)
    counts, sums, squares = np.array([_unit_sums(row) for row in pairable], dtype=np.int64).T
    within = 2 * (counts * squares - sums * sums) / (counts - 1)

    def statistic(units: np.ndarray, axis: int = -1) -> np.ndarray:
        n = counts[units].sum(axis)
        spread = 2 * (n * squares[units].sum(axis) - sums[units].sum(axis) ** 2)
        safe = np.where(spread > 0, spread, 1)
        return np.where(spread > 0, 1 - (n - 1) * within[units].sum(axis) / safe, np.nan)

    with warnings.catch_warnings():
        # A resample with no variation has no alpha; SciPy warns, and the interval is None.
        warnings.simplefilter("ignore", DegenerateDataWarning)
        result = bootstrap(
            (np.arange(len(pairable)),),
            statistic,
            n_resamples=resamples,
            vectorized=True,
            method="percentile",
            confidence_level=CONFIDENCE,
            rng=np.random.default_rng(seed),
        )
    low, high = result.confidence_interval
    if np.isnan(low) or np.isnan(high):
        return Interval(None, None, seed, resamples, UNSTABLE)
    return Interval(_rounded(low), _rounded(high), seed, resamples)


def _unit_sums(row: Sequence[Value]) -> tuple[int, int, int]:
    """Return a unit's count, sum and sum of squares, in exact integer hundredths."""
    values = [int(Decimal(str(value)).scaleb(2)) for value in row if value is not None]
    return len(values), sum(values), sum(value * value for value in values)


def interval_alpha(table: Table) -> Decimal | None:
    """Return the interval alpha by its closed form (None where it is undefined)."""
    pairable = _pairable(table)
    if not pairable:
        return None
    units = [_unit_sums(row) for row in pairable]
    n = sum(count for count, _, _ in units)
    spread = 2 * (
        n * sum(square for _, _, square in units) - sum(total for _, total, _ in units) ** 2
    )
    if spread == 0:
        return None
    within = sum(
        (
            Fraction(2 * (count * square - total * total), count - 1)
            for count, total, square in units
        ),
        Fraction(0),
    )
    exact = 1 - (n - 1) * within / spread
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(PLACES, ROUND_HALF_UP)


def question_agreement(question: Question, answers: Sequence[Sequence[Any]]) -> QuestionAgreement:
    """Return alpha and disagreement of one question; `answers` is units × coders, None
    where a coder did not score the unit (N/A counts as missing)."""
    level = LEVEL_OF_KIND[question.kind]
    table = [[_answer_value(value) for value in row] for row in answers]
    found = alpha(table, level)
    answered = [{value for value in row if value is not None} for row in table if _count(row) >= 2]
    disagreement = None
    if answered:
        differing = sum(len(values) > 1 for values in answered)
        disagreement = (Decimal(differing) / len(answered)).quantize(PLACES, ROUND_HALF_UP)
    return QuestionAgreement(question.key, level, found.value, found.reason, disagreement)


def _count(row: Sequence[Value]) -> int:
    return sum(value is not None for value in row)


def _answer_value(value: Any) -> int | None:
    if value is None or value == "na":
        return None
    if isinstance(value, str):
        return YES_NO[value]
    return int(value)


def differences(
    question: Question, answers: Sequence[Sequence[Any]], reference: int | None
) -> list[Decimal | None]:
    """Return, per coder, the share of the units it answered where its answer differs from
    the reference's (without one: from the most common answer of the others); N/A is missing
    and the reference's own share is None."""
    table = [[_answer_value(value) for value in row] for row in answers]
    coders = len(table[0]) if table else 0
    shares: list[Decimal | None] = []
    for coder in range(coders):
        compared = differing = 0
        for row in table:
            own = row[coder]
            if own is None or coder == reference:
                continue
            common: set[int | None]
            if reference is not None:
                common = set() if row[reference] is None else {row[reference]}
            else:
                others = [v for i, v in enumerate(row) if i != coder and v is not None]
                common = set(_most_common(others))
            if common:
                compared += 1
                differing += own not in common
        share = None
        if compared and coder != reference:
            share = (Decimal(differing) / compared).quantize(PLACES, ROUND_HALF_UP)
        shares.append(share)
    return shares


def _most_common(values: Sequence[int]) -> set[int]:
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    top = max(counts.values(), default=0)
    return {value for value, count in counts.items() if count == top}


def deviations(totals: Table, reference: int | None) -> tuple[Deviation, ...]:
    """Return each coder's mean absolute difference from the reference over the units both
    scored (without one, from the median of the others); the reference's own is None."""
    coders = len(totals[0]) if totals else 0
    found = []
    for coder in range(coders):
        scored = [row for row in totals if row[coder] is not None]
        if coder == reference:
            found.append(Deviation(len(scored), None))
            continue
        differences = []
        for row in scored:
            own = Decimal(str(row[coder]))
            if reference is not None:
                if row[reference] is not None:
                    differences.append(abs(own - Decimal(str(row[reference]))))
                continue
            others = [Decimal(str(v)) for i, v in enumerate(row) if i != coder and v is not None]
            if others:
                differences.append(abs(own - statistics.median(others)))
        mean = None
        if differences:
            mean = (sum(differences, Decimal(0)) / len(differences)).quantize(
                Decimal("0.01"), ROUND_HALF_UP
            )
        found.append(Deviation(len(scored), mean))
    return tuple(found)


def agreement(
    form: Form,
    totals: Table,
    answers: Sequence[Sequence[Mapping[str, Any] | None]],
    reference: int | None,
    seed: int,
    resamples: int = RESAMPLES,
) -> Agreement:
    """Return a session's agreement: `totals` and `answers` are units × coders tables."""
    questions = []
    for section in form.sections:
        for question in section.questions:
            column = [
                [None if given is None else given.get(question.key) for given in row]
                for row in answers
            ]
            found = question_agreement(question, column)
            differs = tuple(differences(question, column, reference))
            questions.append(replace(found, differs=differs))
    order = {key: index for index, key in enumerate(form.question_keys())}
    questions.sort(key=lambda each: _worst_first(each, order[each.question]))
    return Agreement(
        alpha(totals, "interval"),
        interval_alpha_interval(totals, seed, resamples),
        tuple(questions),
        deviations(totals, reference),
    )


def _worst_first(found: QuestionAgreement, position: int) -> tuple[int, Decimal, Decimal, int]:
    """Sort by alpha, lowest first; an undefined alpha after every defined one, the more
    disagreed first; then the form's order."""
    undefined = found.alpha is None
    return (
        int(undefined),
        found.alpha if found.alpha is not None else Decimal(0),
        -(found.disagreement or Decimal(0)),
        position,
    )


# The gate on money


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A closed session as the gate weighs it."""

    session_id: int
    closed_at: str  # an ISO instant, for people and the basis
    closed_on: date  # the day it closed, in the contract's time zone
    alpha: Decimal | None
    ci: tuple[Decimal, Decimal] | None
    calls: int  # calls scored by two or more participants
    participants: int  # participants who scored a call
    sides: frozenset[str]  # "client", "supplier", "third_party" among them


@dataclass(frozen=True, slots=True)
class Standing:
    """Whether a month's quality lines may move money, and the session that says so."""

    qualifies: bool
    reason: str | None  # one of GATE_REASONS, None when it qualifies
    session: SessionRecord | None
    rule: Calibration
    oldest: date | None  # the earliest day a session may have closed and still count

    def basis(self) -> dict[str, Any]:
        """Return the standing as a line's basis carries it."""
        session = self.session
        return {
            "session_id": session.session_id if session else None,
            "closed_at": session.closed_at if session else None,
            "closed_on": session.closed_on.isoformat() if session else None,
            "alpha": _text(session.alpha) if session else None,
            "ci": [_text(v) for v in session.ci] if session and session.ci else None,
            "calls": session.calls if session else None,
            "participants": session.participants if session else None,
            "sides": sorted(session.sides) if session else [],
            "qualifies": self.qualifies,
            "reason": self.reason,
            "min_alpha": _text(self.rule.min_alpha),
            "valid_days": self.rule.valid_days,
            "min_calls": self.rule.min_calls,
            "min_participants": self.rule.min_participants,
            "oldest": self.oldest.isoformat() if self.oldest else None,
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def oldest_day(rule: Calibration, first_day: date, last_day: date) -> date:
    """Return the earliest closing day that still counts for the month of those days."""
    return min(first_day, last_day - timedelta(days=rule.valid_days))


def why_not(rule: Calibration, session: SessionRecord, oldest: date | None) -> str | None:
    """Return why a session closed by the month's end does not qualify (None: it does)."""
    sides = {"client", "supplier"} <= session.sides
    if session.calls < rule.min_calls or session.participants < rule.min_participants or not sides:
        return "too_small"
    if oldest is not None and session.closed_on < oldest:
        return "too_old"
    if session.alpha is None or session.alpha < rule.min_alpha:
        return "too_low"
    return None


def standing(
    rule: Calibration, sessions: Sequence[SessionRecord], first_day: date, last_day: date
) -> Standing:
    """Judge a month by the contract's closed sessions: the latest that qualifies if any does,
    else the latest closed by the month's last day and why it does not."""
    oldest = oldest_day(rule, first_day, last_day)
    closed = sorted(
        (each for each in sessions if each.closed_on <= last_day),
        key=lambda each: (each.closed_at, each.session_id),
        reverse=True,
    )
    for session in closed:
        if why_not(rule, session, oldest) is None:
            return Standing(True, None, session, rule, oldest)
    if not closed:
        return Standing(False, "none", None, rule, oldest)
    return Standing(False, why_not(rule, closed[0], oldest), closed[0], rule, oldest)
