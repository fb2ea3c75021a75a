"""A contract's import profiles: how its telephony's files are read (DESIGN §19)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.edge.actors import current_actor
from service.edge.schemas import Blueprint
from service.edge.sessions import get_session
from service.imports import service
from service.imports.schemas import ProfileIn, ProfileOut

blp = Blueprint("imports", __name__, description="Import profiles of telephony formats (§19)")


@blp.route("/contracts/<id:contract_id>/import-profiles/<format>")
class ImportProfile(MethodView):
    @blp.response(200, ProfileOut)
    def get(self, contract_id: int, format: str) -> Any:
        """Return how the contract's files of a format are read (empty: the defaults)."""
        return service.read_profile(
            session=get_session(), actor=current_actor(), contract_id=contract_id, name=format
        )

    @blp.arguments(ProfileIn)
    @blp.response(200, ProfileOut)
    def put(self, body: dict[str, Any], contract_id: int, format: str) -> Any:
        """Set how the contract's files of a format are read (the supplier or an admin)."""
        return service.put_profile(
            session=get_session(),
            actor=current_actor(),
            contract_id=contract_id,
            name=format,
            body=body,
        )
