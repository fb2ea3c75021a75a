"""Organizations, users and tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from types import EllipsisType

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from contracts.text import said
from service.accounts.models import (
    ROLE_ORGANIZATION_KIND,
    ApiToken,
    Organization,
    User,
    WebSession,
)
from service.accounts.throttle import Throttle, released
from service.database.engine import utcnow
from service.edge.actors import Actor, actor_of
from service.edge.errors import Conflict, Invalid, NotFound, Unauthorized
from service.language.i18n import N_

TOKEN_PREFIX = "fid_"


def new_token() -> str:
    """Return a fresh random API token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the stored form of a token: tokens are random and long, so SHA-256 is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(session: Session, authorization: str | None) -> Actor:
    """Return the actor behind an `Authorization: Bearer` header, or raise 401."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API token as 'Authorization: Bearer <token>'")
    api_token = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()))
    )
    if api_token is None or api_token.revoked_at is not None or not api_token.user.active:
        raise Unauthorized("the API token is unknown or revoked, or its user is deactivated")
    return actor_of(api_token.user)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token as issued: the only time its secret is seen."""

    id: int
    token: str
    user_id: int
    created_at: object


def create_organization(
    *, session: Session, actor: Actor, name: str, kind: str, language: str = "en"
) -> Organization:
    """Create an organization (admins only), with the language of its reports and notices."""
    actor.require("admin")
    if session.scalar(select(Organization.id).where(Organization.name == name)) is not None:
        raise Conflict(N_("an organization with this name exists"), {"name": [N_("already taken")]})
    organization = Organization(name=name, kind=kind, language=language)
    session.add(organization)
    session.flush()
    return organization


def update_organization(
    *, session: Session, actor: Actor, organization_id: int, language: str
) -> Organization:
    """Change the language an organization's report files and notices are made in (admins)."""
    actor.require("admin")
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotFound(N_("no such organization"))
    organization.language = language
    session.flush()
    return organization


def list_organizations(*, session: Session, actor: Actor) -> list[Organization]:
    """List every organization (admins only)."""
    actor.require("admin")
    return list(session.scalars(select(Organization).order_by(Organization.id)))


def create_user(
    *,
    session: Session,
    actor: Actor | None,
    organization_id: int | None,
    name: str,
    email: str,
    role: str,
) -> User:
    """Create a user; `actor` None is the command line bootstrapping the first admin."""
    if actor is not None:
        actor.require("admin")
    organization = (
        session.get(Organization, organization_id) if organization_id is not None else None
    )
    expected_kind = ROLE_ORGANIZATION_KIND.get(role)
    if expected_kind is not None and organization is None:
        raise Invalid(
            N_("a user with this role belongs to an organization"),
            {
                "organization_id": [
                    said(
                        "a %(role)s user needs an existing %(kind)s organization",
                        role=role,
                        kind=expected_kind,
                    )
                ]
            },
        )
    if organization_id is not None and organization is None:
        raise Invalid(N_("unknown organization"), {"organization_id": [N_("no such organization")]})
    check_role(role, organization)
    email = email.strip().lower()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(N_("a user with this email exists"), {"email": [N_("already taken")]})
    user = User(organization_id=organization_id, name=name, email=email, role=role)
    session.add(user)
    session.flush()
    return user


def check_role(role: str, organization: Organization | None) -> None:
    """Refuse a role its user's organization cannot hold: admins have none, others their kind."""
    expected_kind = ROLE_ORGANIZATION_KIND.get(role)
    if expected_kind is None and organization is not None:
        raise Invalid(
            N_("role and organization do not match"),
            {"role": [N_("an admin user belongs to no organization")]},
        )
    if expected_kind is not None and organization is None:
        raise Invalid(
            N_("role and organization do not match"),
            {
                "role": [
                    said(
                        "a %(role)s user belongs to a %(kind)s organization; this one has none",
                        role=role,
                        kind=expected_kind,
                    )
                ]
            },
        )
    if organization is not None and organization.kind != expected_kind:
        raise Invalid(
            N_("role and organization do not match"),
            {
                "role": [
                    said(
                        "a %(role)s user belongs to a %(kind)s organization",
                        role=role,
                        kind=expected_kind,
                    )
                ]
            },
        )


def list_users(*, session: Session, actor: Actor, organization_id: int | None = None) -> list[User]:
    """List users by organization: admins everyone's, others their own organization's."""
    unknown = NotFound(
        N_("no such organization"),
        {"organization_id": [N_("no such organization")]},
        location="query",
    )
    if not actor.is_admin:
        if organization_id not in (None, actor.organization_id):
            raise unknown  # another organization's users are as unknown as a missing one's
        organization_id = actor.organization_id
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise unknown
    query = select(User).order_by(User.organization_id.is_not(None), User.organization_id, User.id)
    if organization_id is not None:
        query = query.where(User.organization_id == organization_id)
    return list(session.scalars(query))


def update_user(
    *,
    session: Session,
    actor: Actor,
    user_id: int,
    name: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    language: str | None | EllipsisType = ...,
) -> User:
    """Rename a user, change its role or language, or (de)activate it (admins only).

    `language` left out keeps the user's language; None clears the user's own choice (its
    browser's counts again).

    Deactivating ends the user's browser sessions; its tokens are refused while it is
    inactive and work again, unless revoked, once it is reactivated.
    """
    actor.require("admin")
    user = get_user(session=session, user_id=user_id)
    if role is not None and role != user.role:
        check_role(role, user.organization)
        user.role = role
    if active is False and user.id == actor.user_id:
        raise Invalid(
            N_("you cannot deactivate yourself"), {"active": [N_("an admin stays active")]}
        )
    if active is False and user.active:
        end_web_sessions(session, WebSession.user_id == user.id)
    if active is not None:
        user.active = active
    if name is not None:
        user.name = name
    if not isinstance(language, EllipsisType):
        user.language = language
    session.flush()
    return user


def set_own_language(*, session: Session, actor: Actor, language: str | None) -> User:
    """Choose the language of one's own pages; None follows the browser again."""
    user = get_user(session=session, user_id=actor.user_id)
    user.language = language
    session.flush()
    return user


def list_tokens(*, session: Session, actor: Actor, user_id: int) -> list[ApiToken]:
    """List a user's API tokens, newest first, never their secret: admins, or the user."""
    if not actor.is_admin and actor.user_id != user_id:
        raise NotFound(N_("no such user"))
    user = get_user(session=session, user_id=user_id)
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def live_token_counts(session: Session) -> dict[int, int]:
    """Return how many unrevoked tokens each user holds (users with none are absent)."""
    rows = session.execute(
        select(ApiToken.user_id, func.count())
        .where(ApiToken.revoked_at.is_(None))
        .group_by(ApiToken.user_id)
    )
    return {user_id: count for user_id, count in rows}


def change_own_password(
    *, session: Session, actor: Actor, current_password: str, password: str, throttle: Throttle
) -> None:
    """Change the caller's own password, proving the current one first."""
    set_password(
        session=session,
        actor=actor,
        user_id=actor.user_id,
        password=password,
        current_password=current_password,
        throttle=throttle,
    )


def issue_token(
    *,
    session: Session,
    actor: Actor | None,
    user_id: int,
    current_password: str | None = None,
    throttle: Throttle | None = None,
) -> IssuedToken:
    """Issue a new API token for a user: admins for anyone else, a user for itself with its
    current password (see `prove_it_is_them`); `actor` None is the command line."""
    if actor is not None and not actor.is_admin and actor.user_id != user_id:
        raise NotFound(N_("no such user"))
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("no such user"))
    if actor is not None:
        prove_it_is_them(
            session=session,
            actor=actor,
            user=user,
            current_password=current_password,
            throttle=throttle,
        )
    token = new_token()
    api_token = ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:12])
    session.add(api_token)
    session.flush()
    return IssuedToken(
        id=api_token.id, token=token, user_id=user.id, created_at=api_token.created_at
    )


def revoke_token(*, session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Revoke a token: admins any, a user their own; revoking twice is harmless."""
    api_token = session.get(ApiToken, token_id)
    if api_token is None or (not actor.is_admin and api_token.user_id != actor.user_id):
        raise NotFound(N_("no such token"))
    if api_token.revoked_at is None:
        api_token.revoked_at = utcnow()
        end_web_sessions(session, WebSession.api_token_id == api_token.id)
    return api_token


def get_user(*, session: Session, user_id: int) -> User:
    """Return a user by id."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("no such user"))
    return user


PASSWORDS = PasswordHasher()
# Verified against when the email is unknown, so both paths take the same time.
_NOBODY = PASSWORDS.hash("no user has this password")


def set_password(
    *,
    session: Session,
    actor: Actor,
    user_id: int,
    password: str,
    current_password: str | None = None,
    throttle: Throttle | None = None,
) -> None:
    """Set a user's password for the pages: admins for anyone else, a user for itself with its
    current password (see `prove_it_is_them`)."""
    if not actor.is_admin and actor.user_id != user_id:
        raise NotFound(N_("no such user"))
    user = get_user(session=session, user_id=user_id)
    prove_it_is_them(
        session=session,
        actor=actor,
        user=user,
        current_password=current_password,
        throttle=throttle,
    )
    user.password_hash = PASSWORDS.hash(password)
    end_web_sessions(session, WebSession.user_id == user.id)
    session.flush()


def needs_current_password(actor: Actor, user: User) -> bool:
    """Say whether an actor gives the user's current password to set it or to mint tokens."""
    return actor.user_id == user.id and not (actor.is_admin and user.password_hash is None)


def prove_it_is_them(
    *,
    session: Session,
    actor: Actor,
    user: User,
    current_password: str | None,
    throttle: Throttle | None,
) -> None:
    """Refuse a user acting on its own password or tokens unless it gives its current password.

    A token alone must not leave behind a password, or tokens, that outlive its revocation.
    An admin acting on another user needs no password (it may set that user's anyway), nor does
    an admin setting its own first one (`fiducia bootstrap-admin` gives it only a token). Wrong
    passwords count with the account's failed sign-ins and are throttled with them.
    """
    if not needs_current_password(actor, user):
        return
    if not current_password:
        raise Invalid(
            N_("your current password is needed"),
            {"current_password": [N_("give your current password")]},
        )
    if throttle is None:
        raise RuntimeError("a current password is checked through the sign-in throttle")
    email = user.email
    with released(session):
        proven = throttle.check(
            lambda store: check_password(session=store, email=email, password=current_password),
            email=email,
        )
    if proven is None:
        raise Invalid(
            N_("the current password is wrong"),
            {"current_password": [N_("this is not your current password")]},
        )


def check_password(*, session: Session, email: str, password: str) -> User | None:
    """Return the active user with this email and password, or None."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    try:
        PASSWORDS.verify(user.password_hash if user and user.password_hash else _NOBODY, password)
    except (VerificationError, InvalidHashError):
        return None
    return user if user is not None and user.password_hash and user.active else None


def user_of_token(session: Session, token: str) -> tuple[User, int] | None:
    """Return the user behind a live API token and the token's id, or None."""
    api_token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if api_token is None or api_token.revoked_at is not None or not api_token.user.active:
        return None
    return api_token.user, api_token.id


def open_web_session(
    session: Session, user: User, api_token_id: int | None, lifetime: timedelta
) -> str:
    """Record a signed-in browser session and return its key, the cookie's only secret."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    # The user's ended and expired sessions go: a missing one refuses its cookie just the same.
    session.execute(
        delete(WebSession).where(
            WebSession.user_id == user.id,
            (WebSession.ended_at.is_not(None)) | (WebSession.expires_at <= now),
        )
    )
    session.add(
        WebSession(
            key_hash=hash_token(key),
            user_id=user.id,
            api_token_id=api_token_id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return key


def web_session_user(session: Session, key: str) -> User | None:
    """Return the user of a live browser session: not ended, not expired, its user active and
    its token live."""
    found = session.scalar(select(WebSession).where(WebSession.key_hash == hash_token(key)))
    if found is None or found.ended_at is not None or found.expires_at <= utcnow():
        return None
    if not found.user.active:
        return None
    if found.api_token_id is not None:
        api_token = session.get(ApiToken, found.api_token_id)
        if api_token is None or api_token.revoked_at is not None:
            return None
        if api_token.user_id != found.user_id:
            return None
    return found.user


def end_web_session(session: Session, key: str) -> None:
    """End one browser session (signing out): its cookie signs nobody in again."""
    end_web_sessions(session, WebSession.key_hash == hash_token(key))


def end_web_sessions(session: Session, which: ColumnElement[bool]) -> None:
    """End the live browser sessions that `which` selects."""
    session.execute(
        update(WebSession)
        .where(which, WebSession.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
