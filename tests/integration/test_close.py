"""The monthly close under a controlled clock: drafts, finalization, catching up, failures."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import event, func, select

from contracts.examples import QUALITY_TERMS, load_example
from contracts.periods import Period
from service.agreements.models import Contract
from service.agreements.service import create_contract
from service.calls.ingest import log_calls
from service.edge.actors import Actor
from service.jobs import service as close
from service.jobs.models import JobRun
from service.statements import service as statements_service
from service.statements.models import ReportFile, Statement
from tests.conftest import World, seed_month


def statements(app: Flask) -> list[tuple[int, str, str]]:
    """Return (contract, period, status) of every statement, in the order they were created."""
    with app.extensions["fiducia.sessionmaker"]() as session:
        rows = session.execute(
            select(Statement.contract_id, Statement.period, Statement.status).order_by(Statement.id)
        )
        return [(contract, str(period), status) for contract, period, status in rows]


def run_close_at(app: Flask, moment: datetime, **options: Any) -> JobRun:
    with time_machine.travel(moment, tick=False):
        return close.run_close(app.extensions["fiducia.sessionmaker"], **options)


def test_nothing_is_drafted_before_the_month_ends_in_the_contracts_time_zone(
    app: Flask, world: World
) -> None:
    run = run_close_at(app, datetime(2026, 8, 31, 21, 59, tzinfo=UTC))  # 23:59 in Rome
    assert statements(app) == []
    assert run.outcome == "success" and run.counts == {"items": 0}


def test_a_draft_appears_when_the_month_ends_and_is_final_after_the_dispute_window(
    app: Flask, world: World
) -> None:
    seed_month(app, world, "2026-08")
    contract = world.ids["contract"]
    run_close_at(app, datetime(2026, 8, 31, 22, 0, tzinfo=UTC))  # midnight in Rome
    assert (contract, "2026-08", "draft") in statements(app)

    # The window is 5 days from the end of August in Rome: until 6 September, 00:00 CEST.
    run_close_at(app, datetime(2026, 9, 5, 21, 59, tzinfo=UTC))
    assert (contract, "2026-08", "draft") in statements(app)
    run = run_close_at(app, datetime(2026, 9, 5, 22, 0, tzinfo=UTC))
    assert (contract, "2026-08", "final") in statements(app)
    assert run.counts["finalized"] == 2  # both contracts of the world
    with app.extensions["fiducia.sessionmaker"]() as session:
        formats = session.scalars(
            select(ReportFile.format)
            .join(Statement, ReportFile.statement_id == Statement.id)
            .where(Statement.contract_id == contract)
        ).all()
    assert sorted(formats) == ["csv", "html", "pdf", "xlsx"]

    # A final month is left alone by later runs.
    later = run_close_at(app, datetime(2026, 9, 6, 12, 0, tzinfo=UTC))
    assert later.counts["items"] == 0


def test_a_restart_after_three_missed_months_catches_them_up_in_order(
    app: Flask, world: World
) -> None:
    run_close_at(app, datetime(2026, 9, 10, tzinfo=UTC))  # August closes; then downtime
    run = run_close_at(app, datetime(2026, 12, 10, tzinfo=UTC))
    assert run.counts == {"finalized": 6, "items": 6}
    for key in ("contract", "other_contract"):
        mine = [(period, status) for contract, period, status in statements(app)
                if contract == world.ids[key]]  # fmt: skip
        assert mine == [("2026-08", "final"), ("2026-09", "final"), ("2026-10", "final"),
                        ("2026-11", "final")]  # fmt: skip


def test_months_before_the_terms_start_or_after_the_contract_ends_are_skipped(
    app: Flask, world: World
) -> None:
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        ended = session.get_one(Contract, world.ids["contract"])
        ended.ends_on = date(2026, 9, 30)
        later = session.get_one(Contract, world.ids["other_contract"])
        later.terms_versions[0].effective_from = date(2026, 10, 1)
    run_close_at(app, datetime(2026, 12, 10, tzinfo=UTC))
    periods = {(contract, period) for contract, period, _ in statements(app)}
    assert periods == {
        (world.ids["contract"], "2026-08"),
        (world.ids["contract"], "2026-09"),
        (world.ids["other_contract"], "2026-10"),
        (world.ids["other_contract"], "2026-11"),
    }


def test_a_failing_contract_is_recorded_and_the_next_run_completes_the_rest(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = world.ids["contract"]
    real_compute = statements_service.compute

    def compute_or_crash(session: Any, contract: Any, period: Period, *rest: Any, **kw: Any) -> Any:
        if contract.id == broken and period == Period(2026, 9):
            raise RuntimeError("injected failure while the draft was computed")
        return real_compute(session, contract, period, *rest, **kw)

    # The set-based close of the month fails with it; each contract is then closed on its own.
    monkeypatch.setattr(statements_service, "compute", compute_or_crash)
    run = run_close_at(app, datetime(2026, 10, 10, tzinfo=UTC))
    assert run.outcome == "partial"
    assert run.counts == {"finalized": 3, "failed": 1, "items": 4}
    assert run.error is not None and "injected failure" in run.error
    # The failed item left nothing behind: its draft was rolled back with it.
    assert (broken, "2026-09") not in {(c, p) for c, p, _ in statements(app)}

    monkeypatch.setattr(statements_service, "compute", real_compute)
    healed = run_close_at(app, datetime(2026, 10, 10, 1, tzinfo=UTC))
    assert healed.outcome == "success" and healed.counts == {"finalized": 1, "items": 1}
    with app.extensions["fiducia.sessionmaker"]() as session:
        finals = session.scalar(
            select(func.count()).select_from(Statement).where(Statement.status == "final")
        )
        runs = session.scalars(select(JobRun.outcome).order_by(JobRun.id)).all()
    assert finals == 4
    assert runs == ["partial", "success"]


def test_close_on_demand_finalizes_one_period_before_its_window(app: Flask, world: World) -> None:
    run = run_close_at(
        app,
        datetime(2026, 9, 2, tzinfo=UTC),
        period=Period(2026, 8),
        contract_id=world.ids["contract"],
        finalize=True,
    )
    assert run.counts == {"finalized": 1, "items": 1}
    assert statements(app) == [(world.ids["contract"], "2026-08", "final")]


def contract_paying_on_repeats(app: Flask, world: World) -> int:
    """Create a contract whose terms pay on repeat contacts within 7 days (and nothing else)."""
    terms = load_example(QUALITY_TERMS)
    terms["service"] = {
        "kpis": {
            "repeat_contacts": {
                "within_days": 7, "target": "10%", "per_point": "-0.2%", "max": "-3%"
            }
        }
    }  # fmt: skip
    client = Actor(user_id=world.ids["user:client"], role="client",
                   organization_id=world.ids["client"])  # fmt: skip
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        return create_contract(
            session=session, actor=client, client_id=world.ids["client"],
            supplier_id=world.ids["supplier"], name="repeats", effective_from=date(2026, 8, 1),
            terms=terms,
        ).id  # fmt: skip


def log_at(app: Flask, world: World, contract_id: int, now: datetime, *calls: str) -> None:
    """Log inbound answered calls of the caller c-1 at the given times, as the supplier at `now`."""
    supplier = Actor(user_id=world.ids["user:supplier"], role="supplier",
                     organization_id=world.ids["supplier"])  # fmt: skip
    records = [
        {"call_ref": f"R-{at}", "call_at": at, "agent_ref": "a-1", "direction": "inbound",
         "outcome": "answered", "wait_s": 10, "caller_ref": "c-1"}
        for at in calls
    ]  # fmt: skip
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        log_calls(session=session, actor=supplier, contract_id=contract_id, calls=records, now=now)


def repeat_line(app: Flask, contract_id: int, period: str) -> tuple[str, dict[str, Any]]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        statement = session.scalars(
            select(Statement).where(
                Statement.contract_id == contract_id, Statement.period == Period.parse(period)
            )
        ).one()
        line = next(line for line in statement.lines if line["code"] == "repeat_contacts")
        return statement.status, line["basis"]


def test_the_close_waits_within_days_after_the_month_when_the_terms_pay_on_repeat_contacts(
    app: Flask, world: World
) -> None:
    repeats = contract_paying_on_repeats(app, world)
    # Two answered calls of 31 August (Rome) by one caller, who calls again on 7 September:
    # within 7 days of the second call, so both are repeat contacts (the first repeats too).
    log_at(app, world, repeats, datetime(2026, 8, 31, 21, tzinfo=UTC),
           "2026-08-31T09:00:00+02:00", "2026-08-31T19:00:00+02:00")  # fmt: skip
    run_close_at(app, datetime(2026, 8, 31, 22, 0, tzinfo=UTC))
    assert repeat_line(app, repeats, "2026-08")[1]["numerator"] == 1  # only the first, so far

    # The dispute window closes on 6 September, 00:00 in Rome: the other contract is final,
    # this one waits for its repeats until 8 September, 00:00 in Rome (7 days after August).
    run_close_at(app, datetime(2026, 9, 5, 22, 0, tzinfo=UTC))
    assert (world.ids["contract"], "2026-08", "final") in statements(app)
    assert (repeats, "2026-08", "draft") in statements(app)
    log_at(app, world, repeats, datetime(2026, 9, 7, 12, tzinfo=UTC),
           "2026-09-07T10:00:00+02:00")  # fmt: skip
    run_close_at(app, datetime(2026, 9, 7, 21, 59, tzinfo=UTC))
    assert (repeats, "2026-08", "draft") in statements(app)

    run_close_at(app, datetime(2026, 9, 7, 22, 0, tzinfo=UTC))
    status, basis = repeat_line(app, repeats, "2026-08")
    assert status == "final"
    assert (basis["numerator"], basis["denominator"], basis["figure"]) == (2, 2, "1.0000")
    # 100% against a target of 10%: 90 points at -0.2% is -18%, held at the maximum, -3%.
    assert basis["adjust"] == "-0.03" and basis["capped"] is True


def more_contracts(app: Flask, world: World, count: int) -> list[int]:
    """Create `count` more contracts of the client with the same supplier, from August 2026."""
    client = Actor(user_id=world.ids["user:client"], role="client",
                   organization_id=world.ids["client"])  # fmt: skip
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        return [
            create_contract(
                session=session, actor=client, client_id=world.ids["client"],
                supplier_id=world.ids["supplier"], name=f"line {number}",
                effective_from=date(2026, 8, 1), terms=load_example(QUALITY_TERMS),
            ).id
            for number in range(count)
        ]  # fmt: skip


def statements_of_a_close(app: Flask, moment: datetime) -> tuple[JobRun, int]:
    """Run the close at `moment`; return its run and the number of SQL statements it sent."""
    sent = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engine = app.extensions["fiducia.engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        run = run_close_at(app, moment)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return run, len(sent)


def test_the_close_writes_a_month_of_many_contracts_in_as_many_statements_as_of_two(
    app: Flask, world: World
) -> None:
    seed_month(app, world, "2026-08")
    run_close_at(app, datetime(2026, 9, 1, 1, tzinfo=UTC))
    two, few = statements_of_a_close(app, datetime(2026, 9, 1, 2, tzinfo=UTC))
    assert two.counts == {"refreshed": 2, "items": 2}
    more_contracts(app, world, 6)
    run_close_at(app, datetime(2026, 9, 1, 3, tzinfo=UTC))
    eight, many = statements_of_a_close(app, datetime(2026, 9, 1, 4, tzinfo=UTC))
    assert eight.counts == {"refreshed": 8, "items": 8}
    # Locks, reads and writes are taken for all contracts together: six more contracts
    # cost no more round trips.
    assert many == few, (few, many)
    finals = run_close_at(app, datetime(2026, 10, 10, tzinfo=UTC))
    assert finals.outcome == "success"
    assert finals.counts == {"finalized": 16, "items": 16}  # August's and September's
    assert {status for _, _, status in statements(app)} == {"final"}


@pytest.mark.postgresql
def test_the_set_based_close_leaves_a_month_another_process_holds_to_it(
    app: Flask, world: World
) -> None:
    seed_month(app, world, "2026-08")
    seed_month(app, world, "2026-08", seed=2, contract="other_contract")
    factory = app.extensions["fiducia.sessionmaker"]
    mine = close.Item(Period(2026, 8), world.ids["contract"])
    theirs = close.Item(Period(2026, 8), world.ids["other_contract"])
    with factory.begin() as other:  # another scheduler is closing one of the two right now
        other.execute(select(func.pg_advisory_xact_lock(close.lock_key(theirs))))
        with time_machine.travel(datetime(2026, 9, 1, 1, tzinfo=UTC), tick=False):
            outcomes = close.close_together(
                factory, Period(2026, 8), [mine, theirs], datetime(2026, 9, 1, 1, tzinfo=UTC)
            )
    assert outcomes == {mine: "drafted", theirs: "busy"}
    assert statements(app) == [(world.ids["contract"], "2026-08", "draft")]
