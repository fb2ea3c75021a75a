"""Surveys and the client's own count of offered calls (DESIGN §16)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask.views import MethodView
from marshmallow import ValidationError

from service.edge.actors import current_actor
from service.edge.errors import Invalid
from service.edge.schemas import UPLOAD_LENGTH, Blueprint, body_limit, in_years
from service.edge.sessions import get_session
from service.surveys import service
from service.surveys.schemas import (
    CountIn,
    CountOut,
    CountsOut,
    RawSurveysIn,
    SentOut,
    SurveyOut,
    SurveyQuery,
    SurveysFileIn,
    SurveysIn,
)

blp = Blueprint("surveys", __name__, description="Surveys and the client's count (DESIGN §16)")


@blp.route("/contracts/<id:contract_id>/surveys")
class Surveys(MethodView):
    @blp.arguments(SurveyQuery, location="query")
    @blp.response(200, SurveyOut(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any], contract_id: int, pagination_parameters: Any) -> Any:
        """List a contract's survey answers (of one month's calls), in the order answered."""
        page = service.surveys_page(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            number=pagination_parameters.page,
            size=pagination_parameters.page_size,
            **query,
        )
        pagination_parameters.item_count = page.total
        return page.rows

    @blp.arguments(RawSurveysIn)
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": SurveysIn}}})
    @blp.response(201, SentOut)
    @blp.alt_response(200, schema=SentOut, description="Every answer was stored already")
    def post(self, body: dict[str, Any], contract_id: int) -> Any:
        """Store up to 10,000 survey answers, all or nothing (the client or an admin only)."""
        sent = service.send_surveys(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            surveys=body["surveys"],
        )
        return sent, 201 if sent.created else 200


@blp.route("/contracts/<id:contract_id>/surveys/upload")
class SurveysUpload(MethodView):
    @body_limit(UPLOAD_LENGTH)
    @blp.arguments(SurveysFileIn, location="files")
    @blp.response(201, SentOut)
    @blp.alt_response(200, schema=SentOut, description="Every answer was stored already")
    def post(self, files: dict[str, Any], contract_id: int) -> Any:
        """Store a CSV file of survey answers, all or nothing (the client or an admin only)."""
        sent = service.upload_surveys(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            stream=files["file"].stream,
        )
        return sent, 201 if sent.created else 200


@blp.route("/contracts/<id:contract_id>/counts")
class Counts(MethodView):
    @blp.arguments(SurveyQuery, location="query")
    @blp.response(200, CountsOut)
    def get(self, query: dict[str, Any], contract_id: int) -> Any:
        """Return the client's daily counts of offered calls (of a month, or all) and who
        changed them."""
        return service.read_counts(
            session=get_session(), actor=current_actor(), contract_id=contract_id, **query
        )


@blp.route("/contracts/<id:contract_id>/counts/<day>")
class Count(MethodView):
    @blp.arguments(CountIn)
    @blp.response(200, CountOut)
    def put(self, body: dict[str, Any], contract_id: int, day: str) -> Any:
        """Set the client's count of calls offered on a day (the client or an admin only)."""
        row, _changed = service.put_count(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            day=_day(day),
            offered=body["offered"],
        )
        return row


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
        in_years(day)
    except (ValueError, ValidationError) as error:
        said = "must be a day, YYYY-MM-DD, of the years served"
        raise Invalid("not a day", {"day": [said]}, location="path") from error
    return day
