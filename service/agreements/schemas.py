"""HTTP shapes of contracts and their terms (DESIGN §6); the rules live in contracts.terms."""

from marshmallow import Schema, fields

from contracts.periods import YEARS
from service.edge.schemas import Day, Id, Name


class TermsIn(Schema):
    effective_from = Day(
        required=True,
        metadata={
            "description": f"the first day of a month of the years {YEARS[0]} to {YEARS[-1]}",
            "example": "2026-08-01",
        },
    )
    terms = fields.Dict(required=True, metadata={"description": "a terms document as in DESIGN §6"})


class ContractIn(TermsIn):
    client_id = Id(required=True, strict=True)
    supplier_id = Id(required=True, strict=True)
    name = Name(required=True)


class TermsVersionOut(Schema):
    id = fields.Integer(required=True)
    effective_from = fields.Date(required=True)
    form_id = fields.Integer(required=True)
    terms = fields.Dict(required=True, attribute="document")
    created_at = fields.AwareDateTime(required=True)


class ContractSummary(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    client_id = fields.Integer(required=True)
    client_name = fields.String(required=True, attribute="client.name")
    supplier_id = fields.Integer(required=True)
    supplier_name = fields.String(required=True, attribute="supplier.name")
    created_at = fields.AwareDateTime(required=True)


class ContractOut(ContractSummary):
    terms_versions = fields.List(fields.Nested(TermsVersionOut), required=True)
