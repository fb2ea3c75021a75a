"""Job runs, for admins to see what the scheduler did."""

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from service.edge.actors import current_actor
from service.edge.sessions import get_session
from service.jobs import service
from service.jobs.schemas import JobRunOut, JobRunQuery

blp = Blueprint("jobs", __name__, description="Runs of the scheduler's jobs")


@blp.route("/job-runs")
class JobRuns(MethodView):
    @blp.arguments(JobRunQuery, location="query")
    @blp.response(200, JobRunOut(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """List the latest job runs, newest first (admin)."""
        return service.list_runs(session=get_session(), actor=current_actor(), **query)
