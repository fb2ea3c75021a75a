"""Database outages: which errors mean the database is down, slow or full, not a bug.

A request that meets one answers 503 with `Retry-After` (see `service.edge.errors`), and `/health`
says the same while it lasts. Every other database error stays what it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from service.language.i18n import N_


@dataclass(frozen=True, slots=True)
class Outage:
    """Why the database cannot serve now, said to people, and when to try again."""

    reason: str
    message: str
    retry_after: int


UNAVAILABLE = Outage(
    "unavailable", N_("the database is unavailable: it cannot be reached; retry later"), 30
)
TIMEOUT = Outage(
    "timeout", N_("the database is unavailable: it did not answer in time; retry later"), 10
)
FULL = Outage(
    "full",
    N_("the database is full: nothing more can be stored until space is freed; retry later"),
    300,
)

# SQLite's primary result codes that mean the file cannot serve now (sqlite3.h).
SQLITE_OUTAGES = {
    5: TIMEOUT,  # SQLITE_BUSY: the busy timeout (our lock timeout) ran out
    6: TIMEOUT,  # SQLITE_LOCKED
    7: UNAVAILABLE,  # SQLITE_NOMEM
    8: UNAVAILABLE,  # SQLITE_READONLY: the file or its file system turned read-only
    10: UNAVAILABLE,  # SQLITE_IOERR
    13: FULL,  # SQLITE_FULL: "database or disk is full"
    14: UNAVAILABLE,  # SQLITE_CANTOPEN
}
# PostgreSQL's SQLSTATEs (and classes) that mean the server cannot serve now.
POSTGRES_OUTAGES = {
    "53100": FULL,  # disk_full
    "57014": TIMEOUT,  # query_canceled: statement_timeout
    "55P03": TIMEOUT,  # lock_not_available: lock_timeout
}
POSTGRES_OUTAGE_CLASSES = {
    "08": UNAVAILABLE,  # connection exception
    "53": UNAVAILABLE,  # insufficient resources: memory, connections
    "57": UNAVAILABLE,  # operator intervention: shutdown, cannot connect now
    "58": UNAVAILABLE,  # system error: I/O
}

# Below this much room for the SQLite file to grow, /health says the database is full.
HEADROOM = 4 * 1024 * 1024


def outage_of(error: BaseException) -> Outage | None:
    """Say which outage an error of the database means, or None if it is no outage."""
    if isinstance(error, PoolTimeout):
        return TIMEOUT  # every pooled connection stayed busy past the pool's timeout
    if not isinstance(error, DBAPIError):
        return None
    cause = error.orig
    if isinstance(cause, sqlite3.Error):
        return SQLITE_OUTAGES.get((getattr(cause, "sqlite_errorcode", None) or 0) & 0xFF)
    if isinstance(cause, psycopg.errors.ConnectionTimeout):
        return TIMEOUT
    if isinstance(cause, psycopg.OperationalError):
        state = cause.sqlstate
        if state is None:  # no answer from a server at all: refused, lost, unknown host
            return UNAVAILABLE
        return POSTGRES_OUTAGES.get(state) or POSTGRES_OUTAGE_CLASSES.get(state[:2])
    return UNAVAILABLE if error.connection_invalidated else None


def health(engine: Engine) -> Outage | None:
    """Ask the database to answer; on SQLite, say it is full when its file has no room left.

    A database that does not answer raises (the caller answers the error's outage).
    """
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        if connection.dialect.name == "sqlite" and sqlite_room(connection) < HEADROOM:
            return FULL
    return None


def sqlite_room(connection: Connection) -> int:
    """Return how many bytes the SQLite file may still grow: its page limit and its disk."""

    def pragma(name: str) -> int:
        return int(connection.exec_driver_sql(f"PRAGMA {name}").scalar_one())

    page_size, free_pages = pragma("page_size"), pragma("freelist_count")
    room = (pragma("max_page_count") - pragma("page_count") + free_pages) * page_size
    path = connection.engine.url.database
    if path and path != ":memory:":
        folder = os.path.dirname(os.path.abspath(path))
        room = min(room, shutil.disk_usage(folder).free + free_pages * page_size)
    return room
