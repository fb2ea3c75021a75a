"""Marshmallow fields shared by the domains' HTTP shapes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import flask_smorest
from flask import current_app, request
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.routing import BaseConverter

from contracts._fields import CONTROL, CONTROL_MESSAGE
from contracts.calls import normalize_call_ref
from contracts.periods import PERIOD_PATTERN, PERIODS, YEARS, Period
from service.edge.errors import ErrorSchema

View = TypeVar("View", bound=Callable[..., Any])
IN_YEARS = f"must fall in the years {YEARS[0]} to {YEARS[-1]}"


class PeriodField(fields.Field):
    """A calendar month written `YYYY-MM`, of the years `contracts.periods.YEARS`."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "type": "string",
            "pattern": PERIOD_PATTERN,
            "example": "2026-10",
            "description": PERIODS,
        }
        super().__init__(metadata=metadata | kwargs.pop("metadata", {}), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Period:
        if not isinstance(value, str):
            raise ValidationError(PERIODS)
        try:
            return Period.parse(value)
        except ValueError as error:
            raise ValidationError(str(error)) from error

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value)


def in_years(value: date) -> None:
    """Refuse a day or an instant whose year is not one of `YEARS`."""
    if value.year not in YEARS:
        raise ValidationError(IN_YEARS)


class Day(fields.Date):
    """A calendar day (ISO 8601) of the years `contracts.periods.YEARS`."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"description": f"a day (YYYY-MM-DD) of the years {YEARS[0]} to {YEARS[-1]}"}
        metadata |= kwargs.pop("metadata", {})
        super().__init__(validate=in_years, metadata=metadata, **kwargs)


class Instant(fields.AwareDateTime):
    """An ISO 8601 time with an offset, of the years `contracts.periods.YEARS`; never naive."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "description": f"ISO 8601 with an offset, in the years {YEARS[0]} to {YEARS[-1]};"
            " naive times are refused"
        }
        metadata |= kwargs.pop("metadata", {})
        super().__init__(validate=in_years, metadata=metadata, **kwargs)


class Flag(fields.Boolean):
    """A JSON boolean: `true` or `false`; 1, 0 and words are refused, not read as one."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class WordFlag(fields.Boolean):
    """A boolean given as text, in a form field or a query: the word `true` or `false`."""

    default_error_messages = {"invalid": 'Must be "true" or "false".'}
    WORDS = {"true": True, "false": False}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, str) or value not in self.WORDS:
            raise self.make_error("invalid", input=value)
        return self.WORDS[value]


class NumberOrString(fields.Raw):
    """A number or a numeric string, checked by the rules in `contracts/`."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"oneOf": [{"type": "number"}, {"type": "string"}]}
        super().__init__(metadata=metadata | kwargs.pop("metadata", {}), **kwargs)


class CallRef(fields.String):
    """A call reference, read as it is compared (DESIGN 13): trimmed, NFKC-normalized, case
    kept, then 1 to 200 characters; only spaces is no reference."""

    default_error_messages = {"blank": "This is required."}

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"description": "compared trimmed and NFKC-normalized, case kept"}
        metadata |= kwargs.pop("metadata", {})
        super().__init__(validate=validate.Length(1, 200), metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        reference = normalize_call_ref(super()._deserialize(value, attr, data, **kwargs))
        if not reference:
            raise self.make_error("blank")
        return reference


class PeriodQuery(Schema):
    period = PeriodField(required=True)


# A page past this is past any data, and its OFFSET ((page - 1) * page_size) fits in 64 bits.
MAX_PAGE = 2**31 - 1


class Api(flask_smorest.Api):
    """flask-smorest's API, whose error responses document Fiducia's one error shape."""

    ERROR_SCHEMA = ErrorSchema


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint, whose `paginate` also bounds `page` (it bounds `page_size`)."""

    def paginate(self, pager: Any = None, **defaults: Any) -> Callable[[View], View]:
        """Paginate a view as flask-smorest does, refusing a page past MAX_PAGE with a 422."""
        paginate = super().paginate(pager, **defaults)

        def decorator(view: View) -> View:
            paginated: View = paginate(view)
            # The schema flask-smorest made for this view both reads and documents the page.
            schema = paginated._apidoc["pagination"]["parameters"]["schema"]  # type: ignore[attr-defined]
            schema._declared_fields["page"].validators = [validate.Range(1, MAX_PAGE)]
            return paginated

        return decorator


def requested_view() -> Callable[..., Any] | None:
    """Return the function that serves this request: a class view's method, else the view
    (None when no route or no method of its class answers it)."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return view
    method = "get" if request.method == "HEAD" else request.method.lower()
    found: Callable[..., Any] | None = getattr(view_class, method, None)
    return found


BODY_LIMIT = "body_limit"
# The settings of the bodies with a limit of their own.
UPLOAD_LENGTH = "MAX_UPLOAD_LENGTH"  # a month's call log
DOCUMENT_LENGTH = "MAX_DOCUMENT_LENGTH"  # a form or terms document


def body_limit(setting: str) -> Callable[[View], View]:
    """Give a view's request body a limit of its own: the configuration `setting` (bytes),
    instead of MAX_CONTENT_LENGTH."""

    def decorator(view: View) -> View:
        setattr(view, BODY_LIMIT, setting)
        return view

    return decorator


def query_names(view: Callable[..., Any]) -> frozenset[str]:
    """Return the query parameters a flask-smorest view reads: its query schemas' fields and,
    when it is paginated, `page` and `page_size`."""
    doc = getattr(view, "_apidoc", {})
    parameters = list(doc.get("arguments", {}).get("parameters", []))
    if "pagination" in doc:
        parameters.append(doc["pagination"]["parameters"])
    names: set[str] = set()
    for parameter in parameters:
        if parameter["in"] != "query":
            continue
        schema = parameter["schema"]
        schema = schema() if isinstance(schema, type) else schema
        names |= {field.data_key or name for name, field in schema.load_fields.items()}
    return frozenset(names)


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


# Text a database cannot store: a NUL, or a surrogate (one left in a decoded str has no pair).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NUL = "must not contain NUL characters"
NOT_UNICODE = "must be valid Unicode text"
# Deeper than any document we accept (forms and terms nest a handful of levels).
MAX_JSON_DEPTH = 64
# A JSON string up to its closing quote, or to the end of the text; possessive, so linear.
JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
NOT_A_BRACKET = re.compile(r"[^\[\]{}]++")


def unstorable(text: str) -> str | None:
    """Return why a text cannot be stored (a NUL, a lone surrogate), or None if it can."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    return NUL if found.group() == "\x00" else NOT_UNICODE


def find_unstorable(value: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str] | None:
    """Return the path of the first string (or key) that cannot be stored, and why."""
    if isinstance(value, str):
        why = unstorable(value)
        return None if why is None else (path, why)
    if isinstance(value, dict):
        for key, item in value.items():
            why = unstorable(str(key))
            if why is not None:
                return (*path, str(key)), why
            found = find_unstorable(item, (*path, str(key)))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_unstorable(item, (*path, str(index)))
            if found is not None:
                return found
    return None


# Python reads no longer integer from text (sys.get_int_max_str_digits), nor need we: the
# largest number the service takes is a 64-bit id.
MAX_INTEGER_DIGITS = 4300
LONG_INTEGER = f"a number of more than {MAX_INTEGER_DIGITS:,} digits"


def find_long_integer(text: str) -> tuple[str, ...] | None:
    """Return the path of the first integer of a JSON text longer than MAX_INTEGER_DIGITS."""
    too_long = object()

    def integer(digits: str) -> object:
        return too_long if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS else int(digits)

    return find_value(json.loads(text, parse_int=integer), too_long)


def find_value(value: Any, wanted: object, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Return the path of the first place that holds `wanted` (the very object), or None."""
    if value is wanted:
        return path
    if isinstance(value, dict | list):
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            found = find_value(item, wanted, (*path, str(key)))
            if found is not None:
                return found
    return None


def nests_deeper(text: str, limit: int) -> bool:
    """Say whether a JSON text nests arrays and objects deeper than `limit`, without parsing it."""
    depth = 0
    for bracket in NOT_A_BRACKET.sub("", JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


class DecimalString(fields.Decimal):
    """An exact decimal that travels as a string ("87.50"), documented as one."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "format": "decimal", "example": "87.50"}
        super().__init__(as_string=True, metadata=metadata | kwargs.pop("metadata", {}), **kwargs)


def one_line(value: str) -> None:
    """Refuse a name that is not one line of text: a control character is never part of one."""
    if CONTROL.search(value):
        raise ValidationError(CONTROL_MESSAGE)


class Name(fields.String):
    """A name people type (an organization's, a user's, a contract's): 1 to 200 characters on
    one line, as the rules of `contracts/` want a form's titles."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=[validate.Length(1, 200), one_line], **kwargs)
