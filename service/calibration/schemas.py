"""HTTP shapes of calibration sessions."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from contracts.terms import MAX_CALIBRATION_CALLS, MAX_CALIBRATION_PARTICIPANTS
from service.calibration.service import View
from service.edge.schemas import CallRef, DecimalString, Id, Instant, Name


class CalibrationIn(Schema):
    title = Name(required=True)
    calls = fields.List(
        CallRef(), required=True, validate=validate.Length(1, MAX_CALIBRATION_CALLS)
    )
    participants = fields.List(
        Id(strict=True), required=True, validate=validate.Length(2, MAX_CALIBRATION_PARTICIPANTS)
    )
    reference = Id(strict=True, load_default=None, allow_none=True)
    closes_at = Instant(load_default=None, allow_none=True)


class CalibrationQuery(Schema):
    contract_id = Id()


class CalibrationScoreIn(Schema):
    call_ref = CallRef(required=True)
    # A plain mapping: the form's rules check each key and value, and name the bad ones.
    answers = fields.Dict(
        required=True,
        metadata={
            "description": "question key -> 'yes' | 'no' | 'na' | an integer on the scale",
            "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        },
    )


class CalibrationScoreOut(Schema):
    id = fields.Integer(required=True)
    session_id = fields.Integer(required=True)
    call_ref = fields.String(required=True)
    user_id = fields.Integer(required=True)
    answers = fields.Dict(required=True)
    score = DecimalString(required=True, allow_none=True)
    passed = fields.Boolean(required=True, allow_none=True)
    critical_errors = fields.List(fields.String(), required=True)
    section_scores = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))
    created_at = fields.AwareDateTime(required=True)
    revised_at = fields.AwareDateTime(required=True)


class CalibrationCallOut(Schema):
    call_ref = fields.String(required=True)
    call_at = fields.AwareDateTime(required=True)
    scored = fields.Boolean(required=True, metadata={"description": "scored by the caller"})


class CalibrationParticipantOut(Schema):
    user_id = fields.Integer(required=True)
    name = fields.String(required=True)
    side = fields.String(required=True)
    finished = fields.Boolean(required=True, metadata={"description": "scored every call"})


class CalibrationOut(Schema):
    id = fields.Integer(required=True)
    contract_id = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    form = fields.String(required=True)
    reference = fields.Integer(required=True, allow_none=True)
    closes_at = fields.AwareDateTime(required=True, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    closed_at = fields.AwareDateTime(required=True, allow_none=True)
    participant = fields.Boolean(required=True, metadata={"description": "the caller scores"})
    calls = fields.List(fields.Nested(CalibrationCallOut), required=True)
    participants = fields.List(fields.Nested(CalibrationParticipantOut), required=True)
    scores = fields.List(
        fields.Nested(CalibrationScoreOut),
        required=True,
        metadata={"description": "while the session is open, the caller's own only"},
    )
    agreement = fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": "alpha, ci, questions and participants; null while open"},
    )


def shown(view: View, user_id: int) -> dict[str, Any]:
    """Return a session as one caller sees it (see `service.view_of`)."""
    calibration = view.calibration
    own = {score.call_ref for score in view.scores if score.user_id == user_id}
    return {
        "id": calibration.id,
        "contract_id": calibration.contract_id,
        "title": calibration.title,
        "status": calibration.status,
        "form": view.form_ref,
        "reference": calibration.reference_id,
        "closes_at": calibration.closes_at,
        "created_at": calibration.created_at,
        "closed_at": calibration.closed_at,
        "participant": view.participant,
        "calls": [
            {"call_ref": c.call_ref, "call_at": c.call_at, "scored": c.call_ref in own}
            for c in calibration.calls
        ],
        "participants": [
            {
                "user_id": p.user_id,
                "name": p.user.name,
                "side": p.side,
                "finished": p.user_id in view.finished,
            }
            for p in calibration.participants
        ],
        "scores": view.scores,
        "agreement": view.agreement,
    }
