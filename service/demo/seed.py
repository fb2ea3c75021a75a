"""One way to build a world: organizations, members with tokens, forms and contracts.

The demo, the benchmarks and the test fixtures all build their data here, through the same
services the API calls, so what they build obeys the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from contracts.examples import QUALITY_TERMS, STANDARD_FORM, load_example
from service.accounts.models import Organization, User
from service.accounts.service import create_organization, create_user, issue_token
from service.agreements.models import Contract
from service.agreements.service import create_contract
from service.edge.actors import OPERATOR, Actor, actor_of
from service.forms.models import Form
from service.forms.service import publish_form


@dataclass(frozen=True, slots=True)
class Member:
    """A user with a fresh API token, and the actor it acts as."""

    user: User
    token: str

    @property
    def actor(self) -> Actor:
        return actor_of(self.user)


def organization(session: Session, name: str, kind: str, language: str = "en") -> Organization:
    """Create a client or supplier organization, as the operator."""
    return create_organization(
        session=session, actor=OPERATOR, name=name, kind=kind, language=language
    )


def member(
    session: Session,
    organization: Organization | None,
    *,
    role: str,
    email: str,
    name: str | None = None,
) -> Member:
    """Create a user of an organization (None: an admin) and issue its first token."""
    user = create_user(
        session=session,
        actor=None,
        organization_id=organization.id if organization else None,
        name=name or email.split("@")[0],
        email=email,
        role=role,
    )
    token = issue_token(session=session, actor=None, user_id=user.id).token
    return Member(user, token)


def standard_form(session: Session, client: Member) -> Form:
    """Publish the shipped standard form for a client (the same form again is a no-op)."""
    form, _ = publish_form(
        session=session,
        actor=client.actor,
        document=load_example(STANDARD_FORM),
        organization_id=None,
    )
    return form


def contract(
    session: Session,
    client: Member,
    supplier: Organization,
    *,
    name: str,
    effective_from: date,
    terms: dict[str, Any] | None = None,
) -> Contract:
    """Create a client's contract with a supplier, on the shipped quality terms by default."""
    assert client.user.organization_id is not None
    return create_contract(
        session=session,
        actor=client.actor,
        client_id=client.user.organization_id,
        supplier_id=supplier.id,
        name=name,
        effective_from=effective_from,
        terms=terms if terms is not None else load_example(QUALITY_TERMS),
    )
