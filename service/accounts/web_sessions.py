"""Signing in to the pages: a cookie that holds only the key of a session the server keeps,
and the decorator every page wears."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy.orm import Session

from service.accounts.models import User
from service.accounts.service import end_web_session, open_web_session, web_session_user
from service.edge.actors import actor_of
from service.edge.sessions import get_session

KEY = "key"


def sign_in(db: Session, user: User, token_id: int | None) -> None:
    """Start a session for a user, signed in with a token (its id) or a password (None)."""
    lifetime = current_app.permanent_session_lifetime
    session.clear()  # a fresh key, never one chosen before signing in
    session.permanent = True
    session[KEY] = open_web_session(db, user, token_id, lifetime)


def sign_out(db: Session) -> None:
    """End the session on the server, so its cookie signs nobody in again."""
    key = session.get(KEY)
    if isinstance(key, str):
        end_web_session(db, key)
    session.clear()


def signed_in_user(db: Session) -> User | None:
    """Return the user of the cookie's session while the server holds it live."""
    key = session.get(KEY)
    return web_session_user(db, key) if isinstance(key, str) else None


def page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Require a signed-in user for a page; the actor is on `g.actor`, the user on `g.user`."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = signed_in_user(get_session())
        if user is None:
            session.clear()
            return redirect(url_for("account_pages.sign_in", next=request.full_path.rstrip("?")))
        g.user = user
        g.actor = actor_of(user)
        return view(*args, **kwargs)

    return wrapper
