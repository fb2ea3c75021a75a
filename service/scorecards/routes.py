"""Scorecards: quality figures per contract, agent and team, side by side and over time."""

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from service.disputes.figures import evaluator_figures
from service.disputes.schemas import EvaluatorOut
from service.edge.actors import current_actor
from service.edge.schemas import PeriodQuery
from service.edge.sessions import get_session
from service.scorecards import service
from service.scorecards.schemas import (
    AgentScorecardsOut,
    ScorecardOut,
    TrendQuery,
)

blp = Blueprint("scorecards", __name__, description="Quality figures of a month (DESIGN §5)")


@blp.route("/contracts/<id:contract_id>/scorecard")
class ContractScorecard(MethodView):
    @blp.arguments(PeriodQuery, location="query")
    @blp.response(200, ScorecardOut)
    def get(self, query: dict[str, Any], contract_id: int) -> Any:
        """Return a contract's quality figures for a month."""
        return service.scorecard(
            session=get_session(), actor=current_actor(), contract_id=contract_id, **query
        )


@blp.route("/contracts/<id:contract_id>/scorecard/agents")
class AgentScorecards(MethodView):
    @blp.arguments(PeriodQuery, location="query")
    @blp.response(200, AgentScorecardsOut)
    def get(self, query: dict[str, Any], contract_id: int) -> Any:
        """Return a month's figures per agent and per team, for coaching."""
        return service.agent_scorecards(
            session=get_session(), actor=current_actor(), contract_id=contract_id, **query
        )


@blp.route("/contracts/<id:contract_id>/scorecard/evaluators")
class EvaluatorScorecards(MethodView):
    @blp.arguments(PeriodQuery, location="query")
    @blp.response(200, EvaluatorOut(many=True))
    def get(self, query: dict[str, Any], contract_id: int) -> Any:
        """Return each evaluator's audits of a month and how often disputes overturned them."""
        return evaluator_figures(
            session=get_session(), actor=current_actor(), contract_id=contract_id, **query
        )


@blp.route("/contracts/<id:contract_id>/scorecard/trend")
class ScorecardTrend(MethodView):
    @blp.arguments(TrendQuery, location="query")
    @blp.response(200, ScorecardOut(many=True))
    def get(self, query: dict[str, Any], contract_id: int) -> Any:
        """Return one scorecard per month of a range."""
        return service.trend(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            first=query["from_"],
            last=query["to"],
        )


@blp.route("/scorecards")
class Scorecards(MethodView):
    @blp.arguments(PeriodQuery, location="query")
    @blp.response(200, ScorecardOut(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Compare every visible contract's scorecard for a month, side by side."""
        return service.compare(session=get_session(), actor=current_actor(), **query)
