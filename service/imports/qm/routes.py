"""Forms and evaluations from a QM product: Amazon Connect, Genesys Cloud (DESIGN 19)."""

from typing import Any

from flask import request
from flask.views import MethodView

from service.edge.actors import current_actor
from service.edge.errors import Invalid
from service.edge.schemas import DOCUMENT_LENGTH, Blueprint, body_limit
from service.edge.sessions import begin_writing, get_session, reads_input_first
from service.forms.schemas import FormOut
from service.imports.qm import service
from service.imports.qm.schemas import EvaluationImportOut, EvaluationImportQuery, FormImportQuery
from service.language.i18n import N_

blp = Blueprint("qm_imports", __name__, description="Forms and evaluations from a QM product")

PRODUCT_DOCUMENT = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object"}}},
}


def _document() -> Any:
    """Return the JSON document of the request's body, as the product wrote it."""
    document = request.get_json(silent=True)
    if not isinstance(document, dict | list):
        raise Invalid(N_("send the product's JSON document"), {"_schema": ["a JSON document"]})
    return document


@blp.route("/forms/import")
class FormImport(MethodView):
    @reads_input_first
    @body_limit(DOCUMENT_LENGTH)
    @blp.arguments(FormImportQuery, location="query")
    @blp.doc(requestBody=PRODUCT_DOCUMENT)
    @blp.response(201, FormOut)
    @blp.alt_response(200, schema=FormOut, description="The same form was already imported")
    def post(self, query: dict[str, Any]) -> Any:
        """Publish a QM product's form (Amazon Connect, Genesys Cloud) as a form version.

        What has no equivalent in a Fiducia form is refused, naming its path in the document.
        """
        document = _document()
        session = get_session()
        begin_writing(session)
        form, created = service.import_form(
            session=session, actor=current_actor(), document=document, **query
        )
        return form, 201 if created else 200


@blp.route("/contracts/<id:contract_id>/evaluations/import")
class EvaluationImport(MethodView):
    @reads_input_first
    @blp.arguments(EvaluationImportQuery, location="query")
    @blp.doc(requestBody=PRODUCT_DOCUMENT)
    @blp.response(201, EvaluationImportOut)
    def post(self, query: dict[str, Any], contract_id: int) -> Any:
        """Store a QM product's exported evaluations of a contract's calls, all or nothing.

        Fiducia scores each by its own rules; the product's score is kept beside it, and
        every difference over 0.01 is listed.
        """
        document = _document()
        session = get_session()
        begin_writing(session)
        return service.import_evaluations(
            session=session,
            actor=current_actor(),
            contract_id=contract_id,
            document=document,
            **query,
        )
