"""One error vocabulary, mapped to JSON in one place."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge


class FiduciaError(Exception):
    """An error a caller can act on, answered as `{code, status, message, errors}`."""

    status = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, errors: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


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

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def error_body(status: HTTPStatus, message: str, errors: Any = None) -> dict[str, Any]:
    """Return the JSON body of an error answer."""
    body: dict[str, Any] = {"code": status.value, "status": status.phrase, "message": message}
    if errors:
        body["errors"] = errors
    return body


def wants_page() -> bool:
    """Say whether the request is for a page (HTML errors) rather than the API (JSON errors)."""
    return not request.path.startswith(("/api/", "/health"))


def error_page(status: HTTPStatus, message: str) -> ResponseReturnValue:
    """Render an error as a page people can read."""
    titles = {404: "Not found", 403: "Not allowed", 401: "Please sign in"}
    title = titles.get(status.value, status.phrase)
    return render_template("error.html", title=title, message=message), status.value


def register(app: Flask) -> None:
    """Map the error vocabulary (and integrity races) to JSON answers, or pages for pages."""

    @app.errorhandler(FiduciaError)
    def _fiducia_error(error: FiduciaError) -> ResponseReturnValue:
        if wants_page():
            response = make_response(error_page(error.status, error.message))
        else:
            body = error_body(error.status, error.message, error.errors)
            response = make_response(jsonify(body), error.status.value)
        if isinstance(error, Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="fiducia"'
        if isinstance(error, TooManyRequests):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
        status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        limit = app.config["MAX_CONTENT_LENGTH"]
        message = f"the request body is larger than the limit of {limit:,} bytes"
        if wants_page():
            return error_page(status, message)
        return jsonify(error_body(status, message)), status.value

    @app.errorhandler(IntegrityError)
    def _integrity_error(error: IntegrityError) -> ResponseReturnValue:
        return conflict_response(error)


CONCURRENT_WRITE = "the record was written concurrently by another request; retry"


def conflict_response(_error: IntegrityError) -> Response:
    """Answer a write the database refused (a unique key, a guard) with 409, never a 500.

    Two requests raced for the same unique key, or a write met a record that may no longer
    change; the loser may retry and find the winner.
    """
    status = HTTPStatus.CONFLICT
    if wants_page():
        return make_response(error_page(status, CONCURRENT_WRITE))
    return make_response(jsonify(error_body(status, CONCURRENT_WRITE)), status.value)


def nest_errors(errors: dict[str, list[str]]) -> dict[Any, Any]:
    """Turn dotted paths (`sections.0.weight`) into the nested shape marshmallow uses."""
    nested: dict[Any, Any] = {}
    for path, messages in errors.items():
        node = nested
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(parts[-1], []).extend(messages)
    return nested


def invalid_body(message: str, errors: dict[Any, Any]) -> Invalid:
    """Return a 422 whose errors sit under `json`, as flask-smorest reports body errors."""
    return Invalid(message, {"json": errors})
