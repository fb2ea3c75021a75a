"""Daily volumes of a contract."""

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from service.edge.actors import current_actor
from service.edge.sessions import get_session
from service.volumes import service
from service.volumes.schemas import UpsertOut, VolumeQuery, VolumesIn, VolumesOut

blp = Blueprint("volumes", __name__, description="Daily volumes that contracts pay for")


@blp.route("/contracts/<id:contract_id>/volumes")
class ContractVolumes(MethodView):
    @blp.arguments(VolumeQuery, location="query")
    @blp.response(200, VolumesOut)
    def get(self, query: dict[str, Any], contract_id: int) -> Any:
        """Return the daily volumes of a month (or all) and who changed them."""
        return service.read_volumes(
            session=get_session(), actor=current_actor(), contract_id=contract_id, **query
        )

    @blp.arguments(VolumesIn)
    @blp.response(200, UpsertOut)
    def put(self, body: dict[str, Any], contract_id: int) -> Any:
        """Set the units of each given day (insert or correct)."""
        return service.upsert_volumes(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            volumes=body["volumes"],
        )
