"""HTTP shapes of job runs."""

from marshmallow import Schema, fields, validate


class JobRunOut(Schema):
    id = fields.Integer(required=True)
    job = fields.String(required=True)
    started_at = fields.AwareDateTime(required=True)
    finished_at = fields.AwareDateTime(required=True, allow_none=True)
    outcome = fields.String(
        required=True,
        metadata={"enum": ["running", "success", "partial", "failed", "abandoned"]},
    )
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    error = fields.String(required=True, allow_none=True)
    host = fields.String(
        required=True, allow_none=True, metadata={"description": "The machine it runs on"}
    )
    pid = fields.Integer(
        required=True, allow_none=True, metadata={"description": "Its process there"}
    )
    lease_until = fields.AwareDateTime(
        required=True,
        allow_none=True,
        metadata={
            "description": "Renewed every minute while the run lasts; past it, the run is abandoned"
        },
    )
    abandoned_at = fields.AwareDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "When a scheduler noticed that the run's process had died"},
    )


class JobRunQuery(Schema):
    job = fields.String(validate=validate.Length(1, 50))
