"""HTTP shapes of access and erasure requests."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class AccessQuery(Schema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(("json", "csv")),
        metadata={"description": "json, or csv: a zip of one CSV file per table"},
    )


class AgentDataOut(Schema):
    contract_id = fields.Integer(required=True)
    agent_ref = fields.String(required=True)
    pseudonym = fields.String(
        required=True, metadata={"description": "what the client may read, and erasure leaves"}
    )
    tables = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Dict()),
        required=True,
        metadata={"description": "every row stored about the agent, by table"},
    )


class PrivacyRequestOut(Schema):
    id = fields.Integer(required=True)
    contract_id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "access or erasure"})
    pseudonym = fields.String(
        required=True, metadata={"description": "the agent, never recorded by its reference"}
    )
    format = fields.String(required=True, allow_none=True)
    made_at = fields.AwareDateTime(required=True)
    made_by = fields.Integer(required=True, allow_none=True)
    counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "rows read (access) or changed (erasure), by table"},
    )
