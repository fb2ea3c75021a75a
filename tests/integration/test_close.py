"""The monthly close under a controlled clock: drafts, finalization, catching up, failures."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from contracts.periods import Period
from service.agreements.models import Contract
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
    real_refresh = statements_service.refresh_draft

    def refresh_or_crash(*, contract_id: int, period: Period, **rest: Any) -> Any:
        statement, created = real_refresh(contract_id=contract_id, period=period, **rest)
        if contract_id == broken and period == Period(2026, 9):
            raise RuntimeError("injected failure after the draft was written")
        return statement, created

    monkeypatch.setattr(statements_service, "refresh_draft", refresh_or_crash)
    run = run_close_at(app, datetime(2026, 10, 10, tzinfo=UTC))
    assert run.outcome == "partial"
    assert run.counts == {"finalized": 3, "failed": 1, "items": 4}
    assert run.error is not None and "injected failure" in run.error
    # The failed item left nothing behind: its draft was rolled back with it.
    assert (broken, "2026-09") not in {(c, p) for c, p, _ in statements(app)}

    monkeypatch.setattr(statements_service, "refresh_draft", real_refresh)
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
