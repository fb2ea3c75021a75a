"""Service levels in the terms and the money (issue 23), against hand-computed amounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from contracts.errors import RuleError
from contracts.payout import PeriodFigures, compute_statement
from contracts.service_levels import ServiceCounts, service_figures
from contracts.stats import Figures
from contracts.terms import parse_terms, terms_document

SERVICE: dict[str, Any] = {
    "short_abandon_s": 5,
    "reconcile": {"tolerance": "1%"},
    "gate": True,
    "kpis": {
        "service_level": {
            "answered_within_s": 20,
            "bands": [
                {"from": "90%", "adjust": "+2%"},
                {"from": "80%", "adjust": "0%"},
                {"from": "0%", "adjust": "-5%"},
            ],
        },
        "abandoned": {"target": "5%", "per_point": "-0.5%", "max": "-5%"},
        "answer_speed": {
            "bands": [
                {"up_to_s": 30, "adjust": "0%"},
                {"up_to_s": 90, "adjust": "-1%"},
                {"up_to_s": None, "adjust": "-3%"},
            ]
        },
        "repeat_contacts": {"within_days": 7, "target": "15%", "per_point": "-0.2%", "max": "-3%"},
        "csat": {
            "top_box_from": 4,
            "min_responses": 100,
            "bands": [
                {"from": "90%", "adjust": "+3%"},
                {"from": "80%", "adjust": "0%"},
                {"from": "0%", "adjust": "-3%"},
            ],
        },
    },
    "cap": {"bonus": "5%", "malus": "10%"},
}


def terms(service: dict[str, Any] | None = None, **quality: Any) -> Any:
    document: dict[str, Any] = {
        "currency": "EUR",
        "timezone": "Europe/Rome",
        "form": "standard@1",
        "volume": {"unit": "call", "tiers": [{"up_to": None, "price": "1.00"}]},
        "service": SERVICE if service is None else service,
    }
    if quality:
        document["quality"] = {
            "bands": [{"from": 80, "adjust": "+6%"}, {"from": 0, "adjust": "0%"}]
        }
        document["quality"] |= quality
    return parse_terms(document)


def counts(**values: int | None) -> ServiceCounts:
    base: dict[str, Any] = {"logged": 10_000, "answered": 9_000, "within": 8_700, "abandoned": 800,
                            "waited": 9_000, "wait_sum": 9_000 * 25, "days": 30}  # fmt: skip
    return ServiceCounts(**(base | values))


def pay(
    document: Any, service_counts: ServiceCounts, units: int = 10_000, mean: str = "90"
) -> dict[str, Decimal]:
    figures = PeriodFigures(
        units=units,
        quality=Figures(200, Decimal(mean), Decimal(5), None, None, {}),
        service=service_figures(service_counts, document.service),
    )
    statement = compute_statement(document, figures)
    return {line.code: line.amount for line in statement.lines}


def only(*codes: str) -> dict[str, Any]:
    kpis = {code: SERVICE["kpis"][code] for code in codes}
    return {"kpis": kpis}


def test_the_service_block_reads_back_as_it_was_written() -> None:
    document = terms_document(terms())
    assert parse_terms(document).service == terms().service
    assert document["service"]["kpis"]["abandoned"] == {
        "target": "5%", "per_point": "-0.5%", "max": "-5%"
    }  # fmt: skip


def test_service_level_pays_the_band_its_figure_falls_in() -> None:
    # 8,700 within 20 s of 9,000 answered + 800 abandoned = 88.78%: the 80% band, 0
    assert pay(terms(only("service_level")), counts())["service_level"] == Decimal("0.00")
    # 9,300 of 9,800 = 94.9%: +2% of 10,000.00
    assert pay(terms(only("service_level")), counts(within=9_300))["service_level"] == Decimal(
        "200.00"
    )
    # 7,000 of 9,800 = 71.4%: -5%
    assert pay(terms(only("service_level")), counts(within=7_000))["service_level"] == Decimal(
        "-500.00"
    )


def test_abandoned_is_linear_past_its_target_with_fractional_points_and_a_floor() -> None:
    # 7.5% abandoned: 2.5 points past 5% at -0.5% a point = -1.25% of 10,000.00
    line = pay(terms(only("abandoned")), counts(answered=9_250, abandoned=750))["abandoned"]
    assert line == Decimal("-125.00")
    within = pay(terms(only("abandoned")), counts(answered=9_600, abandoned=400))["abandoned"]
    assert within == Decimal("0.00")
    # 30% abandoned: 25 points would be -12.5%, held at max -5%
    floor = pay(terms(only("abandoned")), counts(answered=7_000, abandoned=3_000))["abandoned"]
    assert floor == Decimal("-500.00")


def test_answer_speed_takes_the_band_of_the_mean_wait_in_seconds() -> None:
    assert pay(terms(only("answer_speed")), counts())["answer_speed"] == Decimal("0.00")
    slow = counts(wait_sum=9_000 * 45)
    assert pay(terms(only("answer_speed")), slow)["answer_speed"] == Decimal("-100.00")
    slower = counts(wait_sum=9_000 * 91)
    assert pay(terms(only("answer_speed")), slower)["answer_speed"] == Decimal("-300.00")


def test_csat_under_confident_evidence_follows_the_wilson_interval() -> None:
    confident = terms(only("csat"), evidence="confident")
    point = terms(only("csat"))
    # 91 of 100 top box: the point share pays +3%, the interval (0.838..0.952) proves nothing
    answers = counts(responses=100, top_box=91)
    assert pay(point, answers)["csat"] == Decimal("300.00")
    assert pay(confident, answers)["csat"] == Decimal("0.00")
    # 960 of 1,000: the lower bound 0.946 is in the +3% band
    assert pay(confident, counts(responses=1_000, top_box=960))["csat"] == Decimal("300.00")
    # 700 of 1,000: the upper bound 0.727 is in the -3% band
    assert pay(confident, counts(responses=1_000, top_box=700))["csat"] == Decimal("-300.00")
    # under the minimum of 100 answers: 0
    assert pay(point, counts(responses=99, top_box=99))["csat"] == Decimal("0.00")


def test_the_service_cap_trims_the_service_maluses_as_its_own_line() -> None:
    service = dict(SERVICE, cap={"bonus": "1%", "malus": "4%"}, gate=False)
    lines = pay(terms(service), counts(within=7_000, wait_sum=9_000 * 91, responses=0))
    # service_level -5%, abandoned 8.16% -> 3.163 points * -0.5% = -1.58%, answer_speed -3%
    assert lines["service_level"] == Decimal("-500.00")
    assert lines["abandoned"] == Decimal("-158.16")
    assert lines["answer_speed"] == Decimal("-300.00")
    assert lines["service_cap"] == Decimal("958.16") - Decimal("400.00")


def test_the_gate_takes_the_quality_bonus_while_a_kpi_carries_a_malus() -> None:
    gated = terms(only("service_level") | {"gate": True}, min_sample=0)
    open_gate = pay(gated, counts(within=9_300))
    assert open_gate["quality_band"] == Decimal("600.00")
    closed = pay(gated, counts(within=7_000))
    assert closed["service_level"] == Decimal("-500.00")
    assert closed["quality_band"] == Decimal("0.00")
    ungated = terms(only("service_level"), min_sample=0)
    assert pay(ungated, counts(within=7_000))["quality_band"] == Decimal("600.00")


def test_reconciliation_counts_missing_calls_as_abandoned_and_caps_the_volume() -> None:
    document = terms(only("abandoned") | {"reconcile": {"tolerance": "1%"}})
    # The client counted 11,000: the log's 10,000 is short by 9%: 1,000 more abandoned
    short = service_figures(counts(client=11_000, client_days=30), document.service)
    assert short.reconciliation.status == "log_short"
    assert (short.offered, short.abandoned) == (10_800, 1_800)
    # The client counted 9,000: the log holds more, the volume pays 9,000 units
    over = pay(document, counts(client=9_000, client_days=30), units=9_800)
    assert over["volume"] == Decimal("9000.00")
    # Within 1%: nothing changes
    same = service_figures(counts(client=10_050, client_days=30), document.service)
    assert (same.reconciliation.status, same.abandoned) == ("matched", 800)
    # A day missing: not reconciled
    missing = service_figures(counts(client=None, client_days=29), document.service)
    assert (missing.reconciliation.status, missing.abandoned) == ("incomplete", 800)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"kpis": {"abandoned": {"target": "5%", "per_point": "+0.5%", "max": "-5%"}}},
         "service.kpis.abandoned.per_point"),
        ({"kpis": {"speed": {"bands": []}}}, "service.kpis.speed"),
        ({"kpis": {"service_level": {"bands": [{"from": "90%", "adjust": "0%"}]}}},
         "service.kpis.service_level.answered_within_s"),
        ({"kpis": {"answer_speed": {"bands": [{"up_to_s": 30, "adjust": "0%"}]}}},
         "service.kpis.answer_speed.bands.0.up_to_s"),
        ({"kpis": {"csat": {"top_box_from": 6, "bands": [{"from": "0%", "adjust": "0%"}]}}},
         "service.kpis.csat.top_box_from"),
        ({"kpis": {}, "reconcile": {"tolerance": "150%"}}, "service.reconcile.tolerance"),
        ({"kpis": {}, "short_abandon_s": -1}, "service.short_abandon_s"),
    ],
)  # fmt: skip
def test_terms_errors_name_the_path(change: dict[str, Any], path: str) -> None:
    with pytest.raises(RuleError) as raised:
        terms(change)
    assert path in raised.value.errors, raised.value.errors


def test_an_uncalibrated_month_pays_no_quality_but_its_service_lines_still_pay() -> None:
    from contracts.agreement import standing
    from contracts.terms import Calibration

    rule = Calibration(Decimal("0.667"), 90, 10, 3)
    document = terms(only("service_level"), calibration={"min_alpha": "0.667"})
    figures = PeriodFigures(
        units=10_000,
        quality=Figures(200, Decimal("90"), Decimal(5), None, None, {}),
        service=service_figures(counts(within=9_300), document.service),
        calibration=standing(rule, [], date(2026, 3, 1), date(2026, 3, 31)),
    )
    lines = {line.code: line for line in compute_statement(document, figures).lines}
    assert lines["quality_band"].amount == Decimal("0.00")
    assert lines["quality_band"].basis["calibration"]["reason"] == "none"
    assert lines["service_level"].amount == Decimal("200.00")  # counted, not judged: never gated
    assert "calibration" not in lines["service_level"].basis
