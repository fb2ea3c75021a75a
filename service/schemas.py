"""Marshmallow fields shared by the domains' HTTP shapes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields

from contracts.periods import Period


class PeriodField(fields.Field):
    """A calendar month written `YYYY-MM`."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$", "example": "2026-10"}
        super().__init__(metadata=metadata | kwargs.pop("metadata", {}), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Period:
        if not isinstance(value, str):
            raise ValidationError("a month written as YYYY-MM")
        try:
            return Period.parse(value)
        except ValueError as error:
            raise ValidationError(str(error)) from error

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value)


class NumberOrString(fields.Raw):
    """A number or a numeric string, checked by the rules in `contracts/`."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"oneOf": [{"type": "number"}, {"type": "string"}]}
        super().__init__(metadata=metadata | kwargs.pop("metadata", {}), **kwargs)


class PeriodQuery(Schema):
    period = PeriodField(required=True)
