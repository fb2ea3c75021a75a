"""Names and titles people type refuse control characters, naming the field (DESIGN §14).

A carriage return in a contract's name once ended a CSS string in the PDF statement; a name
is one line of text, and every place a name or a title is typed says so.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from contracts.examples import load_example
from tests.conftest import World, errors_at, row_counts

# A line break, a tab, an escape, a C1 control and a line separator.
CONTROLS = ["Acme\r}} x {", "Acme\nSpA", "Acme\tSpA", "Acme\x1b[31m", "Acme\x85", "Acme\u2028"]


def form(world: World, path: tuple[Any, ...], value: str) -> dict[str, Any]:
    document = copy.deepcopy(load_example("standard-form.yaml")) | {"version": 2}
    node = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return document


def contract(world: World, name: str) -> dict[str, Any]:
    return {
        "client_id": world.ids["client"],
        "supplier_id": world.ids["other_supplier"],
        "name": name,
        "effective_from": "2026-12-01",
        "terms": load_example("terms-quality.yaml"),
    }


def unit(world: World, name: str) -> dict[str, Any]:
    terms = load_example("terms-quality.yaml")
    terms["volume"]["unit"] = name
    return {"effective_from": "2027-01-01", "terms": terms}


Call = tuple[str, str, str, Callable[[World, str], dict[str, Any]], str]
CALLS: list[Call] = [
    ("post", "/api/v1/organizations", "admin",
     lambda world, name: {"name": name, "kind": "client"}, "json.name"),
    ("post", "/api/v1/users", "admin",
     lambda world, name: {"organization_id": world.ids["client"], "name": name,
                          "email": "new@example.test", "role": "client"}, "json.name"),
    ("patch", "/api/v1/users/{user_finance}", "admin",
     lambda world, name: {"name": name}, "json.name"),
    ("post", "/api/v1/contracts", "client", contract, "json.name"),
    ("post", "/api/v1/contracts/{contract}/terms", "client", unit, "json.terms.volume.unit"),
    ("post", "/api/v1/forms", "client",
     lambda world, name: form(world, ("title",), name), "json.title"),
    ("post", "/api/v1/forms", "client",
     lambda world, name: form(world, ("sections", 1, "title"), name), "json.sections.1.title"),
]  # fmt: skip

QUESTION_TEXT = (
    lambda world, text: form(world, ("sections", 0, "questions", 2, "text"), text),
    "json.sections.0.questions.2.text",
)


@pytest.mark.parametrize("name", CONTROLS, ids=repr)
@pytest.mark.parametrize("call", CALLS, ids=lambda call: call[-1])
def test_a_name_or_title_with_a_control_character_is_422_naming_it_and_stores_nothing(
    app: Flask, client: FlaskClient, world: World, call: Call, name: str
) -> None:
    method, url, who, body, field = call
    url = url.format(**{key.replace(":", "_"): value for key, value in world.ids.items()})
    before = row_counts(app)
    response = getattr(client, method)(url, json=body(world, name), headers=world.headers(who))
    assert response.status_code == 422
    assert any("control characters" in message for message in errors_at(response, field))
    assert row_counts(app) == before


@pytest.mark.parametrize("call", CALLS, ids=lambda call: call[-1])
def test_a_name_with_accents_dots_and_symbols_is_taken(
    client: FlaskClient, world: World, call: Call
) -> None:
    method, url, who, body, _ = call
    url = url.format(**{key.replace(":", "_"): value for key, value in world.ids.items()})
    name = "Società Énergie «Nord» & Co. — 2° piano (€)"
    response = getattr(client, method)(url, json=body(world, name), headers=world.headers(who))
    assert response.status_code in (200, 201), response.get_json()


@pytest.mark.parametrize("text", ["Acme\x1b[31m", "Acme\x85", "Acme\x00"], ids=repr)
def test_a_question_text_with_a_control_character_other_than_a_line_break_is_422(
    app: Flask, client: FlaskClient, world: World, text: str
) -> None:
    body, field = QUESTION_TEXT
    before = row_counts(app)
    response = client.post("/api/v1/forms", json=body(world, text), headers=world.headers("client"))
    assert response.status_code == 422
    assert errors_at(response, field)
    assert row_counts(app) == before


def test_a_question_text_may_run_over_lines_and_a_title_loses_its_closing_line_break(
    client: FlaskClient, world: World
) -> None:
    """A question is a text, not a name; a YAML block (`title: >`) ends with a line break."""
    document = QUESTION_TEXT[0](world, "Greets the caller\n\tby name and company")
    document["title"] = "Standard call quality\n"
    response = client.post("/api/v1/forms", json=document, headers=world.headers("client"))
    assert response.status_code == 201, response.get_json()
    shown = client.get("/api/v1/forms/standard/2", headers=world.headers("client")).get_json()
    assert shown["title"] == "Standard call quality"
