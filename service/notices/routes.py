"""Where an organization hears of what concerns it: its webhook."""

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from service.edge.actors import current_actor
from service.edge.sessions import get_session
from service.notices import service
from service.notices.addresses import AddressPolicy
from service.notices.schemas import WebhookIn, WebhookOut

blp = Blueprint("notices", __name__, description="Signed notices to organizations' webhooks")


@blp.route("/organizations/<id:organization_id>/webhook")
class Webhook(MethodView):
    @blp.arguments(WebhookIn)
    @blp.response(200, WebhookOut)
    def put(self, body: dict[str, Any], organization_id: int) -> Any:
        """Set the URL (and secret) that hears of statements and disputes (the org's client or
        supplier, or an admin)."""
        return service.set_webhook(
            session=get_session(),
            actor=current_actor(),
            organization_id=organization_id,
            policy=AddressPolicy.of(current_app.config),
            **body,
        )
