"""Two scheduler processes on the same due work: every month closed exactly once."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import time_machine
from flask import Flask
from sqlalchemy import func, select

from service.agreements.models import Contract
from service.jobs.models import JobRun
from service.jobs.service import dispute_window_closed, due_items
from service.statements.models import ReportFile, Statement
from tests.conftest import World, seed_month

# The schedulers run on the test's clock too, whatever day the suite runs.
SCHEDULER_ONCE = (
    "import sys, time_machine; from service.cli import main; "
    "time_machine.travel(sys.argv[1], tick=True).start(); main(['scheduler', '--once'])"
)


def test_two_schedulers_started_together_close_each_month_once(
    app: Flask, world: World, database_url: str, record_property: Any
) -> None:
    for period, seed in (("2026-08", 1), ("2026-09", 2), ("2026-10", 3)):
        seed_month(app, world, period, seed=seed)
        seed_month(app, world, period, seed=seed + 10, contract="other_contract")
    factory = app.extensions["fiducia.sessionmaker"]
    # The schedulers run in processes of their own, on the real clock, not the test's.
    now = datetime.fromtimestamp(time_machine.escape_hatch.time.time(), UTC)
    with factory() as session:
        items = due_items(session, now)
        to_finalize = sum(
            dispute_window_closed(session.get_one(Contract, item.contract_id), item.period, now)
            for item in items
        )
    assert len(items) >= 6 and to_finalize >= 2

    env = os.environ | {"DATABASE_URL": database_url, "FIDUCIA_LOG_LEVEL": "WARNING"}
    schedulers = [
        subprocess.Popen(
            [sys.executable, "-c", SCHEDULER_ONCE, now.isoformat()],
            env=env,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for scheduler in schedulers:
        _, errors = scheduler.communicate(timeout=300)
        assert scheduler.returncode == 0, errors.decode()[-2000:]

    with factory() as session:
        per_month = session.execute(
            select(Statement.contract_id, Statement.period, func.count()).group_by(
                Statement.contract_id, Statement.period
            )
        ).all()
        finals = session.scalars(select(Statement.id).where(Statement.status == "final")).all()
        files = session.execute(
            select(ReportFile.statement_id, func.count()).group_by(ReportFile.statement_id)
        ).all()
        runs = session.scalars(select(JobRun).where(JobRun.job == "close")).all()
    assert len(per_month) == len(items)
    assert all(count == 1 for _, _, count in per_month)
    assert len(finals) == to_finalize
    assert sorted(statement for statement, _ in files) == sorted(finals)
    assert all(count == 4 for _, count in files)  # csv, xlsx, html, pdf: one set each
    record_property("runs", [run.counts for run in runs])
    assert [run.outcome for run in runs] == ["success", "success"]
    # Between them the two processes finalized each month once: the other found it done.
    assert sum(run.counts.get("finalized", 0) for run in runs) == to_finalize
