"""A month is a type: the models take and give `Period`, the database keeps `YYYY-MM` text."""

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from contracts.periods import Period
from service.evaluations.models import Evaluation
from tests.conftest import World, seed_month


def test_a_month_is_read_back_as_a_period_and_stored_as_its_text(
    app: Flask, world: World, session: Session
) -> None:
    seed_month(app, world, "2026-09", calls=3, audited_every=3)
    seed_month(app, world, "2026-10", calls=6, audited_every=3)

    read = session.scalars(select(Evaluation.period).distinct().order_by(Evaluation.period))
    stored = session.scalars(text("SELECT DISTINCT period FROM evaluations ORDER BY period"))

    assert list(read) == [Period(2026, 9), Period(2026, 10)]
    assert list(stored) == ["2026-09", "2026-10"]


def test_months_compare_in_sql_as_they_follow_each_other(
    app: Flask, world: World, session: Session
) -> None:
    seed_month(app, world, "2026-09", calls=3, audited_every=3)  # 3 self-assessments, 1 audit
    seed_month(app, world, "2026-10", calls=6, audited_every=3)  # 6 and 2

    def counted(*conditions: object) -> int:
        return session.scalar(select(func.count()).where(*conditions)) or 0  # type: ignore[arg-type]

    assert counted(Evaluation.period < Period(2026, 10)) == 4
    assert counted(Evaluation.period > Period(2026, 9)) == 8
    assert counted(Evaluation.period == Period(2026, 10)) == 8
    assert counted(Evaluation.period.in_([Period(2026, 9), Period(2026, 11)])) == 4


def test_a_month_given_as_text_is_refused_rather_than_compared(
    app: Flask, world: World, session: Session
) -> None:
    seed_month(app, world, "2026-10", calls=3, audited_every=3)

    with pytest.raises(StatementError, match="a month is a Period, not str"):
        session.scalar(select(func.count()).where(Evaluation.period == "2026-10"))
