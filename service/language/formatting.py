"""Numbers, money, dates and times for people, in their language's conventions (Babel).

Every function takes the language to write in; left out, it is the page's (English outside a
request). Times are shown in a time zone with its abbreviation ("23 nov 2026, 10:15 CET").
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import NumberPattern, format_currency, format_decimal, parse_pattern

from contracts.periods import Period
from service.language.i18n import current_language

# The Babel locale each language formats with: British English keeps "€61,608.00".
LOCALES = {"en": "en_GB", "it": "it_IT"}
NOTHING = "–"


def locale_of(language: str | None) -> Locale:
    """Return the Babel locale a language formats with (the page's when None)."""
    return _locale(LOCALES.get(language or current_language(), LOCALES["en"]))


# A scorecards page formats a thousand numbers: each locale and pattern is parsed once.
@functools.cache
def _locale(name: str) -> Locale:
    return Locale.parse(name)


@functools.cache
def _pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


def money(amount: Any, currency: str, language: str | None = None) -> str:
    """Format an amount in its currency: "€61,608.00", "61.608,00 €"."""
    if amount is None or amount == "":
        return NOTHING
    return format_currency(Decimal(str(amount)), currency, locale=locale_of(language))


def number(value: Any, places: int | None = None, language: str | None = None) -> str:
    """Format a number with thousands separators (and fixed decimals when asked)."""
    if value is None or value == "":
        return NOTHING
    if places is None:
        return format_decimal(Decimal(str(value)), locale=locale_of(language))
    pattern = "#,##0." + "0" * places if places else "#,##0"
    # What format_decimal does, with the pattern parsed once.
    return _pattern(pattern).apply(Decimal(str(value)), locale_of(language))


def percent(rate: Any, places: int = 1, language: str | None = None) -> str:
    """Format a fraction as a percentage: 0.0126 -> "1.3%" ("1,3%" in Italian)."""
    if rate is None or rate == "":
        return NOTHING
    pattern = "#,##0." + "0" * places + "%" if places else "#,##0%"
    # What format_percent does, with the pattern parsed once.
    return _pattern(pattern).apply(Decimal(str(rate)), locale_of(language))


def month(period: Period | str, language: str | None = None) -> str:
    """Name a month: "October 2026", "ottobre 2026"."""
    if isinstance(period, str):
        period = Period.parse(period)
    first = date(period.year, period.month, 1)
    return format_date(first, "LLLL yyyy", locale=locale_of(language))


def short_month(period: Period, language: str | None = None) -> str:
    """Name a month briefly, for a chart's axis: "Sep 26", "set 26" (three letters each)."""
    return f"{month(period, language)[:3]} {period.year % 100:02d}"


def day(value: date | None, language: str | None = None) -> str:
    """Format a day: "23 Nov 2026", "23 nov 2026"."""
    if value is None:
        return NOTHING
    return format_date(value, "d MMM yyyy", locale=locale_of(language))


def zone_label(instant: datetime, zone: ZoneInfo) -> str:
    """Name the zone an instant is shown in: its abbreviation (CET, CEST), else its name."""
    abbreviation = instant.astimezone(zone).tzname() or ""
    return abbreviation if abbreviation.isalpha() else zone.key


def moment(value: datetime | None, zone: str | None = None, language: str | None = None) -> str:
    """Format an instant in a time zone, named: "23 Nov 2026, 10:15 CET" (UTC when None)."""
    if value is None:
        return NOTHING
    where = ZoneInfo(zone or "UTC")
    local = value.astimezone(UTC).astimezone(where)
    shown = format_datetime(local, "d MMM yyyy, HH:mm", tzinfo=where, locale=locale_of(language))
    return f"{shown} {zone_label(local, where)}"


FILTERS = {
    "money": money,
    "number": number,
    "percent": percent,
    "month": month,
    "day": day,
    "moment": moment,
}
