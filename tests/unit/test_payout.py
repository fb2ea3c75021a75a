import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import contracts
from contracts.forms import CRITICAL_CATEGORIES
from contracts.money import minor_unit, round_money
from contracts.payout import (
    Line,
    PeriodFigures,
    PriorAdjustment,
    SampleFigures,
    SampleShare,
    Statement,
    compute_statement,
    volume_fee,
)
from contracts.stats import Figures, Interval, critical_figures, self_assessment_check
from contracts.terms import (
    Band,
    Cap,
    CriticalRule,
    Evidence,
    Quality,
    Terms,
    Tier,
    Volume,
    parse_terms,
)
from service.statements.reasons import stored_lines

EXAMPLES = Path(contracts.__file__).parent / "examples"
QUALITY_CODES = ("quality_band", "critical_customer", "critical_business", "critical_compliance")


def example(name: str) -> Terms:
    return parse_terms(yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8")))


# DESIGN section 6: 50,000 units at 1.10 then 0.95; bands 92 +12%, 85 +6%, 75 0%, 0 -8%;
# compliance over 0.5% -5%, customer over 2% -3%; min sample 60; cap 15% each side.
DESIGN = example("terms-quality.yaml")
# 30,000 calls at 180 yen then 150; bands 90 +8%, 80 +3%, 70 0%, 0 -5%; compliance over 1%
# -4%, business over 3% -2%; min sample 40; point evidence; cap 10% each side.
YEN = example("terms-jpy.yaml")
# 20,000 units at 1.20, up to 60,000 at 1.05, the rest at 0.90; no quality.
VOLUME_ONLY = example("terms-volume-only.yaml")

# 60,000 units under DESIGN: 50,000 × 1.10 + 10,000 × 0.95 = 55,000 + 9,500 = 64,500.00.
UNITS = 60_000


def with_quality(terms: Terms, **changes: Any) -> Terms:
    assert terms.quality is not None
    return dataclasses.replace(terms, quality=dataclasses.replace(terms.quality, **changes))


def scores(
    mean: str,
    interval: tuple[str, str] | None = None,
    *,
    n: int = 400,
    errors: dict[str, int] | None = None,
) -> Figures:
    ci = Interval(Decimal(interval[0]), Decimal(interval[1])) if interval else None
    critical = {category: critical_figures(count, n) for category, count in (errors or {}).items()}
    return Figures(n, Decimal(mean), Decimal("6.00"), ci, None, critical)


def statement(terms: Terms, quality: Figures, units: int = UNITS, **kwargs: Any) -> Statement:
    return compute_statement(terms, PeriodFigures(units, quality, **kwargs))


def line(result: Statement, code: str) -> Line:
    (found,) = [line for line in result.lines if line.code == code]
    return found


def said(terms: Terms, result: Statement, code: str) -> str:
    """Return a line's English description, as a statement stores it."""
    (found,) = [each for each in stored_lines(result, terms) if each["code"] == code]
    description: str = found["description"]
    return description


def amounts(result: Statement) -> dict[str, str]:
    return {line.code: str(line.amount) for line in result.lines}


def test_graduated_tiers_pay_each_unit_at_its_own_tier_price() -> None:
    assert volume_fee(DESIGN.volume.tiers, 60_000) == Decimal("64500.00")  # 55,000 + 9,500
    assert volume_fee(DESIGN.volume.tiers, 50_000) == Decimal("55000.00")
    assert volume_fee(DESIGN.volume.tiers, 50_001) == Decimal("55000.95")
    assert volume_fee(DESIGN.volume.tiers, 1) == Decimal("1.10")
    assert volume_fee(DESIGN.volume.tiers, 0) == 0
    # 20,000 × 1.20 + 40,000 × 1.05 + 10,000 × 0.90 = 24,000 + 42,000 + 9,000
    assert volume_fee(VOLUME_ONLY.volume.tiers, 70_000) == Decimal("75000.00")


def test_the_volume_fee_is_unrounded() -> None:
    tiers = (Tier(10, Decimal("0.3333")), Tier(None, Decimal("0.001")))

    assert volume_fee(tiers, 15) == Decimal("3.338")  # 3.3330 + 0.005


def test_units_the_tiers_do_not_price_are_refused() -> None:
    with pytest.raises(ValueError, match="only 100 of 101"):
        volume_fee((Tier(100, Decimal("1")),), 101)
    with pytest.raises(ValueError):
        volume_fee(DESIGN.volume.tiers, -1)


def test_a_single_tier_volume_line_names_its_price() -> None:
    terms = dataclasses.replace(VOLUME_ONLY, quality=None)

    result = statement(terms, scores("80.00"), units=1)

    assert said(terms, result, "volume") == (
        "Volume fee: 1 unit of handled contact (declared daily volumes) at 1.20"
    )
    assert result.total == Decimal("1.20")


def test_volume_only_terms_give_only_the_volume_line() -> None:
    result = statement(VOLUME_ONLY, scores("40.00", ("30.00", "50.00")), units=70_000)

    assert [line.code for line in result.lines] == ["volume"]
    assert result.total == result.volume_only == Decimal("75000.00")
    volume = result.lines[0]
    assert said(VOLUME_ONLY, result, "volume") == (
        "Volume fee: 70,000 units of handled contact (declared daily volumes), "
        "20,000 at 1.20, 40,000 at 1.05 and 10,000 at 0.90"
    )
    assert volume.basis["units"] == 70_000
    assert volume.basis["source"] == "declared"
    assert volume.basis["volume_fee"] == "75000.00"
    assert [tier["units"] for tier in volume.basis["tiers"]] == [20_000, 40_000, 10_000]
    assert [tier["amount"] for tier in volume.basis["tiers"]] == ["24000.00", "42000.00", "9000.00"]


@pytest.mark.parametrize(
    ("mean", "band", "amount"),
    [
        ("93.00", "92+ (+12%)", "7740.00"),  # 64,500 × 0.12
        ("92.00", "92+ (+12%)", "7740.00"),  # a band starts at its own score
        ("87.20", "85+ (+6%)", "3870.00"),  # 64,500 × 0.06
        ("84.99", "75+ (0%)", "0.00"),
        ("80.00", "75+ (0%)", "0.00"),
        ("70.00", "0+ (-8%)", "-5160.00"),  # 64,500 × -0.08
    ],
)
def test_under_point_evidence_the_band_of_the_mean_applies(
    mean: str, band: str, amount: str
) -> None:
    terms = with_quality(DESIGN, evidence="point")

    result = statement(terms, scores(mean, ("50.00", "100.00")))

    quality_band = line(result, "quality_band")
    assert str(quality_band.amount) == amount
    assert said(terms, result, "quality_band") == f"Quality band {band}: mean {mean} falls in it"
    assert result.total == Decimal("64500.00") + Decimal(amount)
    assert result.volume_only == Decimal("64500.00")


def test_a_point_mean_below_every_band_moves_nothing() -> None:
    terms = with_quality(DESIGN, evidence="point", bands=(Band(Decimal(50), Decimal("0.05")),))

    result = statement(terms, scores("40.00"))

    assert line(result, "quality_band").amount == Decimal("0.00")
    assert said(terms, result, "quality_band") == (
        "No quality band adjustment: mean 40.00 is below every band"
    )


@pytest.mark.parametrize(
    ("interval", "spans"),
    [
        (("83.00", "87.00"), "75+ (0%) to 85+ (+6%)"),  # L in 0%, U in +6%: no bonus proven
        (("73.00", "77.00"), "0+ (-8%) to 75+ (0%)"),  # U in 0%: no malus proven
        (("70.00", "95.00"), "0+ (-8%) to 92+ (+12%)"),
    ],
)
def test_a_confident_interval_straddling_a_band_edge_moves_no_money(
    interval: tuple[str, str], spans: str
) -> None:
    result = statement(DESIGN, scores("85.00", interval))

    quality_band = line(result, "quality_band")
    assert quality_band.amount == Decimal("0.00")
    assert said(DESIGN, result, "quality_band") == (
        f"No quality band adjustment: the 95% interval {interval[0]}–{interval[1]} "
        f"spans bands {spans}; no side is proven"
    )
    assert result.total == Decimal("64500.00")


def test_a_confident_bonus_applies_when_the_lower_bound_is_in_a_bonus_band() -> None:
    # L = 86.10 is in 85+ (+6%): 64,500 × 0.06 = 3,870.00, though the mean 88.25 alone says so too.
    result = statement(DESIGN, scores("88.25", ("86.10", "90.40")))

    quality_band = line(result, "quality_band")
    assert quality_band.amount == Decimal("3870.00")
    assert said(DESIGN, result, "quality_band") == (
        "Quality band 85+ (+6%): the 95% interval 86.10–90.40 lies wholly at or above 85"
    )
    assert quality_band.basis["band"] == {"from": "85", "adjust": "0.06"}
    assert quality_band.basis["interval"] == ["86.10", "90.40"]
    assert quality_band.basis["volume_fee"] == "64500.00"
    assert result.total == Decimal("68370.00")


def test_a_confident_bonus_is_the_band_of_the_lower_bound_not_of_the_mean() -> None:
    # The mean 93.00 is in 92+ (+12%), but L = 90.00 is only in 85+ (+6%): 3,870.00.
    result = statement(DESIGN, scores("93.00", ("90.00", "96.00")))

    assert line(result, "quality_band").amount == Decimal("3870.00")


def test_a_confident_malus_applies_when_the_upper_bound_is_in_a_malus_band() -> None:
    # U = 74.50 is in 0+ (-8%), below 75: 64,500 × -0.08 = -5,160.00.
    result = statement(DESIGN, scores("71.00", ("68.00", "74.50")))

    quality_band = line(result, "quality_band")
    assert quality_band.amount == Decimal("-5160.00")
    assert said(DESIGN, result, "quality_band") == (
        "Quality band 0+ (-8%): the 95% interval 68.00–74.50 lies wholly below 75"
    )
    assert result.total == Decimal("59340.00")


def test_a_confident_interval_inside_the_neutral_band_moves_nothing() -> None:
    result = statement(DESIGN, scores("80.00", ("76.00", "84.00")))

    quality_band = line(result, "quality_band")
    assert quality_band.amount == Decimal("0.00")
    assert said(DESIGN, result, "quality_band") == (
        "Quality band 75+ (0%): the 95% interval 76.00–84.00 lies wholly in it"
    )


def test_a_confident_interval_below_every_band_moves_nothing() -> None:
    terms = with_quality(DESIGN, bands=(Band(Decimal(50), Decimal("0.05")),))

    result = statement(terms, scores("35.00", ("30.00", "40.00")))

    assert line(result, "quality_band").amount == Decimal("0.00")
    assert said(terms, result, "quality_band") == (
        "No quality band adjustment: the 95% interval 30.00–40.00 is below every band"
    )


def test_a_confident_malus_in_the_top_band_lies_wholly_in_it() -> None:
    # Only one band, 0+ (-5%): 64,500 × -0.05 = -3,225.00.
    terms = with_quality(DESIGN, bands=(Band(Decimal(0), Decimal("-0.05")),))

    result = statement(terms, scores("15.00", ("10.00", "20.00")))

    assert line(result, "quality_band").amount == Decimal("-3225.00")
    assert said(terms, result, "quality_band") == (
        "Quality band 0+ (-5%): the 95% interval 10.00–20.00 lies wholly in it"
    )


def test_a_period_with_no_scored_evaluations_moves_nothing() -> None:
    terms = with_quality(DESIGN, evidence="point", min_sample=0)
    empty = Figures(0, None, None, None, None, {})

    result = statement(terms, empty)

    assert amounts(result) == {
        "volume": "64500.00",
        "quality_band": "0.00",
        "critical_customer": "0.00",
        "critical_compliance": "0.00",
    }
    assert said(terms, result, "quality_band") == (
        "No quality band adjustment: no scored evaluations in the period"
    )
    assert said(terms, result, "critical_compliance") == (
        "Compliance critical errors: no scored evaluations in the period"
    )
    assert line(result, "critical_compliance").basis["rate"] is None


def test_confident_evidence_without_an_interval_moves_nothing() -> None:
    terms = with_quality(DESIGN, min_sample=0)

    result = statement(terms, scores("99.00", None, n=1))

    quality_band = line(result, "quality_band")
    assert quality_band.amount == Decimal("0.00")
    assert said(terms, result, "quality_band") == (
        "No quality band adjustment: 1 evaluation gives no 95% interval, and money moves only"
        " on evidence"
    )


def test_a_critical_rate_over_the_limit_costs_under_point_but_not_under_confident() -> None:
    # 3 compliance errors in 400: rate 0.75% > 0.5%, but the Wilson interval 0.2554%–2.1816%
    # reaches below 0.5%. Point: 64,500 × -0.05 = -3,225.00; confident: nothing.
    figures = scores("80.00", ("78.00", "82.00"), errors={"compliance": 3})

    point_terms = with_quality(DESIGN, evidence="point")
    point = statement(point_terms, figures)
    confident = statement(DESIGN, figures)

    assert line(point, "critical_compliance").amount == Decimal("-3225.00")
    assert said(point_terms, point, "critical_compliance") == (
        "Compliance critical errors (-5%): rate 0.75% (3 of 400) is above the 0.5% limit"
    )
    assert point.total == Decimal("61275.00")
    assert line(confident, "critical_compliance").amount == Decimal("0.00")
    assert said(DESIGN, confident, "critical_compliance") == (
        "Compliance critical errors: rate 0.75% (3 of 400) is above the 0.5% limit, but the 95%"
        " Wilson interval 0.2554%–2.1816% reaches down to it, so the excess is not proven"
    )
    assert line(confident, "critical_compliance").basis == {
        "category": "compliance",
        "evidence": "confident",
        "n": 400,
        "min_sample": 60,
        "errors": 3,
        "rate": "0.007500",
        "interval": ["0.002554", "0.021816"],
        "max_rate": "0.005",
        "adjust": "-0.05",
        "volume_fee": "64500.00",
        "applied": False,
    }
    assert confident.total == Decimal("64500.00")


def test_a_critical_rate_proven_over_the_limit_costs_under_confident() -> None:
    # 8 compliance errors in 400: Wilson lower bound 1.0168% > 0.5%: -3,225.00.
    result = statement(DESIGN, scores("80.00", ("78.00", "82.00"), errors={"compliance": 8}))

    assert line(result, "critical_compliance").amount == Decimal("-3225.00")
    assert said(DESIGN, result, "critical_compliance") == (
        "Compliance critical errors (-5%): rate 2% (8 of 400); the 95% Wilson interval"
        " 1.0168%–3.8963% lies wholly above the 0.5% limit"
    )
    assert result.total == Decimal("61275.00")


def test_a_category_missing_from_the_figures_counts_as_no_errors() -> None:
    result = statement(DESIGN, scores("80.00", ("78.00", "82.00"), errors={"compliance": 1}))

    customer = line(result, "critical_customer")
    assert customer.amount == Decimal("0.00")
    assert said(DESIGN, result, "critical_customer") == (
        "Customer critical errors: rate 0% (0 of 400) is within the 2% limit"
    )
    assert customer.basis["errors"] == 0


def test_every_quality_line_is_zero_below_the_minimum_sample_and_says_why() -> None:
    # 45 evaluations, 5 of them compliance errors (11%), mean 95: all would move money.
    figures = scores("95.00", ("93.00", "97.00"), n=45, errors={"compliance": 5})

    result = statement(DESIGN, figures)

    assert amounts(result) == {
        "volume": "64500.00",
        "quality_band": "0.00",
        "critical_customer": "0.00",
        "critical_compliance": "0.00",
    }
    reason = "45 evaluations, fewer than the minimum sample of 60"
    assert said(DESIGN, result, "quality_band") == f"No quality band adjustment: {reason}"
    assert said(DESIGN, result, "critical_compliance") == (
        f"No compliance critical error adjustment: {reason}"
    )
    for code in ("quality_band", "critical_customer", "critical_compliance"):
        assert line(result, code).basis["reason"] == "min_sample"
        assert line(result, code).basis["n"] == 45
        assert line(result, code).basis["min_sample"] == 60
    assert result.total == Decimal("64500.00")


def test_a_cap_that_binds_trims_the_bonus_in_its_own_line() -> None:
    # L = 92.50 is in 92+ (+12%): 7,740.00; a 10% bonus cap allows 6,450.00: the cap is -1,290.00.
    terms = with_quality(DESIGN, cap=Cap(Decimal("0.10"), Decimal("0.15")))

    result = statement(terms, scores("94.00", ("92.50", "96.00")))

    assert amounts(result) == {
        "volume": "64500.00",
        "quality_band": "7740.00",
        "critical_customer": "0.00",
        "critical_compliance": "0.00",
        "cap": "-1290.00",
    }
    assert said(terms, result, "cap") == (
        "Cap: quality bonus of 7,740.00 trimmed to 10% of the volume fee, 6,450.00"
    )
    assert line(result, "cap").basis["bonus_limit"] == "6450.00"
    assert result.total == Decimal("70950.00")


def test_a_cap_that_binds_trims_the_malus_in_its_own_line() -> None:
    # Band 0+ (-8%) -5,160.00; compliance 8/400 (Wilson low 1.02% > 0.5%) -3,225.00; customer
    # 20/400 (Wilson low 3.26% > 2%) -1,935.00: -10,320.00 against a 15% cap of 9,675.00: +645.00.
    figures = scores("71.00", ("68.00", "74.50"), errors={"compliance": 8, "customer": 20})

    result = statement(DESIGN, figures)

    assert amounts(result) == {
        "volume": "64500.00",
        "quality_band": "-5160.00",
        "critical_customer": "-1935.00",
        "critical_compliance": "-3225.00",
        "cap": "645.00",
    }
    assert said(DESIGN, result, "cap") == (
        "Cap: quality malus of 10,320.00 trimmed to 15% of the volume fee, 9,675.00"
    )
    assert result.total == Decimal("54825.00")  # 64,500 - 9,675


def test_a_bonus_and_a_malus_both_over_their_caps_net_in_one_cap_line() -> None:
    # Bonus 7,740.00 over a 10% cap (6,450.00): -1,290.00. Malus: compliance 8/400 -3,225.00 and
    # customer 20/400 -1,935.00 = -5,160.00 over a 5% cap (3,225.00): +1,935.00. Net +645.00.
    terms = with_quality(DESIGN, cap=Cap(Decimal("0.10"), Decimal("0.05")))
    figures = scores("94.00", ("92.50", "96.00"), errors={"compliance": 8, "customer": 20})

    result = statement(terms, figures)

    assert line(result, "cap").amount == Decimal("645.00")
    assert result.total == Decimal("67725.00")  # 64,500 + 6,450 - 3,225


def test_a_cap_that_does_not_bind_adds_no_line() -> None:
    result = statement(DESIGN, scores("94.00", ("92.50", "96.00")))  # 7,740 < 9,675

    assert "cap" not in amounts(result)


def test_a_yen_statement_has_whole_yen_amounts_rounded_half_up() -> None:
    # 30,001 calls: 30,000 × 180 + 1 × 150 = 5,400,150 yen.
    # Mean 85.00 is in 80+ (+3%): 5,400,150 × 0.03 = 162,004.5, rounded half up to 162,005.
    # Compliance 4/200 = 2% > 1% (point): 5,400,150 × -0.04 = -216,006.
    # Business 6/200 = 3%, not over 3%: 0. Total 5,400,150 + 162,005 - 216,006 = 5,346,149.
    figures = scores("85.00", ("83.00", "87.00"), n=200, errors={"compliance": 4, "business": 6})

    result = statement(YEN, figures, units=30_001)

    assert amounts(result) == {
        "volume": "5400150",
        "quality_band": "162005",
        "critical_business": "0",
        "critical_compliance": "-216006",
    }
    assert result.total == Decimal("5346149")
    assert str(result.total) == "5346149"
    assert result.currency == "JPY"


def test_prior_period_adjustments_are_lines_of_their_own() -> None:
    adjustments = [
        PriorAdjustment(7, "2026-08", Decimal("120.50")),
        PriorAdjustment(9, "2026-09", Decimal("-45.25")),
    ]

    result = compute_statement(
        DESIGN, PeriodFigures(UNITS, scores("88.25", ("86.10", "90.40"))), adjustments
    )

    prior = [line for line in result.lines if line.code == "prior_period_adjustment"]
    assert [line.amount for line in prior] == [Decimal("120.50"), Decimal("-45.25")]
    assert prior[0].basis == {"statement_id": 7, "period": "2026-08", "difference": "120.50"}
    assert [each["description"] for each in stored_lines(result, DESIGN)][-1] == (
        "Prior period adjustment for 2026-09: recomputed with current data, "
        "the period pays -45.25 against final statement 9"
    )
    # 64,500.00 + 3,870.00 + 120.50 - 45.25
    assert result.total == Decimal("68445.25")
    assert result.volume_only == Decimal("64500.00")


def test_the_total_is_the_sum_of_the_rounded_lines() -> None:
    # 1 unit at 1.10 with a +6% band: 0.066 rounds to 0.07; total 1.17.
    terms = with_quality(DESIGN, min_sample=0)

    result = statement(terms, scores("88.25", ("86.10", "90.40")), units=1)

    assert amounts(result)["quality_band"] == "0.07"
    assert result.total == Decimal("1.17")
    assert result.total == sum(line.amount for line in result.lines)


def test_a_corrected_self_assessment_is_stated_in_the_band_line() -> None:
    assert DESIGN.quality is not None
    check = self_assessment_check(25, 10_500, DESIGN.quality.self_assessment)  # d = 4.20

    result = statement(DESIGN, scores("88.25", ("86.10", "90.40")), self_assessment=check)

    quality_band = line(result, "quality_band")
    assert said(DESIGN, result, "quality_band").endswith(
        "; supplier self-scores were lowered by 4.20 points, their inflation over 25 audited"
        " calls above the 3-point tolerance"
    )
    assert quality_band.basis["self_assessment"] == {
        "status": "corrected",
        "pairs": 25,
        "inflation": "4.20",
        "applied": True,
        "counted": True,
    }


def test_unverified_self_scores_are_stated_as_not_counting_in_the_band_line() -> None:
    assert DESIGN.quality is not None
    check = self_assessment_check(12, 600, DESIGN.quality.self_assessment)

    result = statement(DESIGN, scores("88.25", ("86.10", "90.40")), self_assessment=check)

    quality_band = line(result, "quality_band")
    assert quality_band.basis["self_assessment"]["status"] == "unverified"
    assert quality_band.basis["self_assessment"]["counted"] is False
    assert said(DESIGN, result, "quality_band").endswith(
        "; supplier self-scores do not count, unverified: 12 audited calls, fewer than the 20"
        " needed"
    )


# Samples under a 90% floor, drawn: the coverage rule is the same under either scheme.
def drawn(audit: tuple[int, int], own: tuple[int, int]) -> SampleFigures:
    """Return drawn samples, each (sampled, evaluated)."""
    return SampleFigures(
        "ab" * 32, "cd" * 32, "sampled", Decimal("0.9"), SampleShare(*audit), SampleShare(*own),
        "2026-12-04 00:00 Europe/Rome",
    )  # fmt: skip


BONUS = scores("93.00", ("92.10", "94.00"))  # the 92+ band, +12%: 7,740.00
MALUS = scores("60.00", ("55.00", "65.00"), errors={"compliance": 40})  # -8% and -5%


def test_short_audits_take_away_every_malus_and_keep_the_bonus() -> None:
    malus = statement(DESIGN, MALUS, sampling=drawn((60, 30), (200, 200)))
    bonus = statement(DESIGN, BONUS, sampling=drawn((60, 30), (200, 200)))

    assert amounts(malus)["quality_band"] == "0.00"
    assert amounts(malus)["critical_compliance"] == "0.00"
    assert malus.total == Decimal("64500.00")
    band = line(malus, "quality_band")
    assert said(DESIGN, malus, "quality_band") == (
        "Quality band 0+ (-8%): the 95% interval 55.00–65.00 lies wholly below 75; the client's"
        " audit sample is 50% evaluated (30 of 60 calls), below the 90% floor: no quality malus"
        " applies"
    )
    assert band.basis["coverage"] == {
        "short": ["audit"], "min_coverage": "0.9", "waived": "malus", "below_minimum": False,
        "shares": {"audit": {"sampled": 60, "evaluated": 30, "rate": "0.5000"}},
    }  # fmt: skip
    assert band.basis["applied"] is False
    assert amounts(bonus)["quality_band"] == "7740.00"
    assert line(bonus, "quality_band").basis["coverage"]["waived"] is None


def test_short_self_assessments_take_away_every_bonus_and_keep_the_malus() -> None:
    bonus = statement(DESIGN, BONUS, sampling=drawn((60, 60), (200, 100)))
    malus = statement(DESIGN, MALUS, sampling=drawn((60, 60), (200, 100)))

    assert amounts(bonus)["quality_band"] == "0.00"
    assert said(DESIGN, bonus, "quality_band").endswith(
        "; the call center's self-assessment sample is 50% evaluated (100 of 200 calls), below"
        " the 90% floor: no quality bonus applies"
    )
    assert amounts(malus)["quality_band"] == "-5160.00"
    assert amounts(malus)["critical_compliance"] == "-3225.00"


def test_both_samples_short_move_no_quality_money_and_name_both_sides() -> None:
    result = statement(DESIGN, MALUS, sampling=drawn((60, 6), (200, 20)))

    assert {code: amounts(result)[code] for code in QUALITY_CODES if code in amounts(result)} == {
        "quality_band": "0.00", "critical_customer": "0.00", "critical_compliance": "0.00",
    }  # fmt: skip
    assert "the client's audit sample is 10% evaluated (6 of 60 calls)" in (
        said(DESIGN, result, "quality_band")
    )
    assert said(DESIGN, result, "quality_band").endswith(
        "the call center's self-assessment sample is 10% evaluated (20 of 200 calls), below the"
        " 90% floor: no quality bonus or malus applies"
    )


def test_the_minimum_sample_does_not_shelter_the_side_that_fell_short() -> None:
    # 54 audits and no self-assessments: fewer than the 60 the terms ask for, but the call
    # center left its sample empty, so the malus its audits prove applies all the same.
    few = scores("60.00", ("55.00", "65.00"), n=54)

    result = statement(DESIGN, few, sampling=drawn((60, 54), (200, 0)))
    sheltered = statement(DESIGN, few, sampling=drawn((60, 54), (200, 200)))

    assert amounts(result)["quality_band"] == "-5160.00"
    assert said(DESIGN, result, "quality_band").endswith(
        "no quality bonus applies, and the minimum sample of 60 does not hold back a malus"
    )
    assert amounts(sheltered)["quality_band"] == "0.00"
    assert line(sheltered, "quality_band").basis["reason"] == "min_sample"


def test_a_month_whose_audit_sample_is_not_drawn_yet_pays_no_quality_and_judges_no_one() -> None:
    waiting = dataclasses.replace(
        drawn((0, 0), (200, 150)), scheme=2, self_due="2026-12-11 00:00 Europe/Rome"
    )  # the self sample drawn, the audit sample's seed not revealed yet

    assert DESIGN.quality is not None
    no_audits_yet = self_assessment_check(0, 0, DESIGN.quality.self_assessment)

    result = statement(DESIGN, BONUS, sampling=waiting, self_assessment=no_audits_yet)

    band = line(result, "quality_band")
    assert band.amount == Decimal("0.00") and band.basis["reason"] == "sample_pending"
    assert said(DESIGN, result, "quality_band") == (
        "No quality band adjustment: the audit sample is drawn when the self-assessments are"
        " due (2026-12-11 00:00 Europe/Rome)"
    )


def test_every_basis_is_json_with_decimals_as_strings() -> None:
    figures = scores("71.00", ("68.00", "74.50"), errors={"compliance": 8, "customer": 20})
    assert DESIGN.quality is not None
    check = self_assessment_check(25, 10_500, DESIGN.quality.self_assessment)

    result = compute_statement(
        DESIGN,
        PeriodFigures(UNITS, figures, check),
        [PriorAdjustment(7, "2026-08", Decimal("1.00"))],
    )

    for each in result.lines:
        assert json.loads(json.dumps(each.basis)) == each.basis
        assert "Decimal" not in repr(each.basis)


# Properties over any valid terms and figures.

CURRENCIES = ("EUR", "JPY", "BHD", "CLF")
fractions = st.integers(min_value=0, max_value=3_000).map(lambda basis: Decimal(basis) / 10_000)
score_points = st.integers(min_value=0, max_value=10_000).map(lambda value: Decimal(value) / 100)


@st.composite
def any_terms(draw: st.DrawFn) -> Terms:
    bounds = sorted(draw(st.sets(st.integers(1, 1_000_000), max_size=3)))
    prices = st.integers(0, 50_000).map(
        lambda value: Decimal(value).scaleb(-draw(st.integers(0, 4)))
    )
    tiers = tuple(Tier(up_to, draw(prices)) for up_to in [*bounds, None])
    starts = sorted(draw(st.sets(st.integers(0, 100), min_size=1, max_size=5)), reverse=True)
    # Higher bands never pay less. A score below every band moves nothing, so a lowest band
    # that does not start at 0 carries no malus, or a lower score would escape it.
    adjusts = sorted((draw(st.integers(-2_000, 2_000)) for _ in starts), reverse=True)
    if starts[-1] > 0:
        adjusts[-1] = max(adjusts[-1], 0)
        adjusts = [max(adjust, adjusts[-1]) for adjust in adjusts]
    bands = tuple(
        Band(Decimal(start), Decimal(adjust) / 10_000)
        for start, adjust in zip(starts, adjusts, strict=True)
    )
    categories = draw(st.sets(st.sampled_from(CRITICAL_CATEGORIES)))
    critical = tuple(
        CriticalRule(category, draw(fractions) / 10, -draw(fractions))
        for category in CRITICAL_CATEGORIES
        if category in categories
    )
    cap = draw(st.none() | st.builds(Cap, fractions, fractions))
    evidence: Evidence = draw(st.sampled_from(("point", "confident")))
    quality = Quality(("client",), draw(st.integers(0, 100)), evidence, bands, critical, None, cap)
    return Terms(
        draw(st.sampled_from(CURRENCIES)),
        "Europe/Rome",
        "standard",
        1,
        5,
        Volume("handled contact", tiers),
        quality,
    )


@st.composite
def any_figures(draw: st.DrawFn, n: int | None = None) -> Figures:
    n = draw(st.integers(0, 2_000)) if n is None else n
    errors = {
        category: draw(st.integers(0, n))
        for category in draw(st.sets(st.sampled_from(CRITICAL_CATEGORIES)))
    }
    critical = {category: critical_figures(count, n) for category, count in errors.items()}
    if n == 0:
        return Figures(0, None, None, None, None, critical)
    low, mean, high = sorted(draw(score_points) for _ in range(3))
    ci = Interval(low, high) if n >= 2 else None
    return Figures(n, mean, Decimal("5.00"), ci, None, critical)


def quality_total(result: Statement) -> Decimal:
    codes = (*QUALITY_CODES, "cap")
    return sum((line.amount for line in result.lines if line.code in codes), Decimal(0))


@settings(max_examples=200, deadline=None)
@given(any_terms(), st.integers(0, 2_000_000), st.data())
def test_a_higher_score_never_pays_less(terms: Terms, units: int, data: st.DataObject) -> None:
    figures = data.draw(any_figures(n=data.draw(st.integers(2, 2_000))))
    assert figures.mean is not None and figures.ci is not None
    shift = data.draw(score_points)

    def shifted(value: Decimal) -> Decimal:
        return min(value + shift, Decimal(100))

    better = dataclasses.replace(
        figures,
        mean=shifted(figures.mean),
        ci=Interval(shifted(figures.ci.low), shifted(figures.ci.high)),
    )

    assert statement(terms, better, units).total >= statement(terms, figures, units).total


@settings(max_examples=200, deadline=None)
@given(
    any_terms(), st.integers(0, 2_000_000), any_figures(), st.lists(st.integers(-(10**9), 10**9))
)
def test_every_statement_keeps_its_arithmetic(
    terms: Terms, units: int, figures: Figures, prior: list[int]
) -> None:
    adjustments = [
        PriorAdjustment(index, "2026-01", Decimal(cents).scaleb(-minor_unit(terms.currency)))
        for index, cents in enumerate(prior)
    ]

    result = compute_statement(terms, PeriodFigures(units, figures), adjustments)

    exponent = -minor_unit(terms.currency)
    fee = volume_fee(terms.volume.tiers, units)
    assert result.lines[0].code == "volume"
    assert result.volume_only == result.lines[0].amount == round_money(fee, terms.currency)
    assert result.total == sum((line.amount for line in result.lines), Decimal(0))
    for each in [*result.lines, Line("total", result.total, {})]:
        assert each.amount.as_tuple().exponent == exponent
        json.dumps(each.basis)
    assert terms.quality is not None
    cap = terms.quality.cap
    if cap is not None:
        # The cap trims rounded lines, so capped quality lines reach exactly the rounded limit.
        assert quality_total(result) <= round_money(cap.bonus * fee, terms.currency)
        assert quality_total(result) >= -round_money(cap.malus * fee, terms.currency)
    if figures.n < terms.quality.min_sample:
        assert quality_total(result) == 0
