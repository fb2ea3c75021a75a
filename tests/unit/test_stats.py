import math
import statistics
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as distributions

from contracts.forms import CRITICAL_CATEGORIES
from contracts.stats import (
    CriticalFigures,
    Interval,
    SelfAssessmentCheck,
    SufficientStatistics,
    critical_figures,
    figures,
    inflation_hundredths,
    self_assessment_check,
    wilson_interval,
)
from contracts.terms import SelfAssessment

RULE = SelfAssessment(tolerance=Decimal("3"), min_pairs=20)


def sufficient(
    scores: Sequence[Decimal],
    passed: int = 0,
    critical_errors: dict[str, int] | None = None,
) -> SufficientStatistics:
    """Sum raw scores the way SQL does: integer hundredths, their squares, counts."""
    hundredths = [int(score * 100) for score in scores]
    return SufficientStatistics(
        n=len(hundredths),
        sum_hundredths=sum(hundredths),
        sum_squares_hundredths=sum(value * value for value in hundredths),
        passed=passed,
        critical_errors=critical_errors or {},
    )


def points(*values: str) -> list[Decimal]:
    return [Decimal(value) for value in values]


scores = st.integers(min_value=0, max_value=10_000).map(
    lambda hundredths: Decimal(hundredths) / 100
)
evaluations = st.lists(
    st.tuples(scores, st.booleans(), st.frozensets(st.sampled_from(CRITICAL_CATEGORIES))),
    min_size=2,
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(evaluations)
def test_figures_match_statistics_computed_on_the_raw_scores(
    raw: list[tuple[Decimal, bool, frozenset[str]]],
) -> None:
    values = [score for score, _, _ in raw]
    errors = {
        category: sum(category in failed for _, _, failed in raw)
        for category in ("customer", "compliance")
    }
    result = figures(sufficient(values, sum(ok for _, ok, _ in raw), errors))

    n = len(values)
    mean = statistics.mean(values)
    sd = statistics.stdev(values)
    assert result.n == n
    assert result.mean is not None and abs(result.mean - mean) <= Decimal("0.005")
    assert result.sd is not None and abs(result.sd - sd) <= Decimal("0.01")
    assert result.ci is not None
    if sd == 0:
        assert result.ci == Interval(result.mean, result.mean)
    else:
        low, high = distributions.t.interval(
            0.95, n - 1, loc=float(mean), scale=float(sd) / math.sqrt(n)
        )
        assert abs(float(result.ci.low) - max(low, 0.0)) <= 0.01
        assert abs(float(result.ci.high) - min(high, 100.0)) <= 0.01
    assert result.passed_rate is not None
    assert abs(Fraction(result.passed_rate) - Fraction(sum(ok for _, ok, _ in raw), n)) <= Fraction(
        1, 20_000
    )
    assert set(result.critical) == {"customer", "compliance"}
    for category, count in errors.items():
        critical = result.critical[category]
        wilson = distributions.binomtest(count, n).proportion_ci(
            confidence_level=0.95, method="wilson"
        )
        assert critical.errors == count
        assert critical.rate is not None and critical.ci is not None
        assert abs(float(critical.rate) - count / n) <= 1e-6
        assert abs(float(critical.ci.low) - wilson.low) <= 1e-6
        assert abs(float(critical.ci.high) - wilson.high) <= 1e-6


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=5_000), st.data())
def test_the_wilson_interval_matches_its_closed_form(n: int, data: st.DataObject) -> None:
    errors = data.draw(st.integers(min_value=0, max_value=n))
    z = statistics.NormalDist().inv_cdf(0.975)
    p = errors / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)

    critical = critical_figures(errors, n)

    assert critical.ci is not None
    assert abs(float(critical.ci.low) - max(centre - spread, 0.0)) <= 1e-6
    assert abs(float(critical.ci.high) - min(centre + spread, 1.0)) <= 1e-6


def test_no_evaluations_give_no_mean_no_interval_and_no_rates() -> None:
    result = figures(SufficientStatistics(0, 0, 0, 0, {"compliance": 0}))

    assert (result.n, result.mean, result.sd, result.ci, result.passed_rate) == (
        0,
        None,
        None,
        None,
        None,
    )
    assert result.critical == {"compliance": CriticalFigures(0, None, None)}


def test_one_evaluation_has_a_mean_but_no_spread_or_interval() -> None:
    result = figures(sufficient(points("87.50"), passed=1, critical_errors={"customer": 1}))

    assert result.mean == Decimal("87.50")
    assert result.sd is None
    assert result.ci is None
    assert result.passed_rate == Decimal("1.0000")
    # Wilson for 1 of 1: centre (1 + z²/2)/(1 + z²), z = 1.959964, gives a lower bound 0.206549.
    assert result.critical["customer"] == CriticalFigures(
        1, Decimal("1.000000"), Interval(Decimal("0.206549"), Decimal("1.000000"))
    )


def test_two_evaluations_give_a_wide_interval_clipped_at_100() -> None:
    # mean 85, sd = √50 = 7.0711; t(0.975, 1) = 12.7062; half width 12.7062 · 7.0711 / √2
    # = 63.531, so 21.469 to 148.531, clipped to 100.
    result = figures(sufficient(points("80.00", "90.00")))

    assert result.mean == Decimal("85.00")
    assert result.sd == Decimal("7.07")
    assert result.ci == Interval(Decimal("21.47"), Decimal("100.00"))


def test_an_interval_near_the_top_is_clipped_at_100() -> None:
    # 100, 100, 99: mean 99.6667, sd 0.5774; t(0.975, 2) = 4.3027; half width 1.4343.
    result = figures(sufficient(points("100.00", "100.00", "99.00")))

    assert result.mean == Decimal("99.67")
    assert result.sd == Decimal("0.58")
    assert result.ci == Interval(Decimal("98.23"), Decimal("100.00"))


def test_an_interval_near_the_bottom_is_clipped_at_0() -> None:
    # 0, 0, 1: the mirror of the case above, 0.3333 − 1.4343 is below 0.
    result = figures(sufficient(points("0.00", "0.00", "1.00")))

    assert result.ci == Interval(Decimal("0.00"), Decimal("1.77"))


def test_identical_scores_have_no_spread_and_a_point_interval() -> None:
    result = figures(sufficient(points("85.00", "85.00", "85.00", "85.00")))

    assert result.sd == Decimal("0.00")
    assert result.ci == Interval(Decimal("85.00"), Decimal("85.00"))


def test_the_mean_is_rounded_half_up_from_the_exact_sum() -> None:
    result = figures(sufficient(points("80.00", "80.01")))

    assert result.mean == Decimal("80.01")  # 80.005 exactly


def test_the_interval_is_computed_from_the_unrounded_mean() -> None:
    # mean 80.005, sd 0.0070711; t(0.975, 1) · sd / √2 = 0.0635: 79.9415 to 80.0685.
    result = figures(sufficient(points("80.00", "80.01")))

    assert result.ci == Interval(Decimal("79.94"), Decimal("80.07"))


def test_a_lower_confidence_gives_a_narrower_interval() -> None:
    # 80, 85, 90, 95: mean 87.5, sd 6.455, sem 3.2275; t(0.95, 3) = 2.3534 gives ± 7.5956.
    stats = sufficient(points("80.00", "85.00", "90.00", "95.00"))

    assert figures(stats, Decimal("0.90")).ci == Interval(Decimal("79.90"), Decimal("95.10"))
    assert figures(stats).ci == Interval(Decimal("77.23"), Decimal("97.77"))


def test_the_pass_rate_is_a_fraction_to_four_decimals() -> None:
    result = figures(sufficient(points("90.00", "70.00", "85.00"), passed=2))

    assert result.passed_rate == Decimal("0.6667")


@pytest.mark.parametrize(
    ("n", "sum_hundredths", "sum_squares", "passed", "errors"),
    [
        (-1, 0, 0, 0, {}),
        (2, 20_001 * 1, 20_001**2, 0, {}),
        (2, 10_000, 10_000, 0, {}),
        (2, 10_000, 50_000_000, 3, {}),
        (2, 10_000, 50_000_000, 0, {"compliance": 3}),
    ],
)
def test_impossible_sums_are_refused(
    n: int, sum_hundredths: int, sum_squares: int, passed: int, errors: dict[str, int]
) -> None:
    with pytest.raises(ValueError):
        SufficientStatistics(n, sum_hundredths, sum_squares, passed, errors)


@pytest.mark.parametrize("confidence", ["0", "1", "1.5", "-0.95"])
def test_a_confidence_outside_0_and_1_is_refused(confidence: str) -> None:
    with pytest.raises(ValueError):
        figures(sufficient(points("80.00", "90.00")), Decimal(confidence))


def test_self_assessment_without_a_rule_is_not_checked() -> None:
    check = self_assessment_check(25, 10_500, None)

    assert check == SelfAssessmentCheck(25, Decimal("4.20"), False, "not_checked")
    assert inflation_hundredths(check) == 0


def test_self_assessment_with_too_few_pairs_is_unverified_and_does_not_count() -> None:
    check = self_assessment_check(12, 6_000, RULE)  # 60.00 points over 12 pairs: d = 5.00

    assert check == SelfAssessmentCheck(12, Decimal("5.00"), False, "unverified", counted=False)
    assert inflation_hundredths(check) == 0


def test_self_assessment_with_no_pairs_is_unverified_with_no_inflation() -> None:
    assert self_assessment_check(0, 0, RULE) == SelfAssessmentCheck(
        0, None, False, "unverified", counted=False
    )


def test_unverified_self_scores_count_when_the_clients_audits_fell_short() -> None:
    check = self_assessment_check(12, 6_000, RULE, audits_short=True)

    assert check == SelfAssessmentCheck(12, Decimal("5.00"), False, "unverified", counted=True)
    assert self_assessment_check(25, 10_500, RULE, audits_short=True).status == "corrected"


def test_self_assessment_inflated_beyond_tolerance_is_corrected() -> None:
    check = self_assessment_check(25, 10_500, RULE)  # 105.00 points over 25 pairs: d = 4.20

    assert check == SelfAssessmentCheck(25, Decimal("4.20"), True, "corrected")
    assert inflation_hundredths(check) == 420


def test_self_assessment_inflated_exactly_by_the_tolerance_is_verified() -> None:
    check = self_assessment_check(25, 7_500, RULE)  # d = 3.00, which does not exceed 3

    assert check == SelfAssessmentCheck(25, Decimal("3.00"), False, "verified")
    assert inflation_hundredths(check) == 0


def test_self_assessment_compares_the_rounded_inflation_with_the_tolerance() -> None:
    check = self_assessment_check(25, 7_501, RULE)  # d = 3.0004, shown and compared as 3.00

    assert check.status == "verified"
    assert check.inflation == Decimal("3.00")


def test_self_assessment_scoring_below_the_audits_is_verified_and_never_raised() -> None:
    check = self_assessment_check(30, -4_500, RULE)  # d = -1.50

    assert check == SelfAssessmentCheck(30, Decimal("-1.50"), False, "verified")
    assert inflation_hundredths(check) == 0


@settings(max_examples=500, deadline=None)
@given(
    st.integers(min_value=1, max_value=2_000_000),
    st.data(),
    st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.999]),
)
def test_the_wilson_interval_is_scipys_to_the_last_bit(
    n: int, data: st.DataObject, confidence: float
) -> None:
    errors = data.draw(st.one_of(st.integers(0, min(n, 50)), st.integers(0, n)))
    scipy = distributions.binomtest(errors, n).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    assert wilson_interval(errors, n, confidence) == (scipy.low, scipy.high)
