"""HTTP shapes of scorecards."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from contracts.stats import Interval
from service.schemas import DecimalString, PeriodField


class IntervalField(fields.Field):
    """A 95% interval as `[low, high]` strings, or null when there is none."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 2,
            "maxItems": 2,
            "nullable": True,
            "example": ["84.10", "88.90"],
        }
        super().__init__(metadata=metadata, required=True, allow_none=True, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        assert isinstance(value, Interval)
        return [str(value.low), str(value.high)]


class CriticalOut(Schema):
    errors = fields.Integer(required=True)
    rate = DecimalString(required=True, allow_none=True)
    ci = IntervalField()


class SelfAssessmentOut(Schema):
    pairs = fields.Integer(required=True)
    inflation = DecimalString(required=True, allow_none=True)
    applied = fields.Boolean(required=True)
    status = fields.String(
        required=True, metadata={"enum": ["verified", "corrected", "unverified", "not_checked"]}
    )


class FiguresOut(Schema):
    n = fields.Integer(required=True, attribute="figures.n")
    mean = DecimalString(required=True, allow_none=True, attribute="figures.mean")
    sd = DecimalString(required=True, allow_none=True, attribute="figures.sd")
    ci = IntervalField(attribute="figures.ci")
    passed_rate = DecimalString(required=True, allow_none=True, attribute="figures.passed_rate")
    critical = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(CriticalOut),
        required=True,
        attribute="figures.critical",
    )


class ScorecardOut(FiguresOut):
    contract_id = fields.Integer(required=True, attribute="contract.id")
    contract_name = fields.String(required=True, attribute="contract.name")
    supplier_id = fields.Integer(required=True, attribute="contract.supplier_id")
    supplier_name = fields.String(required=True, attribute="contract.supplier.name")
    period = PeriodField(required=True)
    self_assessment = fields.Nested(SelfAssessmentOut, required=True)
    volume = fields.Method("_volume", required=True, metadata={"type": "object"})

    def _volume(self, card: Any) -> dict[str, Any]:
        return {"units": card.units}


class GroupOut(FiguresOut):
    agent_ref = fields.String(allow_none=True)
    team = fields.String(allow_none=True)


class AgentScorecardsOut(Schema):
    contract_id = fields.Integer(required=True)
    period = PeriodField(required=True)
    self_assessment = fields.Nested(SelfAssessmentOut, required=True)
    agents = fields.List(fields.Nested(GroupOut), required=True)
    teams = fields.List(fields.Nested(GroupOut), required=True)


class PeriodQuery(Schema):
    period = PeriodField(required=True)


class TrendQuery(Schema):
    from_ = PeriodField(required=True, data_key="from")
    to = PeriodField(required=True)
