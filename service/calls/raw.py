"""A native CSV file of calls COPYed raw into PostgreSQL, checked and converted in SQL.

PostgreSQL parses the file itself (`COPY ... (FORMAT csv)`) into a temporary table of text,
one column per header name; one query then says whether every row is good, and a second
converts the rows into the staging table the log is filled from (`ingest.STAGING`). No row
passes through Python, so a month of millions of calls is logged at the speed of COPY.

The rules here are those of `rows.check_call`, written narrower where SQL and Python could
read a value differently (a call reference must be printable ASCII without outer blanks, so
NFKC and trimming leave it as it is; a time is one strict ISO 8601 shape). A file the fast
way does not pass, for any reason (a bad row, a blank line, a shape COPY reads otherwise, a
closed month), is answered by the slow way, `rows.CsvRows`, which names every bad row: the
answer is the same, only slower. The fast way never accepts a row the slow way refuses.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from contracts.periods import YEARS, Period
from service.calls import rows as checks
from service.calls.models import OUTCOMES
from service.calls.rows import (
    GZIP_MAGIC,
    MAX_DURATION_S,
    OUTCOMES_OF,
    TEXT_LIMIT,
    Refused,
    header_columns,
)

RAW = "call_raw"
CHUNK = 1 << 20
# A time as the fast way reads it: 2026-10-14T10:30:00+02:00, with optional milliseconds or
# microseconds, or Z for UTC: its digits made 9s, one of these shapes. Then its fields are
# compared as text (a year of YEARS, 2000-2199; hours to 23; an offset to 14:59). Simple
# string functions, not regular expressions: they cost a tenth as much a row.
assert (YEARS.start, YEARS.stop) == (2000, 2200)
INSTANT_SHAPES = tuple(
    f"9999-99-99T99:99:99{fraction}{zone}"
    for fraction in ("", ".999", ".999999")
    for zone in ("Z", "+99:99", "-99:99")
)
DIGITS = "0123456789"


@dataclass(frozen=True, slots=True)
class RawFile:
    """A file COPYed into the raw table and found good: its columns, rows and calls' span."""

    names: list[str]  # the file's columns, as its header names them
    rows: int
    first: datetime  # the earliest call
    last: datetime  # the latest call
    timezone: str  # the contract's, in which its months are counted

    def months(self) -> list[Period]:
        """Return the months from the first call's to the last call's (some may hold none)."""
        zone = ZoneInfo(self.timezone)
        month, last = (Period.of(each.astimezone(zone).date()) for each in (self.first, self.last))
        months = [month]
        while month < last:
            month = month.next()
            months.append(month)
        return months


class NotFast(Exception):
    """The file is not for the fast way; the slow way reads it and says what is wrong."""


def copy_raw(session: Session, stream: IO[bytes], max_bytes: int | None, timezone: str) -> RawFile:
    """COPY a native CSV file (gzip or not) into the raw table and check every row in SQL;
    raise NotFast where the slow way must answer. The caller holds a savepoint."""
    try:
        return _copied(session, stream, max_bytes, timezone)
    except (OSError, EOFError, zlib.error):
        raise NotFast("not a readable gzip file") from None


def _copied(session: Session, stream: IO[bytes], max_bytes: int | None, timezone: str) -> RawFile:
    header, source = _opened(stream)
    names = _names(header)
    connection = session.connection()
    columns = ", ".join(f"{name} text" for name in names)
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {RAW} (row_no bigint GENERATED ALWAYS AS IDENTITY (START 2),"
        f" {columns}) ON COMMIT DROP"
    )
    driver = connection.connection.driver_connection
    assert driver is not None, "a connection of the pool"
    cursor = driver.cursor()
    copy = f"COPY {RAW} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv, HEADER true)"
    with cursor.copy(copy) as into:
        for chunk in _chunks(source, max_bytes):
            into.write(chunk)
    cursor.close()
    found = session.execute(text(_checked(names))).one()
    if not found.rows or found.rows > checks.MAX_FILE_ROWS or found.bad:
        raise NotFast("a bad row, or no row, or too many")
    return RawFile(names, int(found.rows), found.first, found.last, timezone)


def first_rows(session: Session, months: Sequence[Period]) -> dict[Period, int]:
    """Return the first row of each of these months that holds a call of the file."""
    query = text(
        f"SELECT period, min(row_no) FROM call_staging WHERE period IN ({_listed(months)})"
        " GROUP BY period"
    )
    return {Period.parse(month): int(row) for month, row in session.execute(query)}


def stage(session: Session, found: RawFile) -> int:
    """Make the staging relation of `ingest` a view of the raw rows, converted as
    `rows.check_call` converts them; return how many rows it holds."""

    def given(name: str) -> str:
        return f"nullif({name}, '')" if name in found.names else "NULL"

    zone = found.timezone.replace("'", "''")
    session.execute(
        text(
            "CREATE TEMPORARY VIEW call_staging AS SELECT row_no,"
            " call_ref::varchar(200) AS call_ref, call_at::timestamptz AS call_at,"
            " coalesce(agent_ref, '')::varchar(200) AS agent_ref,"
            f" {given('team')}::varchar(200) AS team, {given('queue')}::varchar(200) AS queue,"
            f" {given('direction')}::varchar(8) AS direction,"
            f" {given('duration_s')}::int AS duration_s,"
            f" coalesce({given('outcome')}, 'answered')::varchar(16) AS outcome,"
            f" {given('wait_s')}::int AS wait_s, {given('handle_s')}::int AS handle_s,"
            f" {given('caller_ref')}::varchar(200) AS caller_ref,"
            f" to_char(call_at::timestamptz AT TIME ZONE '{zone}', 'YYYY-MM')::varchar(7)"
            f" AS period FROM {RAW}"
        )
    )
    return found.rows


def unstage(session: Session) -> None:
    """Drop the staging view and the raw rows."""
    session.execute(text(f"DROP VIEW call_staging; DROP TABLE {RAW}"))


def _opened(stream: IO[bytes]) -> tuple[str, Any]:
    """Return the file's header line and its bytes unpacked (gzip or not), from the start."""
    head = stream.read(2)
    stream.seek(0)
    source = gzip.GzipFile(fileobj=stream) if head == GZIP_MAGIC else stream
    first = source.readline(10_000)
    if not first.endswith(b"\n"):
        raise NotFast("no header line")
    try:
        header = codecs.decode(first, "utf-8-sig")
    except UnicodeDecodeError:
        raise NotFast("not UTF-8") from None
    if '"' in header or "\r" in header.rstrip("\r\n") or "\x00" in header:
        raise NotFast("a header COPY may read otherwise")
    stream.seek(0)
    source = gzip.GzipFile(fileobj=stream) if head == GZIP_MAGIC else stream
    return header, source


def _names(header: str) -> list[str]:
    """Return the header's columns, checked as the slow way checks them."""
    cells = next(csv.reader([header.rstrip("\r\n")]), [])
    try:
        return header_columns(cells)
    except Refused:
        raise NotFast("the header is refused") from None


# A field in quotes, whole: from a field's start to its end, any quote in it doubled.
QUOTED = re.compile(rb'(?:(?<=[,\n\r])|^)"(?:[^"]|"")*"(?=[,\r\n]|$)')
# What COPY and Python's csv may read differently: a blank line (Python counts it as a row,
# holding no call), PostgreSQL's end-of-data marker.
DIVERGENT = re.compile(rb"\n\r?\n|\\\.")


# A line the slow way reads is at most MAX_LINE_LENGTH characters, four bytes each at most.
LONGEST_LINE = 4 * checks.MAX_LINE_LENGTH


def _chunks(source: Any, max_bytes: int | None) -> Iterator[bytes]:
    """Yield the file's bytes a chunk at a time; past `max_bytes`, the slow way refuses it.

    A quote anywhere but around a whole field (`ab"c`: Python's csv keeps it, PostgreSQL
    starts a quoted part), a blank line, a `\\.` or a line longer than any the slow way
    reads sends the file the slow way.
    """
    read = 0
    pending = before = b""
    while chunk := source.read(CHUNK):
        read += len(chunk)
        if max_bytes is not None and read > max_bytes:
            raise NotFast("too large")
        # Checked on whole lines; the last line goes on in the next chunk.
        lines = pending + chunk
        cut = lines.rfind(b"\n") + 1
        whole, pending = lines[:cut], lines[cut:]
        if len(pending) > LONGEST_LINE:
            raise NotFast("a line longer than the slow way reads")
        _agree(before, whole)
        before = whole[-2:]
        yield chunk
    _agree(before, pending)


def _agree(before: bytes, lines: bytes) -> None:
    """Raise NotFast unless COPY and Python's csv read these whole lines alike (`before`: the
    end of the lines before them, where a blank line may start)."""
    if DIVERGENT.search(before + lines):
        raise NotFast("a blank line or an end-of-data marker")
    if b'"' in lines and b'"' in QUOTED.sub(b"", lines):
        raise NotFast("a quote inside a field")


def _checked(names: list[str]) -> str:
    """Return the query counting the raw rows and the bad ones, by the rules of the module's
    docstring. A column the header leaves out reads as empty."""

    def column(name: str) -> str:
        return f"coalesce({name}, '')" if name in names else "''"

    call_at = "call_at" if "call_at" in names else "NULL"
    outcome = f"coalesce(nullif({column('outcome')}, ''), 'answered')"
    direction = column("direction")
    texts = [name for name in ("agent_ref", "team", "queue", "caller_ref") if name in names]
    by_direction = " OR ".join(
        f"({direction} = '{way}' AND {outcome} IN ({_listed(allowed)}))"
        for way, allowed in OUTCOMES_OF.items()
    )
    call_ref, stamp = column("call_ref"), f"coalesce({call_at}, '')"
    bad = [
        # printable ASCII, no outer blanks: NFKC and trimming leave it as it is
        f"{call_ref} = '' OR char_length({call_ref}) > {TEXT_LIMIT} OR {call_ref} ~ '[^ -~]'"
        f" OR left({call_ref}, 1) = ' ' OR right({call_ref}, 1) = ' '",
        f"translate({stamp}, '{DIGITS}', '9999999999') NOT IN ({_listed(INSTANT_SHAPES)})"
        f" OR left({stamp}, 2) NOT IN ('20', '21') OR substr({stamp}, 6, 2) NOT BETWEEN '01'"
        f" AND '12' OR substr({stamp}, 9, 2) NOT BETWEEN '01' AND '31'"
        f" OR substr({stamp}, 12, 2) > '23' OR substr({stamp}, 15, 2) > '59'"
        f" OR substr({stamp}, 18, 2) > '59'"
        f" OR (right({stamp}, 1) <> 'Z' AND (right({stamp}, 5) > '14:59'"
        f" OR right({stamp}, 2) > '59'))",
        f"NOT ({direction} = '' AND {outcome} IN ({_listed(OUTCOMES)}) OR {by_direction})",
        f"({outcome} = 'answered' AND {column('agent_ref')} = '')",
        f"({outcome} = 'abandoned' AND {column('agent_ref')} <> '')",
        *(f"char_length({column(name)}) > {TEXT_LIMIT}" for name in texts),
        f"{column('caller_ref')} ~ '[^ -~]'",  # ASCII only: Python's \\d knows other digits
        f"translate({column('caller_ref')}, '{DIGITS}', '9999999999') LIKE '%9999999%'",
        *(
            f"CASE WHEN {column(name)} = '' THEN false"
            f" WHEN translate({column(name)}, '{DIGITS}', '') <> '' OR length({column(name)}) > 6"
            f" THEN true ELSE {column(name)}::int > {MAX_DURATION_S} END"
            for name in ("duration_s", "wait_s", "handle_s")
            if name in names
        ),
    ]
    bad_row = " OR ".join(f"({each})" for each in bad)
    # The span's casts run on every row: a time the shapes passed that is no time (30
    # February) fails the query, and the slow way says which row holds it.
    return (
        f"SELECT count(*) AS rows, count(*) FILTER (WHERE {bad_row}) AS bad,"
        f" min({call_at}::timestamptz) AS first, max({call_at}::timestamptz) AS last FROM {RAW}"
    )


def _listed(values: Any) -> str:
    return ", ".join(f"'{value}'" for value in values)
