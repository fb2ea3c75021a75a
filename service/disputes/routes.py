"""Disputes of audits: open one, follow it, decide, escalate, arbitrate, withdraw."""

from typing import Any

from flask.views import MethodView

from service.disputes import service
from service.disputes.schemas import (
    DisputeIn,
    DisputeOut,
    DisputeQuery,
    EscalationIn,
    VerdictsIn,
)
from service.edge.actors import current_actor
from service.edge.schemas import Blueprint
from service.edge.sessions import get_session

blp = Blueprint("disputes", __name__, description="Disputes of audits (DESIGN 12)")


@blp.route("/evaluations/<id:evaluation_id>/disputes")
class EvaluationDisputes(MethodView):
    @blp.arguments(DisputeIn)
    @blp.response(201, DisputeOut)
    def post(self, body: dict[str, Any], evaluation_id: int) -> Any:
        """Dispute questions of an audit (the supplier, within the terms' window)."""
        return service.open_dispute(
            session=get_session(), actor=current_actor(), evaluation_id=evaluation_id, **body
        )


@blp.route("/disputes")
class Disputes(MethodView):
    @blp.arguments(DisputeQuery, location="query")
    @blp.response(200, DisputeOut(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any], pagination_parameters: Any) -> Any:
        """List the disputes of the caller's contracts, oldest first."""
        disputes, pagination_parameters.item_count = service.list_disputes(
            session=get_session(),
            actor=current_actor(),
            first=pagination_parameters.first_item,
            size=pagination_parameters.page_size,
            **query,
        )
        return disputes


@blp.route("/disputes/<id:dispute_id>")
class DisputeDetail(MethodView):
    @blp.response(200, DisputeOut)
    def get(self, dispute_id: int) -> Any:
        """Return a dispute with its items and its whole thread."""
        return service.get_dispute(
            session=get_session(), actor=current_actor(), dispute_id=dispute_id
        )


@blp.route("/disputes/<id:dispute_id>/decision")
class Decision(MethodView):
    @blp.arguments(VerdictsIn)
    @blp.response(200, DisputeOut)
    def post(self, body: dict[str, Any], dispute_id: int) -> Any:
        """Decide every contested question (the audit's author side); accepted ones revise it."""
        return service.decide(
            session=get_session(), actor=current_actor(), dispute_id=dispute_id, **body
        )


@blp.route("/disputes/<id:dispute_id>/escalation")
class Escalation(MethodView):
    @blp.arguments(EscalationIn)
    @blp.response(200, DisputeOut)
    def post(self, body: dict[str, Any], dispute_id: int) -> Any:
        """Escalate a decision that rejected a question (the supplier, within the window)."""
        return service.escalate(
            session=get_session(), actor=current_actor(), dispute_id=dispute_id, **body
        )


@blp.route("/disputes/<id:dispute_id>/arbitration")
class Arbitration(MethodView):
    @blp.arguments(VerdictsIn)
    @blp.response(200, DisputeOut)
    def post(self, body: dict[str, Any], dispute_id: int) -> Any:
        """Rule on each question the decision rejected (an admin); final."""
        return service.arbitrate(
            session=get_session(), actor=current_actor(), dispute_id=dispute_id, **body
        )


@blp.route("/disputes/<id:dispute_id>/withdrawal")
class Withdrawal(MethodView):
    @blp.response(200, DisputeOut)
    def post(self, dispute_id: int) -> Any:
        """Withdraw an open dispute (the supplier)."""
        return service.withdraw(session=get_session(), actor=current_actor(), dispute_id=dispute_id)
