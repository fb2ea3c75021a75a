"""An evaluation counts under `require_logged_calls` only if its call is in the log *of the
same month* (DESIGN 13), in the month's figures, its draft and the check of a final month."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import time_machine
from flask import Flask

from contracts.examples import QUALITY_TERMS, load_example
from contracts.periods import Period
from service.agreements.models import Contract
from service.calls.ingest import log_calls
from service.demo import seed
from service.edge.actors import OPERATOR, Actor
from service.evaluations.submission import submit_evaluations
from service.figures.service import aggregate_period
from service.statements import service as statements
from service.statements.models import Statement
from service.volumes.service import upsert_volumes
from tests.api.conftest import PERFECT
from tests.conftest import World

NOVEMBER, DECEMBER = Period(2026, 11), Period(2026, 12)
CALLS = 80
NOVEMBER_ENDED = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
IN_DECEMBER = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
DECEMBER_ENDED = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
# 45,000 units at 1.10 pay 49,500.00; 80 perfect calls would add the +12% band (55,440.00).
VOLUME_ONLY, WITH_THE_BAND = Decimal("49500.00"), Decimal("55440.00")


def logged_contract(app: Flask, world: World) -> int:
    """Add a contract on the shipped quality terms that count only logged calls."""
    from service.accounts.models import Organization, User

    terms = load_example(QUALITY_TERMS)
    terms["quality"]["require_logged_calls"] = True
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        client = session.get_one(User, world.ids["user:client"])
        supplier = session.get_one(Organization, world.ids["supplier"])
        member = seed.Member(client, world.tokens["client"])
        return seed.contract(
            session, member, supplier, name="logged care", effective_from=date(2026, 8, 1),
            terms=terms,
        ).id  # fmt: skip


def refs() -> list[str]:
    return [f"ADV-{number}" for number in range(CALLS)]


def evaluate_november(app: Flask, world: World, contract_id: int) -> None:
    """Self-assess and audit 80 November calls, all perfect; declare 1,500 units a day."""
    records: dict[int, dict[str, Any]] = {}
    for number, ref in enumerate(refs()):
        call_at = datetime(2026, 11, 2 + number % 18, 10, number % 60, tzinfo=UTC)
        for source in ("supplier", "client"):
            records[len(records)] = {
                "contract_id": contract_id, "call_ref": ref, "source": source,
                "agent_ref": f"agent-{number % 4}", "team": None, "call_at": call_at,
                "form": "standard@1", "answers": PERFECT, "evaluator_ref": None, "comment": None,
            }  # fmt: skip
    supplier = Actor(world.ids["user:supplier"], "supplier", world.ids["supplier"])
    days = [{"date": NOVEMBER.first_day + timedelta(days=day), "units": 1500} for day in range(30)]
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        submit_evaluations(session=session, actor=OPERATOR, records=records)
        upsert_volumes(session=session, actor=supplier, contract_id=contract_id, volumes=days)


def log(app: Flask, world: World, contract_id: int, month: Period, now: datetime) -> None:
    """Log the evaluated references as calls of `month`."""
    first = datetime.combine(month.first_day, time(9), UTC)
    calls = [
        {
            "call_ref": ref,
            "call_at": (first + timedelta(days=number % 10)).isoformat(),
            "agent_ref": f"agent-{number % 4}",
        }
        for number, ref in enumerate(refs())
    ]
    supplier = Actor(world.ids["user:supplier"], "supplier", world.ids["supplier"])
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        log_calls(session=session, actor=supplier, contract_id=contract_id, calls=calls, now=now)


def draft(app: Flask, contract_id: int, period: Period, now: datetime) -> Statement:
    with time_machine.travel(now, tick=False):
        with app.extensions["fiducia.sessionmaker"].begin() as session:
            statement, _ = statements.refresh_draft(
                session=session, actor=OPERATOR, contract_id=contract_id, period=period, now=now
            )
            session.expunge(statement)
            return statement


def november_figures(app: Flask, contract_id: int) -> Any:
    with app.extensions["fiducia.sessionmaker"]() as session:
        contract = session.get_one(Contract, contract_id)
        return aggregate_period(session, contract, NOVEMBER)


def test_november_evaluations_of_calls_logged_in_november_count(app: Flask, world: World) -> None:
    contract_id = logged_contract(app, world)
    evaluate_november(app, world, contract_id)
    log(app, world, contract_id, NOVEMBER, now=NOVEMBER_ENDED - timedelta(days=7))

    figures = november_figures(app, contract_id)

    assert figures.statistics.n == CALLS
    assert not figures.unlogged  # None: the month leaves no evaluation out (0 is not said)
    assert draft(app, contract_id, NOVEMBER, NOVEMBER_ENDED).total == WITH_THE_BAND


def test_november_evaluations_of_calls_logged_only_in_december_do_not_count_in_november(
    app: Flask, world: World
) -> None:
    contract_id = logged_contract(app, world)
    evaluate_november(app, world, contract_id)
    before = draft(app, contract_id, NOVEMBER, NOVEMBER_ENDED)

    log(app, world, contract_id, DECEMBER, now=IN_DECEMBER)
    after = draft(app, contract_id, NOVEMBER, IN_DECEMBER)

    figures = november_figures(app, contract_id)
    assert figures.statistics.n == 0
    assert figures.unlogged == 2 * CALLS  # each call's self-assessment and audit
    assert before.total == after.total == VOLUME_ONLY
    assert after.figures["n"] == 0 and after.figures["unlogged"] == 2 * CALLS


def test_a_final_november_is_not_changed_by_the_same_references_logged_in_december(
    app: Flask, world: World
) -> None:
    contract_id = logged_contract(app, world)
    evaluate_november(app, world, contract_id)
    november = draft(app, contract_id, NOVEMBER, NOVEMBER_ENDED)
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        final = statements.finalize(
            session=session, actor=OPERATOR, statement_id=november.id, now=NOVEMBER_ENDED
        )
        assert final.total == VOLUME_ONLY

    log(app, world, contract_id, DECEMBER, now=IN_DECEMBER)
    # A November day corrected and corrected back: November's inputs changed, its money not,
    # so the next statement recomputes November with today's data.
    supplier = Actor(world.ids["user:supplier"], "supplier", world.ids["supplier"])
    for units in (9000, 1500):
        with time_machine.travel(IN_DECEMBER, tick=False):
            with app.extensions["fiducia.sessionmaker"].begin() as session:
                day = {"date": date(2026, 11, 10), "units": units}
                upsert_volumes(
                    session=session, actor=supplier, contract_id=contract_id, volumes=[day]
                )
    december = draft(app, contract_id, DECEMBER, DECEMBER_ENDED)

    codes = [line["code"] for line in december.lines]
    assert codes.count("prior_period_adjustment") == 0, december.lines
    assert december.total == Decimal("0.00")  # December logged calls but declared no units


def test_a_final_november_is_corrected_once_by_its_own_months_late_log(
    app: Flask, world: World
) -> None:
    contract_id = logged_contract(app, world)
    evaluate_november(app, world, contract_id)
    early = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # November's log closes on 4 December
    november = draft(app, contract_id, NOVEMBER, early)
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        statements.finalize(session=session, actor=OPERATOR, statement_id=november.id, now=early)

    with time_machine.travel(early + timedelta(days=1), tick=False):
        log(app, world, contract_id, NOVEMBER, now=early + timedelta(days=1))
    december = draft(app, contract_id, DECEMBER, DECEMBER_ENDED)

    [carried] = [line for line in december.lines if line["code"] == "prior_period_adjustment"]
    assert carried["basis"]["statement_id"] == november.id
    assert Decimal(carried["amount"]) == WITH_THE_BAND - VOLUME_ONLY  # 5,940.00
