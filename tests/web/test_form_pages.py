"""The forms pages: reading forms, publishing from YAML or JSON, the editor (issue 11)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

import contracts
from tests.conftest import World, json_of, row_counts
from tests.web.test_pages import csrf, sign_in

STANDARD = (Path(contracts.__file__).parent / "examples" / "standard-form.yaml").read_text()


def signed_in(app: Flask, world: World, who: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.tokens[who])
    return client


def publish(client: FlaskClient, document: str, **fields: str) -> Any:
    return client.post(
        "/forms/new", data={"csrf_token": csrf(client, "/forms"), "document": document, **fields}
    )


@pytest.mark.parametrize("who", ["client", "finance", "supplier", "admin"])
def test_everyone_reads_the_forms_it_may_see(app: Flask, world: World, who: str) -> None:
    client = signed_in(app, world, who)
    listed = client.get("/forms")
    assert listed.status_code == 200 and "Standard call quality" in listed.text
    shown = client.get(f"/forms/standard/1?organization_id={world.ids['client']}")
    assert shown.status_code == 200
    assert "Greets the caller" in shown.text and "critical: compliance" in shown.text
    assert ("New version in the editor" in listed.text) == (who in ("client", "admin"))


def test_another_clients_form_is_not_found(app: Flask, world: World) -> None:
    client = signed_in(app, world, "other_supplier")
    assert client.get(f"/forms/standard/1?organization_id={world.ids['client']}").status_code == 404
    assert (
        client.get(f"/forms/standard/edit?organization_id={world.ids['client']}").status_code == 403
    )
    other = signed_in(app, world, "other_client")
    assert (
        other.get(f"/forms/standard/edit?organization_id={world.ids['client']}").status_code == 404
    )


def test_a_client_publishes_a_form_from_yaml_and_json(app: Flask, world: World) -> None:
    client = signed_in(app, world, "client")
    yaml_version = STANDARD.replace("version: 1", "version: 2").replace(
        "title: Standard call quality", "title: Standard call quality, 2027"
    )
    published = publish(client, yaml_version)
    assert published.status_code == 302
    assert "version 2 is published" in client.get(published.location).text
    api = app.test_client().get("/api/v1/forms/standard/2", headers=world.headers("client"))
    document = json_of(api)
    assert document["title"] == "Standard call quality, 2027"
    as_json = json.dumps(yaml.safe_load(STANDARD) | {"version": 3})
    assert publish(client, as_json).status_code == 302


@pytest.mark.parametrize(
    ("document", "path"),
    [
        (
            STANDARD.replace("version: 1", "version: 2").replace("weight: 20", "weight: -1"),
            "sections.0.weight",
        ),
        ("code: x\nversion: [", "document"),
        ("- just\n- a list", "document"),
    ],
)
def test_a_bad_document_is_refused_by_path_and_stores_nothing(
    app: Flask, world: World, document: str, path: str
) -> None:
    client = signed_in(app, world, "client")
    before = row_counts(app)
    refused = publish(client, document)
    assert refused.status_code == 422
    assert f"<code>{path}</code>" in refused.text
    assert row_counts(app) == before


def test_a_published_version_never_changes(app: Flask, world: World) -> None:
    client = signed_in(app, world, "client")
    changed = STANDARD.replace("weight: 20", "weight: 25")
    refused = publish(client, changed)
    assert refused.status_code == 409 and "publish version 2 instead" in refused.text


@pytest.mark.parametrize(("who", "status"), [("finance", 403), ("supplier", 403)])
def test_only_a_client_or_an_admin_publishes(
    app: Flask, world: World, who: str, status: int
) -> None:
    client = signed_in(app, world, who)
    before = row_counts(app)
    assert client.get("/forms/new").status_code == status
    assert publish(client, STANDARD.replace("version: 1", "version: 2")).status_code == status
    assert row_counts(app) == before


def editor_fields(client: FlaskClient, world: World) -> dict[str, str]:
    """Return the editor's fields as the page fills them (what a browser would send)."""
    page = client.get(f"/forms/standard/edit?organization_id={world.ids['client']}").text
    fields: dict[str, str] = {}
    for kind, name, value in re.findall(
        r'<input (type="\w+" )?name="([^"]+)" value="([^"]*)"', page
    ):
        if kind != 'type="checkbox" ':
            fields[name] = html.unescape(value)  # as a browser reads the page
    for name, value in re.findall(
        r'<input type="checkbox" name="([^"]+)" value="([^"]*)" checked', page
    ):
        fields[name] = value
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r"<option(?: value=\"([^\"]*)\")? selected>([^<]*)</option>", body)
        fields[name] = (
            (chosen.group(1) if chosen.group(1) is not None else chosen.group(2)) if chosen else ""
        )
    return fields


def test_the_editor_copies_the_latest_version_and_saves_the_next(app: Flask, world: World) -> None:
    client = signed_in(app, world, "client")
    fields = editor_fields(client, world)
    assert fields["s0-q0-key"] == "greeting" and fields["sections"] == "5"
    fields["s0-q0-weight"] = "2"
    saved = client.post("/forms/standard/edit", data=fields | {"action": "save"})
    assert saved.status_code == 302, saved.text
    api = app.test_client()
    new = json_of(api.get("/api/v1/forms/standard/2", headers=world.headers("client")))["document"]
    old = json_of(api.get("/api/v1/forms/standard/1", headers=world.headers("client")))["document"]
    assert new["sections"][0]["questions"][0]["weight"] == 2
    assert old["sections"][0]["questions"][0]["weight"] == 1
    assert new["sections"][1:] == old["sections"][1:]  # the rest copied as it was
    assert {key: new[key] for key in ("title", "pass_mark")} == {
        key: old[key] for key in ("title", "pass_mark")
    }


def test_the_editor_adds_a_question_and_names_what_is_wrong(app: Flask, world: World) -> None:
    client = signed_in(app, world, "client")
    fields = editor_fields(client, world)
    before = row_counts(app)
    added = client.post("/forms/standard/edit", data=fields | {"action": "add-question:0"})
    assert added.status_code == 200 and 'name="s0-questions" value="4"' in added.text
    fields["s0-questions"] = "4"
    fields |= {"s0-q3-key": "", "s0-q3-text": "", "s0-q3-kind": "yes_no", "s0-q3-weight": "1"}
    refused = client.post("/forms/standard/edit", data=fields | {"action": "save"})
    assert refused.status_code == 422
    assert row_counts(app) == before
