"""Job runs end (DESIGN §8): a run holds a lease it renews while it lasts, and a run whose
process died is marked abandoned, with when that was noticed, instead of staying `running`."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.database.engine import utcnow
from service.jobs import service as jobs
from service.jobs.models import JobRun
from service.jobs.scheduler import runs_job, startup_check
from tests.conftest import World, json_of
from tests.web.test_pages import sign_in


def gone_pid() -> int:
    """Return the id of a process that has ended."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    return ended.pid


def left_running(app: Flask, **fields: object) -> int:
    """Store a run as a process that stopped would have left it: `running`."""
    started = utcnow() - timedelta(hours=1)
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        run = JobRun(job="close", started_at=started, outcome="running", counts={}, **fields)
        session.add(run)
        session.flush()
        return run.id


def runs(app: Flask) -> dict[int, JobRun]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        return {run.id: run for run in session.scalars(select(JobRun))}


def test_the_scheduler_starting_marks_runs_whose_lease_ran_out_abandoned(
    app: Flask, client: FlaskClient, world: World
) -> None:
    now = utcnow()
    expired = left_running(
        app, host="gone.example", pid=4242, lease_until=now - timedelta(minutes=1)
    )
    alive = left_running(
        app, host="other.example", pid=4242, lease_until=now + timedelta(minutes=4)
    )
    before = runs(app)
    assert before[expired].outcome == "running"

    startup_check(app)

    after = runs(app)
    assert (after[expired].outcome, after[alive].outcome) == ("abandoned", "running")
    noticed = after[expired].abandoned_at
    assert noticed is not None and abs((noticed - utcnow()).total_seconds()) < 60
    assert after[alive].abandoned_at is None
    listed = json_of(client.get("/api/v1/job-runs", headers=world.headers("admin")))
    shown = {run["id"]: run for run in listed}
    assert shown[expired]["outcome"] == "abandoned"
    assert datetime.fromisoformat(shown[expired]["abandoned_at"]) == noticed
    assert shown[alive]["outcome"] == "running" and shown[alive]["abandoned_at"] is None


def test_a_run_of_a_process_gone_from_this_host_is_abandoned_without_waiting_for_its_lease(
    app: Flask,
) -> None:
    lease = utcnow() + timedelta(minutes=4)
    host = socket.gethostname()
    gone = left_running(app, host=host, pid=gone_pid(), lease_until=lease)
    mine_before = left_running(app, host=host, pid=os.getpid(), lease_until=lease)
    living = left_running(app, host=host, pid=os.getppid(), lease_until=lease)

    runs_job(app)  # the scheduler's check each minute, while it runs
    assert [runs(app)[run].outcome for run in (gone, mine_before, living)] == [
        "abandoned",
        "running",  # this very process: its own run, alive
        "running",
    ]
    startup_check(app)  # starting, this process has no run yet: one with its pid is dead
    assert [runs(app)[run].outcome for run in (gone, mine_before, living)] == [
        "abandoned",
        "abandoned",
        "running",
    ]


def test_a_run_from_before_leases_is_abandoned_once_a_lease_has_passed_since_it_began(
    app: Flask,
) -> None:
    old = left_running(app)  # started an hour ago, no host, no lease
    startup_check(app)
    assert runs(app)[old].outcome == "abandoned"


def test_a_close_run_holds_a_lease_on_this_process_and_renews_it_while_it_lasts(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = app.extensions["fiducia.sessionmaker"]
    monkeypatch.setattr(jobs, "RENEW_EVERY", 0.05)
    leases: list[datetime | None] = []

    def watch(_item: jobs.Item, _outcome: str) -> None:
        if len(leases) < 3:
            time.sleep(0.3)
            with factory() as session:
                leases.append(
                    session.scalars(select(JobRun.lease_until).order_by(JobRun.id.desc())).first()
                )

    run = jobs.run_close(factory, datetime(2026, 11, 1, 12, tzinfo=UTC), on_item=watch)

    stored = runs(app)[run.id]
    assert (stored.outcome, stored.host, stored.pid) == (
        "success",
        socket.gethostname(),
        os.getpid(),
    )
    assert len(leases) >= 2 and all(lease is not None for lease in leases)
    assert leases[-1] > leases[0]  # type: ignore[operator]
    assert leases[0] > utcnow() + jobs.LEASE - timedelta(minutes=1)  # type: ignore[operator]


def test_the_job_runs_page_shows_an_abandoned_run_to_admins_only(app: Flask, world: World) -> None:
    abandoned = left_running(app, lease_until=utcnow() - timedelta(minutes=1))
    startup_check(app)
    admin = app.test_client()
    sign_in(admin, world.tokens["admin"])
    page = admin.get("/job-runs", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert f'id="run-{abandoned}"' in page.text and "abandoned" in page.text
    supplier = app.test_client()
    sign_in(supplier, world.tokens["supplier"])
    assert supplier.get("/job-runs").status_code == 403


def test_the_job_runs_page_speaks_italian_to_an_italian_admin(app: Flask, world: World) -> None:
    from tests.web.test_languages import check_page, data_strings

    now = utcnow()
    left_running(app, lease_until=now - timedelta(minutes=1))
    startup_check(app)
    left_running(app, host="here.example", pid=7, lease_until=now + timedelta(minutes=4))
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        for outcome in ("success", "partial", "failed"):
            session.add(
                JobRun(job="webhooks", started_at=now, finished_at=now, outcome=outcome,
                       counts={"delivered": 1200}, error="contract 1 2026-10: ValueError")
            )  # fmt: skip
        data = data_strings(session)
    admin = app.test_client()
    sign_in(admin, world.tokens["admin"])
    check_page(admin, "/job-runs", data)
    shown = admin.get("/job-runs", headers={"Accept-Language": "it"}).text
    for word in ("abbandonata", "in corso", "riuscita", "in parte non riuscita", "non riuscita"):
        assert f">{word}</span>" in shown
