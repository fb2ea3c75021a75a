"""The forms pages, per role, through the test client: list, view, publish, edit."""

from __future__ import annotations

import copy
import re
import threading
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from contracts.examples import load_example
from contracts.forms import form_document, parse_form
from service.forms.models import Form
from tests.conftest import World, row_counts
from tests.web import test_dispute_pages
from tests.web.test_dispute_pages import Browse, rows

SPECIAL = """\
code: special
version: 1
title: Special line
sections:
  - key: care
    title: Care
    weight: 1
    questions:
      - {key: greets, text: Greets the caller, kind: yes_no, weight: 1}
"""


browse = test_dispute_pages.browse  # the fixture: a signed-in test client per user


def post(client: FlaskClient, path: str, form: dict[str, Any]) -> Any:
    """Send a page's form as a user would, with the page's token."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/forms").text)
    assert token is not None
    return client.post(path, data={"csrf_token": token.group(1), **form})


def publish(client: FlaskClient, text: str, **fields: Any) -> Any:
    return post(client, "/forms/new", {"document": text, **fields})


def stored(app: Flask, world: World, code: str = "standard") -> dict[int, dict[str, Any]]:
    """Return the stored documents of a code of the world's client, by version."""
    with app.extensions["fiducia.sessionmaker"]() as session:
        owned = Form.organization_id == world.ids["client"]
        forms = session.scalars(select(Form).where(owned, Form.code == code))
        return {form.version: form.document for form in forms}


def standard_yaml(**changes: Any) -> str:
    return yaml.safe_dump(load_example("standard-form.yaml") | changes, sort_keys=False)


def editor_fields(html: str) -> dict[str, str]:
    """Return what the editor's form would send: its text fields, choices and ticked boxes."""
    fields: dict[str, str] = {}
    for name, value in re.findall(
        r'<input type="(?:text|hidden)" name="([^"]+)" value="([^"]*)"', html
    ):
        fields[name] = value
    for name, value in re.findall(r'<textarea name="([^"]+)"[^>]*>([^<]*)</textarea>', html):
        fields[name] = value
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        fields[name] = chosen.group(1) if chosen else ""
    for name in re.findall(r'<input type="checkbox" name="([^"]+)" value="yes" checked', html):
        fields[name] = "yes"
    fields.pop("csrf_token", None)
    return {name: unescape(value) for name, value in fields.items()}


def unescape(text: str) -> str:
    import html

    return html.unescape(text)


# Seeing forms


def test_a_client_sees_its_forms_by_code_with_their_versions(browse: Browse) -> None:
    page = browse("client").get("/forms")
    assert page.status_code == 200
    assert 'href="/forms/standard/1"' in page.text
    assert "Copy version 1 into the editor" in page.text
    assert 'id="publish-new"' in page.text


def test_a_client_sees_a_version_as_an_evaluator_sees_it(browse: Browse) -> None:
    page = browse("client").get("/forms/standard/1")
    assert page.status_code == 200
    assert 'id="pass-mark">80<' in page.text
    verification = rows(page.text, "questions-method")[0]
    assert verification[0].startswith("Verifies the caller's identity")
    assert verification[1:] == ["yes / no", "3", "no", "compliance", "form"]
    assert "scale 1–5" in page.text
    assert 'id="copy-into-editor"' in page.text


def test_a_supplier_reads_the_forms_shared_with_it_but_may_not_publish(
    app: Flask, browse: Browse
) -> None:
    supplier = browse("supplier")
    listed = supplier.get("/forms").text
    assert 'href="/forms/standard/1"' in listed and "read-only" in listed
    assert "editor" not in listed and 'id="publish-new"' not in listed
    shown = supplier.get("/forms/standard/1")
    assert shown.status_code == 200 and 'id="copy-into-editor"' not in shown.text

    before = row_counts(app)
    assert supplier.get("/forms/new").status_code == 403
    assert supplier.get("/forms/standard/edit").status_code == 403
    assert publish(supplier, standard_yaml(version=2)).status_code == 403
    assert (
        post(supplier, "/forms/standard/edit", {"base": "1", "change": "save"}).status_code == 403
    )
    assert row_counts(app) == before


def test_finance_may_read_forms_but_not_publish_them(app: Flask, browse: Browse) -> None:
    finance = browse("finance")
    assert finance.get("/forms/standard/1").status_code == 200
    before = row_counts(app)
    assert finance.get("/forms/new").status_code == 403
    assert publish(finance, standard_yaml(version=2)).status_code == 403
    assert row_counts(app) == before


def test_another_client_finds_no_form_of_a_client(app: Flask, browse: Browse) -> None:
    assert publish(browse("client"), SPECIAL).status_code == 302
    other = browse("other_client")
    assert "/forms/special/" not in other.get("/forms").text
    before = row_counts(app)
    assert other.get("/forms/special/1").status_code == 404
    assert other.get("/forms/special/edit").status_code == 404
    response = post(other, "/forms/special/edit", {"base": "1", "change": "save", "title": "x"})
    assert response.status_code == 404
    assert row_counts(app) == before


def test_an_admin_sees_every_clients_forms_and_names_the_owner(
    browse: Browse, world: World
) -> None:
    listed = browse("admin").get("/forms").text
    for client in ("client", "other_client"):
        assert f'href="/forms/standard/1?organization_id={world.ids[client]}"' in listed
    page = browse("admin").get(f"/forms/standard/1?organization_id={world.ids['other_client']}")
    assert page.status_code == 200
    assert browse("admin").get("/forms/standard/1").status_code == 422  # whose?


# Publishing a document


def test_a_client_publishes_a_yaml_document(app: Flask, browse: Browse, world: World) -> None:
    response = publish(browse("client"), standard_yaml(version=2, title="Standard, second"))
    assert response.status_code == 302
    assert response.location == "/forms/standard/2"
    assert stored(app, world)[2]["title"] == "Standard, second"
    listed = browse("client").get("/forms").text
    assert "is published" in listed
    assert listed.index('href="/forms/standard/2"') < listed.index('href="/forms/standard/1"')


def test_a_json_document_uploaded_as_a_file_is_published(
    app: Flask, browse: Browse, world: World
) -> None:
    import io
    import json

    document = load_example("standard-form.yaml") | {"version": 3}
    upload = (io.BytesIO(json.dumps(document).encode()), "standard.json")
    response = post(browse("client"), "/forms/new", {"document": "", "file": upload})
    assert response.status_code == 302, response.text
    assert stored(app, world)[3] == form_document(parse_form(document))


def test_a_document_that_breaks_the_rules_is_refused_naming_each_path(
    app: Flask, browse: Browse
) -> None:
    document = load_example("standard-form.yaml") | {"version": 2}
    document["sections"][1]["questions"][0]["weight"] = 0
    document["sections"][0]["questions"][1]["critical"] = "customer"  # a scale question
    text = yaml.safe_dump(document, sort_keys=False)
    client = browse("client")
    before = row_counts(app)
    response = publish(client, text)
    assert response.status_code == 422
    listed = re.findall(r"<li><code>([^<]+)</code>: ([^<]+)</li>", response.text)
    assert ("sections.1.questions.0.weight", "must be greater than 0") in listed
    assert ("sections.0.questions.1.critical", "only yes_no questions can be critical") in listed
    assert unescape(re.search(r"<textarea[^>]*>([^<]*)</textarea>", response.text)[1]) == text
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("code: [unclosed", "not YAML or JSON"),
        ("", "This is required."),
        ("a: &x [1]\nb: *x\n", "anchors and aliases"),
        ("- just\n- a list\n", "must be a mapping"),
        ("[" * 5000, "nested too deeply"),
    ],
    ids=["broken", "empty", "aliases", "a list", "deep"],
)
def test_text_that_is_no_form_is_a_422_and_writes_nothing(
    app: Flask, browse: Browse, text: str, says: str
) -> None:
    client = browse("client")
    before = row_counts(app)
    response = publish(client, text)
    assert response.status_code == 422
    assert says in unescape(response.text)
    assert row_counts(app) == before


def test_publishing_over_a_published_version_is_a_409_naming_the_next(
    app: Flask, browse: Browse
) -> None:
    client = browse("client")
    before = row_counts(app)
    response = publish(client, standard_yaml(title="Changed"))
    assert response.status_code == 409
    assert "publish version 2 instead" in response.text
    assert row_counts(app) == before


def test_an_admin_publishes_for_a_client_it_names(app: Flask, browse: Browse, world: World) -> None:
    admin = browse("admin")
    assert 'name="organization_id"' in admin.get("/forms/new").text
    unnamed = publish(admin, SPECIAL)
    assert unnamed.status_code == 422 and "required for an admin" in unnamed.text
    named = publish(admin, SPECIAL, organization_id=str(world.ids["other_client"]))
    assert named.status_code == 302
    assert named.location == f"/forms/special/1?organization_id={world.ids['other_client']}"


# The editor


def test_the_editor_round_trip_publishes_exactly_what_was_edited(
    app: Flask, browse: Browse, world: World
) -> None:
    client = browse("client")
    editor = client.get("/forms/standard/edit")
    assert editor.status_code == 200 and "Save as version 2" in editor.text
    fields = editor_fields(editor.text)
    assert fields["sections.1.questions.0.key"] == "verification"
    fields["sections.1.questions.0.weight"] = "5"

    saved = post(client, "/forms/standard/edit", fields | {"change": "save"})
    assert saved.status_code == 302, saved.text
    assert saved.location == "/forms/standard/2"
    original = load_example("standard-form.yaml")
    edited = copy.deepcopy(original) | {"version": 2}
    edited["sections"][1]["questions"][0]["weight"] = 5
    documents = stored(app, world)
    assert documents[2] == form_document(parse_form(edited))
    assert documents[1] == form_document(parse_form(original))


def test_the_editor_adds_and_removes_rows_without_writing(app: Flask, browse: Browse) -> None:
    client = browse("client")
    fields = editor_fields(client.get("/forms/standard/edit").text)
    before = row_counts(app)
    added = post(client, "/forms/standard/edit", fields | {"change": "add-question:0"})
    assert added.status_code == 200
    assert 'name="sections.0.questions.3.key" value=""' in added.text
    fewer = post(client, "/forms/standard/edit", fields | {"change": "remove-section:0"})
    assert 'name="sections.0.key" value="method"' in fewer.text
    more = post(client, "/forms/standard/edit", fields | {"change": "add-section"})
    assert 'name="sections.5.questions.0.key"' in more.text
    assert row_counts(app) == before


def test_the_editor_shows_each_refusal_by_its_field_and_keeps_what_was_typed(
    app: Flask, browse: Browse
) -> None:
    client = browse("client")
    fields = editor_fields(client.get("/forms/standard/edit").text)
    fields |= {
        "sections.0.questions.1.weight": "-2",
        "sections.0.questions.1.scale_high": "1",
        "sections.2.key": "method",
        "title": "Renamed while wrong",
    }
    fields.pop("sections.0.questions.0.key")
    before = row_counts(app)
    response = post(client, "/forms/standard/edit", fields | {"change": "save"})
    assert response.status_code == 422
    row = re.search(r'<tr id="sections.0.questions.1">(.*?)</tr>', response.text, re.S)
    assert row is not None
    assert "must be greater than 0" in row[1]
    assert "the lowest value must be below the highest" in row[1]
    assert 'value="-2"' in row[1]
    assert "duplicate section key" in response.text
    assert "is required" in response.text
    assert 'name="title" value="Renamed while wrong"' in response.text
    assert row_counts(app) == before


def test_a_second_save_of_the_same_base_is_a_409_not_a_second_version(
    app: Flask, browse: Browse, world: World
) -> None:
    client = browse("client")
    fields = editor_fields(client.get("/forms/standard/edit").text)
    first = post(client, "/forms/standard/edit", fields | {"title": "First", "change": "save"})
    assert first.status_code == 302
    before = row_counts(app)
    second = post(client, "/forms/standard/edit", fields | {"title": "Second", "change": "save"})
    assert second.status_code == 409
    assert "publish version 3 instead" in second.text
    assert 'name="title" value="Second"' in second.text
    assert row_counts(app) == before
    assert stored(app, world)[2]["title"] == "First"


def test_two_racing_saves_of_the_same_base_give_one_version_and_one_409(
    app: Flask, browse: Browse, world: World
) -> None:
    client = browse("client")
    fields = editor_fields(client.get("/forms/standard/edit").text)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/forms").text)
    assert token is not None
    statuses: list[int] = []

    def save(title: str) -> None:
        racer = app.test_client()
        racer.set_cookie("session", client.get_cookie("session").value)  # type: ignore[union-attr]
        data = fields | {"csrf_token": token[1], "title": title, "change": "save"}
        statuses.append(racer.post("/forms/standard/edit", data=data).status_code)

    racers = [threading.Thread(target=save, args=(title,)) for title in ("One", "Two")]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert sorted(statuses) == [302, 409]
    assert sorted(stored(app, world)) == [1, 2]


def test_a_version_published_between_the_check_and_the_insert_is_a_409(
    app: Flask, world: World
) -> None:
    from service.edge.actors import Actor
    from service.edge.errors import Conflict
    from service.forms.service import publish_form

    actor = Actor(user_id=world.ids["user:client"], role="client",
                  organization_id=world.ids["client"])  # fmt: skip
    document = load_example("standard-form.yaml") | {"version": 2}
    with app.extensions["fiducia.sessionmaker"]() as session:
        # The other request's row, unseen by the check as a concurrent commit would be.
        session.add(Form(organization_id=world.ids["client"], code="standard", version=2,
                         title="theirs", document={}))  # fmt: skip
        with session.no_autoflush, pytest.raises(Conflict) as raised:
            publish_form(session=session, actor=actor, document=document, organization_id=None)
        assert "published meanwhile" in raised.value.message
        assert "publish version 3 instead" in raised.value.message
        session.rollback()


def test_a_file_that_is_not_text_and_an_editor_post_without_its_base_are_422(
    app: Flask, browse: Browse
) -> None:
    import io

    client = browse("client")
    before = row_counts(app)
    upload = (io.BytesIO(b"\xff\xfe\x00bad"), "form.yaml")
    response = post(client, "/forms/new", {"document": "", "file": upload})
    assert response.status_code == 422 and "not UTF-8 text" in response.text
    assert post(client, "/forms/standard/edit", {"change": "save"}).status_code == 422
    assert post(client, "/forms/standard/edit", {"base": "x1", "change": "save"}).status_code == 422
    assert row_counts(app) == before


def test_editor_buttons_that_name_no_row_change_nothing() -> None:
    from service.forms.editor import Draft, SectionRow, apply_change

    draft = Draft(sections=[SectionRow()])
    for change in (
        "remove-section:7",
        "add-question:3",
        "remove-question:0:9",
        "remove-question:0",
    ):
        assert apply_change(draft, change)
        assert len(draft.sections) == 1 and len(draft.sections[0].questions) == 1
    assert not apply_change(draft, "save")
