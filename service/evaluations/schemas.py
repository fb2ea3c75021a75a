"""HTTP shapes of evaluations."""

from __future__ import annotations

from decimal import Decimal

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from contracts.forms import CRITICAL_CATEGORIES
from service.edge.schemas import CallRef, DecimalString, Id, Instant, PeriodField, WordFlag
from service.evaluations.fastload import FastLoader
from service.evaluations.models import SOURCES
from service.privacy.policy import SeenAgent, SeenTeam

FORM_REF = r"^[a-z0-9_-]+@[1-9][0-9]*$"


class EvaluationIn(Schema):
    contract_id = Id(required=True, strict=True)
    call_ref = CallRef(required=True)
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    agent_ref = fields.String(
        load_default=None,
        validate=validate.Length(1, 200),
        metadata={"description": "left out: the agent (and team) the call is logged under"},
    )
    team = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 200))
    call_at = Instant(required=True)
    form = fields.String(
        required=True, validate=validate.Regexp(FORM_REF), metadata={"example": "standard@1"}
    )
    # A plain mapping: the form's rules check each key and value, and name the bad ones.
    answers = fields.Dict(
        required=True,
        metadata={
            "description": "question key -> 'yes' | 'no' | 'na' | an integer on the scale",
            "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        },
    )
    evaluator_ref = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(1, 200)
    )
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10000))


class EvaluationBatchIn(Schema):
    evaluations = fields.List(
        fields.Nested(EvaluationIn), required=True, validate=validate.Length(1, 1000)
    )


class RawBatchIn(Schema):
    """What the batch endpoint reads first: each record is then checked on its own."""

    evaluations = fields.List(fields.Dict(), required=True, validate=validate.Length(1, 1000))


class EvaluationOut(Schema):
    id = fields.Integer(required=True)
    contract_id = fields.Integer(required=True)
    call_ref = fields.String(required=True)
    source = fields.String(required=True)
    agent_ref = SeenAgent(
        metadata={
            "description": "as the reader may see it (DESIGN 18): the client side reads "
            "a pseudonym, or null where the terms show it teams only"
        }
    )
    team = SeenTeam()
    call_at = fields.AwareDateTime(required=True)
    form = fields.String(required=True, attribute="form.ref")
    answers = fields.Dict(required=True)
    evaluator_ref = fields.String(required=True, allow_none=True)
    comment = fields.String(required=True, allow_none=True)
    score = DecimalString(required=True, allow_none=True)
    passed = fields.Boolean(required=True, allow_none=True)
    critical_errors = fields.List(fields.String(), required=True)
    section_scores = fields.Dict(
        keys=fields.String(),
        values=fields.String(allow_none=True),
        required=True,
        metadata={"description": "section key -> score 0-100 as a string, null when all N/A"},
    )
    created_at = fields.AwareDateTime(required=True)
    revision = fields.Integer(required=True, metadata={"description": "the current revision"})
    revised_at = fields.AwareDateTime(required=True)
    retracted = fields.Boolean(
        required=True, metadata={"description": "retracted evaluations count in no figure"}
    )
    open_dispute_id = fields.Integer(
        required=True,
        allow_none=True,
        attribute="held_by_dispute_id",
        metadata={"description": "the dispute waiting for a verdict on it, if any"},
    )


class AmendmentIn(Schema):
    answers = fields.Dict(
        required=True, metadata={"description": "the whole answer set, scored on the same form"}
    )
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class RetractionIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class RevisionOut(Schema):
    revision = fields.Integer(required=True)
    kind = fields.String(
        required=True,
        metadata={"description": "submission, amendment, retraction, decision or arbitration"},
    )
    answers = fields.Dict(required=True)
    score = DecimalString(required=True, allow_none=True)
    passed = fields.Boolean(required=True, allow_none=True)
    critical_errors = fields.List(fields.String(), required=True)
    section_scores = fields.Dict(
        keys=fields.String(), values=fields.String(allow_none=True), required=True
    )
    retracted = fields.Boolean(required=True)
    created_at = fields.AwareDateTime(required=True)
    created_by = fields.Integer(
        required=True, allow_none=True, metadata={"description": "user id; null: the operator"}
    )
    created_by_name = fields.String(required=True, allow_none=True, attribute="author.name")
    reason = fields.String(required=True, allow_none=True)
    dispute_id = fields.Integer(required=True, allow_none=True)


class PreviewIn(Schema):
    contract_id = Id(required=True, strict=True)
    call_at = Instant(required=True, metadata={"description": "its month's terms name the form"})
    answers = fields.Dict(
        required=True,
        metadata={"description": "question key -> answer; questions may still be unanswered"},
    )


class PreviewOut(Schema):
    form = fields.String(required=True, attribute="form.ref")
    score = fields.Function(
        lambda preview: None if preview.score is None else _points(preview.score.score),
        required=True,
        allow_none=True,
        metadata={"type": "string", "format": "decimal", "example": "87.50"},
    )
    passed = fields.Function(
        lambda preview: None if preview.score is None else preview.score.passed,
        required=True,
        allow_none=True,
        metadata={"type": "boolean"},
    )
    critical_errors = fields.Function(
        # in the order a stored evaluation lists them
        lambda preview: [
            category
            for category in CRITICAL_CATEGORIES
            if preview.score and category in preview.score.critical_errors
        ],
        required=True,
        metadata={"type": "array", "items": {"type": "string"}},
    )
    section_scores = fields.Function(
        lambda preview: {
            key: None if value is None else f"{value:.2f}"
            for key, value in (preview.score.section_scores if preview.score else {}).items()
        },
        required=True,
        metadata={"type": "object", "description": "section key -> score, null when all N/A"},
    )
    missing = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "questions not answered yet; no score until there are none"},
    )


def _points(score: Decimal | None) -> str | None:
    return None if score is None else f"{score:.2f}"


class BatchOut(Schema):
    created = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    ids = fields.List(fields.Integer(), required=True, metadata={"description": "in input order"})


class EvaluationQuery(Schema):
    contract_id = Id()
    period = PeriodField()
    source = fields.String(validate=validate.OneOf(SOURCES))
    agent_ref = fields.String(validate=validate.Length(1, 200))


# The batch endpoint's loader: a compiled shape check, marshmallow for the refusals.
EVALUATIONS = FastLoader(EvaluationIn())


class TemplateQuery(Schema):
    period = PeriodField(required=True)
    format = fields.String(load_default="xlsx", validate=validate.OneOf(("xlsx", "csv")))


class UploadIn(Schema):
    dry_run = WordFlag(
        load_default=False, metadata={"description": "true: check the file and store nothing"}
    )
    source = fields.String(
        load_default=None,
        validate=validate.OneOf(SOURCES),
        metadata={"description": "default: the caller's role's source; an admin names it"},
    )
    naive_times_in_contract_zone = WordFlag(
        load_default=False,
        metadata={"description": "read a call_at without an offset in the contract's time zone"},
    )


class UploadFileIn(Schema):
    file = Upload(required=True, metadata={"description": "the filled template, XLSX or CSV"})


class RowErrorsOut(Schema):
    row = fields.Integer(required=True, metadata={"description": "spreadsheet row number"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "column -> messages"},
    )


class UploadOut(Schema):
    created = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    rows = fields.List(fields.Nested(RowErrorsOut), required=True)
    ids = fields.List(
        fields.Integer(), required=True, metadata={"description": "stored ids in row order"}
    )
