"""The sign-in throttle: too many failed sign-ins per account or per address wait a while.

Attempts are rows in the service's database, so every worker and every web replica counts
the same ones. An attempt is recorded (and committed, in a transaction of its own) before the
password is checked, and a successful sign-in removes it with the request's own commit: a
failure stays counted even though its request answers 401 and rolls back, and racing guesses
see each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session, sessionmaker

from service.accounts.models import SignInAttempt
from service.db import utcnow, writing
from service.errors import TooManyRequests


@dataclass(frozen=True, slots=True)
class Limits:
    """How many attempts an account and an address may have in one window."""

    window: timedelta
    per_account: int
    per_address: int

    @classmethod
    def of(cls, app: Flask) -> Limits:
        config = app.config
        return cls(
            config["SIGN_IN_WINDOW"],
            config["SIGN_IN_ACCOUNT_LIMIT"],
            config["SIGN_IN_ADDRESS_LIMIT"],
        )


def admit(
    factory: sessionmaker[Session], limits: Limits, *, email: str | None, address: str
) -> int:
    """Record a sign-in attempt and return its id, or raise 429 if too many came before it.

    Call it before the request's own session is opened: on SQLite that session holds the
    write lock, which this attempt's transaction needs too.
    """
    now = utcnow()
    email = email.strip().lower()[:320] if email else None
    with writing(factory) as session:
        session.execute(
            delete(SignInAttempt).where(SignInAttempt.attempted_at <= now - limits.window)
        )
        attempt = SignInAttempt(email=email, address=address[:64], attempted_at=now)
        session.add(attempt)
        session.flush()
        attempt_id = attempt.id
    with writing(factory) as session:
        retry_after = max(
            _wait(session, limits, now, attempt_id, SignInAttempt.address == address[:64],
                  limits.per_address),
            _wait(session, limits, now, attempt_id, SignInAttempt.email == email,
                  limits.per_account) if email else 0,
        )  # fmt: skip
        if retry_after:
            # A refused attempt is not a guess: it does not prolong the wait.
            session.execute(delete(SignInAttempt).where(SignInAttempt.id == attempt_id))
    if retry_after:
        minutes = math.ceil(retry_after / 60)
        raise TooManyRequests(
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' * (minutes != 1)}.",
            retry_after=retry_after,
        )
    return attempt_id


def _wait(
    session: Session,
    limits: Limits,
    now: datetime,
    attempt_id: int,
    whose: ColumnElement[bool],
    limit: int,
) -> int:
    """Return the seconds until fewer than `limit` earlier attempts remain in the window."""
    earlier = session.scalars(
        select(SignInAttempt.attempted_at)
        .where(
            whose,
            SignInAttempt.id < attempt_id,
            SignInAttempt.attempted_at > now - limits.window,
        )
        .order_by(SignInAttempt.attempted_at.desc())
        .offset(limit - 1)
        .limit(1)
    ).first()
    if earlier is None:
        return 0
    return max(1, math.ceil((earlier + limits.window - now).total_seconds()))


def forget(session: Session, attempt_id: int) -> None:
    """Remove a successful attempt, with the request's commit; a success is not a failure."""
    session.execute(delete(SignInAttempt).where(SignInAttempt.id == attempt_id))
