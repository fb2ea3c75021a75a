"""Who is acting: the caller of a request, the operator, and what a role may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import g

from service.edge.errors import Forbidden


class Member(Protocol):
    """What an actor is made from: a user's id, role and organization."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def organization_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated caller: a user, their role and their organization."""

    user_id: int
    role: str
    organization_id: int | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def recorded_user_id(self) -> int | None:
        """Return the user to record as the author of a change: None for the operator."""
        return None if self == OPERATOR else self.user_id

    def require(self, *roles: str) -> None:
        """Refuse with 403 unless the caller has one of `roles` (admins always may)."""
        if not self.is_admin and self.role not in roles:
            raise Forbidden(f"the {self.role} role may not do this")


# The operator itself (the command line, the demo, a seed): an admin that is no user.
OPERATOR = Actor(user_id=0, role="admin", organization_id=None)


def actor_of(user: Member) -> Actor:
    """Return the actor a user acts as."""
    return Actor(user_id=user.id, role=user.role, organization_id=user.organization_id)


def current_actor() -> Actor:
    """Return the caller of the current request."""
    actor: Actor = g.actor
    return actor
