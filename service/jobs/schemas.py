"""HTTP shapes of job runs."""

from marshmallow import Schema, fields, validate


class JobRunOut(Schema):
    id = fields.Integer(required=True)
    job = fields.String(required=True)
    started_at = fields.AwareDateTime(required=True)
    finished_at = fields.AwareDateTime(required=True, allow_none=True)
    outcome = fields.String(
        required=True, metadata={"enum": ["running", "success", "partial", "failed"]}
    )
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    error = fields.String(required=True, allow_none=True)


class JobRunQuery(Schema):
    job = fields.String(validate=validate.Length(1, 50))
