"""Calendar months in a contract's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

# The years a month, a day or an instant taken from input may fall in: far enough from year 1
# and year 9999 that a month either side, or a time zone's offset, still makes a date.
YEARS = range(2000, 2200)
# A month of YEARS and nothing after it. This is also the OpenAPI pattern, where `$` ends the
# text; Python's `$` also matches before a final newline, so `parse` uses `re.fullmatch`.
PERIOD_PATTERN = r"^2[01][0-9]{2}-(0[1-9]|1[0-2])$"
PERIODS = f"a month from {YEARS[0]}-01 to {YEARS[-1]}-12 written as YYYY-MM"


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """A calendar month, e.g. 2026-10."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse `YYYY-MM` of a year in YEARS, with nothing after it; raise ValueError otherwise."""
        if re.fullmatch(PERIOD_PATTERN, text) is None:
            raise ValueError(f"{text!r} is not {PERIODS}")
        year, month = text.split("-")
        return cls(int(year), int(month))

    @classmethod
    def of(cls, day: date) -> Period:
        """Return the month a day falls in."""
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Period:
        """Return the following month."""
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        """Return the month before."""
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def end_day(self) -> date:
        """Return the first day after the month (exclusive end)."""
        return self.next().first_day

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """Return the month's [start, end) as UTC instants, midnight to midnight in `timezone`."""
        zone = ZoneInfo(timezone)
        start = datetime.combine(self.first_day, time(), zone).astimezone(UTC)
        end = datetime.combine(self.end_day, time(), zone).astimezone(UTC)
        return start, end
