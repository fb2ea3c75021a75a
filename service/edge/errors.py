"""One error vocabulary, mapped to JSON in one place."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Literal

import marshmallow as ma
from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from service.database.outages import Outage, outage_of
from service.language.i18n import N_, translated

# Where a bad input was, as flask-smorest (webargs) names it for schema errors.
Location = Literal["json", "query", "path", "form", "files", "headers"]


class FiduciaError(Exception):
    """An error a caller can act on, answered as `{code, status, message, errors}`.

    `errors` maps each bad field's path (nested dicts, list indexes as keys) to its messages,
    or is a list of messages about the input as a whole; `location` says where it was. The
    answer nests one in the other, so every 4xx names a field as
    `errors.<location>.<field path>`, whatever raised it.
    """

    status = HTTPStatus.BAD_REQUEST

    def __init__(
        self,
        message: str,
        errors: dict[Any, Any] | list[str] | None = None,
        *,
        location: Location = "json",
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.location = location
        self.extra = extra or {}  # more fields of the answer, beside the error's own


class Unauthorized(FiduciaError):
    status = HTTPStatus.UNAUTHORIZED


class Forbidden(FiduciaError):
    status = HTTPStatus.FORBIDDEN


class NotFound(FiduciaError):
    status = HTTPStatus.NOT_FOUND


class Conflict(FiduciaError):
    status = HTTPStatus.CONFLICT


class Invalid(FiduciaError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class TooManyRequests(FiduciaError):
    status = HTTPStatus.TOO_MANY_REQUESTS

    def __init__(self, message: str, *, retry_after: int) -> None:  # names no field
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(FiduciaError):
    """The database cannot serve now (down, silent, locked or full): 503, with when to retry."""

    status = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self, outage: Outage) -> None:  # names no field
        super().__init__(outage.message, extra={"reason": outage.reason})
        self.retry_after = outage.retry_after


class ErrorSchema(ma.Schema):
    """The body of every error answer (documentation only: `error_body` writes it)."""

    code = ma.fields.Integer(metadata={"description": "The HTTP status code"})
    status = ma.fields.String(metadata={"description": "The HTTP status phrase"})
    message = ma.fields.String(metadata={"description": "What went wrong, for a person"})
    errors = ma.fields.Dict(
        metadata={
            "description": "Every bad field, keyed by where the input was (`json`, `query`, "
            "`path`, `form`, `files`) and then by the field's path, list indexes included: "
            "`errors.json.evaluations.3.answers.tone` is a list of messages. A problem with "
            "the input as a whole is a list directly under its location.",
            "example": {"json": {"terms": {"quality": {"bands": {"1": {"from": ["..."]}}}}}},
        }
    )


def error_body(
    status: HTTPStatus, message: str, errors: Any = None, location: Location = "json"
) -> dict[str, Any]:
    """Return the JSON body of an error answer: the fields' errors sit under their location."""
    body: dict[str, Any] = {"code": status.value, "status": status.phrase, "message": message}
    if errors:
        body["errors"] = {location: errors}
    return body


def wants_page() -> bool:
    """Say whether the request is for a page (HTML errors) rather than the API (JSON errors)."""
    return not request.path.startswith(("/api/", "/health"))


# The titles of error pages people meet most; others show the HTTP phrase.
TITLES = {
    404: N_("Not found"),
    403: N_("Not allowed"),
    401: N_("Please sign in"),
    503: N_("Temporarily unavailable"),
}


def error_page(status: HTTPStatus, message: str) -> ResponseReturnValue:
    """Render an error as a page people can read, in their language."""
    title = translated(TITLES.get(status.value, status.phrase))
    shown = render_template("error.html", title=title, message=translated(message))
    return shown, status.value


def register(app: Flask) -> None:
    """Answer every error in one shape: JSON for the API, a readable page for pages.

    Call it after the API is built: it replaces flask-smorest's handler for HTTP errors, so
    schema errors (raised by webargs) come out exactly as the service's own.
    """

    app.register_error_handler(FiduciaError, error_response)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _database_error(error: Exception) -> ResponseReturnValue:
        outage = outage_of(error)
        if outage is None:
            raise error  # a bug, answered as every other one
        return outage_response(outage)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
        limit = request.max_content_length or app.config["MAX_CONTENT_LENGTH"]
        message = f"the request body is larger than the limit of {limit:,} bytes"
        return http_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, message)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        status = HTTPStatus(error.code or 500)
        if isinstance(error, CSRFError):
            message = N_("This form has expired. Go back, reload the page and try again.")
            return http_error(status, message)
        data = getattr(error, "data", None) or {}  # what webargs attaches to a schema error
        message = data.get("message") or _schema_message(data) or error.description or ""
        errors = _named(data["messages"]) if data.get("messages") else None
        response = make_response(http_error(status, message, errors))
        response.headers.update(data.get("headers") or {})
        return response

    @app.errorhandler(IntegrityError)
    def _integrity_error(error: IntegrityError) -> ResponseReturnValue:
        return conflict_response(error)


def _named(errors: Any) -> Any:
    """Return schema errors with every key a field's name: a form part sent without a name
    (werkzeug reads it as None) is the field named ""."""
    if not isinstance(errors, dict):
        return errors
    named: dict[Any, Any] = {}
    for key, value in errors.items():
        name = "" if key is None else key
        if name in named and isinstance(named[name], list) and isinstance(value, list):
            named[name] = named[name] + value
        else:
            named[name] = _named(value)
    return named


def _schema_message(data: dict[str, Any]) -> str | None:
    """Say in words where webargs found bad input (its `messages` name the fields)."""
    if not data.get("messages"):
        return None
    return "the input is invalid in " + ", ".join(sorted(map(str, data["messages"])))


def http_error(status: HTTPStatus, message: str, errors: Any = None) -> ResponseReturnValue:
    """Answer an error as a page for pages, else as JSON; `errors` are already by location."""
    if wants_page():
        return error_page(status, message)
    body = error_body(status, message)
    if errors:
        body["errors"] = errors
    return jsonify(body), status.value


CONCURRENT_WRITE = "the record was written concurrently by another request; retry"


def conflict_response(_error: IntegrityError) -> Response:
    """Answer a write the database refused (a unique key, a guard) with 409, never a 500.

    Two requests raced for the same unique key, or a write met a record that may no longer
    change; the loser may retry and find the winner.
    """
    return make_response(http_error(HTTPStatus.CONFLICT, CONCURRENT_WRITE))


def error_response(error: FiduciaError) -> Response:
    """Answer an error the caller can act on: a page for pages, else the JSON error shape."""
    if wants_page():
        response = make_response(error_page(error.status, error.message))
    else:
        body = error_body(error.status, error.message, error.errors, error.location)
        response = make_response(jsonify(error.extra | body), error.status.value)
    if isinstance(error, Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="fiducia"'
    if isinstance(error, TooManyRequests | Unavailable):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def outage_response(outage: Outage) -> Response:
    """Answer a request the database could not serve: 503 with Retry-After, never a 500.

    The page says so without its signed-in user: the layout would ask the database for them.
    """
    g.pop("user", None)
    return error_response(Unavailable(outage))


def nest_errors(errors: dict[str, list[str]]) -> dict[Any, Any]:
    """Turn dotted paths (`sections.0.weight`) into the nested shape marshmallow uses.

    A field with problems of its own and of its parts keeps its own under `_schema`, as
    marshmallow does for a nested object (`items: {_schema: [...], 0: {question: [...]}}`).
    """
    nested: dict[Any, Any] = {}
    for path, messages in errors.items():
        node = nested
        *parents, leaf = path.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if isinstance(child, list):
                child = node[part] = {"_schema": child}
            node = child
        if isinstance(node.get(leaf), dict):
            node[leaf].setdefault("_schema", []).extend(messages)
        else:
            node.setdefault(leaf, []).extend(messages)
    return nested


def under(path: tuple[Any, ...], errors: dict[Any, Any]) -> dict[Any, Any]:
    """Nest field errors under a path: `under(("evaluations", 3), {"tone": [...]})`."""
    for part in reversed(path):
        errors = {part: errors}
    return errors
