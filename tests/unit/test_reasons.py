"""A statement line's reason, said from its code and basis: English as stored, Italian natural."""

import dataclasses
from decimal import Decimal

import pytest
from babel.numbers import get_currency_symbol
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.forms import CRITICAL_CATEGORIES
from contracts.payout import (
    PeriodFigures,
    PriorAdjustment,
    SampleFigures,
    SampleShare,
    compute_statement,
)
from contracts.stats import Figures, Interval, critical_figures, self_assessment_check
from contracts.terms import (
    Band,
    Cap,
    CriticalRule,
    Evidence,
    Quality,
    SelfAssessment,
    Terms,
    Tier,
    Volume,
    terms_document,
)
from service.statements.reasons import Reasons
from service.statements.service import lines_document
from tests.unit.test_payout import DESIGN, line, scores, statement, with_quality


def reasons(terms: Terms, language: str) -> Reasons:
    return Reasons(language, terms.currency, terms_document(terms))


def said_in_english(terms: Terms, stored: dict[str, object]) -> str:
    """Return a line's English reason with its amounts' currency symbols taken out: the stored
    description writes amounts bare, the reasons write them as money."""
    symbol = get_currency_symbol(terms.currency, "en_GB")
    return reasons(terms, "en").of(stored).replace(symbol, "")


# Figures as the rules produce them: scores to 2 places; no single evaluation (whose English
# description says "1 evaluations": the reasons say it right).
counts = st.just(0) | st.integers(2, 3_000)
points = st.integers(0, 10_000).map(lambda value: Decimal(value).scaleb(-2))
fractions = st.integers(0, 3_000).map(lambda value: Decimal(value) / 10_000)


@st.composite
def terms_of_any_kind(draw: st.DrawFn) -> Terms:
    bounds = sorted(draw(st.sets(st.integers(1, 1_000_000), max_size=2)))
    prices = st.integers(0, 99_999).map(
        lambda value: Decimal(value).scaleb(-draw(st.integers(2, 4)))
    )
    tiers = tuple(Tier(up_to, draw(prices)) for up_to in [*bounds, None])
    starts = sorted(draw(st.sets(st.integers(0, 100), min_size=1, max_size=4)), reverse=True)
    adjusts = sorted((draw(st.integers(-2_000, 2_000)) for _ in starts), reverse=True)
    if starts[-1] > 0:
        adjusts = [max(adjust, max(adjusts[-1], 0)) for adjust in adjusts]
    bands = tuple(
        Band(Decimal(start), Decimal(adjust) / 10_000)
        for start, adjust in zip(starts, adjusts, strict=True)
    )
    critical = tuple(
        CriticalRule(category, draw(fractions) / 10, -draw(fractions))
        for category in sorted(draw(st.sets(st.sampled_from(CRITICAL_CATEGORIES))))
    )
    cap = draw(st.none() | st.builds(Cap, fractions, fractions))
    evidence: Evidence = draw(st.sampled_from(("point", "confident")))
    rule = draw(st.none() | st.builds(SelfAssessment, st.integers(1, 9).map(Decimal),
                                      st.integers(1, 40)))  # fmt: skip
    quality = Quality(("client",), draw(st.integers(0, 100)), evidence, bands, critical, rule, cap)
    currency = draw(st.sampled_from(("EUR", "JPY", "USD")))
    source = draw(st.sampled_from(("declared", "calls")))
    direction = draw(st.sampled_from((None, "inbound", "outbound"))) if source == "calls" else None
    volume = Volume("handled contact", tiers, source, direction)
    return Terms(currency, "Europe/Rome", "standard", 1, 5, volume, quality)


@st.composite
def samples_of_any_kind(draw: st.DrawFn) -> SampleFigures | None:
    """No samples; samples of either scheme not drawn yet, or half drawn (two stages), or
    drawn and covered anywhere from none to all."""
    if draw(st.booleans()):
        return None

    def share() -> SampleShare:
        sampled = draw(st.integers(0, 400))
        return SampleShare(sampled, draw(st.integers(0, sampled)))

    scheme = draw(st.sampled_from((1, 2)))
    stage = draw(st.sampled_from(("none", "self", "both") if scheme == 2 else ("none", "both")))
    return SampleFigures(
        commitment="ab" * 32,
        seed=None if stage == "none" else "cd" * 32,
        counts="sampled",
        min_coverage=Decimal(draw(st.integers(0, 100))).scaleb(-2),
        audit=share() if stage == "both" else SampleShare(0, 0),
        self_assessment=share() if stage != "none" else SampleShare(0, 0),
        log_closes="2026-12-04 00:00 Europe/Rome",
        scheme=scheme,
        audit_commitment="ef" * 32 if scheme == 2 else None,
        audit_seed="01" * 32 if scheme == 2 and stage == "both" else None,
        self_due="2026-12-11 00:00 Europe/Rome" if scheme == 2 else None,
        audit_due="2026-12-21 00:00 Europe/Rome" if scheme == 2 else None,
        late=draw(st.booleans()),
    )


@st.composite
def figures_of_any_kind(draw: st.DrawFn) -> Figures:
    n = draw(counts)
    errors = {category: draw(st.integers(0, n)) for category in CRITICAL_CATEGORIES}
    critical = {category: critical_figures(count, n) for category, count in errors.items()}
    if n == 0:
        return Figures(0, None, None, None, None, critical)
    low, mean, high = sorted(draw(points) for _ in range(3))
    return Figures(n, mean, Decimal("5.00"), Interval(low, high), None, critical)


@settings(max_examples=300, deadline=None)
@given(terms_of_any_kind(), st.integers(0, 2_000_000), figures_of_any_kind(), st.data())
def test_every_english_reason_reads_as_the_stored_description(
    terms: Terms, units: int, figures: Figures, data: st.DataObject
) -> None:
    assert terms.quality is not None
    check = None
    if terms.quality.self_assessment is not None and data.draw(st.booleans()):
        pairs = data.draw(st.integers(0, 60))
        difference = data.draw(st.integers(-500, 900)) * pairs
        check = self_assessment_check(
            pairs,
            difference,
            terms.quality.self_assessment,
            audits_short=data.draw(st.booleans()),
        )
    prior = [PriorAdjustment(7, "2026-08", data.draw(fractions) * 10_000 - 1_000)]
    sampling = data.draw(samples_of_any_kind())
    result = compute_statement(terms, PeriodFigures(units, figures, check, sampling), prior)
    for stored in lines_document(result):
        assert said_in_english(terms, stored) == stored["description"], stored["code"]


def test_an_italian_band_line_writes_its_figures_as_italians_do() -> None:
    result = statement(DESIGN, scores("88.25", ("86.10", "90.40")))
    (stored,) = [each for each in lines_document(result) if each["code"] == "quality_band"]
    assert reasons(DESIGN, "it").of(stored) == (
        "Fascia di qualità 85+ (+6%): l'intervallo al 95% (86,10–90,40) è tutto pari o"
        " superiore a 85"
    )


def test_an_italian_volume_line_groups_thousands_with_dots_and_prices_with_commas() -> None:
    result = statement(DESIGN, scores("88.25", ("86.10", "90.40")))
    stored = lines_document(result)[0]
    assert stored["description"] == (
        "Volume fee: 60,000 units of handled contact (declared daily volumes), 50,000 at 1.10"
        " and 10,000 at 0.95"
    )
    assert reasons(DESIGN, "it").of(stored) == (
        "Compenso a volume: 60.000 unità (handled contact) dai volumi giornalieri dichiarati,"
        " di cui 50.000 a 1,10 e 10.000 a 0,95"
    )


def test_an_italian_cap_line_names_the_money_in_euro() -> None:
    capped = with_quality(DESIGN, cap=Cap(Decimal("0.05"), Decimal("0.05")))
    result = statement(capped, scores("97.50", ("96.00", "99.00")))
    (cap,) = [each for each in lines_document(result) if each["code"] == "cap"]
    assert reasons(capped, "it").of(cap) == (
        "Tetto: premio di qualità di 7.740,00\xa0€ ridotto al 5% del compenso a volume,"
        " 3.225,00\xa0€"
    )


def test_a_line_of_an_unknown_code_keeps_its_description() -> None:
    stored = {"code": "bonus_for_weather", "description": "Sunny", "amount": "1.00", "basis": {}}
    assert Reasons("it", "EUR").of(stored) == "Sunny"


def test_a_critical_line_below_the_minimum_sample_says_why_in_italian() -> None:
    result = statement(DESIGN, scores("90.00", ("85.00", "95.00"), n=45))
    compliance = line(result, "critical_compliance")
    stored = {"code": compliance.code, "description": compliance.description,
              "amount": str(compliance.amount), "basis": dict(compliance.basis)}  # fmt: skip
    assert reasons(DESIGN, "it").of(stored) == (
        "Nessuna penale per errori critici (conformità): 45 valutazioni, meno del campione"
        " minimo di 60"
    )


@pytest.mark.parametrize(
    ("figures", "italian"),
    [
        (
            Figures(0, None, None, None, None, {}),
            "Nessun adeguamento per fascia di qualità: nessuna valutazione con punteggio nel"
            " periodo",
        ),
        (
            scores("70.00"),
            "Fascia di qualità 0+ (-8%): la media 70,00 vi rientra",
        ),
    ],
)
def test_a_point_band_line_says_in_italian_what_the_mean_did(
    figures: Figures, italian: str
) -> None:
    terms = with_quality(DESIGN, evidence="point", min_sample=0)
    result = statement(terms, figures)
    (band,) = [each for each in lines_document(result) if each["code"] == "quality_band"]
    assert reasons(terms, "it").of(band) == italian


def test_no_units_is_said_in_italian_too() -> None:
    result = statement(DESIGN, scores("88.25", ("86.10", "90.40")), units=0)
    assert reasons(DESIGN, "it").of(lines_document(result)[0]) == (
        "Compenso a volume: nessuna unità (handled contact) dai volumi giornalieri dichiarati"
    )


def test_unverified_self_scores_that_do_not_count_are_said_in_italian_with_the_pairs_needed() -> (
    None
):
    assert DESIGN.quality is not None
    check = self_assessment_check(12, 600, DESIGN.quality.self_assessment)
    result = statement(DESIGN, scores("88.25", ("86.10", "90.40")), self_assessment=check)
    (band,) = [each for each in lines_document(result) if each["code"] == "quality_band"]
    assert (
        reasons(DESIGN, "it")
        .of(band)
        .endswith(
            "; le autovalutazioni del fornitore non contano, perché non verificate: 12 chiamate"
            " con audit, meno delle 20 richieste"
        )
    )


def test_a_statement_made_before_unverified_self_scores_stopped_counting_reads_as_it_did() -> None:
    assert DESIGN.quality is not None
    check = self_assessment_check(12, 600, DESIGN.quality.self_assessment)
    result = statement(DESIGN, scores("88.25", ("86.10", "90.40")), self_assessment=check)
    (band,) = [each for each in lines_document(result) if each["code"] == "quality_band"]
    del band["basis"]["self_assessment"]["counted"]  # as statements stored before kept it
    assert (
        reasons(DESIGN, "en")
        .of(band)
        .endswith(
            "; supplier self-scores are unverified: 12 audited calls, fewer than the 20 needed"
        )
    )


def drawn(audit: SampleShare, own: SampleShare) -> SampleFigures:
    return SampleFigures(
        "ab" * 32, "cd" * 32, "sampled", Decimal("0.9"), audit, own,
        "2026-12-04 00:00 Europe/Rome", scheme=2, audit_commitment="ef" * 32,
        audit_seed="01" * 32, self_due="2026-12-11 00:00 Europe/Rome",
        audit_due="2026-12-21 00:00 Europe/Rome",
    )  # fmt: skip


def test_a_month_whose_audit_sample_is_not_drawn_yet_says_so_in_italian() -> None:
    waiting = dataclasses.replace(drawn(SampleShare(0, 0), SampleShare(80, 80)), audit_seed=None)
    result = compute_statement(DESIGN, PeriodFigures(100, scores("90.00"), None, waiting))
    (band,) = [each for each in lines_document(result) if each["code"] == "quality_band"]

    assert reasons(DESIGN, "it").of(band) == (
        "Nessun adeguamento per fascia di qualità: il campione di audit si estrae alla scadenza"
        " delle autovalutazioni (2026-12-11 00:00 Europe/Rome)"
    )


def test_whose_sample_fell_short_and_what_it_took_away_is_said_in_italian() -> None:
    short = drawn(SampleShare(60, 30), SampleShare(200, 200))
    result = compute_statement(
        DESIGN, PeriodFigures(100, scores("60.00", ("55.00", "65.00")), None, short)
    )
    (band,) = [each for each in lines_document(result) if each["code"] == "quality_band"]

    assert band["amount"] == "0.00"
    assert reasons(DESIGN, "it").of(band) == (
        "Fascia di qualità 0+ (-8%): l'intervallo al 95% (55,00–65,00) è tutto sotto 75; il"
        " campione di audit del committente è valutato al 50% (30 chiamate su 60), sotto la"
        " soglia del 90%: non si applica alcuna penale di qualità"
    )
