"""Decimal money, percentages and exact half-up rounding."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

# ISO 4217 list one (published 2026-01-01): active currencies and their minor units.
# Left out: precious metals (XAU, XAG, XPD, XPT), the testing and "no currency" codes
# (XTS, XXX), units of account (XAD, XBA-XBD, XDR, XSU, XUA) and funds (BOV, CHE, CHW,
# COU, MXV, USN, UYI, UYW). CLF stays: Chilean contracts are commonly priced in it.
CURRENCY_EXPONENTS: Mapping[str, int] = MappingProxyType(
    {
        "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2,
        "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2,
        "BOB": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2,
        "CDF": 2, "CHF": 2, "CLF": 4, "CLP": 0, "CNY": 2, "COP": 2, "CRC": 2, "CUP": 2,
        "CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2,
        "ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2,
        "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2,
        "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3,
        "JPY": 0, "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3,
        "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3,
        "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2,
        "MUR": 2, "MVR": 2, "MWK": 2, "MXN": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2,
        "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2,
        "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2,
        "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2,
        "SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2,
        "THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2,
        "TZS": 2, "UAH": 2, "UGX": 0, "USD": 2, "UYU": 2, "UZS": 2, "VED": 2, "VES": 2,
        "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2, "XCG": 2, "XOF": 0, "XPF": 0,
        "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
    }
)  # fmt: skip

_PERCENT_TEXT = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))%")


def minor_unit(currency: str) -> int:
    """Return the number of decimals a currency is counted in (KeyError if unknown)."""
    return CURRENCY_EXPONENTS[currency]


def is_currency(code: str) -> bool:
    """Tell whether a code is an active ISO 4217 currency."""
    return code in CURRENCY_EXPONENTS


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round an amount to the currency's minor unit, half up."""
    return round_half_up(amount, minor_unit(currency))


def parse_percent(text: str | int | Decimal) -> Decimal:
    """Read a percentage such as "+12%" as a fraction, Decimal("0.12"); a number is in points."""
    if isinstance(text, str):
        match = _PERCENT_TEXT.fullmatch(text.strip())
        if match is None:
            raise ValueError(f'not a percentage: {text!r}; write it like "+12%", "-8%" or "0.5%"')
        return shift_point(Decimal(match.group(1)), -2)
    # bool is an int subclass, and a float would bring binary noise into money
    if isinstance(text, bool) or not isinstance(text, int | Decimal):
        raise ValueError(f"not a percentage: {text!r}")
    points = Decimal(text)
    if not points.is_finite():
        raise ValueError(f"not a percentage: {text!r}")
    return shift_point(points, -2)


def round_half_up(value: Fraction | Decimal, places: int) -> Decimal:
    """Round a Fraction or Decimal exactly to `places` decimals, halves away from zero."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot round {value}")
        exact = Fraction(value)
    else:
        exact = value
    return round_ratio(exact.numerator, exact.denominator, places)


def round_ratio(numerator: int, denominator: int, places: int) -> Decimal:
    """Round numerator/denominator exactly to `places` decimals, halves away from zero."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    if places >= 0:
        numerator *= 10**places
    else:
        denominator *= 10**-places
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    sign = "-" if numerator < 0 and quotient else ""
    return Decimal(f"{sign}{quotient}E{-places:+d}")


def shift_point(value: Decimal, places: int) -> Decimal:
    """Move the decimal point of a finite Decimal by `places`, exactly (no context rounding)."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "only finite decimals can be shifted"
    return Decimal((sign, digits, exponent + places))
