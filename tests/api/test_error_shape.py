"""One error shape: whatever refuses an input, the answer names it as errors.<location>.<path>."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import World, errors_at, json_of


def test_a_schema_a_rule_and_a_service_name_the_field_the_same_way(
    client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    by_schema = client.post("/api/v1/organizations", json={"kind": "client"},
                            headers=world.headers("admin"))  # fmt: skip
    by_rule = client.post(
        "/api/v1/evaluations", json=make_evaluation(answers={"tone": 9}),
        headers=world.headers("supplier"),
    )  # fmt: skip
    by_service = client.post(
        "/api/v1/organizations",
        json={"name": "client", "kind": "client"},
        headers=world.headers("admin"),
    )
    by_query = client.get("/api/v1/forms/standard/1", headers=world.headers("admin"))
    for response in (by_schema, by_rule, by_service, by_query):
        assert set(json_of(response)) == {"code", "status", "message", "errors"}
        assert json_of(response)["code"] == response.status_code
    assert errors_at(by_schema, "json.name") == ["Missing data for required field."]
    assert json_of(by_schema)["message"] == "the input is invalid in json"
    assert errors_at(by_rule, "json.answers.tone")
    assert errors_at(by_service, "json.name") == ["already taken"]
    assert errors_at(by_query, "query.organization_id") == ["name the owner"]


def test_a_bad_record_in_a_batch_is_named_by_its_index_and_field(
    client: FlaskClient, world: World, make_evaluation: Any
) -> None:
    batch = [make_evaluation(call_ref="A"), make_evaluation(call_ref="B", answers={"tone": 9})]
    response = client.post(
        "/api/v1/evaluations/batch", json={"evaluations": batch}, headers=world.headers("supplier")
    )
    assert response.status_code == 422
    assert list(errors_at(response, "json.evaluations")) == ["1"]
    assert errors_at(response, "json.evaluations.1.answers.tone")


def test_the_openapi_document_describes_the_error_shape(client: FlaskClient) -> None:
    document = json_of(client.get("/api/v1/openapi.json"))
    error = document["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "status", "message", "errors"}
    assert (
        "`errors.json.evaluations.3.answers.tone`" in error["properties"]["errors"]["description"]
    )
    responses = document["components"]["responses"]
    assert responses["UNPROCESSABLE_ENTITY"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_a_form_part_without_a_name_is_a_422_naming_the_empty_field(
    client: FlaskClient, world: World
) -> None:
    """Werkzeug reads a part sent without a name as None; the error shape names it "" (the
    fuzzing found the JSON encoder failing on a None key: a 500)."""
    body = (
        b"--X\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n"
        b'--X\r\nContent-Disposition: form-data; name=""\r\n\r\nv\r\n--X--\r\n'
    )
    response = client.post(
        f"/api/v1/contracts/{world.ids['contract']}/evaluations/upload",
        data=body,
        content_type="multipart/form-data; boundary=X",
        headers=world.headers("supplier"),
    )
    assert response.status_code == 422
    assert errors_at(response, "form") == {"": ["Unknown field.", "Unknown field."]}
