"""A request's session (DESIGN §3): opened on first use, committed once when the view has
answered, rolled back on an error; a refusal at commit is a 409, an outage a 503. Work left for
after the commit runs then, with no lock held."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, request
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from service.database.engine import attach, take_write_lock
from service.database.outages import outage_of
from service.edge.errors import conflict_response, outage_response
from service.edge.schemas import requested_view

log = logging.getLogger(__name__)


# Work a request leaves for after its commit, with the session factory: no lock held then.
AfterCommit = Callable[[sessionmaker[Session]], object]
AFTER_COMMIT = "after_commit"


def after_commit(callback: AfterCommit) -> None:
    """Run `callback` with the session factory once this request's transaction has committed
    (not at all if it rolls back); a failure is logged and the answer stays as it is."""
    g.setdefault(AFTER_COMMIT, []).append(callback)


def init_app(app: Flask) -> None:
    """Give the app its engine, and each request one session committed once at its end."""
    attach(app)

    @app.after_request
    def _commit_or_roll_back(response: Any) -> Any:
        session: Session | None = g.pop("db_session", None)
        callbacks: list[AfterCommit] = g.pop(AFTER_COMMIT, [])
        if session is None:
            return response
        try:
            if response.status_code >= 400:
                _roll_back(session)
                return response
            committed = _commit(session, response)
        finally:
            session.close()
        if committed is not response:
            return committed  # refused at commit: nothing to follow it
        for callback in callbacks:
            try:
                callback(app.extensions["fiducia.sessionmaker"])
            except Exception:
                # What was committed stands; the work left undone is picked up elsewhere.
                log.exception("after the commit of %s %s", request.method, request.path)
        return response

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            _roll_back(session)
            session.close()


def _commit(session: Session, response: Any) -> Any:
    """Commit a request's work; a refusal at commit is a 409, an outage a 503."""
    try:
        session.commit()
    except IntegrityError as error:
        # A unique key (or a guard in the database) refused the commit itself.
        session.rollback()
        return conflict_response(error)
    except (OperationalError, PoolTimeout) as error:
        outage = outage_of(error)
        if outage is None:
            raise
        _roll_back(session)
        return outage_response(outage)
    return response


def _roll_back(session: Session) -> None:
    """Roll a request's work back; a database gone meanwhile has nothing left to roll back."""
    try:
        session.rollback()
    except (OperationalError, PoolTimeout) as error:
        if outage_of(error) is None:
            raise


# Methods that only read; every other request may write.
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session() -> Session:
    """Return the session of the current request, opening it on first use.

    A request that may write (any method but GET, HEAD, OPTIONS) takes the write lock first
    on SQLite (see `take_write_lock`), unless its view reads its input first
    (`reads_input_first`): that one writes only after `begin_writing`.
    """
    if "db_session" not in g:
        session = current_app.extensions["fiducia.sessionmaker"]()
        if request.method not in READING_METHODS and not reading_input_first():
            take_write_lock(session)
        g.db_session = session
    found: Session = g.db_session
    return found


View = TypeVar("View", bound=Callable[..., Any])
READS_INPUT_FIRST = "reads_input_first"


def reads_input_first(view: View) -> View:
    """Mark a view that reads a file or a document before it writes (DESIGN §14).

    Its request takes no lock while the input is read, however long that takes: what it
    reads on the way (its caller, the contract) it reads in a transaction of its own, and
    it writes in the one `begin_writing` begins once the input is read.
    """
    setattr(view, READS_INPUT_FIRST, True)
    return view


def writes_once_read(view: View) -> View:
    """Mark a view whose input is its arguments (a document in its body) as one that reads
    its input first, and begin writing when it runs: put it next to the view, under the
    decorators that read the arguments."""

    @functools.wraps(view)
    def writing(*args: Any, **kwargs: Any) -> Any:
        begin_writing(get_session())
        return view(*args, **kwargs)

    return reads_input_first(cast(View, writing))


def reading_input_first() -> bool:
    """Say whether the request's view reads its input before it writes."""
    return bool(getattr(requested_view(), READS_INPUT_FIRST, False))


def end_reading(session: Session) -> None:
    """End the session's transaction, which only read; what it loaded stays loaded."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a transaction that only reads was about to write")
    if session.in_transaction():
        session.commit()  # nothing to write: it lets go of what it read (and its locks)


def begin_writing(session: Session) -> None:
    """Begin a `reads_input_first` request's writing transaction, its input read: on SQLite
    it holds the write lock from its first statement (see `take_write_lock`)."""
    end_reading(session)
    take_write_lock(session)
