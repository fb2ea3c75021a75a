"""Every request: its caller authenticated (API), its input refused if it cannot be stored
or (a query parameter) is not one the endpoint takes."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from flask import Flask, g, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from service.edge.actors import Actor
from service.edge.errors import FiduciaError, Invalid, Location, under
from service.edge.schemas import (
    LONG_INTEGER,
    MAX_JSON_DEPTH,
    find_long_integer,
    find_unstorable,
    nests_deeper,
    query_names,
    requested_view,
    unstorable,
)
from service.edge.sessions import end_reading, get_session, reading_input_first

PUBLIC_PATHS = ("/api/v1/openapi.json", "/api/v1/docs")
UNSTORABLE = "the input holds text that cannot be stored"
NOT_JSON = "the body is not valid JSON"
UNKNOWN = "Unknown field."  # as marshmallow says it of an unknown field of a body
TOO_DEEP = f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels"


# Who a request's `Authorization` header names: the accounts domain answers, given to `init_app`
# by the app (the edge imports no domain).
Authenticate = Callable[[Session, str | None], Actor]


def init_app(app: Flask, authenticate: Authenticate) -> None:
    """Authenticate every API request, and refuse unstorable input, before arguments are read."""

    @app.before_request
    def _authenticate() -> None:
        path = request.path
        if path.startswith("/api/v1/") and not path.startswith(PUBLIC_PATHS):
            session = get_session()
            g.actor = authenticate(session, request.headers.get("Authorization"))
            if reading_input_first():
                end_reading(session)  # its file may take long to arrive, and to read
            refuse_unknown_query()
        refuse_unstorable_input()


def refuse_unknown_query() -> None:
    """Refuse the query parameters an API endpoint does not read, naming each.

    One check for every endpoint, from the schemas that document its query (paging
    included): an endpoint without one takes no query parameter at all.
    """
    view = requested_view()
    if view is None:
        return  # no such route, or no such method: a 404 or a 405 follows
    unknown = sorted(set(request.args) - _query_names(view))
    if unknown:
        raise Invalid(
            f"unknown query parameters: {', '.join(unknown)}",
            {name: [UNKNOWN] for name in unknown},
            location="query",
        )


@cache
def _query_names(view: Callable[..., Any]) -> frozenset[str]:
    return query_names(view)


def refuse_unstorable_input() -> None:
    """Refuse NULs and lone surrogates in the path, query, form or JSON body, naming where.

    A JSON body nested deeper than any document we accept is refused before anything parses it.
    """
    for name, value in (request.view_args or {}).items():
        why = unstorable(value) if isinstance(value, str) else None
        if why is not None:
            raise Invalid(UNSTORABLE, {name: [why]}, location="path")
    where: tuple[tuple[Location, Any], ...] = (("query", request.args), ("form", request.form))
    for location, values in where:
        for key, value in values.items(multi=True):
            # A form part with a name werkzeug cannot read (a lone carriage return) has none.
            texts = [text for text in (key, value) if isinstance(text, str)]
            why = next(filter(None, map(unstorable, texts)), None)
            if why is not None:
                raise Invalid(UNSTORABLE, {key: [why]}, location=location)
    if request.is_json:
        body = json_body()
        # Only a \u escape decodes to a NUL or a lone surrogate (a raw NUL is not JSON, raw
        # UTF-8 holds no surrogate): a body without one needs no walk through its strings.
        found = find_unstorable(body) if b"\\u" in request.get_data(cache=True) else None
        if found is not None:
            path, why = found
            errors = under(path[:-1], {path[-1]: [why]}) if path else {"_schema": [why]}
            raise Invalid(UNSTORABLE, errors)


def json_body() -> Any:
    """Return the JSON body, read as webargs reads it (UTF-8), or None if there is none."""
    data = request.get_data(cache=True)
    if not data:
        return None  # webargs reads an empty body as no body
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        # A chunked body is cut at the limit as it is read; what was cut must not pass.
        raise RequestEntityTooLarge()
    try:
        text = data.decode()
        if nests_deeper(text, MAX_JSON_DEPTH):
            raise FiduciaError(TOO_DEEP, [TOO_DEEP])
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:  # bad UTF-8 or syntax
        raise FiduciaError(NOT_JSON, ["Invalid JSON body."]) from error
    except ValueError:  # valid JSON with an integer longer than Python reads
        path = find_long_integer(text)
        if path is None:  # pragma: no cover - json.loads raises this for nothing else
            raise
        errors = under(path[:-1], {path[-1]: [LONG_INTEGER]}) if path else [LONG_INTEGER]
        raise Invalid(LONG_INTEGER, errors) from None
