"""API tokens: who is calling, and what their role lets them do."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from flask import Flask, g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts.models import ApiToken, User
from service.db import get_session
from service.errors import FiduciaError, Forbidden, Invalid, Unauthorized
from service.schemas import MAX_JSON_DEPTH, find_unstorable, nests_deeper, unstorable

TOKEN_PREFIX = "fid_"
PUBLIC_PATHS = ("/api/v1/openapi.json", "/api/v1/docs")
UNSTORABLE = "the input holds text that cannot be stored"
NOT_JSON = "the body is not valid JSON"
TOO_DEEP = f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels"


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated caller: a user, their role and their organization."""

    user_id: int
    role: str
    organization_id: int | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def require(self, *roles: str) -> None:
        """Refuse with 403 unless the caller has one of `roles` (admins always may)."""
        if not self.is_admin and self.role not in roles:
            raise Forbidden(f"the {self.role} role may not do this")


# The operator itself (the command line, the demo, a seed): an admin that is no user.
OPERATOR = Actor(user_id=0, role="admin", organization_id=None)


def actor_of(user: User) -> Actor:
    """Return the actor a user acts as."""
    return Actor(user_id=user.id, role=user.role, organization_id=user.organization_id)


def new_token() -> str:
    """Return a fresh random API token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(session: Session, authorization: str | None) -> Actor:
    """Return the actor behind an `Authorization: Bearer` header, or raise 401."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API token as 'Authorization: Bearer <token>'")
    api_token = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()))
    )
    if api_token is None or api_token.revoked_at is not None:
        raise Unauthorized("the API token is unknown or revoked")
    return actor_of(api_token.user)


def current_actor() -> Actor:
    """Return the caller of the current request."""
    actor: Actor = g.actor
    return actor


def init_app(app: Flask) -> None:
    """Authenticate every API request, and refuse unstorable input, before arguments are read."""

    @app.before_request
    def _authenticate() -> None:
        path = request.path
        if path.startswith("/api/v1/") and not path.startswith(PUBLIC_PATHS):
            g.actor = authenticate(get_session(), request.headers.get("Authorization"))
        refuse_unstorable_input()


def refuse_unstorable_input() -> None:
    """Refuse NULs and lone surrogates in the path, query, form or JSON body, naming where.

    A JSON body nested deeper than any document we accept is refused before anything parses it.
    """
    for name, value in (request.view_args or {}).items():
        why = unstorable(value) if isinstance(value, str) else None
        if why is not None:
            raise Invalid(UNSTORABLE, {"path": {name: [why]}})
    for location, values in (("query", request.args), ("form", request.form)):
        for key, value in values.items(multi=True):
            why = unstorable(key) or unstorable(value)
            if why is not None:
                raise Invalid(UNSTORABLE, {location: {key: [why]}})
    if request.is_json:
        found = find_unstorable(json_body())
        if found is not None:
            path, why = found
            errors: dict[str, Any] = {path[-1]: [why]} if path else {"_schema": [why]}
            for part in reversed(path[:-1]):
                errors = {part: errors}
            raise Invalid(UNSTORABLE, {"json": errors})


def json_body() -> Any:
    """Return the JSON body, read as webargs reads it (UTF-8), or None if there is none."""
    data = request.get_data(cache=True)
    if not data:
        return None  # webargs reads an empty body as no body
    try:
        text = data.decode()
        if nests_deeper(text, MAX_JSON_DEPTH):
            raise FiduciaError(TOO_DEEP, {"json": [TOO_DEEP]})
        return json.loads(text)
    except ValueError as error:  # bad UTF-8 or syntax, or an integer past 4,300 digits
        raise FiduciaError(NOT_JSON, {"json": ["Invalid JSON body."]}) from error
