"""What every page reads from its query string: the month, a number, the page number."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, request
from flask_babel import gettext as _

from contracts.periods import YEARS, Period
from service.edge.schemas import MAX_PAGE

PAGE_SIZE = 50


def given_period(instead: str | None = None) -> Period | None:
    """Return the month in `?period=`, or None (with a note when it is not a month we keep)."""
    text = request.args.get("period", "")
    try:
        return Period.parse(text)
    except ValueError:
        if text:
            first, last = f"{YEARS[0]}-01", f"{YEARS[-1]}-12"
            flash(
                _(
                    "“%(text)s” is not a month from %(first)s to %(last)s written as YYYY-MM;"
                    " showing %(instead)s instead.",
                    text=text,
                    first=first,
                    last=last,
                    instead=instead or _("every month"),
                )
            )
        return None


def chosen_period() -> Period:
    """Return the month the page shows: `?period=YYYY-MM`, else the last month that ended."""
    last = Period.of(datetime.now(UTC).date()).previous()
    return given_period(_("the last month that ended")) or last


def given_number(name: str, maximum: int, what: str) -> int | None:
    """Return `?name=` as a number from 1 to `maximum`, or None (with a note when it is not)."""
    text = request.args.get(name, "")
    digits = text.isascii() and text.isdecimal() and len(text) <= len(str(maximum))
    if digits and 1 <= int(text) <= maximum:
        return int(text)
    if text:
        flash(_("“%(text)s” is not %(what)s; it is ignored.", text=text, what=what))
    return None


def page_number() -> int:
    """Return the `?page=` asked for (1 when none is given or it is not a page number)."""
    return given_number("page", MAX_PAGE, _("a page number")) or 1
