"""Schemathesis against the service's own OpenAPI document, as every role."""

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import World

EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def api_schema(app: Flask, world: World) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


def fuzz_as(role: str) -> Callable[..., None]:
    """Return a test that sends generated requests as `role` and validates every answer."""

    @schema.parametrize()
    @settings(
        max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck)
    )
    def test(case: Any, world: World) -> None:
        case.call_and_validate(
            headers=world.headers(role), checks=[not_a_server_error, response_schema_conformance]
        )

    return test


test_no_server_error_and_documented_answers_as_admin = fuzz_as("admin")
test_no_server_error_and_documented_answers_as_client = fuzz_as("client")
test_no_server_error_and_documented_answers_as_finance = fuzz_as("finance")
test_no_server_error_and_documented_answers_as_supplier = fuzz_as("supplier")
