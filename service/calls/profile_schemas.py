"""What the import profiles read and answer (DESIGN §19)."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate, validates

from service.calls.models import DIRECTIONS


def _pattern(said: str) -> None:
    try:
        compiled = re.compile(said)
    except re.error as error:
        raise ValidationError(f"is not a regular expression: {error}") from None
    if compiled.groups != 1:
        raise ValidationError(
            f"must have exactly one group, the value taken (it has {compiled.groups})"
        )


class PickIn(Schema):
    field = fields.String(required=True, validate=validate.Length(1, 100))
    pattern = fields.String(required=True, validate=[validate.Length(1, 500), _pattern])


class ProfileIn(Schema):
    timezone = fields.String(
        load_default=None, metadata={"description": "the zone of times written without offset"}
    )
    agent = fields.Nested(PickIn, load_default=None)
    directions = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 100)),
        values=fields.String(validate=validate.OneOf(DIRECTIONS)),
        load_default=None,
        validate=validate.Length(1, 100),
        metadata={"description": "Asterisk: the direction of each dcontext"},
    )
    queue = fields.Nested(PickIn, load_default=None)

    @validates("timezone")
    def _zone(self, value: str | None, **_: Any) -> None:
        if value is None:
            return
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError("is not a time zone, such as Europe/Rome") from None


class ProfileOut(Schema):
    format = fields.String(required=True)
    timezone = fields.String(allow_none=True)
    agent = fields.Dict(allow_none=True)
    directions = fields.Dict(allow_none=True)
    queue = fields.Dict(allow_none=True)
    updated_at = fields.AwareDateTime(allow_none=True)
