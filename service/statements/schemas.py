"""HTTP shapes of statements, payouts and simulations."""

from marshmallow import Schema, fields, validate

from service.edge.schemas import DecimalString, Id, PeriodField

Amount = DecimalString


class LineOut(Schema):
    code = fields.String(required=True, metadata={"example": "quality_band"})
    description = fields.String(required=True)
    amount = fields.String(required=True, metadata={"example": "3402.50"})
    basis = fields.Dict(required=True, metadata={"description": "the figures and the rule"})


class StatementOut(Schema):
    id = fields.Integer(required=True)
    contract_id = fields.Integer(required=True)
    contract_name = fields.String(required=True, attribute="contract.name")
    supplier_name = fields.String(required=True, attribute="contract.supplier.name")
    period = fields.String(required=True, metadata={"example": "2026-10"})
    status = fields.String(required=True, metadata={"enum": ["draft", "final"]})
    currency = fields.String(required=True)
    terms_version_id = fields.Integer(
        required=True, metadata={"description": "the terms version it was computed with"}
    )
    figures = fields.Dict(required=True)
    lines = fields.List(fields.Nested(LineOut), required=True)
    total = Amount(required=True)
    volume_only = Amount(required=True)
    content_hash = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "SHA-256 of its content once final (see .../verify); null for a draft"
        },
    )
    computed_at = fields.AwareDateTime(required=True)
    finalized_at = fields.AwareDateTime(required=True, allow_none=True)


class HashCheckOut(Schema):
    statement_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": ["draft", "final"]})
    content_hash = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the hash stored when it was finalized; null for a draft"},
    )
    recomputed = fields.String(
        required=True,
        metadata={"description": "SHA-256 of its content as stored now (the README's recipe)"},
    )
    matches = fields.Boolean(
        required=True,
        metadata={"description": "true: final, and its stored content hashes to content_hash"},
    )


class DraftIn(Schema):
    period = PeriodField(required=True)


class StatementQuery(Schema):
    period = PeriodField()
    contract_id = Id()
    status = fields.String(validate=validate.OneOf(["draft", "final"]))


class ExportQuery(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx"]))


class PayoutQuery(Schema):
    period = PeriodField(required=True)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))


class PayoutRow(Schema):
    contract_id = fields.Integer(required=True)
    contract = fields.String(required=True)
    supplier = fields.String(required=True)
    period = fields.String(required=True)
    status = fields.String(required=True)
    currency = fields.String(required=True)
    units = fields.Integer(required=True, allow_none=True)
    volume_only = Amount(required=True)
    quality = Amount(required=True)
    prior_adjustments = Amount(required=True)
    total = Amount(required=True)


MAX_SIMULATED_PERIODS = 24


class SimulationIn(Schema):
    terms = fields.Dict(required=True, metadata={"description": "draft terms, as in DESIGN §6"})
    periods = fields.List(
        PeriodField(), required=True, validate=validate.Length(1, MAX_SIMULATED_PERIODS)
    )


class PayoutOut(Schema):
    currency = fields.String(required=True)
    lines = fields.List(fields.Nested(LineOut), required=True)
    total = Amount(required=True)
    volume_only = Amount(required=True)


class SimulationOut(Schema):
    period = PeriodField(required=True)
    simulated = fields.Nested(PayoutOut, required=True)
    actual = fields.Nested(PayoutOut, required=True, allow_none=True)
    difference = Amount(required=True, allow_none=True)


class ReportOut(Schema):
    name = fields.String(required=True, metadata={"example": "statement-7-2026-10.xlsx"})
    format = fields.String(required=True, metadata={"enum": ["csv", "xlsx", "html", "pdf"]})
    url = fields.String(required=True, metadata={"description": "downloads the file"})


class BundleQuery(Schema):
    period = PeriodField(required=True)
