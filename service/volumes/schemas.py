"""HTTP shapes of daily volumes."""

from marshmallow import Schema, fields, validate

from service.edge.schemas import Day, PeriodField


class DayVolume(Schema):
    date = Day(required=True)
    units = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10**12))


class VolumesIn(Schema):
    volumes = fields.List(
        fields.Nested(DayVolume), required=True, validate=validate.Length(1, 1000)
    )


class DayVolumeOut(Schema):
    date = fields.Date(required=True, attribute="day")
    units = fields.Integer(required=True)
    updated_at = fields.AwareDateTime(required=True)
    updated_by = fields.Integer(required=True, allow_none=True)


class VolumeChangeOut(Schema):
    date = fields.Date(required=True, attribute="day")
    previous_units = fields.Integer(required=True, allow_none=True)
    units = fields.Integer(required=True)
    changed_at = fields.AwareDateTime(required=True)
    changed_by = fields.Integer(required=True, allow_none=True)


class VolumesOut(Schema):
    contract_id = fields.Integer(required=True)
    period = PeriodField(required=True, allow_none=True)
    units = fields.Integer(required=True, metadata={"description": "total of the days listed"})
    days = fields.List(fields.Nested(DayVolumeOut), required=True)
    changes = fields.List(
        fields.Nested(VolumeChangeOut),
        required=True,
        metadata={"description": "who set which day to what, and when"},
    )


class UpsertOut(Schema):
    contract_id = fields.Integer(required=True)
    changed = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    days = fields.List(fields.Nested(DayVolumeOut), required=True)


class VolumeQuery(Schema):
    period = PeriodField()
