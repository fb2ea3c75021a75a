"""Evaluation forms."""

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from service.edge.actors import current_actor
from service.edge.schemas import DOCUMENT_LENGTH, body_limit
from service.edge.sessions import get_session, writes_once_read
from service.forms import service
from service.forms.schemas import FormIn, FormOut, FormQuery

blp = Blueprint("forms", __name__, description="Versioned evaluation forms")


@blp.route("/forms")
class Forms(MethodView):
    @blp.response(200, FormOut(many=True))
    def get(self) -> Any:
        """List the forms the caller may read."""
        return service.list_forms(session=get_session(), actor=current_actor())

    @body_limit(DOCUMENT_LENGTH)
    @blp.arguments(FormIn)
    @blp.response(201, FormOut)
    @blp.alt_response(200, schema=FormOut, description="The same version was already published")
    @writes_once_read
    def post(self, body: dict[str, Any]) -> Any:
        """Publish a form version; a published version never changes."""
        organization_id = body.pop("organization_id", None)
        form, created = service.publish_form(
            session=get_session(),
            actor=current_actor(),
            document=body,
            organization_id=organization_id,
        )
        return form, 201 if created else 200


@blp.route("/forms/<string:code>/<version:version>")
class FormVersion(MethodView):
    @blp.arguments(FormQuery, location="query")
    @blp.response(200, FormOut)
    def get(self, query: dict[str, Any], code: str, version: int) -> Any:
        """Return one form version."""
        return service.get_form(
            session=get_session(), actor=current_actor(), code=code, version=version, **query
        )
