"""What every page shares: the start page, signing in and signing out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from service.accounts.models import User
from service.accounts.service import check_password, user_of_token
from service.accounts.throttle import Throttle
from service.db import get_session
from service.web.session import page
from service.web.session import sign_in as start_session
from service.web.session import sign_out as end_session

blp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/static/web")  # fmt: skip


def _safe_next(target: str | None) -> str:
    """Return a local path to go to after signing in (never another site)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("web.home")


@blp.get("/")
@page
def home() -> Any:
    """Send each role to the page it needs first."""
    if g.actor.role == "finance":
        return redirect(url_for("statement_pages.payouts"))
    return redirect(url_for("scorecard_pages.scorecards_page"))


@blp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    """Sign in with an email and password, or with an API token; failures are throttled."""
    error = None
    if request.method == "POST":
        throttle = Throttle.of_request()  # before the request's own session (see its check)
        token = request.form.get("token", "").strip()
        if token:
            found = throttle.check(lambda store: user_of_token(store, token), email=None)
            user_id, token_id = (found[0].id, found[1]) if found else (None, None)
            error = _("That token is not valid: it may have been revoked.")
        else:
            email, password = request.form.get("email", ""), request.form.get("password", "")
            user = throttle.check(
                lambda store: check_password(session=store, email=email, password=password),
                email=email,
            )
            user_id, token_id = (user.id if user else None), None
            error = _("The email or the password is wrong.")
        if user_id is not None:
            db = get_session()
            start_session(db, db.get_one(User, user_id), token_id)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("sign_in.html", error=error), 401 if error else 200


@blp.post("/sign-out")
def sign_out() -> Any:
    """Sign out: the session ends on the server too."""
    end_session(get_session())
    flash(_("You are signed out."))
    return redirect(url_for("web.sign_in"))
