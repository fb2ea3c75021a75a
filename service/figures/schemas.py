"""The one JSON shape of a month's figures: scorecards answer it, statements store it."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from contracts.stats import Interval
from service.edge.schemas import DecimalString


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
    counted = fields.Boolean(
        required=True,
        metadata={
            "description": "whether supplier self-scores count at all: unverified ones do not,"
            " unless the client's audit sample fell short of its coverage floor"
        },
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


class SampleShareOut(Schema):
    sampled = fields.Integer(required=True, metadata={"description": "calls in the sample"})
    evaluated = fields.Integer(
        required=True,
        metadata={"description": "of them, evaluated by the side that owes it, on time"},
    )
    rate = DecimalString(required=True, allow_none=True)


class SampleFiguresOut(Schema):
    """A month's samples of the call log, as its figures read them (DESIGN 13)."""

    scheme = fields.Integer(
        required=True, metadata={"description": "2: two stages; 1: per agent, one seed"}
    )
    commitment = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "sha256 of the self sample's seed (scheme 1: the seed), hex"},
    )
    seed = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the self sample's seed in hex, once that sample is drawn"},
    )
    audit_commitment = fields.String(
        required=True, allow_none=True, metadata={"description": "sha256 of the audit seed"}
    )
    audit_seed = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the audit seed, once the audit sample is drawn"},
    )
    committed_at = fields.String(required=True, allow_none=True)
    late = fields.Boolean(
        required=True, metadata={"description": "the seeds were committed after the month began"}
    )
    drawn = fields.Boolean(required=True)
    counts = fields.String(required=True, metadata={"enum": ["sampled", "all"]})
    min_coverage = DecimalString(required=True)
    coverage = fields.Function(
        lambda figures: {
            "audit": SampleShareOut().dump(figures.audit),
            "self": SampleShareOut().dump(figures.self_assessment),
        },
        required=True,
        metadata={"type": "object", "description": "audit and self: sampled, evaluated, rate"},
    )
    log_closes = fields.String(required=True)
    self_due = fields.String(required=True, allow_none=True)
    audit_due = fields.String(required=True, allow_none=True)


class FiguresDocument(FiguresOut):
    """The figures a statement was computed from, stored with it as JSON and hashed.

    With the call log's commitment and seed, either party can re-derive the samples, and so
    the statement.
    """

    self_assessment = fields.Nested(
        SelfAssessmentOut, required=True, attribute="aggregate.self_assessment"
    )
    units = fields.Integer(required=True, attribute="aggregate.units")
    sampling = fields.Nested(
        SampleFiguresOut, required=True, allow_none=True, attribute="aggregate.sampling"
    )
    unlogged = fields.Integer(
        required=True,
        allow_none=True,
        attribute="aggregate.unlogged",
        metadata={"description": "evaluations left out: their call is not in the log"},
    )
