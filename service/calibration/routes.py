"""Calibration sessions: open, score blind, close and read the agreement (DESIGN 17)."""

from typing import Any

from flask.views import MethodView

from service.calibration import service
from service.calibration.schemas import (
    CalibrationIn,
    CalibrationOut,
    CalibrationQuery,
    CalibrationScoreIn,
    CalibrationScoreOut,
    shown,
)
from service.edge.actors import current_actor
from service.edge.schemas import Blueprint
from service.edge.sessions import get_session

blp = Blueprint("calibration", __name__, description="Blind calibration sessions")


def _shown(calibration: Any) -> dict[str, Any]:
    actor = current_actor()
    return shown(service.view_of(get_session(), actor, calibration), actor.user_id)


@blp.route("/contracts/<id:contract_id>/calibrations")
class ContractCalibrations(MethodView):
    @blp.arguments(CalibrationIn)
    @blp.response(201, CalibrationOut)
    def post(self, body: dict[str, Any], contract_id: int) -> Any:
        """Open a blind session on calls of the contract (its client, or an admin)."""
        opened = service.open_session(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            draft=service.Draft(**body),
        )
        return _shown(opened)


@blp.route("/calibrations")
class Calibrations(MethodView):
    @blp.arguments(CalibrationQuery, location="query")
    @blp.response(200, CalibrationOut(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """List the sessions of the contracts the caller may see, newest first."""
        found = service.list_calibrations(session=get_session(), actor=current_actor(), **query)
        return [_shown(calibration) for calibration in found]


@blp.route("/calibrations/<id:session_id>")
class CalibrationDetail(MethodView):
    @blp.response(200, CalibrationOut)
    def get(self, session_id: int) -> Any:
        """Return a session: while it is open, with the caller's own scores only."""
        return _shown(
            service.get_calibration(
                session=get_session(), actor=current_actor(), session_id=session_id
            )
        )


@blp.route("/calibrations/<id:session_id>/scores")
class CalibrationScores(MethodView):
    @blp.arguments(CalibrationScoreIn)
    @blp.response(201, CalibrationScoreOut)
    @blp.alt_response(200, schema=CalibrationScoreOut, description="The same score was stored")
    def post(self, body: dict[str, Any], session_id: int) -> Any:
        """Score a call of the session (a participant); the same answers again are idempotent."""
        score, created = service.submit_score(
            session=get_session(), actor=current_actor(), session_id=session_id, **body
        )
        return score, 201 if created else 200

    @blp.arguments(CalibrationScoreIn)
    @blp.response(200, CalibrationScoreOut)
    def put(self, body: dict[str, Any], session_id: int) -> Any:
        """Amend one's own score of a call while the session is open."""
        return service.amend_score(
            session=get_session(), actor=current_actor(), session_id=session_id, **body
        )


@blp.route("/calibrations/<id:session_id>/close")
class CalibrationClose(MethodView):
    @blp.response(200, CalibrationOut)
    def post(self, session_id: int) -> Any:
        """Close the session and measure its agreement (the client's side, or an admin)."""
        closed = service.close_session(
            session=get_session(), actor=current_actor(), session_id=session_id
        )
        return _shown(closed)
