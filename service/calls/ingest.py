"""Logging calls: the supplier's batches and files, all or nothing.

A batch or a file goes into a temporary staging table (PostgreSQL `COPY`; SQLite inserts in
chunks) and joins the log in one statement; logging a call again with the same content
changes nothing, with other content it is a 409 naming the call.
"""

from __future__ import annotations

import logging
import pickle
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

import psycopg
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from contracts.periods import Period
from service.agreements.models import Contract
from service.agreements.service import (
    PeriodTerms,
    get_contract,
    lock_contracts,
    period_of,
    terms_for_period,
    timeline_of,
)
from service.calls import raw
from service.calls.models import Call, call_months
from service.calls.rows import COLUMNS, Checked, CsvRows, LogClosed, Refused, check_call
from service.database.engine import UTCDateTime, copy_rows, utcnow
from service.database.stamps import touch
from service.edge.actors import Actor
from service.edge.errors import Conflict, Invalid

log = logging.getLogger(__name__)

MAX_BATCH = 10_000
KEEP_PROBLEMS = 1000  # problems listed in one answer; the rest are counted
# A supplier's clock may run a little ahead of ours.
CLOCK_SKEW = timedelta(minutes=5)
# What a logged call holds besides its key: what "the same content" compares.
CONTENT = ("call_at", "agent_ref", "team", "queue", "direction", "duration_s", "outcome",
           "wait_s", "handle_s", "caller_ref")  # fmt: skip
STAGED = ("row_no", "call_ref", *CONTENT, "period")


def log_closes_at(contract: Contract, period: Period) -> datetime:
    """Return when a period's call log closes: `log_closes_days` after it ends, local time."""
    return timeline_of(contract, period).log_closes


class LogCalendar:
    """Which month of a contract's log a call time falls in, and whether it may be logged.

    A call may be logged while its month's log is open: not in the future, not before the
    contract's terms start or after it ends, and before `log_closes_at`. The last month
    found is kept, so a file of one month's calls costs one comparison a row.
    """

    def __init__(self, contract: Contract, now: datetime) -> None:
        self.contract = contract
        self.now = now
        self.latest = now + CLOCK_SKEW
        self.first = contract.terms_versions[0].effective_from
        self.ends_on = contract.ends_on
        self.kept: tuple[datetime, datetime, str | LogClosed] | None = None

    def __call__(self, instant: datetime) -> str | LogClosed:
        if instant > self.latest:
            return LogClosed("is in the future")
        kept = self.kept
        if kept is not None and kept[0] <= instant < kept[1]:
            return kept[2]
        period = period_of(self.contract, instant)
        start, end = period.bounds(terms_for_period(self.contract, period).timezone)
        self.kept = (start, end, self.answer(period))
        return self.kept[2]

    def answer(self, period: Period) -> str | LogClosed:
        """Return the month itself if its calls may be logged now, else why not.

        The month is the `YYYY-MM` text its calls are staged with: COPY writes it as it is.
        """
        if period.end_day <= self.first:
            return LogClosed(f"is before the contract's terms start on {self.first}")
        if self.ends_on is not None and period.first_day > self.ends_on:
            return LogClosed(f"is after the contract ends on {self.ends_on}")
        closes = log_closes_at(self.contract, period)
        if self.now >= closes:
            return LogClosed(
                f"the call log of {period} closed at {closes.isoformat()}; "
                "its calls can no longer be logged"
            )
        return str(period)


def writable_contract(session: Session, actor: Actor, contract_id: int) -> Contract:
    """Return a contract whose log the caller writes, locked: 404 outside it, 403 by role.

    One writer of a contract's log at a time (so a batch finds what the one before it
    stored), and never while its statement or its samples are being made.
    """
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    actor.require("supplier")
    lock_contracts(session, [contract.id], "calls")
    return contract


@dataclass(frozen=True, slots=True)
class Logged:
    """What logging did: calls new to the log, and calls it already held the same."""

    created: int
    unchanged: int
    rejected: list[dict[str, Any]] = field(default_factory=list)


def log_calls(
    *,
    session: Session,
    actor: Actor,
    contract_id: int,
    calls: Sequence[Any],
    now: datetime | None = None,
) -> Logged:
    """Log a batch of calls, all or nothing; every bad call is named by index and field."""
    contract = writable_contract(session, actor, contract_id)
    calendar = LogCalendar(contract, now or utcnow())
    checked: list[tuple[int, Checked]] = []
    errors: dict[int, Any] = {}
    for index, record in enumerate(calls):
        if not isinstance(record, Mapping):
            errors[index] = {"_schema": ["must be an object"]}
            continue
        row, problems = check_call(record, calendar, from_text=False)
        problems |= {name: ["unknown field"] for name in record if name not in COLUMNS}
        if problems:
            errors[index] = problems
        elif row is not None:
            checked.append((index, row))
    if errors:
        raise Invalid("no call was logged: fix every call listed", {"calls": errors})
    stored = _store(session, contract, actor, iter(checked), calendar.now)
    clashes = stored.problems()
    if clashes:
        raise Conflict(
            "no call was logged: these calls are logged with other content",
            {"calls": {index: {"call_ref": messages} for index, messages in clashes.items()}},
        )
    return Logged(stored.created, stored.unchanged)


def log_calendar(
    *, session: Session, actor: Actor, contract_id: int, now: datetime | None = None
) -> LogCalendar:
    """Return the calendar a file of a contract's calls is checked against, now: 404 outside
    the contract, 403 for a role that does not log calls. Nothing is locked."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    actor.require("supplier")
    return LogCalendar(contract, now or utcnow())


@dataclass
class CallsFile:
    """A CSV file of calls read and checked, nothing written: its good rows wait, pickled a
    chunk at a time, in a temporary file; `months` holds the first row of each month."""

    contract_id: int
    now: datetime
    read_at: datetime
    spool: IO[bytes]
    months: dict[str, int]

    def rows(self) -> Iterator[tuple[int, Checked]]:
        self.spool.seek(0)
        while True:
            try:
                chunk: list[tuple[int, Checked]] = pickle.load(self.spool)  # written by _spool
            except EOFError:
                return
            yield from chunk


SPOOL_CHUNK = 10_000


def read_calls_file(
    calendar: LogCalendar,
    stream: IO[bytes],
    max_bytes: int | None,
    rows_of: Callable[..., CsvRows] = CsvRows,
) -> CallsFile:
    """Read and check a file of calls (gzip or not) against the log's calendar, before
    anything is locked or written; the caller closes its `spool`.

    The native CSV is read by `CsvRows`; a telephony format by its own `rows_of`, into the
    same checked rows. A bad row is answered with every bad row found (by row and column).
    """
    rows = rows_of(stream, calendar, keep=KEEP_PROBLEMS, max_bytes=max_bytes)
    read = CallsFile(calendar.contract.id, calendar.now, utcnow(), tempfile.TemporaryFile(), {})
    try:
        _spool(rows, read)
    except Refused as refused:
        read.spool.close()
        said = str(refused)
        raise Invalid(f"no call was logged: {said}", {"file": [said]}, location="files") from None
    except BaseException:
        read.spool.close()
        raise
    assert rows.rejected is not None
    if rows.bad:
        read.spool.close()
        rejected = list(rows.rejected)
        cut = len(rejected) >= KEEP_PROBLEMS
        more = f"; the first {len(rejected):,} problems are listed" if cut else ""
        bad = f"{rows.bad:,} rows of the file are" if rows.bad != 1 else "1 row of the file is"
        _refuse_file(Invalid, f"no call was logged: {bad} bad{more}", rejected)
    return read


def _spool(rows: CsvRows, read: CallsFile) -> None:
    """Put the good rows in the file's spool; once a row is bad, only check the rest."""
    chunk: list[tuple[int, Checked]] = []
    for number, checked in rows:
        if rows.bad:
            continue
        read.months.setdefault(checked[-1], number)
        chunk.append((number, checked))
        if len(chunk) == SPOOL_CHUNK:
            pickle.dump(chunk, read.spool, pickle.HIGHEST_PROTOCOL)
            chunk = []
    pickle.dump(chunk, read.spool, pickle.HIGHEST_PROTOCOL)


def log_calls_file(*, session: Session, actor: Actor, read: CallsFile) -> Logged:
    """Add a file's calls to the log, all or nothing, under the contract's lock.

    A month whose log closed while the file was read is refused as any closed month is
    (its samples may be drawn): the file's time moves on by the time reading it took.
    """
    contract = writable_contract(session, actor, read.contract_id)
    calendar = LogCalendar(contract, read.now + (utcnow() - read.read_at))
    closed = [
        (row, "call_at", answer.message)
        for month, row in read.months.items()
        if isinstance(answer := calendar.answer(Period.parse(month)), LogClosed)
    ]
    if closed:
        _refuse_file(Invalid, "no call was logged: a month's log closed meanwhile", closed)
    stored = _store(session, contract, actor, read.rows(), read.now)
    clashes = stored.problems()
    if clashes:
        rejected = [
            (row, "call_ref", message) for row, messages in clashes.items() for message in messages
        ]
        _refuse_file(Conflict, "no call was logged: the file clashes with logged calls", rejected)
    return Logged(stored.created, stored.unchanged)


def log_raw_file(
    *,
    session: Session,
    actor: Actor,
    calendar: LogCalendar,
    stream: IO[bytes],
    max_bytes: int | None = None,
) -> Logged | None:
    """Log a native CSV file the fast way, all or nothing (PostgreSQL, see `raw`): COPYed raw
    and checked in SQL, then stored under the contract's lock as `log_calls_file` stores.

    None when the file must be read the slow way (`read_calls_file`), which names what is
    wrong with it; nothing is written then, and `stream` is back at its start.
    """
    contract = calendar.contract
    zones = {PeriodTerms(version).timezone for version in contract.terms_versions}
    if session.get_bind().dialect.name != "postgresql" or len(zones) != 1:
        return None
    (zone,) = zones
    read_at = utcnow()
    savepoint = session.begin_nested()
    try:
        found = raw.copy_raw(session, stream, max_bytes, zone)
        months = found.months()
        if found.last > calendar.latest or any(_closed(calendar, month) for month in months):
            raise raw.NotFast("a call is in the future, or a month's log is closed")
    except (raw.NotFast, DBAPIError, psycopg.Error) as why:
        log.info("a file of contract %s's calls goes the slow way: %s", contract.id, why)
        savepoint.rollback()
        stream.seek(0)
        return None
    savepoint.commit()
    contract = writable_contract(session, actor, contract.id)
    locked = LogCalendar(contract, calendar.now + (utcnow() - read_at))
    stored = _store(session, contract, actor, found, calendar.now, locked)
    clashes = stored.problems()
    if clashes:
        rejected = [
            (row, "call_ref", message) for row, messages in clashes.items() for message in messages
        ]
        _refuse_file(Conflict, "no call was logged: the file clashes with logged calls", rejected)
    return Logged(stored.created, stored.unchanged)


def _closed(calendar: LogCalendar, month: Period) -> bool:
    return isinstance(calendar.answer(month), LogClosed)


def upload_calls(
    *,
    session: Session,
    actor: Actor,
    contract_id: int,
    stream: IO[bytes],
    now: datetime | None = None,
    max_bytes: int | None = None,
) -> Logged:
    """Log a CSV file of calls (gzip or not), all or nothing: read it, then store it."""
    calendar = log_calendar(session=session, actor=actor, contract_id=contract_id, now=now)
    logged = log_raw_file(
        session=session, actor=actor, calendar=calendar, stream=stream, max_bytes=max_bytes
    )
    if logged is not None:
        return logged
    read = read_calls_file(calendar, stream, max_bytes)
    with read.spool:
        return log_calls_file(session=session, actor=actor, read=read)


def preview_calls_file(rows: CsvRows) -> dict[str, Any]:
    """Read a file of calls as a dry run: how its first rows map, and every bad row; nothing
    is spooled, locked or written."""
    try:
        read = sum(1 for _ in rows)
    except Refused as refused:
        said = str(refused)
        raise Invalid(f"no call was logged: {said}", {"file": [said]}, location="files") from None
    assert rows.rejected is not None
    mapped = getattr(rows, "preview", None) or []
    return {
        "rows": rows.rows,
        "good": read,
        "bad": rows.bad,
        "mapped": [{"row": number} | dict(native) for number, native in mapped],
        "rejected": [
            {"row": row, "column": column, "message": said} for row, column, said in rows.rejected
        ],
    }


def _refuse_file(
    kind: type[Invalid] | type[Conflict], message: str, rejected: Sequence[tuple[int, str, str]]
) -> None:
    """Refuse a file row by row: the house error shape (`errors.files.file.<row>.<column>`),
    and beside it the upload's own answer with every rejected row listed."""
    errors: dict[int, dict[str, list[str]]] = {}
    for row, column, said in rejected:
        errors.setdefault(row, {}).setdefault(column, []).append(said)
    listed = [{"row": row, "column": column, "message": said} for row, column, said in rejected]
    raise kind(
        message,
        {"file": errors},
        location="files",
        extra={"created": 0, "unchanged": 0, "rejected": listed},
    )


# Staging and storing ----------------------------------------------------------------------

STAGING = Table(
    "call_staging",
    MetaData(),
    Column("row_no", BigInteger),
    Column("call_ref", String(200)),
    Column("call_at", UTCDateTime),
    Column("agent_ref", String(200)),
    Column("team", String(200)),
    Column("queue", String(200)),
    Column("direction", String(8)),
    Column("duration_s", Integer),
    Column("outcome", String(16)),
    Column("wait_s", Integer),
    Column("handle_s", Integer),
    Column("caller_ref", String(200)),
    Column("period", String(7)),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
SQLITE_CHUNK = 5000


@dataclass
class Stored:
    """What storing staged calls found: how many were new, how many the same, which changed,
    and which repeat an earlier row of the same batch (by row or index)."""

    staged: int = 0
    created: int = 0
    unchanged: int = 0
    changed: dict[int, list[str]] = field(default_factory=dict)
    repeats: dict[int, list[str]] = field(default_factory=dict)
    months: Sequence[str] | None = None  # the staged calls' months, if known (or more)

    def problems(self) -> dict[int, list[str]]:
        return {**self.changed, **self.repeats}


def _store(
    session: Session,
    contract: Contract,
    actor: Actor,
    rows: Iterator[tuple[int, Checked]] | raw.RawFile,
    now: datetime,
    calendar: LogCalendar | None = None,
) -> Stored:
    """Stage the rows (a raw file's as a view of them) and add the new ones to the log in one
    statement; compare the others.

    Nothing is added when a row repeats another or changes a logged call, or when a raw
    file's month closed since it was checked (`calendar` says, now): the caller raises, and
    the request rolls back.
    """
    connection = session.connection()
    if isinstance(rows, raw.RawFile):
        months = [str(month) for month in rows.months()]
        stored = Stored(staged=raw.stage(session, rows), months=months)
        assert calendar is not None, "a raw file's months are checked again under the lock"
        _check_months(session, rows, calendar)
    else:
        STAGING.create(connection)
        stored = Stored(staged=_fill(connection, rows))
    stored.created = _insert_new(session, contract, actor, now, stored)
    if not stored.repeats and stored.created < stored.staged:
        _compare(session, contract.id, stored)
    if isinstance(rows, raw.RawFile):
        raw.unstage(session)
    else:
        STAGING.drop(connection)
    return stored


def _check_months(session: Session, found: raw.RawFile, calendar: LogCalendar) -> None:
    """Refuse a raw file if a month of its calls closed since it was checked, naming the
    month's first row, as `log_calls_file` does."""
    closed = [month for month in found.months() if _closed(calendar, month)]
    if not closed:
        return
    rejected = []
    for month, row in sorted(raw.first_rows(session, closed).items(), key=lambda x: x[1]):
        answer = calendar.answer(month)
        assert isinstance(answer, LogClosed)
        rejected.append((row, "call_at", answer.message))
    if rejected:
        _refuse_file(Invalid, "no call was logged: a month's log closed meanwhile", rejected)


def _fill(connection: Any, rows: Iterator[tuple[int, Checked]]) -> int:
    """Put the rows in the staging table: COPY on PostgreSQL, chunked inserts on SQLite."""
    if connection.dialect.name == "postgresql":
        numbered = ((number, *checked) for number, checked in rows)
        return copy_rows(connection, "call_staging", STAGED, numbered)
    staged = 0
    # SQLite: the driver's executemany, each time bound as the column's type stores it.
    store_time = STAGING.c.call_at.type.bind_processor(connection.dialect)
    assert store_time is not None
    statement = (
        f"INSERT INTO call_staging ({', '.join(STAGED)}) VALUES ({', '.join('?' * len(STAGED))})"
    )
    cursor = connection.connection.driver_connection.cursor()
    chunk: list[tuple[Any, ...]] = []
    for number, (call_ref, call_at, *rest) in rows:
        chunk.append((number, call_ref, store_time(call_at), *rest))
        if len(chunk) == SQLITE_CHUNK:
            cursor.executemany(statement, chunk)
            staged += len(chunk)
            chunk = []
    cursor.executemany(statement, chunk)
    cursor.close()
    return staged + len(chunk)


def _logged(contract_id: int) -> Any:
    """Return the condition that matches a staged call with the call logged under its key."""
    log = Call.__table__.c
    return and_(log.contract_id == contract_id, log.call_ref == STAGING.c.call_ref)


def _insert_new(
    session: Session, contract: Contract, actor: Actor, now: datetime, stored: Stored
) -> int:
    """Add the staged calls the log does not hold, in one statement; return how many.

    Writers of a contract's log take turns (see `writable_contract`), so no other batch adds
    the same call meanwhile: a key clash can only be two rows of this batch.
    """
    staged = STAGING.c
    names = ["contract_id", "call_ref", *CONTENT, "period", "logged_at", "logged_by"]
    new = select(
        literal(contract.id, BigInteger),
        staged.call_ref,
        *(staged[name] for name in CONTENT),
        staged.period,
        literal(now, UTCDateTime),
        literal(actor.recorded_user_id, BigInteger),
    ).where(~exists().where(_logged(contract.id)))
    months = stored.months
    if months is None:
        query = select(staged.period).where(staged.period.is_not(None)).distinct()
        months = list(session.scalars(query))
    touch(
        session,
        [each for month in months for each in call_months(contract.id, Period.parse(month))],
    )
    savepoint = session.begin_nested()
    try:
        result = session.execute(
            insert(Call).from_select(names, new),
            execution_options={"preserve_rowcount": True},  # how many rows were new
        )
    except IntegrityError:
        savepoint.rollback()
        stored.repeats = _repeats(session)
        return 0
    savepoint.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def _repeats(session: Session) -> dict[int, list[str]]:
    """Return each staged row that repeats an earlier row's call (only when some does)."""
    staged = STAGING.c
    first = func.min(staged.row_no)
    query = (
        select(staged.call_ref, first, func.max(staged.row_no))
        .group_by(staged.call_ref)
        .having(func.count() > 1)
        .order_by(first)
        .limit(KEEP_PROBLEMS)
    )
    return {
        int(last): [f"call {call_ref!r} repeats {int(earliest)} of this batch"]
        for call_ref, earliest, last in session.execute(query)
    }


def _compare(session: Session, contract_id: int, stored: Stored) -> None:
    """Count the staged calls logged with the same content; name those logged otherwise."""
    staged, log = STAGING.c, Call.__table__.c
    differs = or_(*(log[name].is_distinct_from(staged[name]) for name in CONTENT))
    joined = STAGING.join(Call.__table__, _logged(contract_id))
    changed = session.execute(
        select(staged.row_no, staged.call_ref, *(log[n] for n in CONTENT), *staged_content())
        .select_from(joined)
        .where(differs)
        .order_by(staged.row_no)
        .limit(KEEP_PROBLEMS)
    ).all()
    for row in changed:
        given = dict(zip(CONTENT, row[2 + len(CONTENT) :], strict=True))
        logged = dict(zip(CONTENT, row[2 : 2 + len(CONTENT)], strict=True))
        said = [
            f"{name} {_shown(logged[name])} (here {_shown(given[name])})"
            for name in CONTENT
            if given[name] != logged[name]
        ]
        stored.changed[int(row.row_no)] = [
            f"call {row.call_ref!r} is logged with other content: {', '.join(said)}"
        ]
    if not stored.changed:
        stored.unchanged = stored.staged - stored.created


def staged_content() -> list[Any]:
    return [STAGING.c[name].label(f"staged_{name}") for name in CONTENT]


def _shown(value: Any) -> str:
    if value is None:
        return "empty"
    return value.isoformat() if isinstance(value, datetime) else str(value)
