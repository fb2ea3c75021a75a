"""Signing in to the pages: a cookie session that names the user, checked on every request."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, redirect, request, session, url_for
from sqlalchemy.orm import Session

from service.accounts.models import User
from service.accounts.service import token_is_live
from service.auth import Actor
from service.db import get_session


def _stamp(user: User) -> str:
    # Changing the password changes the stamp, which ends the sessions signed in with it.
    return (user.password_hash or "")[-16:]


def sign_in(user: User, token_id: int | None) -> None:
    """Start a session for a user, signed in with a token (its id) or a password (None)."""
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["token_id"] = token_id
    session["stamp"] = None if token_id is not None else _stamp(user)


def sign_out() -> None:
    """End the session."""
    session.clear()


def signed_in_user(db: Session) -> User | None:
    """Return the session's user while what it signed in with is still good."""
    user_id = session.get("user_id")
    user = db.get(User, user_id) if isinstance(user_id, int) else None
    if user is None:
        return None
    token_id = session.get("token_id")
    if token_id is not None:
        return user if token_is_live(db, token_id) else None
    return user if user.password_hash and session.get("stamp") == _stamp(user) else None


def page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Require a signed-in user for a page; the actor is on `g.actor`, the user on `g.user`."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = signed_in_user(get_session())
        if user is None:
            session.clear()
            return redirect(url_for("web.sign_in", next=request.full_path.rstrip("?")))
        g.user = user
        g.actor = Actor(user_id=user.id, role=user.role, organization_id=user.organization_id)
        return view(*args, **kwargs)

    return wrapper
