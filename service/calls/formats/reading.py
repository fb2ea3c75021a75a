"""What every telephony format shares: the import profile, picking a value out of a column,
local times, and reading CSV or JSON records as a stream.

No database and no Flask here: a format is a pure function from one of its records to the
native call record's fields (as text, the way a row of the native CSV holds them).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from service.calls.rows import MAX_FILE_ROWS, Refused, _text_lines, _text_pieces

# A record's native fields as text ("" where absent), and its problems by the record's column.
Mapped = tuple[dict[str, str], dict[str, list[str]]]
# A record as its file holds it: a CSV row by column name, or a JSON object.
Record = Mapping[str, Any]
# Where a CSV row with the wrong number of fields says so: a key no file can hold (a file
# with a NUL is refused whole).
WIDTH = "\0width"
# One JSON record may be this long; a contact record is a few kilobytes.
MAX_RECORD_LENGTH = 1 << 20


@dataclass(frozen=True, slots=True)
class Pick:
    """A value taken out of a column: the one group of a regular expression over it."""

    field: str
    pattern: re.Pattern[str]

    def __call__(self, record: Record) -> str | None:
        """Return the group the pattern finds in the column, or None."""
        found = self.pattern.search(text(value_at(record, self.field)))
        return found.group(1) if found and found.group(1) else None


@dataclass(frozen=True, slots=True)
class Profile:
    """What a format cannot say by itself (DESIGN §19), with the format's own defaults."""

    timezone: str
    agent: Pick
    queue: Pick | None = None
    directions: Mapping[str, str] | None = None
    zone: ZoneInfo = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", ZoneInfo(self.timezone))


def value_at(record: Record, path: str) -> Any:
    """Return a record's value at a column or a dotted path (`Agent.Username`), or None."""
    if path in record:
        return record[path]
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def text(value: Any) -> str:
    """Return a value as a record's text: "" for nothing."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def whole_seconds(value: Any, scale: int = 1) -> str | None:
    """Return a count (of seconds, or of `scale`ths of one) as whole seconds, rounded half up;
    "" when absent, None when it is not a count."""
    said = text(value).strip()
    if said == "":
        return ""
    if isinstance(value, bool):
        return None
    try:
        number = float(said)
    except ValueError:
        return None
    if not number >= 0 or number > 1e12:  # also refuses NaN
        return None
    return str(int(number / scale + 0.5))


NAIVE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")


def local_instant(said: str, zone: ZoneInfo, near: datetime | None = None) -> datetime | str:
    """Read a time written without an offset in `zone`; return it, or why it cannot be.

    An hour the clocks went back repeats: the time nearest `near` (when the record says when it
    began in another way) is taken, else the first. An hour the clocks skipped never was.
    """
    naive = None
    for shape in NAIVE_FORMATS:
        try:
            naive = datetime.strptime(said.strip(), shape)
            break
        except ValueError:
            continue
    if naive is None:
        return "must be a local time such as 2026-11-03 09:30:00"
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    try:
        back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    except (OverflowError, ValueError):
        return "is outside the years served"
    if back != naive:
        return f"never happened in {zone.key}: the clocks skipped it"
    if near is not None and first.utcoffset() != second.utcoffset():
        return min((first, second), key=lambda each: abs(each - near))
    return first


def offset_instant(said: Any) -> datetime | str:
    """Read a time written with an offset (ISO 8601, `Z` for UTC); return it, or why not."""
    try:
        instant = datetime.fromisoformat(text(said).strip())
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        return "must be a time with an offset, such as 2026-11-03T08:30:00Z"
    return instant


# Reading files ------------------------------------------------------------------------------


def csv_records(
    stream: IO[bytes],
    max_bytes: int | None,
    names: list[str] | None = None,
    check_header: Callable[[list[str]], list[str]] | None = None,
) -> Iterator[tuple[int, Record]]:
    """Yield (line number, record) of a CSV file: by the given column `names` when it has no
    header, else by its header (row 1, checked by `check_header`), comma- or tab-separated."""
    lines = _text_lines(stream, max_bytes)
    number = 0
    if names is None:
        first = next(lines, None)
        if first is None:
            raise Refused("the file is empty: its first row names the columns")
        delimiter = "\t" if "\t" in first else ","
        header = next(csv.reader([first], delimiter=delimiter))
        names = [name.strip() for name in header]
        if check_header is not None:
            names = check_header(names)
        number = 1
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
    else:
        reader = csv.reader(lines, strict=True)
    rows = 0
    try:
        for cells in reader:
            number += 1
            if number > MAX_FILE_ROWS + 1:
                raise Refused(f"row {number:,} is past the limit of {MAX_FILE_ROWS:,} rows a file")
            if not cells:
                continue
            rows += 1
            record: dict[str, Any] = dict(zip(names, cells, strict=False))
            if len(cells) != len(names):
                record[WIDTH] = f"has {len(cells)} fields; expected {len(names)}"
            yield number, record
    except csv.Error as error:
        raise Refused(f"row {number + 1} is not readable CSV: {error}") from None
    if rows == 0:
        raise Refused("the file has no calls")


class _JsonText:
    """A file's JSON text, held a piece at a time from where the next value starts."""

    def __init__(self, pieces: Iterator[str]) -> None:
        self.pieces, self.buffer, self.at = pieces, "", 0

    def more(self) -> bool:
        """Read the next piece of the file; say whether there was one."""
        piece = next(self.pieces, None)
        if piece is None:
            return False
        self.buffer, self.at = self.buffer[self.at :] + piece, 0
        return True

    def next_char(self, skip: str) -> str:
        """Skip blanks (and the characters in `skip`); return the next character, "" at the
        end of the file."""
        while True:
            buffer = self.buffer
            while self.at < len(buffer) and (buffer[self.at].isspace() or buffer[self.at] in skip):
                self.at += 1
            if self.at < len(buffer):
                return buffer[self.at]
            if not self.more():
                return ""

    def value(self, decoder: json.JSONDecoder, number: int) -> Any:
        """Decode the value starting here, reading more of the file while it is cut short."""
        while True:
            try:
                value, self.at = decoder.raw_decode(self.buffer, self.at)
                return value
            except json.JSONDecodeError as error:
                if len(self.buffer) - self.at <= MAX_RECORD_LENGTH and self.more():
                    continue
                raise Refused(f"record {number} is not readable JSON: {error.msg}") from None


def json_records(stream: IO[bytes], max_bytes: int | None) -> Iterator[tuple[int, Record]]:
    """Yield (record number, object) of JSON lines or of a JSON array, a chunk at a time."""
    source = _JsonText(_text_pieces(stream, max_bytes, line_limit=None))
    decoder = json.JSONDecoder()
    array = source.next_char("") == "["
    source.at += 1 if array else 0
    number = 0
    while (char := source.next_char("," if array else "")) not in ("", "]"):
        if char != "{":
            raise Refused(f"record {number + 1} is not a JSON object")
        number += 1
        if number > MAX_FILE_ROWS:
            raise Refused(f"record {number:,} is past the limit of {MAX_FILE_ROWS:,} a file")
        yield number, source.value(decoder, number)
    if array:
        if char != "]":
            raise Refused("the JSON array is not closed")
        source.at += 1
        if source.next_char("") != "":
            raise Refused(f"the file goes on after its JSON array (after record {number})")
    elif char == "]":
        raise Refused(f"record {number + 1} is not a JSON object")
    if number == 0:
        raise Refused("the file has no calls")
