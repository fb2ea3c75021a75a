"""Numbers, money, dates and times as each language writes them, in the contract's zone."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from contracts.periods import Period
from service.language.formatting import day, moment, money, month, number, percent, short_month

NBSP = "\xa0"


@pytest.mark.parametrize(
    ("language", "written"),
    [("it", f"56.432,60{NBSP}€"), ("en", "€56,432.60")],
)
def test_money_follows_the_language(language: str, written: str) -> None:
    assert money(Decimal("56432.60"), "EUR", language) == written


def test_money_in_yen_has_no_minor_unit_in_either_language() -> None:
    assert money(Decimal("162005"), "JPY", "it") == f"162.005{NBSP}JPY"
    assert money(Decimal("162005"), "JPY", "en") == "JP¥162,005"


@pytest.mark.parametrize(
    ("language", "count", "score", "rate"),
    [("it", "1.234.567", "92,21", "1,3%"), ("en", "1,234,567", "92.21", "1.3%")],
)
def test_numbers_and_percentages_follow_the_language(
    language: str, count: str, score: str, rate: str
) -> None:
    assert number(1234567, language=language) == count
    assert number(Decimal("92.214"), 2, language) == score
    assert percent(Decimal("0.0126"), language=language) == rate


@pytest.mark.parametrize(
    ("language", "day_written", "month_written", "short"),
    [
        ("it", "23 nov 2026", "novembre 2026", "nov 26"),
        ("en", "23 Nov 2026", "November 2026", "Nov 26"),
    ],
)
def test_days_and_months_follow_the_language(
    language: str, day_written: str, month_written: str, short: str
) -> None:
    assert day(date(2026, 11, 23), language) == day_written
    assert month(Period(2026, 11), language) == month_written
    assert month("2026-11", language) == month_written
    assert short_month(Period(2026, 11), language) == short


def test_nothing_to_show_is_a_dash_in_every_language() -> None:
    for shown in (money(None, "EUR", "it"), number("", language="it"), percent(None),
                  day(None), moment(None)):  # fmt: skip
        assert shown == "–"


def test_times_cross_the_end_of_summer_time_in_the_contracts_zone() -> None:
    # Europe/Rome leaves summer time at 03:00 CEST on 25 October 2026.
    before = datetime(2026, 10, 24, 10, 0, tzinfo=UTC)
    after = datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
    assert moment(before, "Europe/Rome", "it") == "24 ott 2026, 12:00 CEST"
    assert moment(after, "Europe/Rome", "it") == "26 ott 2026, 11:00 CET"
    assert moment(before, "Europe/Rome", "en") == "24 Oct 2026, 12:00 CEST"
    assert moment(after, "Europe/Rome", "en") == "26 Oct 2026, 11:00 CET"


def test_the_hour_that_repeats_at_the_change_is_told_apart_by_its_zone() -> None:
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, an hour later
    assert moment(first, "Europe/Rome", "it") == "25 ott 2026, 02:30 CEST"
    assert moment(second, "Europe/Rome", "it") == "25 ott 2026, 02:30 CET"


def test_times_cross_the_start_of_summer_time_too() -> None:
    # Europe/Rome skips from 02:00 CET to 03:00 CEST on 29 March 2026.
    assert moment(datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "Europe/Rome", "en") == (
        "29 Mar 2026, 01:59 CET"
    )
    assert moment(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "Europe/Rome", "en") == (
        "29 Mar 2026, 03:00 CEST"
    )


def test_a_zone_without_an_abbreviation_is_named() -> None:
    # The time zone database gives Dubai no letters, only "+04": the zone's name says it.
    assert moment(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "Asia/Dubai", "en") == (
        "23 Nov 2026, 13:00 Asia/Dubai"
    )


def test_a_time_with_no_zone_given_is_shown_in_utc() -> None:
    assert moment(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), language="en") == (
        "23 Nov 2026, 09:00 UTC"
    )
