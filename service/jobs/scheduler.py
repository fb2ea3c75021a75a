"""The scheduler process: APScheduler with in-code jobs, never inside web workers."""

from __future__ import annotations

import logging
from datetime import UTC

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from service.calibration.scheduled import close_due_sessions
from service.database.engine import utcnow
from service.erasure.service import run_retention
from service.jobs.service import abandon_dead_runs, record_run, run_close
from service.notices import service as notices
from service.notices.addresses import AddressPolicy

log = logging.getLogger(__name__)


def close_job(app: Flask) -> None:
    """Close every due month (derived from the database, so missed runs heal themselves)."""
    run_close(app.extensions["fiducia.sessionmaker"])


def webhook_job(app: Flask) -> None:
    """Deliver the statement notices that are due."""
    factory = app.extensions["fiducia.sessionmaker"]
    counts = notices.deliver_due(
        factory,
        policy=AddressPolicy.of(app.config),
        deadline=app.config["WEBHOOK_DEADLINE_SECONDS"],
    )
    if counts.delivered or counts.failed:
        record_run(factory, "webhooks", {"delivered": counts.delivered, "failed": counts.failed})


def calibration_job(app: Flask) -> None:
    """Close the calibration sessions whose closing time has come."""
    factory = app.extensions["fiducia.sessionmaker"]
    closed = close_due_sessions(factory)
    if closed:
        record_run(factory, "calibration", {"closed": closed})


def retention_job(app: Flask) -> None:
    """Erase the personal data of the months older than FIDUCIA_RETENTION_MONTHS (DESIGN 18)."""
    factory = app.extensions["fiducia.sessionmaker"]
    run = run_retention(factory, app.config["RETENTION_MONTHS"], utcnow())
    if run.months or run.counts:
        record_run(factory, "retention", {"months": run.months, **run.counts})


def startup_check(app: Flask) -> None:
    """Mark abandoned the runs a dead scheduler left running (see `abandon_dead_runs`)."""
    abandon_dead_runs(app.extensions["fiducia.sessionmaker"], starting=True)


def runs_job(app: Flask) -> None:
    """Mark abandoned the runs whose lease ran out meanwhile (another scheduler died)."""
    abandon_dead_runs(app.extensions["fiducia.sessionmaker"])


def build_scheduler(app: Flask) -> BlockingScheduler:
    """Return a scheduler with the close (hourly by default) and webhook delivery (each minute)."""
    scheduler = BlockingScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            # A run missed by up to 6 hours (a restart, a long close) still runs once.
            "misfire_grace_time": 6 * 3600,
        },
    )
    scheduler.add_job(
        close_job,
        "interval",
        minutes=app.config["CLOSE_EVERY_MINUTES"],
        args=[app],
        id="close",
        next_run_time=utcnow(),
    )
    scheduler.add_job(webhook_job, "interval", minutes=1, args=[app], id="webhooks")
    scheduler.add_job(runs_job, "interval", minutes=1, args=[app], id="runs")
    scheduler.add_job(calibration_job, "interval", minutes=1, args=[app], id="calibration")
    scheduler.add_job(
        retention_job, "interval", hours=6, args=[app], id="retention", next_run_time=utcnow()
    )
    return scheduler


def run_once(app: Flask) -> None:
    """Run each job once, in order, and return (for cron-like use and for tests)."""
    startup_check(app)
    calibration_job(app)
    close_job(app)
    webhook_job(app)
    retention_job(app)
