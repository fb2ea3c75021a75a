"""The pages of people: signing in and out, the start page, an admin's organizations and
users, and everyone's own account."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh

from service.accounts import service
from service.accounts.models import ROLES, User
from service.accounts.schemas import (
    LanguageIn,
    OwnPasswordIn,
    PasswordIn,
    UserIn,
    UserPatchIn,
)
from service.accounts.service import IssuedToken
from service.accounts.throttle import Throttle
from service.accounts.web_sessions import page
from service.accounts.web_sessions import sign_in as start_session
from service.accounts.web_sessions import sign_out as end_session
from service.edge.errors import Conflict, Invalid
from service.edge.sessions import get_session
from service.language.labels import label
from service.web.forms import Refusal, given, loaded, refusal, typed

blp = Blueprint("account_pages", __name__)

# What the buttons that deactivate and reactivate a user send.
STATES = {"true": True, "false": False}


def _safe_next(target: str | None) -> str:
    """Return a local path to go to after signing in (never another site)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("account_pages.home")


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
            found = throttle.check(lambda store: service.user_of_token(store, token), email=None)
            user_id, token_id = (found[0].id, found[1]) if found else (None, None)
            error = _("That token is not valid: it may have been revoked.")
        else:
            email, password = request.form.get("email", ""), request.form.get("password", "")
            user = throttle.check(
                lambda store: service.check_password(session=store, email=email, password=password),
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
    return redirect(url_for("account_pages.sign_in"))


def secret(name: str) -> str | None:
    """Return a password field exactly as typed (spaces count); None when left empty."""
    return request.form.get(name) or None


def number_or_text(name: str) -> int | str | None:
    """Return a chosen id as a number; anything else as typed, for the schema to refuse."""
    text = typed(name)
    return int(text) if text and text.isdecimal() else text


@blp.get("/people")
@page
def people() -> Any:
    """List every organization with its users, and a form to add a user (admin)."""
    return people_page()


def people_page(refused: Refusal | None = None) -> Any:
    """Render the people page; after a refused form, with its messages and what was typed."""
    db = get_session()
    organizations = service.list_organizations(session=db, actor=g.actor)
    members: dict[int | None, list[User]] = defaultdict(list)
    for user in service.list_users(session=db, actor=g.actor):
        members[user.organization_id].append(user)
    shown = render_template(
        "accounts/people.html",
        organizations=organizations,
        members=members,
        tokens=service.live_token_counts(db),
        roles=ROLES,
        refused=refused,
    )
    return shown, refused.status if refused else 200


@blp.post("/people")
@page
def create_user() -> Any:
    """Add a user to an organization with a role, and optionally a first password (admin)."""
    g.actor.require("admin")
    db = get_session()
    try:
        body = loaded(
            UserIn(),
            given(
                organization_id=number_or_text("organization_id"),
                name=typed("name"),
                email=typed("email"),
                role=typed("role"),
            ),
        )
        password = secret("password")
        first = loaded(PasswordIn(), {"password": password}) if password else None
        user = service.create_user(session=db, actor=g.actor, **body)
        if first is not None:
            service.set_password(session=db, actor=g.actor, user_id=user.id, **first)
    except (Invalid, Conflict) as error:
        fields = ("organization_id", "name", "email", "role", "password")
        return people_page(refusal("create", error, fields=fields))
    flash(
        _(
            "%(name)s (%(email)s) is added as a %(role)s user.",
            name=user.name,
            email=user.email,
            role=label(user.role),
        )
    )
    return redirect(url_for(".person", user_id=user.id))


@blp.get("/people/<id:user_id>")
@page
def person(user_id: int) -> Any:
    """Show a user: its role and state, its tokens, and what an admin may change (admin)."""
    return person_page(user_id)


def person_page(
    user_id: int, refused: Refusal | None = None, issued: IssuedToken | None = None
) -> Any:
    """Render a user's page; after a refused form, with its messages; a new token, once."""
    g.actor.require("admin")
    db = get_session()
    person = service.get_user(session=db, user_id=user_id)
    shown = render_template(
        "accounts/person.html",
        person=person,
        proves=service.needs_current_password(g.actor, person),
        tokens=service.list_tokens(session=db, actor=g.actor, user_id=user_id),
        roles=ROLES,
        refused=refused,
        issued=issued,
    )
    return shown, refused.status if refused else 200


@blp.post("/people/<id:user_id>")
@page
def change_user(user_id: int) -> Any:
    """Rename a user, or change its role or language (admin); no language: its browser's."""
    g.actor.require("admin")
    try:
        typed_in = given(name=typed("name"), role=typed("role"))
        body = loaded(UserPatchIn(), {**typed_in, "language": typed("language")})
        user = service.update_user(session=get_session(), actor=g.actor, user_id=user_id, **body)
    except Invalid as error:
        fields = ("name", "role", "language")
        return person_page(user_id, refusal("change", error, fields=fields))
    if user.id == g.user.id:
        refresh()  # an admin who changed its own language reads the note in it
    flash(_("%(name)s is stored as a %(role)s user.", name=user.name, role=label(user.role)))
    return redirect(url_for(".person", user_id=user.id))


@blp.post("/people/<id:user_id>/active")
@page
def set_active(user_id: int) -> Any:
    """Deactivate a user (its sessions end, its tokens stop) or reactivate it (admin)."""
    g.actor.require("admin")
    try:
        body = loaded(UserPatchIn(), given(active=STATES.get(typed("active") or "")))
        user = service.update_user(session=get_session(), actor=g.actor, user_id=user_id, **body)
    except Invalid as error:
        return person_page(user_id, refusal("active", error, fields=("active",)))
    if user.active:
        flash(
            _(
                "%(name)s is active again: its tokens that were not revoked work again.",
                name=user.name,
            )
        )
    else:
        flash(
            _(
                "%(name)s is deactivated: its sessions ended and its tokens are refused.",
                name=user.name,
            )
        )
    return redirect(url_for(".person", user_id=user.id))


@blp.post("/people/<id:user_id>/password")
@page
def reset_password(user_id: int) -> Any:
    """Set a user's password; its browser sessions end (admin; its own: the current one too)."""
    g.actor.require("admin")
    try:
        body = loaded(PasswordIn(), given(password=secret("password")))
        service.set_password(
            session=get_session(),
            actor=g.actor,
            user_id=user_id,
            current_password=secret("current_password"),
            throttle=Throttle.of_request(),
            **body,
        )
    except Invalid as error:
        fields = ("current_password", "password")
        return person_page(user_id, refusal("password", error, fields=fields))
    flash(_("The password is set; the user's browser sessions ended."))
    return redirect(url_for(".person", user_id=user_id))


@blp.post("/people/<id:user_id>/tokens")
@page
def issue_token(user_id: int) -> Any:
    """Issue a token for a user and show it this once (admin; its own: the current password)."""
    g.actor.require("admin")
    try:
        issued = service.issue_token(
            session=get_session(),
            actor=g.actor,
            user_id=user_id,
            current_password=secret("current_password"),
            throttle=Throttle.of_request(),
        )
    except Invalid as error:
        return person_page(user_id, refusal("issue", error, fields=("current_password",)))
    return person_page(user_id, issued=issued)


@blp.post("/tokens/<id:token_id>/revoke")
@page
def revoke_token(token_id: int) -> Any:
    """Revoke a token: the caller's own (back to its account) or, for an admin, anyone's."""
    revoked = service.revoke_token(session=get_session(), actor=g.actor, token_id=token_id)
    flash(_("Token %(prefix)s… is revoked; sessions opened with it ended.", prefix=revoked.prefix))
    if revoked.user_id == g.actor.user_id:
        return redirect(url_for(".account"))
    return redirect(url_for(".person", user_id=revoked.user_id))


@blp.get("/account")
@page
def account() -> Any:
    """Show the caller's own account: its tokens, and a form to change its password."""
    return account_page()


def account_page(refused: Refusal | None = None) -> Any:
    """Render the account page; after a refused form, with its messages."""
    shown = render_template(
        "accounts/account.html",
        tokens=service.list_tokens(session=get_session(), actor=g.actor, user_id=g.user.id),
        refused=refused,
    )
    return shown, refused.status if refused else 200


@blp.post("/account/password")
@page
def change_password() -> Any:
    """Change one's own password, the current one first; this session stays signed in."""
    db = get_session()
    try:
        body = loaded(
            OwnPasswordIn(),
            given(current_password=secret("current_password"), password=secret("password")),
        )
        service.change_own_password(
            session=db, actor=g.actor, throttle=Throttle.of_request(), **body
        )
    except Invalid as error:
        return account_page(refusal("password", error, fields=("current_password", "password")))
    start_session(db, g.user, None)  # the change ended every session, this one too
    flash(_("Your password is changed; your other browser sessions are signed out."))
    return redirect(url_for(".account"))


@blp.post("/account/language")
@page
def change_language() -> Any:
    """Choose the language of one's own pages; none follows the browser's again."""
    try:
        body = loaded(LanguageIn(), {"language": typed("language")})
        service.set_own_language(session=get_session(), actor=g.actor, **body)
    except Invalid as error:
        return account_page(refusal("language", error, fields=("language",)))
    refresh()  # the note below is said in the language just chosen
    flash(_("Your language is stored."))
    return redirect(url_for(".account"))
