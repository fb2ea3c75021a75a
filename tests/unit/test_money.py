from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.money import (
    CURRENCY_EXPONENTS,
    is_currency,
    minor_unit,
    parse_percent,
    round_half_up,
    round_money,
    round_ratio,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        ("EUR", 2),
        ("USD", 2),
        ("GBP", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("TND", 3),
        ("CLF", 4),
    ],
)
def test_minor_unit_is_the_iso_4217_exponent(currency: str, exponent: int) -> None:
    assert minor_unit(currency) == exponent


@pytest.mark.parametrize("code", ["XAU", "XAG", "XTS", "XXX", "XDR", "BOV", "ZZZ", "eur", ""])
def test_metals_test_codes_funds_and_unknown_codes_are_not_currencies(code: str) -> None:
    assert not is_currency(code)
    with pytest.raises(KeyError):
        minor_unit(code)


def test_the_currency_table_holds_every_active_code_with_a_sane_exponent() -> None:
    assert len(CURRENCY_EXPONENTS) > 150
    assert all(len(code) == 3 and code.isupper() for code in CURRENCY_EXPONENTS)
    assert set(CURRENCY_EXPONENTS.values()) == {0, 2, 3, 4}
    assert is_currency("EUR")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1234.5", "JPY", "1235"),
        ("1234.49", "JPY", "1234"),
        ("2.675", "EUR", "2.68"),
        ("2.665", "EUR", "2.67"),
        ("-2.675", "EUR", "-2.68"),
        ("10", "EUR", "10.00"),
        ("1.0005", "BHD", "1.001"),
        ("0.00005", "CLF", "0.0001"),
    ],
)
def test_money_rounds_to_the_minor_unit_half_up(amount: str, currency: str, expected: str) -> None:
    rounded = round_money(Decimal(amount), currency)
    assert str(rounded) == expected


def test_yen_amounts_have_no_decimals() -> None:
    assert round_money(Decimal("1234.5"), "JPY").as_tuple().exponent == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+12%", "0.12"),
        ("-8%", "-0.08"),
        ("0.5%", "0.005"),
        ("0%", "0"),
        ("15%", "0.15"),
        ("100%", "1"),
        (" 2% ", "0.02"),
        (12, "0.12"),
        (Decimal("0.5"), "0.005"),
    ],
)
def test_a_percentage_reads_as_a_fraction(text: str | int | Decimal, expected: str) -> None:
    assert parse_percent(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text", ["12", "12%%", "%", "", "abc%", "1e2%", "nan%", "12 %", "+-3%", 0.12, True, None]
)
def test_anything_but_a_percentage_is_refused_with_a_plain_message(text: object) -> None:
    with pytest.raises(ValueError, match="not a percentage"):
        parse_percent(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Fraction(2, 3) * 100, 2, "66.67"),
        (Fraction(1, 3) * 100, 2, "33.33"),
        (Fraction(1, 8), 2, "0.13"),
        (Fraction(-1, 8), 2, "-0.13"),
        (Fraction(1, 32) * 100, 2, "3.13"),
        (Fraction(5, 2), 0, "3"),
        (Fraction(1), 2, "1.00"),
        (Fraction(0), 2, "0.00"),
        (Fraction(-1, 1000), 2, "0.00"),
        (Decimal("0.125"), 2, "0.13"),
        (Decimal("66.665"), 2, "66.67"),
    ],
)
def test_round_half_up_rounds_exact_values_with_halves_away_from_zero(
    value: Fraction | Decimal, places: int, expected: str
) -> None:
    assert str(round_half_up(value, places)) == expected


def test_round_half_up_keeps_every_digit_of_a_huge_value() -> None:
    huge = Fraction(10**40 + 1, 2)
    assert round_half_up(huge, 0) == Decimal(5 * 10**39 + 1)


def test_round_ratio_rounds_a_quotient_of_integers() -> None:
    assert str(round_ratio(200, 3, 2)) == "66.67"
    assert str(round_ratio(-1, -8, 2)) == "0.13"


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
    ),
    st.integers(min_value=0, max_value=4),
)
def test_round_half_up_agrees_with_decimal_quantize(value: Decimal, places: int) -> None:
    expected = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    assert round_half_up(value, places) == expected
    assert round_half_up(Fraction(value), places) == expected


@given(st.fractions(max_denominator=10**6), st.integers(min_value=0, max_value=6))
def test_round_half_up_is_within_half_a_unit_of_the_exact_value(
    value: Fraction, places: int
) -> None:
    rounded = round_half_up(value, places)
    assert abs(Fraction(rounded) - value) <= Fraction(1, 2 * 10**places)
    assert rounded.as_tuple().exponent == -places
