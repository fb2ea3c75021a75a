"""Checking logged calls one by one, from JSON records or from the rows of a CSV file.

No database here: a call's fields are checked for shape and against the log's calendar (the
month a time falls in, whether that month's log is still open), and a CSV file is read as a
stream, so a file of millions of rows never sits in memory. What reading a file may cost is
counted (DESIGN §14): its rows, blank lines included, each line's length, and the bytes it
unpacks to.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import operator
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from contracts.calls import normalize_call_ref
from contracts.periods import YEARS
from service.calls.models import DIRECTIONS, OUTCOMES
from service.edge.schemas import IN_YEARS, unstorable

COLUMNS = ("call_ref", "call_at", "agent_ref", "team", "queue", "direction", "duration_s",
           "outcome", "wait_s", "handle_s", "caller_ref")  # fmt: skip
REQUIRED = ("call_ref", "call_at")  # and agent_ref, for an answered call
HEADER_REQUIRED = ("call_ref", "call_at", "agent_ref")
TEXTS = ("call_ref", "agent_ref", "team", "queue", "caller_ref")
SECONDS = ("duration_s", "wait_s", "handle_s")
# How a call may end, by direction (DESIGN 16); a call that does not say was answered.
OUTCOMES_OF = {"inbound": ("answered", "abandoned"),
               "outbound": ("answered", "no_answer", "busy", "failed")}  # fmt: skip
# A pseudonymous caller, never a phone number: more than 6 digits in a row is refused.
PHONE_NUMBER = re.compile(r"\d{7}")
PHONE_MESSAGE = (
    "looks like a phone number (more than 6 digits in a row): log a pseudonym of the caller,"
    " such as a keyed hash of the number, never the number"
)
NO_AGENT_MESSAGE = "an abandoned call has no agent: leave agent_ref empty"
TEXT_LIMIT = 200
MAX_DURATION_S = 7 * 24 * 3600  # a week: anything longer is not one call
MAX_FILE_ROWS = 5_000_000  # rows under the header, blank lines counted
# A line of the file: a call's longest row (four texts of 200 characters) is under 1,000.
MAX_LINE_LENGTH = 10_000
GZIP_MAGIC = b"\x1f\x8b"
REQUIRED_MESSAGE = "This is required."
CALL_AT_MESSAGE = "must be an ISO 8601 time with an offset, such as 2026-10-14T10:30:00+02:00"

# A call's fields once checked: (call_ref, call_at, agent_ref, team, queue, direction,
# duration_s, outcome, wait_s, handle_s, caller_ref, period); the last is the contract's month
# the call falls in. An abandoned call's agent_ref is "".
Checked = tuple[
    str, datetime, str, str | None, str | None, str | None, int | None,
    str, int | None, int | None, str | None, str,
]  # fmt: skip


class Refused(Exception):
    """The file as a whole cannot be read; the message says why."""


# Says which month of the log an instant falls in, or why a call then cannot be logged.
MonthOf = Callable[[datetime], "str | LogClosed"]


@dataclass(frozen=True, slots=True)
class LogClosed:
    """Why a call at some time cannot be logged (its month's log closed, or no terms then)."""

    message: str


def check_call(
    values: Mapping[str, Any], month_of: MonthOf, *, from_text: bool
) -> tuple[Checked | None, dict[str, list[str]]]:
    """Check one call's fields; return them checked, or the problems by field.

    `from_text` reads a CSV row: every value is text. Otherwise values come from JSON: texts
    are strings, `duration_s` an integer. Either way a field null or empty is left out.
    """
    problems: dict[str, list[str]] = {}
    texts = {name: _text(values.get(name), name, problems) for name in TEXTS}
    call_at = _instant(values.get("call_at"), problems)
    direction = _direction(values.get("direction"), problems)
    seconds = {name: _seconds(values.get(name), name, problems, from_text) for name in SECONDS}
    outcome = _outcome(values.get("outcome"), direction, problems)
    _agent(texts["agent_ref"], outcome, "agent_ref" in problems, problems)
    period: str | None = None
    if call_at is not None:
        month = month_of(call_at)
        if isinstance(month, LogClosed):
            problems["call_at"] = [month.message]
        else:
            period = month
    if problems:
        return None, dict(sorted(problems.items(), key=lambda item: _ORDER.get(item[0], 99)))
    assert call_at is not None and period is not None
    call_ref, agent_ref = texts["call_ref"], texts["agent_ref"] or ""
    assert call_ref is not None and outcome is not None
    checked = (call_ref, call_at, agent_ref, texts["team"], texts["queue"], direction)
    service = (outcome, seconds["wait_s"], seconds["handle_s"], texts["caller_ref"])
    return (*checked, seconds["duration_s"], *service, period), problems


_ORDER = {name: index for index, name in enumerate(COLUMNS)}


def _absent(value: Any) -> bool:
    """Say whether a field is left out: null, or empty text (so "" is never a reference)."""
    return value is None or value == ""


def _text(value: Any, name: str, problems: dict[str, list[str]]) -> str | None:
    if _absent(value):
        if name in REQUIRED:
            problems[name] = [REQUIRED_MESSAGE]
        return None
    if not isinstance(value, str):
        problems[name] = ["must be text"]
        return None
    if name == "call_ref":
        value = normalize_call_ref(value)  # the reference as it is compared (DESIGN 13)
        if not value:
            problems[name] = [REQUIRED_MESSAGE]
            return None
    if len(value) > TEXT_LIMIT:
        problems[name] = [f"must be at most {TEXT_LIMIT} characters"]
        return None
    why = unstorable(value)
    if why is not None:
        problems[name] = [why]
        return None
    if name == "caller_ref" and PHONE_NUMBER.search(value):
        problems[name] = [PHONE_MESSAGE]
        return None
    return value


def _outcome(value: Any, direction: str | None, problems: dict[str, list[str]]) -> str | None:
    """Read how the call ended: answered when not said; one of its direction's outcomes."""
    if _absent(value):
        return "answered"
    allowed = OUTCOMES if direction is None else OUTCOMES_OF[direction]
    if value not in allowed:
        said = f"for an {direction} call " if direction else ""
        problems["outcome"] = [f"must be {said}one of {', '.join(allowed)}"]
        return None
    return str(value)


def _agent(
    agent_ref: str | None, outcome: str | None, bad: bool, problems: dict[str, list[str]]
) -> None:
    """An answered call needs its agent; an abandoned one has none."""
    if bad or outcome is None:
        return
    if outcome == "answered" and agent_ref is None:
        problems["agent_ref"] = [REQUIRED_MESSAGE]
    elif outcome == "abandoned" and agent_ref is not None:
        problems["agent_ref"] = [NO_AGENT_MESSAGE]


def _instant(value: Any, problems: dict[str, list[str]]) -> datetime | None:
    if _absent(value):
        problems["call_at"] = [REQUIRED_MESSAGE]
        return None
    try:
        instant = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        problems["call_at"] = [CALL_AT_MESSAGE]
        return None
    if instant.year not in YEARS:
        problems["call_at"] = [IN_YEARS]
        return None
    return instant


def _direction(value: Any, problems: dict[str, list[str]]) -> str | None:
    if _absent(value):
        return None
    if value not in DIRECTIONS:
        problems["direction"] = [f"must be one of {', '.join(DIRECTIONS)}"]
        return None
    return str(value)


def _seconds(value: Any, name: str, problems: dict[str, list[str]], from_text: bool) -> int | None:
    if _absent(value):
        return None
    if from_text:
        number = int(value) if value.isascii() and value.isdigit() else None
    else:
        number = value if type(value) is int else None
    if number is None or not 0 <= number <= MAX_DURATION_S:
        problems[name] = [f"must be a whole number of seconds from 0 to {MAX_DURATION_S}"]
        return None
    return number


# Reading a CSV file ---------------------------------------------------------------------


@dataclass
class CsvRows:
    """A CSV file of calls read as a stream: its rows of checked calls, and its bad rows.

    Iterating yields (row number, checked call) for each good row; the bad ones are kept in
    `rejected` as (row, column, message), at most `keep` of them, all counted in `bad`.
    Row 1 is the header, so rows are numbered as a spreadsheet shows them.
    """

    stream: IO[bytes]
    month_of: MonthOf
    keep: int = 1000
    max_bytes: int | None = None  # what the file may unpack to (gzip), None: no bound
    rejected: list[tuple[int, str, str]] | None = None
    bad: int = 0
    rows: int = 0

    def __iter__(self) -> Iterator[tuple[int, Checked]]:
        self.rejected = []
        records = csv.reader(_text_lines(self.stream, self.max_bytes), strict=True)
        names = header_columns(_next(records, 1))
        width = len(names)
        unpack = _unpacker(names)
        number = 1
        try:
            for cells in records:
                number += 1
                if number > MAX_FILE_ROWS + 1:
                    raise Refused(
                        f"row {number:,} is past the limit of {MAX_FILE_ROWS:,} rows a file "
                        "(blank lines count)"
                    )
                if not cells:
                    continue  # a blank line holds no call, and counts as a row
                self.rows += 1
                checked = _quick(unpack(cells), self.month_of) if len(cells) == width else None
                if checked is None:
                    values = dict(zip(names, cells, strict=False))
                    checked = self._check(number, values, len(cells), width)
                if checked is not None:
                    yield number, checked
        except csv.Error as error:  # raised reading the row after the last one counted
            raise Refused(f"row {number + 1} is not readable CSV: {error}") from None
        if self.rows == 0:
            raise Refused("the file has no calls under its header")

    def _check(
        self, number: int, values: Mapping[str, str], width: int, expected: int
    ) -> Checked | None:
        """Check a row the quick way did not pass, and keep its problems by column."""
        checked, problems = check_call(values, self.month_of, from_text=True)
        if width != expected:
            problems.setdefault("_row", []).append(f"has {width} fields; the header has {expected}")
        if not problems:
            return checked
        self._reject(number, problems)
        return None

    def _reject(self, number: int, problems: Mapping[str, list[str]]) -> None:
        self.bad += 1
        assert self.rejected is not None
        for column, messages in problems.items():
            for message in messages:
                if len(self.rejected) < self.keep:
                    self.rejected.append((number, column, message))


_DIRECTIONS = frozenset(("", *DIRECTIONS))
_OUTCOMES_OF = {"": frozenset(OUTCOMES)} | {
    direction: frozenset(outcomes) for direction, outcomes in OUTCOMES_OF.items()
}
_PHONE = PHONE_NUMBER.search
_from_iso = datetime.fromisoformat


def _unpacker(names: list[str]) -> Callable[[list[str]], tuple[str, ...]]:
    """Return what takes a row's cells to the values of COLUMNS in order ("" where absent)."""
    if all(name in names for name in COLUMNS):
        return operator.itemgetter(*(names.index(name) for name in COLUMNS))
    where = [names.index(name) if name in names else None for name in COLUMNS]
    return lambda cells: tuple("" if i is None else cells[i] for i in where)


def _quick(values: tuple[str, ...], month_of: MonthOf) -> Checked | None:
    """Check a CSV row the quick way: its fields if all is well, else None (then look closer).

    A file holds millions of rows and nearly all are good; `check_call` says what is wrong
    with the others. The file's text has no NUL (it is refused whole) and, being decoded
    UTF-8, no lone surrogate, so only lengths and values remain to check here.
    """
    (call_ref, call_at_text, agent_ref, team, queue, direction, duration,
     said, wait, handle, caller_ref) = values  # fmt: skip
    call_ref = normalize_call_ref(call_ref)
    if not call_ref or direction not in _DIRECTIONS:
        return None
    outcome = _quick_outcome(said, direction, agent_ref)
    if outcome is None:
        return None
    if max(len(call_ref), len(agent_ref), len(team), len(queue), len(caller_ref)) > TEXT_LIMIT:
        return None
    if caller_ref and _PHONE(caller_ref):
        return None
    seconds = _quick_seconds((duration, wait, handle))
    if seconds is None:
        return None
    try:
        call_at = _from_iso(call_at_text)
    except ValueError:
        return None
    if call_at.tzinfo is None or call_at.year not in YEARS:
        return None
    period = month_of(call_at)
    if isinstance(period, LogClosed):
        return None
    return (call_ref, call_at, agent_ref, team or None, queue or None, direction or None,
            seconds[0], outcome, seconds[1], seconds[2], caller_ref or None,
            period)  # fmt: skip


def _quick_outcome(outcome: str, direction: str, agent_ref: str) -> str | None:
    """Return how a row's call ended if its direction allows it and its agent fits it."""
    outcome = outcome or "answered"
    if outcome not in _OUTCOMES_OF[direction]:
        return None
    if outcome == "answered" and not agent_ref:
        return None
    if outcome == "abandoned" and agent_ref:
        return None
    return outcome


def _quick_seconds(texts: tuple[str, str, str]) -> list[int | None] | None:
    """Return a row's seconds (duration, wait, handling), or None if one is not."""
    seconds: list[int | None] = []
    for text in texts:
        if not text:
            seconds.append(None)
            continue
        if not (text.isascii() and text.isdigit()):
            return None
        number = int(text)
        if number > MAX_DURATION_S:
            return None
        seconds.append(number)
    return seconds


def _next(records: Iterator[list[str]], number: int) -> list[str]:
    try:
        header = next(records, None)
    except csv.Error as error:
        raise Refused(f"row {number} is not readable CSV: {error}") from None
    if header is None:
        raise Refused("the file is empty: its first row names the columns")
    return header


def header_columns(names: list[str]) -> list[str]:
    """Return the columns in the file's order; refuse unknown, repeated or missing ones."""
    names = [name.strip() for name in names]
    unknown = sorted({name for name in names if name not in COLUMNS})
    repeated = sorted(name for name, times in Counter(names).items() if times > 1)
    missing = [name for name in HEADER_REQUIRED if name not in names]
    said = []
    if unknown:
        said.append(f"unknown columns: {', '.join(unknown)}")
    if repeated:
        said.append(f"repeated columns: {', '.join(repeated)}")
    if missing:
        said.append(f"missing columns: {', '.join(missing)}")
    if said:
        expected = ", ".join(COLUMNS)
        raise Refused(f"the header must name the columns {expected} ({'; '.join(said)})")
    return names


def _text_lines(stream: IO[bytes], max_bytes: int | None = None) -> Iterator[str]:
    """Yield a file's lines (gzip-compressed or not) read as UTF-8, a chunk at a time.

    A line longer than MAX_LINE_LENGTH is refused as soon as it is, and so is a file that
    unpacks to more than `max_bytes`: neither is held whole. Lines are split in C, a chunk
    at a time (a file may hold millions of blank ones).
    """
    return itertools.chain.from_iterable(
        io.StringIO(piece, newline="") for piece in _text_pieces(stream, max_bytes)
    )


def _long_line_at(text: str) -> int | None:
    """Return where a line longer than MAX_LINE_LENGTH starts in `text` (which starts a
    line), or None. It leaps a line's length at a time: the last break within reach of a
    line's start starts the next line to look at."""
    start = 0
    while len(text) - start > MAX_LINE_LENGTH:
        reach = start + MAX_LINE_LENGTH + 1
        last = max(text.rfind("\n", start, reach), text.rfind("\r", start, reach))
        if last < 0:
            return start
        start = last + 1
    return None


def _line_breaks(text: str, end: int) -> int:
    """Count the line breaks (\\n, \\r\\n or \\r) before `end`."""
    return text.count("\n", 0, end) + text.count("\r", 0, end) - text.count("\r\n", 0, end)


def _text_pieces(
    stream: IO[bytes], max_bytes: int | None, line_limit: int | None = MAX_LINE_LENGTH
) -> Iterator[str]:
    """Yield a file's text in pieces of whole lines, each line checked for its length
    (unless `line_limit` is None: a JSON array may be one line)."""
    head = stream.read(2)
    stream.seek(0)
    source = gzip.GzipFile(fileobj=stream) if head == GZIP_MAGIC else stream
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""  # the last line of a chunk, which the next one may go on
    offset = lines = 0
    try:
        while True:
            chunk = source.read(1 << 20)
            if b"\x00" in chunk:
                raise Refused("the file is not CSV text: it holds a NUL byte")
            text = pending + decoder.decode(chunk, final=not chunk)
            long_line = _long_line_at(text) if line_limit is not None else None
            if long_line is not None:
                number = lines + _line_breaks(text, long_line) + 1
                raise Refused(f"line {number:,} is longer than {MAX_LINE_LENGTH:,} characters")
            if not chunk:
                yield text
                return
            # The last line may go on in the next chunk, and a "\r" may be half of a "\r\n".
            end = len(text) - 1 if text.endswith("\r") else len(text)
            cut = max(text.rfind("\n", 0, end), text.rfind("\r", 0, end)) + 1
            piece, pending = text[:cut], text[cut:]
            lines += _line_breaks(piece, len(piece))
            yield piece
            offset += len(chunk)
            if max_bytes is not None and offset > max_bytes:
                raise Refused(f"the file unpacks to more than {max_bytes:,} bytes")
    except UnicodeDecodeError as error:
        raise Refused(
            f"the file is not UTF-8 text (byte {offset + error.start + 1}); save it as CSV UTF-8"
        ) from None
    except (OSError, EOFError, zlib.error):
        raise Refused("the file is not a readable gzip file") from None
