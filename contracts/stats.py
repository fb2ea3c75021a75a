"""Quality figures of a period from sufficient statistics (DESIGN section 5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from math import sqrt
from typing import Literal

from scipy import stats as distributions
from scipy.special import ndtri

from contracts.money import round_half_up, round_ratio
from contracts.terms import SelfAssessment

CONFIDENCE = Decimal("0.95")
SCORE_PLACES = 2  # scores, means, standard deviations and their intervals, in points
RATE_PLACES = 6  # critical error rates and their intervals, as fractions
PASSED_PLACES = 4

SelfAssessmentStatus = Literal["verified", "corrected", "unverified", "not_checked"]

# Enough digits that the one rounding to 2 or 6 decimals is the only one that shows.
_PRECISION = 50


@dataclass(frozen=True, slots=True)
class SufficientStatistics:
    """What SQL sums over a period's counted evaluations; scores in integer hundredths."""

    n: int
    sum_hundredths: int
    sum_squares_hundredths: int
    passed: int = 0
    critical_errors: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError(f"n must not be negative, got {self.n}")
        if not 0 <= self.sum_hundredths <= 10_000 * self.n:
            raise ValueError("sum_hundredths must lie between 0 and n scores of 100.00")
        if self.n * self.sum_squares_hundredths < self.sum_hundredths**2:
            raise ValueError("sum_squares_hundredths is too small for sum_hundredths")
        if not 0 <= self.passed <= self.n:
            raise ValueError(f"passed must lie between 0 and n, got {self.passed}")
        for category, errors in self.critical_errors.items():
            if not 0 <= errors <= self.n:
                raise ValueError(f"critical errors of {category} must lie between 0 and n")


@dataclass(frozen=True, slots=True)
class Interval:
    """A confidence interval, both ends included."""

    low: Decimal
    high: Decimal


@dataclass(frozen=True, slots=True)
class CriticalFigures:
    """Critical errors of one category: count, rate (a fraction) and its Wilson interval."""

    errors: int
    rate: Decimal | None
    ci: Interval | None


@dataclass(frozen=True, slots=True)
class Figures:
    """Quality figures of a period: scores in points, rates as fractions."""

    n: int
    mean: Decimal | None
    sd: Decimal | None
    ci: Interval | None
    passed_rate: Decimal | None
    critical: Mapping[str, CriticalFigures]


@dataclass(frozen=True, slots=True)
class SelfAssessmentCheck:
    """How supplier self-scores compare with audits of the same calls (DESIGN 5.2, 13).

    `applied`: they count lowered by the inflation. `counted`: they count at all; unverified
    ones do not, unless the client's own audit sample fell short of its coverage floor.
    """

    pairs: int
    inflation: Decimal | None
    applied: bool
    status: SelfAssessmentStatus
    counted: bool = True


def figures(stats: SufficientStatistics, confidence: Decimal = CONFIDENCE) -> Figures:
    """Return the mean, sd, t interval, pass rate and critical error rates of a period."""
    _check_confidence(confidence)
    n = stats.n
    critical = {
        category: critical_figures(errors, n, confidence)
        for category, errors in stats.critical_errors.items()
    }
    if n == 0:
        return Figures(0, None, None, None, None, critical)
    mean = round_ratio(stats.sum_hundredths, 100 * n, SCORE_PLACES)
    passed_rate = round_ratio(stats.passed, n, PASSED_PLACES)
    if n == 1:
        return Figures(1, mean, None, None, passed_rate, critical)
    with localcontext() as context:
        context.prec = _PRECISION
        exact_mean = Decimal(stats.sum_hundredths) / (100 * n)
        # Sample variance in hundredths squared: (nΣx² − (Σx)²) / (n(n − 1)), exact in integers.
        spread = n * stats.sum_squares_hundredths - stats.sum_hundredths**2
        exact_sd = (Decimal(spread) / (n * (n - 1))).sqrt() / 100
        quantile = Decimal(str(float(distributions.t.ppf(float((1 + confidence) / 2), n - 1))))
        half_width = quantile * exact_sd / Decimal(n).sqrt()
        low = max(exact_mean - half_width, Decimal(0))
        high = min(exact_mean + half_width, Decimal(100))
    ci = Interval(round_half_up(low, SCORE_PLACES), round_half_up(high, SCORE_PLACES))
    sd = round_half_up(exact_sd, SCORE_PLACES)
    return Figures(n, mean, sd, ci, passed_rate, critical)


def critical_figures(errors: int, n: int, confidence: Decimal = CONFIDENCE) -> CriticalFigures:
    """Return the rate of `errors` in `n` evaluations and its Wilson score interval."""
    _check_confidence(confidence)
    if not 0 <= errors <= n:
        raise ValueError(f"errors must lie between 0 and n, got {errors} of {n}")
    if n == 0:
        return CriticalFigures(errors, None, None)
    low_bound, high_bound = wilson_interval(errors, n, float(confidence))
    low = min(max(Decimal(str(low_bound)), Decimal(0)), Decimal(1))
    high = min(max(Decimal(str(high_bound)), Decimal(0)), Decimal(1))
    ci = Interval(round_half_up(low, RATE_PLACES), round_half_up(high, RATE_PLACES))
    return CriticalFigures(errors, round_ratio(errors, n, RATE_PLACES), ci)


def wilson_interval(errors: int, n: int, confidence: float) -> tuple[float, float]:
    """Return the two-sided Wilson score interval of `errors` in `n` (no continuity correction).

    The same floats as SciPy's `binomtest(errors, n).proportion_ci(confidence, "wilson")`: the
    same operations in the same order (a test holds them equal). `binomtest` first computes an
    exact p-value nobody reads, about 2 ms a call: 150 calls on every scorecards page.
    """
    p = errors / n
    z = ndtri(0.5 + 0.5 * confidence)  # a NumPy float, as SciPy's own arithmetic has it
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    delta = z / denom * sqrt(4 * n * p * (1 - p) + z**2)
    low = 0.0 if errors == 0 else float(center - delta)
    high = 1.0 if errors == n else float(center + delta)
    return low, high


def self_assessment_check(
    pairs: int,
    sum_difference_hundredths: int,
    rule: SelfAssessment | None,
    *,
    audits_short: bool = False,
) -> SelfAssessmentCheck:
    """Judge supplier self-scores from audited pairs and their Σ(supplier − audit) in hundredths.

    Self-scores must be verified to count (DESIGN 13): with fewer than `min_pairs` pairs they
    do not count at all, unless `audits_short` (the client left its audit sample under its
    coverage floor: the side that falls short cannot gain from it).
    """
    if pairs < 0:
        raise ValueError(f"pairs must not be negative, got {pairs}")
    if pairs == 0 and sum_difference_hundredths != 0:
        raise ValueError("no pairs cannot have a score difference")
    inflation = round_ratio(sum_difference_hundredths, 100 * pairs, 2) if pairs else None
    if rule is None:
        return SelfAssessmentCheck(pairs, inflation, False, "not_checked")
    if inflation is None or pairs < rule.min_pairs:
        return SelfAssessmentCheck(pairs, inflation, False, "unverified", counted=audits_short)
    # The rounded d is compared, as it is the figure the scorecard shows and the SQL subtracts.
    if inflation > rule.tolerance:
        return SelfAssessmentCheck(pairs, inflation, True, "corrected")
    return SelfAssessmentCheck(pairs, inflation, False, "verified")


def inflation_hundredths(check: SelfAssessmentCheck) -> int:
    """Return how many hundredths of a point to take off each supplier score (0 unless applied)."""
    if not check.applied or check.inflation is None:
        return 0
    return int(check.inflation.scaleb(2))


def _check_confidence(confidence: Decimal) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
