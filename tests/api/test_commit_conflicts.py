"""A unique key that clashes only when the request commits is a 409, never a 500."""

from flask import Flask

from service.accounts.models import Organization
from service.edge.sessions import get_session
from tests.conftest import json_of, make_world, row_counts


def test_a_clash_found_at_commit_is_a_409_and_writes_nothing(fresh_app: Flask) -> None:
    app = fresh_app  # the test adds a route: an app of its own
    world = make_world(app)

    @app.post("/api/v1/test-only/organizations")
    def add_without_flushing() -> dict[str, str]:
        # Like any write the session flushes only when the request commits.
        get_session().add(Organization(name="client", kind="client"))
        return {"status": "queued"}

    app.extensions["csrf"].exempt(add_without_flushing)  # an API route: bearer tokens

    before = row_counts(app)
    response = app.test_client().post(
        "/api/v1/test-only/organizations", headers=world.headers("admin")
    )
    assert response.status_code == 409
    body = json_of(response)
    assert body["code"] == 409 and body["status"] == "Conflict"
    assert "retry" in body["message"]
    assert row_counts(app) == before
