"""API tokens: who is calling, and what their role lets them do."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from flask import Flask, g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts.models import ApiToken, User
from service.db import get_session
from service.errors import Forbidden, Invalid, Unauthorized
from service.schemas import find_nul

TOKEN_PREFIX = "fid_"
PUBLIC_PATHS = ("/api/v1/openapi.json", "/api/v1/docs")
NUL = "must not contain NUL characters"


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
    """Authenticate every API request before its arguments are even read."""

    @app.before_request
    def _authenticate() -> None:
        path = request.path
        if path.startswith("/api/v1/") and not path.startswith(PUBLIC_PATHS):
            g.actor = authenticate(get_session(), request.headers.get("Authorization"))
            refuse_nul_characters()


def refuse_nul_characters() -> None:
    """Refuse NUL characters anywhere in the query or the JSON body, naming where they are."""
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            raise Invalid("text may not contain NUL characters", {"query": {key: [NUL]}})
    if request.is_json:
        found = find_nul(request.get_json(silent=True))
        if found:
            errors: dict[str, Any] = {found[-1]: [NUL]}
            for part in reversed(found[:-1]):
                errors = {part: errors}
            raise Invalid("text may not contain NUL characters", {"json": errors})
