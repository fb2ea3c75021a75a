"""The sign-in throttle: too many wrong guesses at an account, or from an address, wait a while.

Failures are rows in the service's database, so every worker and every web replica counts the
same ones. Only failures are counted: a right password or token records nothing, so any number
of people may sign in at once. The credential is checked first, with no lock held; then a
transaction of its own holds the account's lock (PostgreSQL: an advisory lock per email;
SQLite: the write lock) while it counts the account's failures and records a failure, and
commits at once: a failure stays counted though its request answers 401 and rolls back, and
racing guesses at one account see each other.

An account with too many failures refuses every attempt, the right password too, before it is
checked: else a guesser would learn which guess was right. An address with too many failures
refuses only wrong credentials (429 instead of 401): many people may share one address (an
office, a proxy that is not trusted), and a guesser among them must not lock the others out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from flask import Flask, current_app, request
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from contracts.text import said
from service.accounts.models import SignInAttempt
from service.database.engine import take_write_lock, utcnow, writing
from service.edge.errors import TooManyRequests

# The first key of every account's advisory lock (PostgreSQL), apart from the jobs' locks.
ACCOUNT_LOCKS = 0x5349474E  # "SIGN"

Found = TypeVar("Found")


@dataclass(frozen=True, slots=True)
class Limits:
    """How many failures an account and an address may have in one window."""

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


@dataclass(frozen=True, slots=True)
class Throttle:
    """The shared count of failures, as one caller at one address meets it."""

    factory: sessionmaker[Session]
    limits: Limits
    address: str

    @classmethod
    def of_request(cls) -> Throttle:
        """Return the throttle of the current request's client address."""
        return cls(
            current_app.extensions["fiducia.sessionmaker"],
            Limits.of(current_app),
            request.remote_addr or "unknown",
        )

    def check(
        self, verify: Callable[[Session], Found | None], *, email: str | None
    ) -> Found | None:
        """Return what `verify` finds (None: the credential is wrong, and counted), or raise 429.

        `verify` checks the credential in a session of its own, with no lock held: a password's
        hash takes a good part of a second, and sign-ins must not queue behind each other's
        (on SQLite the write lock is one for everybody). Only then is the account's lock taken,
        briefly, to judge the attempt in turn with the others: a locked account refuses even
        the right password, and a wrong one is counted before the next is judged, so racing
        guesses see each other. `email` names the account (None: a token, counted per address
        only). Call it while no session of the caller holds SQLite's write lock (see
        `released`).
        """
        now = utcnow()
        account = email.strip().lower()[:320] if email else None
        address = self.address[:64]
        limits = self.limits
        with self.factory() as reader:
            found = verify(reader)
        with writing(self.factory) as store:
            if account is not None:
                _lock(store, account)
                wait = _wait(store, limits, now, SignInAttempt.email == account, limits.per_account)
                if wait:
                    raise too_many(wait)  # a refused attempt is no guess: nothing is recorded
            if found is not None:
                return found
            wait = _wait(store, limits, now, SignInAttempt.address == address, limits.per_address)
            store.execute(
                delete(SignInAttempt).where(SignInAttempt.attempted_at <= now - limits.window)
            )
            store.add(SignInAttempt(email=account, address=address, attempted_at=now))
        if wait:
            raise too_many(wait)
        return None


@contextmanager
def released(session: Session) -> Iterator[None]:
    """End the transaction of a request's session that has only read, while a check runs in
    its own; then take the write lock again.

    On SQLite the request's session holds the one write lock, which the check's transaction
    needs too; on PostgreSQL its connection is free for others meanwhile.
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a credential is checked before its request writes anything")
    session.rollback()
    yield
    take_write_lock(session)


def too_many(seconds: int) -> TooManyRequests:
    """Return the refusal of an attempt that must wait `seconds`."""
    minutes = math.ceil(seconds / 60)
    if minutes == 1:
        message = said("Too many failed attempts. Try again in a minute.")
    else:
        message = said(
            "Too many failed attempts. Try again in %(minutes)s minutes.", minutes=minutes
        )
    return TooManyRequests(message, retry_after=seconds)


def _lock(store: Session, account: str) -> None:
    """Hold the account's lock until the store commits: its checks take turns (PostgreSQL).

    SQLite needs none: the store's transaction holds the write lock from its start.
    """
    if store.get_bind().dialect.name == "postgresql":
        store.execute(select(func.pg_advisory_xact_lock(ACCOUNT_LOCKS, func.hashtext(account))))


def _wait(
    session: Session,
    limits: Limits,
    now: datetime,
    whose: ColumnElement[bool],
    limit: int,
) -> int:
    """Return the seconds until fewer than `limit` of these failures remain in the window."""
    earlier = session.scalars(
        select(SignInAttempt.attempted_at)
        .where(whose, SignInAttempt.attempted_at > now - limits.window)
        .order_by(SignInAttempt.attempted_at.desc())
        .offset(limit - 1)
        .limit(1)
    ).first()
    if earlier is None:
        return 0
    return max(1, math.ceil((earlier + limits.window - now).total_seconds()))
