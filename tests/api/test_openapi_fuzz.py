"""Schemathesis against the service's own OpenAPI document, as every role."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import update

from service.accounts.models import ApiToken
from tests.conftest import World

# Once per CI run, on PostgreSQL (see the Makefile): it exercises the API's edges, not a dialect.
pytestmark = pytest.mark.fuzz

EXAMPLES_PER_OPERATION = 12
BEYOND_64_BITS = str(2**64)
EDGE_PERIODS = ["0000-01", "0001-01", "9999-12", "2026-10\n"]
# Values past what the service represents, by the name of the path or query parameter or body
# field that takes them; every operation's explicit examples are sent again with each that fits.
QUERY_EDGES: dict[str, list[Any]] = {
    "period": EDGE_PERIODS,
    "from": EDGE_PERIODS,
    "to": EDGE_PERIODS,
    "page": [BEYOND_64_BITS],
    "page_size": [BEYOND_64_BITS],
    "contract_id": [BEYOND_64_BITS],
    "organization_id": [BEYOND_64_BITS],
    "agent_ref": ["agent\x00"],
}
BODY_EDGES: dict[str, list[Any]] = {
    "period": EDGE_PERIODS,
    "periods": [[period] for period in EDGE_PERIODS],
    "call_at": ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"],
    "date": ["0001-01-01", "9999-12-31"],
    "effective_from": ["0001-01-01", "9999-12-01"],
    "agent_ref": ["agent-\ud800"],
    "name": ["name-\ud800"],
    "contract_id": [2**64],
}
PATH_EDGES: dict[str, list[Any]] = {"code": ["standard\x00"]}
# Sent as raw bytes: a JSON encoder would itself recurse this deep.
DEEP_JSON = b"[" * 1000 + b"]" * 1000


def edge_bodies(body: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Yield (path, edge value) for every field of a body that has edges, at any depth."""
    if isinstance(body, dict):
        items = list(body.items())
    elif isinstance(body, list):
        items = list(enumerate(body))
    else:
        return
    for key, value in items:
        for edge in BODY_EDGES.get(key, []) if isinstance(key, str) else []:
            yield (*path, key), edge
        yield from edge_bodies(value, (*path, key))


def replaced(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    """Return a copy of `body` with the value at `path` replaced."""
    if not path:
        return value
    copy = dict(body) if isinstance(body, dict) else list(body)
    copy[path[0]] = replaced(body[path[0]], path[1:], value)
    return copy


def with_edges(context: Any, examples: list[Any]) -> None:
    """Add to each operation's examples the same requests carrying each edge input that fits."""
    operation = context.operation
    names = {parameter.name for parameter in operation.query}
    for case in list(examples):
        for name in sorted(set(case.path_parameters or {}) & set(PATH_EDGES)):
            for edge in PATH_EDGES[name]:
                changed = case.path_parameters | {name: edge}
                examples.append(edge_case(operation, case, path_parameters=changed))
        query = dict(case.query or {})
        for name in sorted(names & set(QUERY_EDGES)):
            for edge in QUERY_EDGES[name]:
                examples.append(edge_case(operation, case, query=query | {name: edge}))
        if operation.body:
            for path, edge in edge_bodies(case.body):
                examples.append(edge_case(operation, case, body=replaced(case.body, path, edge)))
            examples.append(edge_case(operation, case, body=DEEP_JSON))


def edge_case(operation: Any, case: Any, **changes: Any) -> Any:
    """Return a copy of an example case with `changes` to its query or body."""
    given = {
        "path_parameters": case.path_parameters,
        "query": case.query,
        "body": case.body,
        "media_type": case.media_type,
    }
    return operation.Case(**(given | changes))


@pytest.fixture
def api_schema(app: Flask, world: World) -> Any:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # Every operation gets an example (generated where the document has none) to add edges to.
    schema.config.phases.examples.fill_missing = True
    schema.hook("before_add_examples")(with_edges)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


def keep_tokens_live(app: Flask) -> None:
    """Undo revocations: a role that revoked its own token would meet only 401s afterwards."""
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        session.execute(update(ApiToken).values(revoked_at=None))


def fuzz_as(role: str) -> Callable[..., None]:
    """Return a test that sends generated requests as `role` and validates every answer."""

    @schema.parametrize()
    @settings(
        max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck)
    )
    def test(case: Any, app: Flask, world: World) -> None:
        case.call_and_validate(
            headers=world.headers(role), checks=[not_a_server_error, response_schema_conformance]
        )
        if case.method == "DELETE" and case.operation.path == "/api/v1/tokens/{token_id}":
            keep_tokens_live(app)

    return test


test_no_server_error_and_documented_answers_as_admin = fuzz_as("admin")
test_no_server_error_and_documented_answers_as_client = fuzz_as("client")
test_no_server_error_and_documented_answers_as_finance = fuzz_as("finance")
test_no_server_error_and_documented_answers_as_supplier = fuzz_as("supplier")
