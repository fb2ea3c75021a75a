"""HTTP shapes of disputes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from contracts.disputes import STATUSES
from service.edge.schemas import DecimalString, Flag, Id, PeriodField


def reason() -> fields.String:
    return fields.String(required=True, validate=validate.Length(1, 2000))


def question() -> fields.String:
    return fields.String(required=True, validate=validate.Length(1, 100))


class AnswerField(fields.Field):
    """An answer as the forms take it: "yes", "no", "na" or a whole number on the scale."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"oneOf": [{"type": "string"}, {"type": "integer"}], "example": "yes"}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError("must be a text answer or a whole number")
        return value


class ContestedIn(Schema):
    question = question()
    proposed_answer = AnswerField(required=True)
    reason = reason()


class DisputeIn(Schema):
    items = fields.List(fields.Nested(ContestedIn), required=True, validate=validate.Length(1, 200))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10000))


class VerdictIn(Schema):
    question = question()
    accepted = Flag(required=True)
    reason = reason()


class VerdictsIn(Schema):
    items = fields.List(fields.Nested(VerdictIn), required=True, validate=validate.Length(1, 200))


class EscalationIn(Schema):
    reason = reason()


class ItemOut(Schema):
    question = fields.String(required=True)
    proposed_answer = AnswerField(required=True)
    reason = fields.String(required=True)
    decision = fields.Function(
        lambda item: _verdict(item.decision_accepted, item.decision_reason),
        required=True,
        allow_none=True,
        metadata={"description": "{accepted, reason}, null until decided"},
    )
    arbitration = fields.Function(
        lambda item: _verdict(item.arbitration_accepted, item.arbitration_reason),
        required=True,
        allow_none=True,
        metadata={"description": "{accepted, reason}, null unless arbitrated"},
    )


def _verdict(accepted: bool | None, reason: str | None) -> dict[str, Any] | None:
    return None if accepted is None else {"accepted": accepted, "reason": reason}


def _score(hundredths: int | None) -> str | None:
    return None if hundredths is None else str(Decimal(hundredths).scaleb(-2))


class StepOut(Schema):
    step = fields.String(required=True, metadata={"enum": ["opened", *STATUSES[1:]]})
    at = fields.AwareDateTime(required=True)
    by = fields.Integer(
        required=True, allow_none=True, metadata={"description": "user id; null: the operator"}
    )
    by_name = fields.String(required=True, allow_none=True, attribute="author.name")
    reason = fields.String(required=True, allow_none=True)
    score_before = fields.Function(
        lambda step: _score(step.score_before_hundredths), required=True, allow_none=True
    )
    score_after = fields.Function(
        lambda step: _score(step.score_after_hundredths), required=True, allow_none=True
    )
    revision = fields.Integer(
        required=True, allow_none=True, metadata={"description": "the evaluation's revision after"}
    )


class DisputeOut(Schema):
    id = fields.Integer(required=True)
    evaluation_id = fields.Integer(required=True)
    contract_id = fields.Integer(required=True)
    period = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    outcome = fields.String(
        required=True,
        allow_none=True,
        metadata={"enum": ["accepted", "partly_accepted", "rejected", None]},
    )
    comment = fields.String(required=True, allow_none=True)
    items = fields.List(fields.Nested(ItemOut), required=True)
    opened_at = fields.AwareDateTime(required=True)
    decide_by = fields.AwareDateTime(required=True)
    decided_at = fields.AwareDateTime(required=True, allow_none=True)
    escalate_by = fields.AwareDateTime(required=True, allow_none=True)
    history = fields.List(fields.Nested(StepOut), required=True, attribute="steps")


class DisputeQuery(Schema):
    contract_id = Id()
    period = PeriodField()
    status = fields.String(validate=validate.OneOf(STATUSES))


class DisputeFiguresOut(Schema):
    audits = fields.Integer(required=True)
    disputed = fields.Integer(required=True, metadata={"description": "withdrawn ones aside"})
    accepted = fields.Integer(required=True)
    partly_accepted = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    open = fields.Integer(required=True, metadata={"description": "open or escalated"})
    overturn_rate = DecimalString(
        required=True,
        allow_none=True,
        metadata={"description": "(accepted + partly accepted) / audits; null without audits"},
    )


class EvaluatorOut(Schema):
    evaluator_ref = fields.String(required=True, allow_none=True)
    audits = fields.Integer(required=True)
    disputed = fields.Integer(required=True)
    overturned = fields.Integer(required=True)
    overturn_rate = DecimalString(
        required=True, allow_none=True, metadata={"description": "overturned / audits"}
    )


class DisputeBasisDocument(DisputeFiguresOut):
    """A month's dispute figures as a statement's basis stores them, with those still open."""

    still_open = fields.List(
        fields.Integer(),
        required=True,
        metadata={"description": "ids of the disputes open or escalated when computed"},
    )
