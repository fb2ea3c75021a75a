"""Organizations, users and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.database.engine import Base, BigId, UTCDateTime, utcnow

ORGANIZATION_KINDS = ("client", "supplier")
ROLES = ("admin", "client", "finance", "supplier")
# The kind of organization each non-admin role belongs to.
ROLE_ORGANIZATION_KIND = {"client": "client", "finance": "client", "supplier": "supplier"}
# The languages people read Fiducia in (DESIGN §15); English when nothing says otherwise.
LANGUAGES = ("it", "en")


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (CheckConstraint("kind IN ('client', 'supplier')", name="kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Where finalized statements are announced (client organizations), signed with the secret.
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_secret: Mapped[str | None] = mapped_column(String(200))
    # The language of its report files and of its notices' text.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'client', 'finance', 'supplier')", name="role"),
        CheckConstraint("role = 'admin' OR organization_id IS NOT NULL", name="member"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    # argon2 hash of the password for signing in to the pages; null: tokens only.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # A deactivated user signs in to nothing: its tokens and sessions are refused while it is.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The language of its pages; null: the browser's (Accept-Language), else English.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization | None] = relationship(lazy="joined")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # SHA-256 of the token: tokens are random and long, so a fast hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class WebSession(Base):
    """A signed-in browser session, known to the server so that it can end it.

    The cookie carries only a random key; the server keeps its hash, who it signed in, with
    which token (null: a password), until when, and when it ended (sign-out, a password
    change, the token's revocation).
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    api_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class SignInAttempt(Base):
    """A failed sign-in (a wrong password or token) or a wrong current password: what the
    throttle counts."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_email_at", "email", "attempted_at"),
        Index("ix_sign_in_attempts_address_at", "address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
