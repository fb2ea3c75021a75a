"""The job runs page: what the scheduler did, and which runs died with their process (admin)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template

from service.accounts.web_sessions import page
from service.edge.sessions import get_session
from service.jobs import service
from service.language.i18n import N_

blp = Blueprint("job_pages", __name__)

# The words for the jobs and for how their runs ended.
WORDS = {
    "close": N_("monthly close"),
    "webhooks": N_("webhook deliveries"),
    "calibration": N_("calibration sessions closed on time"),
    "running": N_("running"),
    "success": N_("succeeded"),
    "partial": N_("partly failed"),
    "failed": N_("did not succeed"),
    "abandoned": N_("abandoned"),
}


@blp.get("/job-runs")
@page
def job_runs() -> Any:
    """List the latest runs of the scheduler's jobs, newest first (admin)."""
    runs = service.list_runs(session=get_session(), actor=g.actor)
    return render_template("jobs/runs.html", runs=runs, words=WORDS)
