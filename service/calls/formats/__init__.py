"""The telephony formats a call log is uploaded in, and reading one as the log's rows.

Each format maps its records onto the native call record; from there a file takes the native
CSV's path (DESIGN §19): every row checked by `check_call`, refused by row and column (the
format's own column), all or nothing, staged and copied in one go.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from service.calls.formats import asterisk, connect, twilio, vicidial
from service.calls.formats.reading import WIDTH, Mapped, Pick, Profile, Record
from service.calls.rows import Checked, CsvRows, check_call


@dataclass(frozen=True, slots=True)
class Format:
    """A telephony format: how to read its records and map one onto the log's fields."""

    name: str
    records: Callable[[IO[bytes], int | None], Iterator[tuple[int, Record]]]
    convert: Callable[[Record, Profile], Mapped]
    known_column: Callable[[str], bool]
    agent: Pick  # where the agent is when the profile does not say
    sources: Mapping[str, str]  # the format's column each of the log's fields comes from
    maps_directions: bool  # whether a profile's `directions` applies (Asterisk's dcontext)

    def source_of(self, name: str, profile: Profile) -> str:
        """Return the column of the file a field of the log is read from (to name it)."""
        if name == "agent_ref":
            return profile.agent.field
        if name == "queue" and profile.queue is not None:
            return profile.queue.field
        return self.sources.get(name, name)


FORMATS = {
    "asterisk": Format("asterisk", asterisk.records, asterisk.convert,
                       asterisk.COLUMNS.__contains__, asterisk.DEFAULT_AGENT, asterisk.SOURCES,
                       True),
    "vicidial": Format("vicidial", vicidial.records, vicidial.convert,
                       vicidial.COLUMNS.__contains__, vicidial.DEFAULT_AGENT, vicidial.SOURCES,
                       False),
    "connect": Format("connect", connect.records, connect.convert, connect.known_column,
                      connect.DEFAULT_AGENT, connect.SOURCES, False),
    "twilio": Format("twilio", twilio.records, twilio.convert, twilio.COLUMNS.__contains__,
                     twilio.DEFAULT_AGENT, twilio.SOURCES, False),
}  # fmt: skip


def profile_of(format: Format, stored: Mapping[str, Any] | None, timezone: str) -> Profile:
    """Return the profile a file of a format is read with: the stored one (checked when it
    was stored), else the format's defaults in the contract's time zone."""
    stored = stored or {}

    def pick(key: str) -> Pick | None:
        given = stored.get(key)
        return None if given is None else Pick(given["field"], re.compile(given["pattern"]))

    return Profile(
        timezone=stored.get("timezone") or timezone,
        agent=pick("agent") or format.agent,
        queue=pick("queue"),
        directions=stored.get("directions"),
    )


@dataclass
class ConvertedRows(CsvRows):
    """A file of a telephony format read as the log's rows: yields (row, checked call) like
    the native CSV's rows, and keeps its bad rows by the format's own columns."""

    format: Format | None = None
    profile: Profile | None = None
    preview: list[tuple[int, dict[str, str]]] | None = None  # kept for a dry run

    def __iter__(self) -> Iterator[tuple[int, Checked]]:
        assert self.format is not None and self.profile is not None
        self.rejected = []
        for number, record in self.format.records(self.stream, self.max_bytes):
            self.rows += 1
            if WIDTH in record:
                self._reject(number, {"_row": [record[WIDTH]]})
                continue
            native, problems = self.format.convert(record, self.profile)
            checked = None
            if not problems:
                checked, found = check_call(native, self.month_of, from_text=True)
                for name, messages in found.items():
                    column = self.format.source_of(name, self.profile)
                    problems.setdefault(column, []).extend(messages)
            if problems or checked is None:
                self._reject(number, problems)
                continue
            if self.preview is not None and len(self.preview) < PREVIEW_ROWS:
                self.preview.append((number, native))
            yield number, checked


PREVIEW_ROWS = 20
