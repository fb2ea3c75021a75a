"""HTTP shapes of imports from a QM product (DESIGN 19); their rules live in contracts.qm."""

from marshmallow import Schema, fields, validate

from contracts.forms import CRITICAL_CATEGORIES
from contracts.qm import FORMATS
from service.edge.schemas import Id
from service.evaluations.models import SOURCES


class FormImportQuery(Schema):
    format = fields.String(required=True, validate=validate.OneOf(FORMATS))
    code = fields.String(
        validate=validate.Regexp(r"^[a-z0-9_-]{1,100}$"),
        metadata={"description": "the Fiducia form code (by default made of the title)"},
    )
    critical = fields.String(
        validate=validate.OneOf(CRITICAL_CATEGORIES),
        metadata={"description": "the COPC category of Genesys's critical questions"},
    )
    organization_id = Id(metadata={"description": "owner client organization (admins only)"})


class EvaluationImportQuery(Schema):
    format = fields.String(required=True, validate=validate.OneOf(FORMATS))
    source = fields.String(
        validate=validate.OneOf(SOURCES),
        metadata={"description": "admins only: the source of the evaluations"},
    )


class ImportedScore(Schema):
    index = fields.Integer(required=True)
    id = fields.Integer(required=True)
    call_ref = fields.String(required=True)
    score = fields.String(allow_none=True, metadata={"description": "Fiducia's score"})
    product_score = fields.String(
        allow_none=True, metadata={"description": "the product's own score, as it wrote it"}
    )


class ScoreDifference(ImportedScore):
    difference = fields.String(
        allow_none=True, metadata={"description": "the product's score minus Fiducia's"}
    )


class EvaluationImportOut(Schema):
    created = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    ids = fields.List(fields.Integer(), required=True)
    evaluations = fields.List(fields.Nested(ImportedScore), required=True)
    differences = fields.List(
        fields.Nested(ScoreDifference),
        required=True,
        metadata={"description": "every evaluation whose product score differs by over 0.01"},
    )
