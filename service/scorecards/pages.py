"""The scorecard pages: suppliers side by side, one contract over a year, its agents."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import Blueprint, g, render_template

from contracts.service_levels import KPIS, shown, thresholds_of
from service.accounts.web_sessions import page
from service.calls import samples
from service.calls.reads import calls_in
from service.disputes.figures import evaluator_figures
from service.edge.sessions import get_session
from service.scorecards import service as scorecards
from service.scorecards.service import ContractOverview, Scorecard
from service.statements import service as statements
from service.web.charts import TrendChart, kpi_chart, trend_chart
from service.web.query import chosen_period

blp = Blueprint("scorecard_pages", __name__)

TREND_MONTHS = 12
# The contract page's service-level cards, in the order of DESIGN 16 (`resolved` has no money).
KPI_CARDS = ("service_level", "abandoned", "answer_speed", "repeat_contacts", "csat", "resolved")


@dataclass(frozen=True, slots=True)
class KpiCard:
    """A KPI of the month on the contract page: its figure, counts, and twelve months."""

    code: str
    value: Decimal | None  # as the API shows it: a share to 4 places, seconds to 1
    numerator: int
    denominator: int
    chart: TrendChart
    paid: bool  # the terms move money on it
    ci: tuple[Any, Any] | None = None


def kpi_cards(overview: ContractOverview) -> list[KpiCard]:
    """Return a card per KPI the month or the terms have, each with its twelve-month trend."""
    service = overview.terms.service
    month = overview.cards[-1].service
    cards = []
    for code in KPI_CARDS:
        rule = None if service is None else service.rule(code)
        ratio = None if month is None else month.ratio(code)
        chart = kpi_chart(overview.cards, code, rule)
        if ratio is None and rule is None and chart.empty:
            continue
        value, numerator, denominator = ratio or (None, 0, 0)
        ci = month.csat_interval() if month is not None and code == "csat" else None
        cards.append(KpiCard(code, shown_value(code, value), numerator, denominator, chart,
                             rule is not None, ci))  # fmt: skip
    return cards


def shown_value(code: str, value: Fraction | None) -> Decimal | None:
    """Return a KPI's figure as the API shows it (pages format what the API says)."""
    return None if value is None else Decimal(shown(code, value))


def kpi_cells(card: Scorecard) -> dict[str, tuple[Decimal, int, int]]:
    """Return a scorecard's KPIs for the suppliers page: figure, numerator, denominator."""
    cells = {}
    for code in KPIS:
        ratio = None if card.service is None else card.service.ratio(code)
        if ratio is not None:
            value = shown_value(code, ratio[0])
            assert value is not None
            cells[code] = (value, ratio[1], ratio[2])
    return cells


@blp.get("/scorecards")
@page
def scorecards_page() -> Any:
    """Compare every visible contract's month side by side."""
    db, period = get_session(), chosen_period()
    cards = scorecards.compare(session=db, actor=g.actor, period=period)
    found = statements.list_statements(session=db, actor=g.actor, period=period)
    by_contract = {statement.contract_id: statement for statement in found}
    return render_template(
        "scorecards/scorecards.html", period=period, cards=cards, statements=by_contract,
        kpi_codes=KPIS, kpis={card.contract.id: kpi_cells(card) for card in cards},
    )  # fmt: skip


@blp.get("/contracts/<id:contract_id>")
@page
def contract(contract_id: int) -> Any:
    """Show a contract's month and its quality over the last twelve months."""
    db, period = get_session(), chosen_period()
    overview = scorecards.contract_overview(
        session=db, actor=g.actor, contract_id=contract_id, period=period, months=TREND_MONTHS
    )
    history = statements.list_statements(session=db, actor=g.actor, contract_id=contract_id)
    chart = trend_chart(overview.cards, overview.pass_mark, overview.terms.band_edges)
    evaluators = evaluator_figures(
        session=db, actor=g.actor, contract_id=contract_id, period=period
    )
    sample = None
    if overview.terms.sampling is not None:
        sample = samples.shown_sample(
            session=db, actor=g.actor, contract_id=contract_id, period=period
        )
    return render_template(
        "scorecards/contract.html",
        contract=overview.contract,
        period=period,
        card=overview.cards[-1],
        chart=chart,
        terms=overview.terms,
        pass_mark=overview.pass_mark,
        statements=list(reversed(history)),
        evaluators=evaluators,
        logged=calls_in(db, contract_id, period, None),
        sample=sample,
        kpis=kpi_cards(overview),
        service=overview.cards[-1].service,
        thresholds=thresholds_of(overview.terms.service),
    )


@blp.get("/contracts/<id:contract_id>/agents")
@page
def agents(contract_id: int) -> Any:
    """Show a month's figures per agent and per team, for coaching."""
    period = chosen_period()
    breakdown = scorecards.agent_scorecards(
        session=get_session(), actor=g.actor, contract_id=contract_id, period=period
    )
    return render_template(
        "scorecards/agents.html", contract=breakdown.contract, period=period, breakdown=breakdown
    )
