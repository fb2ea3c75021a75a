"""HTTP shapes of surveys, the client's counts and the month's service levels."""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from contracts.service_levels import ServiceFigures, shown, shown_share
from service.edge.schemas import Day, PeriodField
from service.surveys.service import MAX_BATCH


class SurveyIn(Schema):
    """One survey answer (documentation: the service checks each answer itself, by index)."""

    call_ref = fields.String(required=True, metadata={"description": "a logged, answered call"})
    answered_at = fields.AwareDateTime(required=True, metadata={"description": "not before it"})
    csat = fields.Integer(required=True, validate=validate.Range(1, 5))
    resolved = fields.Boolean(allow_none=True)
    nps = fields.Integer(allow_none=True, validate=validate.Range(0, 10))


class SurveysIn(Schema):
    surveys = fields.List(
        fields.Nested(SurveyIn), required=True, validate=validate.Length(1, MAX_BATCH)
    )


class RawSurveysIn(Schema):
    surveys = fields.List(fields.Raw(), required=True, validate=validate.Length(1, MAX_BATCH))


class SurveysFileIn(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "CSV with a header row naming the columns (call_ref, answered_at, "
            "csat, resolved, nps); up to 10,000 rows"
        },
    )


class SentOut(Schema):
    created = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)


class SurveyOut(Schema):
    id = fields.Integer(required=True)
    call_ref = fields.String(required=True)
    period = PeriodField(required=True, metadata={"description": "the month of the call"})
    answered_at = fields.AwareDateTime(required=True)
    csat = fields.Integer(required=True)
    resolved = fields.Boolean(required=True, allow_none=True)
    nps = fields.Integer(required=True, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    created_by = fields.Integer(required=True, allow_none=True)


class SurveyQuery(Schema):
    period = PeriodField()


class CountIn(Schema):
    offered = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10**12))


class CountOut(Schema):
    date = fields.Date(required=True, attribute="day")
    offered = fields.Integer(required=True)
    updated_at = fields.AwareDateTime(required=True)
    updated_by = fields.Integer(required=True, allow_none=True)


class CountChangeOut(Schema):
    date = fields.Date(required=True, attribute="day")
    previous = fields.Integer(required=True, allow_none=True)
    offered = fields.Integer(required=True)
    changed_at = fields.AwareDateTime(required=True)
    changed_by = fields.Integer(required=True, allow_none=True)


class CountsOut(Schema):
    contract_id = fields.Integer(required=True)
    period = PeriodField(required=True, allow_none=True)
    offered = fields.Integer(required=True, metadata={"description": "total of the days listed"})
    days = fields.List(fields.Nested(CountOut), required=True)
    changes = fields.List(fields.Nested(CountChangeOut), required=True)


class CountDay(Schema):
    day = Day(required=True)


def service_object(figures: ServiceFigures) -> dict[str, Any]:
    """Return a month's service levels as the scorecard shows them: each KPI present when the
    month has data for it, whatever the terms say."""
    counts, reconciliation = figures.counts, figures.reconciliation
    shown_object: dict[str, Any] = {}
    if counts.logged or counts.client_days:
        shown_object["offered"] = {
            "log": counts.logged,
            "client": reconciliation.client,
            "reconciled": reconciliation.status,
        }
    for code in ("service_level", "abandoned", "repeat_contacts"):
        ratio = figures.ratio(code)
        if ratio is not None:
            value, numerator, denominator = ratio
            shown_object[code] = {
                "value": shown(code, value), "numerator": numerator, "denominator": denominator,
            }  # fmt: skip
    speed = figures.ratio("answer_speed")
    if speed is not None:
        shown_object["answer_speed"] = {"value": shown("answer_speed", speed[0]),
                                        "answered": speed[2]}  # fmt: skip
    csat = figures.ratio("csat")
    interval = figures.csat_interval()
    if csat is not None and interval is not None:
        shown_object["csat"] = {
            "value": shown_share(csat[0]),
            "responses": csat[2],
            "ci": [format(bound, "f") for bound in interval],
        }
    resolved = figures.ratio("resolved")
    if resolved is not None:
        shown_object["resolved"] = {"value": shown_share(resolved[0]), "responses": resolved[2]}
    return shown_object
