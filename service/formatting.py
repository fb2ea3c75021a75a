"""Numbers for people: thousands separators, currencies, percentages, month names."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from contracts.periods import Period

LOCALE = "en_GB"


def money(amount: Any, currency: str) -> str:
    """Format an amount in its currency: "€61,608.00", "¥162,005"."""
    if amount is None or amount == "":
        return "–"
    return format_currency(Decimal(str(amount)), currency, locale=LOCALE)


def number(value: Any, places: int | None = None) -> str:
    """Format a number with thousands separators (and fixed decimals when asked)."""
    if value is None or value == "":
        return "–"
    if places is None:
        return format_decimal(Decimal(str(value)), locale=LOCALE)
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(Decimal(str(value)), format=pattern, locale=LOCALE)


def percent(rate: Any, places: int = 1) -> str:
    """Format a fraction as a percentage: 0.0125 -> "1.3%"."""
    if rate is None or rate == "":
        return "–"
    pattern = "#,##0." + "0" * places + "%" if places else "#,##0%"
    return format_percent(Decimal(str(rate)), format=pattern, locale=LOCALE)


def month(period: Period | str) -> str:
    """Name a month: "October 2026"."""
    if isinstance(period, str):
        period = Period.parse(period)
    return datetime(period.year, period.month, 1).strftime("%B %Y")


def moment(value: datetime | None) -> str:
    """Format an instant for people, in UTC."""
    if value is None:
        return "–"
    return format_datetime(value, "d MMM yyyy, HH:mm 'UTC'", tzinfo=None, locale=LOCALE)


FILTERS = {"money": money, "number": number, "percent": percent, "month": month, "moment": moment}
