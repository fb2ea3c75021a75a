"""Marshmallow fields shared by the domains' HTTP shapes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.routing import BaseConverter

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


# Ids are 64-bit keys; a larger number names nothing and must not reach the database.
MAX_ID = 2**63 - 1
MAX_VERSION = 2**31 - 1


class Id(fields.Integer):
    """A database id given in a body or a query: a positive 64-bit integer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(1, MAX_ID), **kwargs)


class IdConverter(BaseConverter):
    """A positive id in a URL; anything longer than 18 digits matches no route (404)."""

    regex = r"[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


class VersionConverter(IdConverter):
    """A form version in a URL: a positive 32-bit integer, at most 9 digits."""

    regex = r"[1-9][0-9]{0,8}"


def version_parameter_schema(_converter: BaseConverter) -> dict[str, Any]:
    """Document a version path parameter."""
    return {"type": "integer", "minimum": 1, "maximum": 10**9 - 1}


def id_parameter_schema(_converter: BaseConverter) -> dict[str, Any]:
    """Document an id path parameter."""
    return {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}


def find_nul(value: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Return the path of the first string (or key) holding a NUL character, if any."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in str(key):
                return (*path, str(key))
            found = find_nul(item, (*path, str(key)))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_nul(item, (*path, str(index)))
            if found is not None:
                return found
    return None


class DecimalString(fields.Decimal):
    """An exact decimal that travels as a string ("87.50"), documented as one."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "format": "decimal", "example": "87.50"}
        super().__init__(as_string=True, metadata=metadata | kwargs.pop("metadata", {}), **kwargs)
