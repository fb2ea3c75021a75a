"""The scorecard pages: suppliers side by side, one contract over a year, its agents."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template

from service.accounts.web_sessions import page
from service.calls import samples
from service.calls.reads import calls_in
from service.disputes.figures import evaluator_figures
from service.edge.sessions import get_session
from service.scorecards import service as scorecards
from service.statements import service as statements
from service.web.charts import trend_chart
from service.web.query import chosen_period

blp = Blueprint("scorecard_pages", __name__)

TREND_MONTHS = 12


@blp.get("/scorecards")
@page
def scorecards_page() -> Any:
    """Compare every visible contract's month side by side."""
    db, period = get_session(), chosen_period()
    cards = scorecards.compare(session=db, actor=g.actor, period=period)
    found = statements.list_statements(session=db, actor=g.actor, period=period)
    by_contract = {statement.contract_id: statement for statement in found}
    return render_template(
        "scorecards/scorecards.html", period=period, cards=cards, statements=by_contract
    )


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
