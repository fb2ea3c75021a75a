"""Months taken from input: `YYYY-MM` of the years 2000 to 2199 and nothing else."""

import pytest

from contracts import periods
from contracts.periods import Period


def test_the_pattern_accepts_exactly_the_months_of_the_years_2000_to_2199() -> None:
    accepted = set()
    for year in range(10_000):
        try:
            Period.parse(f"{year:04d}-01")
        except ValueError:
            continue
        accepted.add(year)
    assert accepted == set(range(2000, 2200))
    assert set(periods.YEARS) == accepted  # the pattern and the years say the same
    assert Period.parse("2000-01") == Period(2000, 1)
    assert Period.parse("2199-12") == Period(2199, 12)


@pytest.mark.parametrize("text", ["2026-10\n", "٢٠٢٦-10", "２０２６-10"])
def test_a_trailing_newline_or_digits_other_than_ascii_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a month from 2000-01 to 2199-12"):
        Period.parse(text)
