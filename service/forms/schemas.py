"""HTTP shapes of form documents (DESIGN §4); their rules live in contracts.forms."""

from marshmallow import Schema, fields, validate

from service.edge.schemas import MAX_VERSION, Flag, Id, NumberOrString


class QuestionDocument(Schema):
    key = fields.String(required=True)
    text = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["yes_no", "scale"]))
    weight = NumberOrString(required=True)
    scale = fields.List(fields.Integer(strict=True), validate=validate.Length(equal=2))
    na = Flag()
    critical = fields.String(validate=validate.OneOf(["customer", "business", "compliance"]))
    auto_fail = fields.String(validate=validate.OneOf(["section", "form"]))


class SectionDocument(Schema):
    key = fields.String(required=True)
    title = fields.String(required=True)
    weight = NumberOrString(required=True)
    questions = fields.List(fields.Nested(QuestionDocument), required=True)


class FormDocument(Schema):
    code = fields.String(required=True, metadata={"example": "standard"})
    version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(1, MAX_VERSION),
        metadata={"example": 1},
    )
    title = fields.String(required=True)
    pass_mark = NumberOrString()
    sections = fields.List(fields.Nested(SectionDocument), required=True)


class FormIn(FormDocument):
    organization_id = Id(
        strict=True, metadata={"description": "owner client organization (admins only)"}
    )


class FormOut(Schema):
    id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    ref = fields.String(required=True, metadata={"example": "standard@1"})
    title = fields.String(required=True)
    document = fields.Dict(required=True)
    created_at = fields.AwareDateTime(required=True)


class FormQuery(Schema):
    organization_id = Id()
