"""A statement line's reason, said from its code and basis: in English as a statement stores
it (its `description`), and in Italian as Italians write it."""

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from contracts.payout import PeriodFigures, SampleFigures, SampleShare, Statement, compute_statement
from contracts.stats import Figures, self_assessment_check
from contracts.terms import Cap, Terms, terms_document
from service.statements.reasons import Reasons, stored_lines
from tests.unit.test_payout import DESIGN, scores, statement, with_quality


def reasons(terms: Terms, language: str) -> Reasons:
    return Reasons(language, terms.currency, terms_document(terms))


def stored(terms: Terms, result: Statement, code: str) -> dict[str, Any]:
    """Return a line as a statement stores it: worded in English, amounts as strings."""
    (found,) = [each for each in stored_lines(result, terms) if each["code"] == code]
    return found


def test_an_italian_band_line_writes_its_figures_as_italians_do() -> None:
    result = statement(DESIGN, scores("88.25", ("86.10", "90.40")))
    assert reasons(DESIGN, "it").of(stored(DESIGN, result, "quality_band")) == (
        "Fascia di qualità 85+ (+6%): l'intervallo al 95% (86,10–90,40) è tutto pari o"
        " superiore a 85"
    )


def test_an_italian_volume_line_groups_thousands_with_dots_and_prices_with_commas() -> None:
    result = statement(DESIGN, scores("88.25", ("86.10", "90.40")))
    volume = stored(DESIGN, result, "volume")
    assert volume["description"] == (
        "Volume fee: 60,000 units of handled contact (declared daily volumes), 50,000 at 1.10"
        " and 10,000 at 0.95"
    )
    assert reasons(DESIGN, "it").of(volume) == (
        "Compenso a volume: 60.000 unità (handled contact) dai volumi giornalieri dichiarati,"
        " di cui 50.000 a 1,10 e 10.000 a 0,95"
    )


def test_a_cap_line_names_the_money_in_euro_to_people_and_bare_in_its_description() -> None:
    capped = with_quality(DESIGN, cap=Cap(Decimal("0.05"), Decimal("0.05")))
    result = statement(capped, scores("97.50", ("96.00", "99.00")))
    cap = stored(capped, result, "cap")
    assert cap["description"] == (
        "Cap: quality bonus of 7,740.00 trimmed to 5% of the volume fee, 3,225.00"
    )
    assert reasons(capped, "en").of(cap) == (
        "Cap: quality bonus of €7,740.00 trimmed to 5% of the volume fee, €3,225.00"
    )
    assert reasons(capped, "it").of(cap) == (
        "Tetto: premio di qualità di 7.740,00\xa0€ ridotto al 5% del compenso a volume,"
        " 3.225,00\xa0€"
    )


def test_a_line_of_an_unknown_code_keeps_its_description() -> None:
    line = {"code": "bonus_for_weather", "description": "Sunny", "amount": "1.00", "basis": {}}
    assert Reasons("it", "EUR").of(line) == "Sunny"


def test_a_single_evaluation_below_the_minimum_sample_is_one_evaluation_in_the_description() -> (
    None
):
    result = statement(DESIGN, scores("90.00", ("85.00", "95.00"), n=1))
    assert stored(DESIGN, result, "quality_band")["description"] == (
        "No quality band adjustment: 1 evaluation, fewer than the minimum sample of 60"
    )
    assert stored(DESIGN, result, "critical_customer")["description"] == (
        "No customer critical error adjustment: 1 evaluation, fewer than the minimum sample of 60"
    )


def test_a_critical_line_below_the_minimum_sample_says_why_in_italian() -> None:
    result = statement(DESIGN, scores("90.00", ("85.00", "95.00"), n=45))
    assert reasons(DESIGN, "it").of(stored(DESIGN, result, "critical_compliance")) == (
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
    assert reasons(terms, "it").of(stored(terms, result, "quality_band")) == italian


def test_no_units_is_said_in_italian_too() -> None:
    result = statement(DESIGN, scores("88.25", ("86.10", "90.40")), units=0)
    assert reasons(DESIGN, "it").of(stored(DESIGN, result, "volume")) == (
        "Compenso a volume: nessuna unità (handled contact) dai volumi giornalieri dichiarati"
    )


def test_unverified_self_scores_that_do_not_count_are_said_in_italian_with_the_pairs_needed() -> (
    None
):
    assert DESIGN.quality is not None
    check = self_assessment_check(12, 600, DESIGN.quality.self_assessment)
    result = statement(DESIGN, scores("88.25", ("86.10", "90.40")), self_assessment=check)
    assert (
        reasons(DESIGN, "it")
        .of(stored(DESIGN, result, "quality_band"))
        .endswith(
            "; le autovalutazioni del fornitore non contano, perché non verificate: 12 chiamate"
            " con audit, meno delle 20 richieste"
        )
    )


def test_a_statement_made_before_unverified_self_scores_stopped_counting_reads_as_it_did() -> None:
    assert DESIGN.quality is not None
    check = self_assessment_check(12, 600, DESIGN.quality.self_assessment)
    result = statement(DESIGN, scores("88.25", ("86.10", "90.40")), self_assessment=check)
    band = stored(DESIGN, result, "quality_band")
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

    assert reasons(DESIGN, "it").of(stored(DESIGN, result, "quality_band")) == (
        "Nessun adeguamento per fascia di qualità: il campione di audit si estrae alla scadenza"
        " delle autovalutazioni (2026-12-11 00:00 Europe/Rome)"
    )


def test_a_month_whose_call_log_is_still_open_says_when_its_samples_are_drawn() -> None:
    open_log = dataclasses.replace(
        drawn(SampleShare(0, 0), SampleShare(0, 0)), seed=None, audit_seed=None
    )
    result = compute_statement(DESIGN, PeriodFigures(100, scores("90.00"), None, open_log))

    band = stored(DESIGN, result, "quality_band")
    compliance = stored(DESIGN, result, "critical_compliance")
    assert band["description"] == (
        "No quality band adjustment: the samples are drawn when the call log closes"
        " (2026-12-04 00:00 Europe/Rome)"
    )
    assert compliance["description"] == (
        "No compliance critical error adjustment: the samples are drawn when the call log closes"
        " (2026-12-04 00:00 Europe/Rome)"
    )
    assert reasons(DESIGN, "it").of(band) == (
        "Nessun adeguamento per fascia di qualità: i campioni si estraggono alla chiusura del"
        " registro chiamate (2026-12-04 00:00 Europe/Rome)"
    )
    assert reasons(DESIGN, "it").of(compliance) == (
        "Nessuna penale per errori critici (conformità): i campioni si estraggono alla chiusura"
        " del registro chiamate (2026-12-04 00:00 Europe/Rome)"
    )


def test_whose_sample_fell_short_and_what_it_took_away_is_said_in_italian() -> None:
    short = drawn(SampleShare(60, 30), SampleShare(200, 200))
    result = compute_statement(
        DESIGN, PeriodFigures(100, scores("60.00", ("55.00", "65.00")), None, short)
    )
    band = stored(DESIGN, result, "quality_band")

    assert band["amount"] == "0.00"
    assert reasons(DESIGN, "it").of(band) == (
        "Fascia di qualità 0+ (-8%): l'intervallo al 95% (55,00–65,00) è tutto sotto 75; il"
        " campione di audit del committente è valutato al 50% (30 chiamate su 60), sotto la"
        " soglia del 90%: non si applica alcuna penale di qualità"
    )


def test_both_samples_short_are_named_in_italian_and_take_away_bonus_and_malus() -> None:
    short = drawn(SampleShare(60, 6), SampleShare(200, 20))
    result = compute_statement(
        DESIGN, PeriodFigures(100, scores("60.00", ("55.00", "65.00")), None, short)
    )

    said = reasons(DESIGN, "it").of(stored(DESIGN, result, "quality_band"))
    assert said.endswith(
        "; il campione di audit del committente è valutato al 10% (6 chiamate su 60), sotto la"
        " soglia del 90% e il campione di autovalutazione del fornitore è valutato al 10%"
        " (20 chiamate su 200), sotto la soglia del 90%: non si applica alcun premio né alcuna"
        " penale di qualità"
    )


def test_a_short_self_sample_below_the_minimum_sample_keeps_the_malus_in_italian() -> None:
    short = drawn(SampleShare(60, 54), SampleShare(200, 0))
    result = compute_statement(
        DESIGN, PeriodFigures(100, scores("60.00", ("55.00", "65.00"), n=54), None, short)
    )
    band = stored(DESIGN, result, "quality_band")

    assert band["amount"] == "-8.80"  # 100 units at 1.10, -8%
    said = reasons(DESIGN, "it").of(band)
    assert said.endswith(
        "sotto la soglia del 90%: non si applica alcun premio di qualità, e il campione minimo"
        " di 60 non trattiene una penale"
    )


def test_self_scores_counted_unverified_because_the_audits_fell_short_say_so_in_both() -> None:
    assert DESIGN.quality is not None
    check = self_assessment_check(12, 600, DESIGN.quality.self_assessment, audits_short=True)
    short = drawn(SampleShare(60, 12), SampleShare(200, 200))
    result = compute_statement(
        DESIGN, PeriodFigures(100, scores("88.25", ("86.10", "90.40")), check, short)
    )
    band = stored(DESIGN, result, "quality_band")

    assert band["description"] == (
        "Quality band 85+ (+6%): the 95% interval 86.10–90.40 lies wholly at or above 85;"
        " supplier self-scores count unverified, as the client's audit sample fell short:"
        " 12 audited calls, fewer than the 20 needed; the client's audit sample is 20% evaluated"
        " (12 of 60 calls), below the 90% floor: no quality malus applies"
    )
    assert reasons(DESIGN, "it").of(band) == (
        "Fascia di qualità 85+ (+6%): l'intervallo al 95% (86,10–90,40) è tutto pari o"
        " superiore a 85; le autovalutazioni del fornitore contano pur non verificate, perché il"
        " campione di audit del committente è rimasto sotto la soglia: 12 chiamate con audit,"
        " meno delle 20 richieste; il campione di audit del committente è valutato al 20%"
        " (12 chiamate su 60), sotto la soglia del 90%: non si applica alcuna penale di qualità"
    )
