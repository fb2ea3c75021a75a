"""What every page reads from its query string: the month, a number, the page number."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, request

from contracts.periods import PERIODS, Period
from service.schemas import MAX_PAGE

PAGE_SIZE = 50


def given_period(instead: str = "every month") -> Period | None:
    """Return the month in `?period=`, or None (with a note when it is not a month we keep)."""
    text = request.args.get("period", "")
    try:
        return Period.parse(text)
    except ValueError:
        if text:
            flash(f"“{text}” is not {PERIODS}; showing {instead} instead.")
        return None


def chosen_period() -> Period:
    """Return the month the page shows: `?period=YYYY-MM`, else the last month that ended."""
    last = Period.of(datetime.now(UTC).date()).previous()
    return given_period("the last month that ended") or last


def given_number(name: str, maximum: int, what: str) -> int | None:
    """Return `?name=` as a number from 1 to `maximum`, or None (with a note when it is not)."""
    text = request.args.get(name, "")
    digits = text.isascii() and text.isdecimal() and len(text) <= len(str(maximum))
    if digits and 1 <= int(text) <= maximum:
        return int(text)
    if text:
        flash(f"“{text}” is not {what}; it is ignored.")
    return None


def page_number() -> int:
    """Return the `?page=` asked for (1 when none is given or it is not a page number)."""
    return given_number("page", MAX_PAGE, "a page number") or 1
