"""Contracts between clients and suppliers, and their terms."""

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from service.agreements import service
from service.agreements.schemas import ContractIn, ContractOut, ContractSummary, TermsIn
from service.edge.actors import current_actor
from service.edge.schemas import DOCUMENT_LENGTH, body_limit
from service.edge.sessions import get_session, writes_once_read

blp = Blueprint("contracts", __name__, description="Contracts and their versioned terms")


@blp.route("/contracts")
class Contracts(MethodView):
    @blp.response(200, ContractSummary(many=True))
    def get(self) -> Any:
        """List the contracts the caller may see."""
        return service.list_contracts(session=get_session(), actor=current_actor())

    @body_limit(DOCUMENT_LENGTH)
    @blp.arguments(ContractIn)
    @blp.response(201, ContractOut)
    @writes_once_read
    def post(self, body: dict[str, Any]) -> Any:
        """Create a contract with its first terms."""
        return service.create_contract(session=get_session(), actor=current_actor(), **body)


@blp.route("/contracts/<id:contract_id>")
class ContractDetail(MethodView):
    @blp.response(200, ContractOut)
    def get(self, contract_id: int) -> Any:
        """Return a contract with its terms versions."""
        return service.get_contract(
            session=get_session(), actor=current_actor(), contract_id=contract_id
        )


@blp.route("/contracts/<id:contract_id>/terms")
class ContractTerms(MethodView):
    @body_limit(DOCUMENT_LENGTH)
    @blp.arguments(TermsIn)
    @blp.response(201, ContractOut)
    @writes_once_read
    def post(self, body: dict[str, Any], contract_id: int) -> Any:
        """Add a terms version, effective from the first of a later month."""
        return service.add_terms(
            session=get_session(), actor=current_actor(), contract_id=contract_id, **body
        )
