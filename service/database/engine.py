"""Engine, declarative base and the per-request session."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    String,
    bindparam,
    cast,
    column,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from contracts.periods import Period

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Execution option: "IMMEDIATE" makes an SQLite transaction take the write lock at once.
SQLITE_BEGIN = "sqlite_begin"

# Integer on SQLite so that the key is the rowid and autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Document = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC; naive values are refused, values come back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: an instant needs an offset")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Month(TypeDecorator[Period]):
    """A calendar month stored as its `YYYY-MM` text; only a `Period` goes in, one comes back.

    The text sorts as the months follow each other, so `<` and `>` compare months in SQL;
    partition bounds and rows COPYed into a table write the same text.
    """

    impl = String(7)
    cache_ok = True

    def process_bind_param(self, value: Period | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Period):
            raise TypeError(f"a month is a Period, not {type(value).__name__}")
        return str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Period | None:
        return None if value is None else _month(value)


# A month's rows read thousands of the same text: each is parsed once.
_month = lru_cache(maxsize=1024)(Period.parse)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Return the current instant, aware, in UTC."""
    return datetime.now(UTC)


def engine_url(url: str) -> str:
    """Return the URL with the driver this project uses (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long, in seconds, a connection may take to open, a statement to run, and a
    statement to wait for a lock (SQLite: for the write lock, its busy timeout)."""

    connect: int
    statement: float
    lock: float

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Timeouts:
        """Read them from the app's configuration; `LONG_STATEMENTS` takes the long budget."""
        long = config.get("LONG_STATEMENTS", False)
        return cls(
            connect=config["DB_CONNECT_TIMEOUT"],
            statement=config["DB_LONG_STATEMENT_TIMEOUT" if long else "DB_STATEMENT_TIMEOUT"],
            lock=config["DB_LOCK_TIMEOUT"],
        )


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _postgres_connect_args(timeouts: Timeouts | None) -> dict[str, Any]:
    """Return the PostgreSQL session settings and, when given, the waits that bound it."""
    # Plan each query with its values: a month's aggregate over a contract of 200 calls and
    # one of 20,000 want different plans, and a cached generic plan picked the wrong one.
    settings = ["plan_cache_mode=force_custom_plan"]
    connect_args: dict[str, Any] = {}
    if timeouts is not None:
        settings += [
            f"statement_timeout={_milliseconds(timeouts.statement)}",
            f"lock_timeout={_milliseconds(timeouts.lock)}",
        ]
        connect_args = {
            "connect_timeout": max(2, timeouts.connect),  # libpq's least
            # A server gone from the network (nothing acknowledged) is given up on too.
            "tcp_user_timeout": _milliseconds(timeouts.statement),
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }
    return connect_args | {"options": " ".join(f"-c {setting}" for setting in settings)}


def make_engine(url: str, *, timeouts: Timeouts | None = None, **options: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout.

    With `timeouts` (the app's engine), every wait on the database is bounded; without them
    (migrations, benchmarks) statements may run as long as they take.
    """
    url = engine_url(url)
    if url.startswith("sqlite"):
        busy = timeouts.lock if timeouts is not None else 30
        engine = create_engine(url, connect_args={"timeout": busy}, **options)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # SQLAlchemy's recipe: let us emit BEGIN ourselves, so a transaction can take
            # the write lock up front (BEGIN IMMEDIATE) where two processes may race.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
            connection.exec_driver_sql(f"BEGIN {mode}")

        return engine
    connect_args = _postgres_connect_args(timeouts)
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **options)


def allow_long_statements(session: Session, seconds: float) -> None:
    """Give the statements of the session's transaction the long budget (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        budget = str(_milliseconds(seconds))
        session.execute(select(func.set_config("statement_timeout", budget, True)))


def attach(app: Flask) -> None:
    """Give the app its engine and its session factory (extensions `fiducia.engine`,
    `fiducia.sessionmaker`)."""
    engine = make_engine(app.config["DATABASE_URL"], timeouts=Timeouts.of(app.config))
    app.extensions["fiducia.engine"] = engine
    app.extensions["fiducia.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)


@contextmanager
def reading_whole_months(session: Session) -> Iterator[None]:
    """Plan the statements inside for reading whole months: no nested loops, no JIT
    (PostgreSQL).

    A month's relation joins thousands of calls to the log and the samples. Where the
    planner has no statistics yet (a database just loaded, a month's partition just filled,
    before autovacuum has analyzed it) it guesses one row each side, and a nested loop then
    scans the month's log once per call: seconds become minutes. Hash joins read each side
    once whatever the guess. A month's statement costs enough to be compiled by the JIT,
    which takes longer (a tenth of a second, measured by `make bench-statements`) than it
    saves on a month's rows. The settings are the transaction's, and put back after.
    """
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = session.execute(
        text("SELECT current_setting('enable_nestloop'), current_setting('jit')")
    ).one()
    session.execute(
        select(func.set_config("enable_nestloop", "off", True), func.set_config("jit", "off", True))
    )
    try:
        yield
    finally:
        session.execute(
            select(
                func.set_config("enable_nestloop", before[0], True),
                func.set_config("jit", before[1], True),
            )
        )


def analyze(session: Session) -> None:
    """Refresh the planner's statistics, as after any bulk load (PostgreSQL and SQLite)."""
    session.execute(text("ANALYZE"))


def take_write_lock(session: Session) -> None:
    """On SQLite, begin the session's transaction holding the write lock (BEGIN IMMEDIATE).

    SQLite lets a transaction that has read take the write lock only while nothing else was
    committed since its first read; otherwise it fails at once with "database is locked".
    A transaction that will write therefore takes the lock before it reads anything. This is
    the write lock that stands for PostgreSQL's row locks on the embedded database.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})


Row = TypeVar("Row", bound=Base)


def reread_locked(session: Session, model: type[Row], row_id: int) -> Row:
    """Re-read a row afresh, locked FOR UPDATE until commit (SQLite: the write lock).

    What the caller read before may be stale; what this returns is what it may change.
    """
    table = model.__table__
    return session.scalars(
        select(model)
        .where(table.c.id == row_id)
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    ).one()


@contextmanager
def writing(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session for a job's write, committed at the end (SQLite: write lock first)."""
    with factory.begin() as session:
        take_write_lock(session)
        yield session


def get_engine(app: Flask) -> Engine:
    """Return the app's engine."""
    engine: Engine = app.extensions["fiducia.engine"]
    return engine


def copy_rows(
    connection: Any, table: str, names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Stream rows into a PostgreSQL table with `COPY`, in the connection's transaction;
    return how many. Each row's values go in the order of `names`."""
    driver = connection.connection.driver_connection
    copied = 0
    with driver.cursor() as cursor, cursor.copy(
        f"COPY {table} ({', '.join(names)}) FROM STDIN"
    ) as copy:  # fmt: skip
        for row in rows:
            copy.write_row(row)
            copied += 1
    return copied


def rows_table(dialect: str, name: str, columns: Sequence[tuple[str, type[Any]]]) -> Any:
    """Return a table of the statement read from one JSON parameter, `<name>_rows`, whose value
    `rows_document` makes and the caller passes when it executes the statement.

    One parameter whatever the number of rows, so the statement is built and compiled once
    (a VALUES list of literal rows is compiled again at every call), and it runs on a hot
    standby (no temporary table). PostgreSQL reads it with `jsonb_to_recordset`, SQLite with
    `json_each`. `columns` are (name, kind): `int`, `str` or `datetime`.
    """
    parameter = bindparam(f"{name}_rows", type_=String)
    if dialect == "postgresql":
        kinds: dict[type[Any], Any] = {
            int: BigInteger(),
            str: String(),
            datetime: DateTime(timezone=True),
        }
        typed: list[Any] = [column(column_name, kinds[kind]) for column_name, kind in columns]
        function = func.jsonb_to_recordset(cast(parameter, JSONB))
        return function.table_valued(*typed).render_derived(name=name, with_types=True)
    each = func.json_each(parameter).table_valued("value").alias(f"{name}_json")
    return select(
        *(
            func.json_extract(each.c.value, f"$.{column_name}").label(column_name)
            for column_name, _ in columns
        )
    ).subquery(name)


def rows_document(
    dialect: str, columns: Sequence[tuple[str, type[Any]]], rows: Iterable[Sequence[Any]]
) -> str:
    """Return the JSON value of a `rows_table` parameter: the rows as objects, an instant as
    the dialect stores one."""
    names = [column_name for column_name, _ in columns]
    return json.dumps(
        [{key: _json_value(value, dialect) for key, value in zip(names, row, strict=True)}
         for row in rows]
    )  # fmt: skip


def _json_value(value: Any, dialect: str) -> Any:
    """Write a value as `rows_table` sends it: an instant in UTC, as SQLite stores one (text
    that compares in order) or with its offset for PostgreSQL."""
    if isinstance(value, datetime):
        stored = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return stored if dialect == "sqlite" else stored + "+00:00"
    return value


def upsert_statement(session: Session, table: Any) -> Any:
    """Return an INSERT for `table` with `ON CONFLICT` clauses, in the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
