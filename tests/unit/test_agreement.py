"""Krippendorff's alpha of a calibration session, its interval, and the gate it puts on money."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import contracts
from contracts.agreement import (
    LEVELS,
    NO_PAIRS,
    NO_VARIATION,
    TOO_FEW_CALLS,
    SessionRecord,
    agreement,
    alpha,
    deviations,
    differences,
    interval_alpha,
    interval_alpha_interval,
    standing,
)
from contracts.errors import RuleError
from contracts.forms import parse_form
from contracts.payout import PeriodFigures, Statement, compute_statement
from contracts.stats import Figures, critical_figures
from contracts.stats import Interval as StatsInterval
from contracts.terms import Calibration, parse_terms, terms_document
from service.statements.reasons import Reasons, stored_lines

EXAMPLES = Path(contracts.__file__).parent / "examples"

# Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), section C: four observers
# (A-D) value twelve units, with values missing; published alpha at each level.
OBSERVERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
PUBLISHED = {"nominal": "0.743", "ordinal": "0.815", "interval": "0.849", "ratio": "0.797"}
UNITS = [list(unit) for unit in zip(*OBSERVERS, strict=True)]  # units x coders


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_matches_krippendorffs_published_example_at_every_level(level: str) -> None:
    found = alpha(UNITS, level)  # type: ignore[arg-type]
    assert found.reason is None
    assert found.value is not None
    assert found.value.quantize(Decimal("0.001")) == Decimal(PUBLISHED[level])


def test_the_closed_form_of_the_interval_alpha_matches_the_published_example() -> None:
    assert interval_alpha(UNITS) == alpha(UNITS, "interval").value == Decimal("0.8491")


def coincidence_matrix(units: list[list[int]]) -> dict[tuple[int, int], Fraction]:
    """Count each ordered pair of values within a unit, weighted 1 / (m_u - 1)."""
    coincidences: dict[tuple[int, int], Fraction] = {}
    for values in units:
        for i, c in enumerate(values):
            for j, k in enumerate(values):
                if i != j:
                    share = Fraction(1, len(values) - 1)
                    coincidences[c, k] = coincidences.get((c, k), Fraction(0)) + share
    return coincidences


def plain_alpha(table: Sequence[Sequence[int | None]], level: str) -> Fraction | None:
    """Alpha from the coincidence matrix, as Krippendorff (2011) computes it by hand."""
    units = [[v for v in row if v is not None] for row in table]
    units = [values for values in units if len(values) >= 2]
    coincidences = coincidence_matrix(units)
    totals: dict[int, Fraction] = {}
    for (c, _), count in coincidences.items():
        totals[c] = totals.get(c, Fraction(0)) + count
    n = sum(totals.values(), Fraction(0))
    ranked = sorted(totals)

    def delta(c: int, k: int) -> Fraction:
        if c == k:
            return Fraction(0)
        if level == "nominal":
            return Fraction(1)
        if level == "interval":
            return Fraction((c - k) ** 2)
        if level == "ratio":
            return Fraction(c - k, c + k) ** 2
        low, high = sorted((c, k))
        between = sum(totals[g] for g in ranked if low <= g <= high)
        return (between - (totals[c] + totals[k]) / 2) ** 2

    observed = sum((count * delta(c, k) for (c, k), count in coincidences.items()), Fraction(0))
    expected = sum(
        (totals[c] * totals[k] * delta(c, k) for c in totals for k in totals), Fraction(0)
    )
    if not units or expected == 0:
        return None
    return 1 - (n - 1) * observed / expected


tables = st.integers(min_value=2, max_value=5).flatmap(
    lambda coders: st.lists(
        st.lists(st.one_of(st.none(), st.integers(1, 6)), min_size=coders, max_size=coders),
        min_size=1,
        max_size=10,
    )
)


@settings(max_examples=150, deadline=None)
@given(table=tables, level=st.sampled_from(LEVELS))
def test_alpha_matches_a_plain_coincidence_matrix_computation(
    table: list[list[int | None]], level: str
) -> None:
    expected = plain_alpha(table, level)
    found = alpha(table, level)  # type: ignore[arg-type]
    if expected is None:
        assert found.value is None and found.reason in (NO_PAIRS, NO_VARIATION)
    else:
        assert found.value is not None
        assert abs(found.value - Decimal(expected.numerator) / expected.denominator) <= Decimal(
            "0.00005"
        )


@settings(max_examples=100, deadline=None)
@given(table=tables)
def test_the_interval_alphas_closed_form_equals_the_package(table: list[list[int | None]]) -> None:
    exact = interval_alpha(table)
    pairable = [row for row in table if sum(value is not None for value in row) >= 2]
    values = {value for row in pairable for value in row if value is not None}
    if exact is None or len(values) < 2:
        return
    data = np.array([[np.nan if v is None else float(v) for v in row] for row in pairable])
    package = krippendorff.alpha(reliability_data=data.T, level_of_measurement="interval")
    # The package works in floats: equal up to the last stored place.
    assert abs(exact - Decimal(repr(float(package)))) <= Decimal("0.00006")


def test_alpha_is_undefined_not_a_division_by_zero_when_nobody_varies() -> None:
    same = [[80, 80, 80], [80, None, 80]]
    assert alpha(same, "interval").value is None
    assert alpha(same, "interval").reason == NO_VARIATION
    # A value nobody else scored that unit carries no pair: no variation is left either.
    assert alpha([[70, 70], [90, None]], "interval").reason == NO_VARIATION


def test_alpha_is_undefined_when_no_call_was_scored_twice() -> None:
    found = alpha([[70, None], [None, 90]], "interval")
    assert (found.value, found.reason) == (None, NO_PAIRS)


SCORES = [
    [Decimal("82.50"), Decimal("80.00"), Decimal("85.00")],
    [Decimal("60.00"), Decimal("65.25"), Decimal("58.00")],
    [Decimal("95.00"), Decimal("91.00"), None],
    [Decimal("70.00"), Decimal("74.00"), Decimal("71.50")],
    [Decimal("88.00"), Decimal("84.00"), Decimal("90.00")],
    [Decimal("50.00"), Decimal("62.00"), Decimal("55.00")],
]


def test_the_bootstrap_interval_is_reproducible_from_its_stored_seed() -> None:
    first = interval_alpha_interval(SCORES, seed=12345, resamples=500)
    again = interval_alpha_interval(SCORES, seed=12345, resamples=500)
    other = interval_alpha_interval(SCORES, seed=54321, resamples=500)
    assert first == again
    assert (first.seed, first.resamples) == (12345, 500)
    assert first.low is not None and first.high is not None
    assert first.low <= alpha(SCORES, "interval").value <= first.high  # type: ignore[operator]
    assert (other.low, other.high) != (first.low, first.high)


def test_an_interval_needs_two_calls_scored_twice() -> None:
    found = interval_alpha_interval([[Decimal(80), Decimal(70)]], seed=1)
    assert (found.low, found.high, found.reason) == (None, None, TOO_FEW_CALLS)


def test_deviation_is_the_mean_distance_from_the_reference_over_calls_both_scored() -> None:
    found = deviations(SCORES, reference=0)
    assert found[0].deviation is None and found[0].calls_scored == 6
    # |80-82.5|, |65.25-60|, |91-95|, |74-70|, |84-88|, |62-50| -> 31.75 / 6
    assert found[1].deviation == Decimal("5.29")
    assert found[2].calls_scored == 5
    # |85-82.5|, |58-60|, |71.5-70|, |90-88|, |55-50| -> 13 / 5
    assert found[2].deviation == Decimal("2.60")


def test_without_a_reference_deviation_is_from_the_median_of_the_others() -> None:
    found = deviations([[Decimal(80), Decimal(70), Decimal(90)]], reference=None)
    assert [each.deviation for each in found] == [
        Decimal("0.00"),
        Decimal("15.00"),
        Decimal("15.00"),
    ]


FORM = parse_form(
    {
        "code": "mini",
        "version": 1,
        "title": "Mini",
        "sections": [
            {
                "key": "s",
                "title": "S",
                "weight": 1,
                "questions": [
                    {"key": "greeting", "text": "Greets", "kind": "yes_no", "weight": 1},
                    {
                        "key": "clarity",
                        "text": "Clear",
                        "kind": "scale",
                        "scale": [1, 5],
                        "weight": 1,
                        "na": True,
                    },
                ],
            }
        ],
    }
)


def test_questions_are_judged_at_their_kinds_level_with_na_missing_worst_first() -> None:
    answers: list[list[dict[str, Any] | None]] = [
        [{"greeting": "yes", "clarity": 4}, {"greeting": "yes", "clarity": 4}],
        [{"greeting": "no", "clarity": 2}, {"greeting": "no", "clarity": "na"}],
        [{"greeting": "yes", "clarity": 5}, {"greeting": "no", "clarity": 1}],
        [{"greeting": "no", "clarity": 3}, None],
    ]
    totals = [[Decimal(1), Decimal(1)], [Decimal(0), Decimal(0)], [Decimal(1), Decimal(0)]]
    found = agreement(FORM, totals + [[Decimal(0), None]], answers, None, seed=7, resamples=100)
    by_key = {each.question: each for each in found.questions}
    assert by_key["greeting"].level == "nominal"
    assert by_key["clarity"].level == "ordinal"
    # greeting: 3 calls answered twice, one differs; clarity: the N/A leaves 2 calls, one differs
    assert by_key["greeting"].disagreement == Decimal("0.3333")
    assert by_key["clarity"].disagreement == Decimal("0.5000")
    assert by_key["greeting"].alpha == alpha([[1, 1], [0, 0], [1, 0]], "nominal").value
    assert by_key["clarity"].alpha == alpha([[4, 4], [5, 1]], "ordinal").value
    worst = [each.question for each in found.questions]
    assert worst == sorted(worst, key=lambda key: by_key[key].alpha)  # type: ignore[arg-type,return-value]


RULE = Calibration(Decimal("0.667"), 90, 10, 3)
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def session(
    session_id: int = 1,
    closed_on: date = date(2026, 3, 10),
    alpha_value: str | None = "0.8",
    calls: int = 10,
    participants: int = 3,
    sides: tuple[str, ...] = ("client", "supplier"),
) -> SessionRecord:
    return SessionRecord(
        session_id,
        f"{closed_on.isoformat()}T09:00:00+00:00",
        closed_on,
        None if alpha_value is None else Decimal(alpha_value),
        None,
        calls,
        participants,
        frozenset(sides),
    )


def test_a_month_without_a_closed_session_is_not_calibrated() -> None:
    found = standing(RULE, [], *MARCH)
    assert (found.qualifies, found.reason, found.session) == (False, "none", None)
    # A session closed after the month's end does not count for it.
    later = standing(RULE, [session(closed_on=date(2026, 4, 1))], *MARCH)
    assert (later.qualifies, later.reason) == (False, "none")


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (session(calls=9), "too_small"),
        (session(participants=2), "too_small"),
        (session(sides=("client", "third_party")), "too_small"),
        (session(closed_on=date(2025, 12, 30)), "too_old"),
        (session(alpha_value="0.666"), "too_low"),
        (session(alpha_value=None), "too_low"),
        (session(closed_on=date(2025, 12, 31), alpha_value="0.667"), None),
    ],
)
def test_a_session_qualifies_only_big_enough_recent_enough_and_agreeing_enough(
    record: SessionRecord, reason: str | None
) -> None:
    found = standing(RULE, [record], *MARCH)
    assert (found.qualifies, found.reason, found.session) == (reason is None, reason, record)


def test_any_qualifying_session_counts_and_otherwise_the_latest_is_named() -> None:
    good, low = session(1, date(2026, 2, 1)), session(2, date(2026, 3, 5), "0.3")
    assert standing(RULE, [good, low], *MARCH).session == good
    old_low = session(3, date(2026, 3, 2), "0.1")
    found = standing(RULE, [old_low, low], *MARCH)
    assert (found.session, found.reason) == (low, "too_low")


def test_a_short_validity_still_counts_a_session_closed_during_the_month() -> None:
    short = Calibration(Decimal("0.667"), 5, 10, 3)
    assert standing(short, [session(closed_on=date(2026, 3, 2))], *MARCH).qualifies
    assert standing(short, [session(closed_on=date(2026, 2, 27))], *MARCH).reason == "too_old"


# The terms' rule


def terms_with(calibration: Any) -> dict[str, Any]:
    document = yaml.safe_load((EXAMPLES / "terms-quality.yaml").read_text(encoding="utf-8"))
    document["quality"]["calibration"] = calibration
    return document


def test_the_calibration_rule_reads_with_its_defaults_and_writes_back() -> None:
    terms = parse_terms(terms_with({"min_alpha": "0.8", "min_calls": 12}))
    assert terms.quality is not None
    assert terms.quality.calibration == Calibration(Decimal("0.8"), 90, 12, 3)
    document = terms_document(terms)["quality"]["calibration"]
    assert document == {
        "min_alpha": "0.8",
        "valid_days": 90,
        "min_calls": 12,
        "min_participants": 3,
    }
    assert parse_terms(terms_with({})).quality.calibration == Calibration()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("rule", "path", "message"),
    [
        ({"min_alpha": "1.2"}, "min_alpha", "must be above 0 and at most 1"),
        ({"min_alpha": "x"}, "min_alpha", "must be a number"),
        ({"valid_days": 0}, "valid_days", "must be at least 1"),
        ({"min_calls": 1}, "min_calls", "must be at least 2"),
        ({"min_participants": 51}, "min_participants", "must be at most 50"),
        ({"quorum": 3}, "quorum", "unknown field"),
    ],
)
def test_a_bad_calibration_rule_is_refused_naming_its_path(
    rule: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(RuleError) as refused:
        parse_terms(terms_with(rule))
    assert refused.value.errors == {f"quality.calibration.{path}": [message]}


# The gate in the statement

GATED = parse_terms(terms_with({"min_alpha": "0.667", "valid_days": 90, "min_calls": 10}))
# A month that earns the +12% band and a -5% compliance malus on 60,000 units (fee 64,500.00).
GOOD = Figures(
    400,
    Decimal("95.00"),
    Decimal("3.00"),
    StatsInterval(Decimal("94.00"), Decimal("96.00")),
    None,
    {"compliance": critical_figures(40, 400)},
)


def gated(record: SessionRecord | None) -> Statement:
    judged = None if record is None else standing(RULE, [record], *MARCH)
    return compute_statement(GATED, PeriodFigures(60_000, GOOD, calibration=judged))


def amounts(result: Statement) -> dict[str, str]:
    return {line.code: str(line.amount) for line in result.lines}


def test_a_qualifying_session_lets_quality_pay_and_every_line_names_it() -> None:
    result = gated(session(7, alpha_value="0.91"))
    assert amounts(result) == {
        "volume": "64500.00",
        "quality_band": "7740.00",
        "critical_compliance": "-3225.00",
        "critical_customer": "0.00",
    }
    for line in result.lines[1:]:
        assert line.basis["calibration"]["session_id"] == 7
        assert line.basis["calibration"]["qualifies"] is True
        assert line.basis["calibration"]["alpha"] == "0.91"


@pytest.mark.parametrize(
    ("record", "reason", "words"),
    [
        (None, "none", "no calibration session had closed by the month's end"),
        (
            session(4, calls=6),
            "too_small",
            "calibration session 4 is too small: 6 calls scored by two or more and 3"
            " participants (client and supplier), where 10 calls and 3 participants from both"
            " sides are needed",
        ),
        (
            session(5, closed_on=date(2025, 11, 20)),
            "too_old",
            "calibration session 5 closed on 2025-11-20, more than 90 days before the month's"
            " last day",
        ),
        (
            session(6, alpha_value="0.512"),
            "too_low",
            "calibration session 6 agreed at alpha 0.512, below the 0.667 minimum",
        ),
    ],
)
def test_an_uncalibrated_month_pays_no_quality_and_says_which_session_and_why(
    record: SessionRecord | None, reason: str, words: str
) -> None:
    result = gated(record)
    assert amounts(result) == {
        "volume": "64500.00",
        "quality_band": "0.00",
        "critical_compliance": "0.00",
        "critical_customer": "0.00",
    }
    stored = stored_lines(result, GATED)
    described = {line["code"]: line["description"] for line in stored}
    assert described["quality_band"] == f"No quality band adjustment: {words}"
    assert described["critical_compliance"] == f"No compliance critical error adjustment: {words}"
    for line in result.lines[1:]:
        assert line.basis["reason"] == "calibration"
        assert line.basis["calibration"]["reason"] == reason
        assert line.basis["calibration"]["session_id"] == (record.session_id if record else None)
    assert result.total == Decimal("64500.00")
    english = Reasons("en", "EUR", terms_document(GATED))
    italian = Reasons("it", "EUR", terms_document(GATED))
    for line in stored[1:]:
        assert english.of(line) == line["description"]
        assert "calibration" not in italian.of(line)  # said in Italian: "calibrazione"


def test_terms_without_the_rule_are_not_gated() -> None:
    terms = parse_terms(yaml.safe_load((EXAMPLES / "terms-quality.yaml").read_text()))
    result = compute_statement(terms, PeriodFigures(60_000, GOOD))
    assert amounts(result)["quality_band"] == "7740.00"
    assert all("calibration" not in line.basis for line in result.lines)


def test_each_participant_differs_from_the_reference_or_the_others_most_common_answer() -> None:
    greeting = FORM.sections[0].questions[0]
    answers = [["yes", "yes", "no"], ["no", "yes", "no"], ["yes", None, "na"], ["no", "no", "no"]]
    assert differences(greeting, answers, reference=0) == [
        None,
        Decimal("0.3333"),
        Decimal("0.3333"),
    ]
    # Without a reference: where the others say yes and no alike, either answer agrees.
    assert differences(greeting, answers, reference=None) == [
        Decimal("0.0000"),
        Decimal("0.3333"),
        Decimal("0.3333"),
    ]
