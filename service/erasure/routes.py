"""An agent's personal data: access (GDPR art. 15) and erasure (art. 17), and their record."""

from typing import Any

from flask.views import MethodView

from service.edge.actors import current_actor
from service.edge.downloads import MEDIA_TYPES, attachment
from service.edge.schemas import Blueprint
from service.edge.sessions import begin_writing, get_session
from service.erasure import service
from service.erasure.schemas import AccessQuery, AgentDataOut, PrivacyRequestOut

blp = Blueprint("erasure", __name__, description="An agent's personal data (DESIGN §18)")


@blp.route("/contracts/<id:contract_id>/agents/<string:agent_ref>/data")
class AgentData(MethodView):
    @blp.arguments(AccessQuery, location="query")
    @blp.response(200, AgentDataOut)
    @blp.alt_response(
        200,
        success=True,
        content_type=MEDIA_TYPES["zip"],
        schema={"format": "binary", "type": "string"},
        description="With format=csv: a zip of one CSV file per table",
    )
    def get(self, query: dict[str, Any], contract_id: int, agent_ref: str) -> Any:
        """Return everything stored about one agent of a contract (the supplier, an admin);
        the access is recorded."""
        session = get_session()
        begin_writing(session)  # a read that records itself
        data = service.agent_data(
            session=session,
            actor=current_actor(),
            contract_id=contract_id,
            agent_ref=agent_ref,
            format=query["format"],
        )
        if query["format"] == "csv":
            file = service.agent_data_zip(data)
            return attachment(file.content, file.name)
        return data


@blp.route("/contracts/<id:contract_id>/agents/<string:agent_ref>/erasure")
class AgentErasure(MethodView):
    @blp.response(201, PrivacyRequestOut)
    def post(self, contract_id: int, agent_ref: str) -> Any:
        """Pseudonymize everything stored about one agent of a contract, at once (the
        supplier, an admin): its reference becomes its pseudonym, its free texts are emptied."""
        return service.erase_agent(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            agent_ref=agent_ref,
        )


@blp.route("/privacy-requests")
class PrivacyRequests(MethodView):
    @blp.response(200, PrivacyRequestOut(many=True))
    def get(self) -> Any:
        """List every access and erasure request, newest first (admins)."""
        return service.list_requests(session=get_session(), actor=current_actor())
