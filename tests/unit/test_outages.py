"""Which database errors are outages (503) and which stay bugs (500), driver by driver."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from service.database.outages import outage_of


def sqlite_error(code: int, message: str) -> OperationalError:
    cause = sqlite3.OperationalError(message)
    cause.sqlite_errorcode = code
    return OperationalError("SELECT 1", None, cause)


def postgres_error(cause: Exception) -> DBAPIError:
    return DBAPIError.instance("SELECT 1", None, cause, psycopg.Error)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (sqlite_error(13, "database or disk is full"), "full"),
        (sqlite_error(5, "database is locked"), "timeout"),
        (sqlite_error(5 | (1 << 8), "database is locked (recovery)"), "timeout"),
        (sqlite_error(10, "disk I/O error"), "unavailable"),
        (sqlite_error(14, "unable to open database file"), "unavailable"),
        (sqlite_error(1, "no such table: nothing"), None),
        (postgres_error(psycopg.errors.DiskFull("could not extend file")), "full"),
        (postgres_error(psycopg.errors.QueryCanceled("statement timeout")), "timeout"),
        (postgres_error(psycopg.errors.LockNotAvailable("lock timeout")), "timeout"),
        (postgres_error(psycopg.errors.ConnectionTimeout("connection timeout expired")), "timeout"),
        (postgres_error(psycopg.errors.AdminShutdown("terminating connection")), "unavailable"),
        (postgres_error(psycopg.errors.TooManyConnections("too many clients")), "unavailable"),
        (postgres_error(psycopg.OperationalError("connection refused")), "unavailable"),
        (postgres_error(psycopg.errors.SerializationFailure("could not serialize")), None),
        (postgres_error(psycopg.errors.UndefinedTable("no such table")), None),
        (postgres_error(psycopg.errors.ProgramLimitExceeded("too many columns")), None),
        (PoolTimeout("QueuePool limit reached"), "timeout"),
        (ValueError("not the database's"), None),
    ],
)
def test_an_error_is_an_outage_only_when_the_database_cannot_serve(
    error: Exception, reason: str | None
) -> None:
    outage = outage_of(error)
    assert (outage.reason if outage is not None else None) == reason


def test_a_lost_connection_of_any_kind_is_an_outage() -> None:
    lost = ProgrammingError("SELECT 1", None, psycopg.InterfaceError("the connection is lost"))
    lost.connection_invalidated = True
    outage = outage_of(lost)
    assert outage is not None and outage.reason == "unavailable"
