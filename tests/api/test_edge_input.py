"""Input at the edges of what the service represents is a 422 naming the field, never a 500."""

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from contracts.examples import load_example
from tests.conftest import World, json_of, row_counts

# Year 0 and 1 and 9999 overflow dates and instants; a trailing newline slipped past `$`.
EDGE_PERIODS = ["0000-01", "0001-01", "9999-12", "2026-10\n", "1999-12", "2200-01"]

# name: (method, path, where the period goes, its path in `errors`, the rest of the input)
PERIOD_INPUTS: dict[str, tuple[str, str, str, tuple[str, ...], dict[str, Any]]] = {
    "scorecard": ("get", "/contracts/{contract}/scorecard", "query", ("period",), {}),
    "agents": ("get", "/contracts/{contract}/scorecard/agents", "query", ("period",), {}),
    "trend from": ("get", "/contracts/{contract}/scorecard/trend", "query", ("from",),
                   {"to": "2026-10"}),
    "trend to": ("get", "/contracts/{contract}/scorecard/trend", "query", ("to",),
                 {"from": "2026-01"}),
    "scorecards": ("get", "/scorecards", "query", ("period",), {}),
    "evaluations": ("get", "/evaluations", "query", ("period",), {}),
    "volumes": ("get", "/contracts/{contract}/volumes", "query", ("period",), {}),
    "statements": ("get", "/statements", "query", ("period",), {}),
    "payouts": ("get", "/payouts", "query", ("period",), {}),
    "bundle": ("get", "/payouts/bundle", "query", ("period",), {}),
    "draft": ("post", "/contracts/{contract}/statements", "json", ("period",), {}),
    "simulate": ("post", "/contracts/{contract}/simulate", "json", ("periods", "0"),
                 {"terms": load_example("terms-quality.yaml")}),
}  # fmt: skip

BEYOND_64_BITS = str(2**64)
IN_RANGE = "must fall in the years 2000 to 2199"
NOT_UNICODE = "must be valid Unicode text"


def messages_at(response: Any, location: str, *path: str) -> list[str]:
    """Return the messages a 422 gives for the field at `location` and `path`."""
    assert response.status_code == 422, response.data[:300]
    node = json_of(response)["errors"][location]
    for part in path:
        node = node[part]
    assert isinstance(node, list) and node, node
    return node


@pytest.mark.parametrize("period", EDGE_PERIODS)
@pytest.mark.parametrize("endpoint", PERIOD_INPUTS)
def test_a_month_outside_2000_to_2199_or_with_anything_after_it_is_422_naming_the_field(
    client: FlaskClient, world: World, endpoint: str, period: str
) -> None:
    method, path, location, field, rest = PERIOD_INPUTS[endpoint]
    url = "/api/v1" + path.format(contract=world.ids["contract"])
    value: Any = [period] if len(field) == 2 else period
    given = {"query_string": {field[0]: value, **rest}} if location == "query" else {}
    given = given or {"json": {field[0]: value, **rest}}
    response = client.open(url, method=method, headers=world.headers("admin"), **given)
    assert "2000-01 to 2199-12" in messages_at(response, location, *field)[0]


@pytest.mark.parametrize("page", [BEYOND_64_BITS, str(2**63 - 1), str(2**31)])
def test_a_page_past_its_bound_is_422_naming_it_and_so_is_the_page_size(
    client: FlaskClient, world: World, page: str
) -> None:
    response = client.get(
        "/api/v1/evaluations",
        query_string={"page": page, "page_size": BEYOND_64_BITS},
        headers=world.headers("client"),
    )
    assert messages_at(response, "query", "page") == [
        "Must be greater than or equal to 1 and less than or equal to 2147483647."
    ]
    assert messages_at(response, "query", "page_size") == [
        "Must be greater than or equal to 1 and less than or equal to 100."
    ]


@pytest.mark.parametrize(
    "call_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1999-12-31T23:00:00Z"]
)
def test_a_call_outside_the_years_2000_to_2199_is_422_naming_call_at(
    app: Flask, client: FlaskClient, world: World, make_evaluation: Any, call_at: str
) -> None:
    before = row_counts(app)
    one = client.post(
        "/api/v1/evaluations",
        json=make_evaluation(call_at=call_at),
        headers=world.headers("supplier"),
    )
    assert messages_at(one, "json", "call_at") == [IN_RANGE]
    batch = client.post(
        "/api/v1/evaluations/batch",
        json={"evaluations": [make_evaluation(call_ref="fine"), make_evaluation(call_at=call_at)]},
        headers=world.headers("supplier"),
    )
    assert messages_at(batch, "json", "evaluations", "1", "call_at") == [IN_RANGE]
    naive = client.post(
        "/api/v1/evaluations",
        json=make_evaluation(call_at="2026-10-14T10:30:00"),
        headers=world.headers("supplier"),
    )
    assert messages_at(naive, "json", "call_at") == ["Not a valid aware datetime."]
    assert row_counts(app) == before


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31", "2200-01-01"])
def test_a_volume_day_outside_the_years_2000_to_2199_is_422_naming_it(
    app: Flask, client: FlaskClient, world: World, day: str
) -> None:
    before = row_counts(app)
    response = client.put(
        f"/api/v1/contracts/{world.ids['contract']}/volumes",
        json={"volumes": [{"date": "2026-10-01", "units": 1}, {"date": day, "units": 2}]},
        headers=world.headers("supplier"),
    )
    assert json_of(response)["errors"]["json"] == {"volumes": {"1": {"date": [IN_RANGE]}}}
    assert row_counts(app) == before


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-01"])
def test_terms_effective_outside_the_years_2000_to_2199_are_422_naming_it(
    app: Flask, client: FlaskClient, world: World, day: str
) -> None:
    before = row_counts(app)
    added = client.post(
        f"/api/v1/contracts/{world.ids['contract']}/terms",
        json={"effective_from": day, "terms": load_example("terms-quality.yaml")},
        headers=world.headers("client"),
    )
    assert messages_at(added, "json", "effective_from") == [IN_RANGE]
    created = client.post(
        "/api/v1/contracts",
        json={
            "client_id": world.ids["client"],
            "supplier_id": world.ids["other_supplier"],
            "name": "outbound sales",
            "effective_from": day,
            "terms": load_example("terms-quality.yaml"),
        },
        headers=world.headers("client"),
    )
    assert messages_at(created, "json", "effective_from") == [IN_RANGE]
    assert row_counts(app) == before


def test_text_with_a_lone_surrogate_or_a_nul_is_422_naming_the_field(
    app: Flask, client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    before = row_counts(app)
    body = make_evaluation(agent_ref="agent-\ud800")
    one = client.post("/api/v1/evaluations", json=body, headers=world.headers("supplier"))
    assert messages_at(one, "json", "agent_ref") == [NOT_UNICODE]
    batch = client.post(
        "/api/v1/evaluations/batch",
        json={"evaluations": [make_evaluation(call_ref="fine"), body]},
        headers=world.headers("supplier"),
    )
    assert messages_at(batch, "json", "evaluations", "1", "agent_ref") == [NOT_UNICODE]
    key = client.post(
        "/api/v1/evaluations",
        json=make_evaluation(answers={"\udfff": "yes"}),
        headers=world.headers("supplier"),
    )
    assert messages_at(key, "json", "answers", "\udfff") == [NOT_UNICODE]
    nul = client.post(
        "/api/v1/evaluations",
        json=make_evaluation(team="a\x00b"),
        headers=world.headers("supplier"),
    )
    assert messages_at(nul, "json", "team") == ["must not contain NUL characters"]
    query = client.get(
        "/api/v1/evaluations", query_string={"agent_ref": "a\x00"}, headers=world.headers("client")
    )
    assert messages_at(query, "query", "agent_ref") == ["must not contain NUL characters"]
    path = client.get("/api/v1/forms/a%00b/1", headers=world.headers("client"))
    assert messages_at(path, "path", "code") == ["must not contain NUL characters"]
    assert row_counts(app) == before


def test_json_nested_deeper_than_64_levels_is_refused_before_it_is_read(
    app: Flask, client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    before = row_counts(app)

    def post(depth: int) -> Any:
        """Post an evaluation whose comment nests `depth - 1` lists inside the body."""
        nested = "[" * (depth - 1) + "]" * (depth - 1)
        # Brackets and quotes inside strings do not nest.
        body = make_evaluation(evaluator_ref='[{"' * 60, comment="@")
        text = json.dumps(body).replace('"@"', nested)
        return client.post(
            "/api/v1/evaluations",
            data=text,
            content_type="application/json",
            headers=world.headers("supplier"),
        )

    for depth in (65, 1000, 100_000):
        response = post(depth)
        assert response.status_code == 400, depth
        assert json_of(response)["message"] == "the JSON body is nested deeper than 64 levels"
        assert json_of(response)["errors"] == {"json": [json_of(response)["message"]]}
    assert messages_at(post(64), "json", "comment") == ["Not a valid string."]
    assert row_counts(app) == before


def test_a_json_integer_past_4300_digits_is_422_naming_it_not_500(
    client: FlaskClient, world: World
) -> None:
    response = client.put(
        f"/api/v1/contracts/{world.ids['contract']}/volumes",
        data='{"volumes": [{"units": 7, "date": "2026-10-01"}, {"units": -' + "9" * 5000 + "}]}",
        content_type="application/json",
        headers=world.headers("supplier"),
    )
    assert response.status_code == 422
    long_integer = ["a number of more than 4,300 digits"]
    assert json_of(response)["errors"] == {"json": {"volumes": {"1": {"units": long_integer}}}}
    whole = client.put(
        f"/api/v1/contracts/{world.ids['contract']}/volumes",
        data="9" * 4301,
        content_type="application/json",
        headers=world.headers("supplier"),
    )
    assert json_of(whole)["errors"] == {"json": long_integer}


def test_a_form_field_without_a_value_is_no_server_error(client: FlaskClient, world: World) -> None:
    # Found by the schema fuzzer: a multipart part named by a carriage return alone.
    body = b'--b\r\nContent-Disposition: form-data; name="\r"\r\n\r\nnull\r\n--b--\r\n'
    for path in ("/calls/upload", "/evaluations/upload"):
        response = client.post(
            f"/api/v1/contracts/{world.ids['contract']}{path}",
            data=body,
            content_type="multipart/form-data; boundary=b",
            headers=world.headers("supplier"),
        )
        assert response.status_code == 422, response.get_data(as_text=True)
        assert json_of(response)["errors"]
