"""Who chooses the language: the user, else the browser, else English; the API stays English."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import World, errors_at, json_of
from tests.web.test_pages import csrf, sign_in

ITALIAN = {"Accept-Language": "it-IT,it;q=0.9"}
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def supplier(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.tokens["supplier"])
    return client


def test_a_user_without_a_language_reads_its_browsers(supplier: FlaskClient) -> None:
    assert "Il tuo profilo" in supplier.get("/account", headers=ITALIAN).text
    assert "Your account" in supplier.get("/account", headers=ENGLISH).text
    assert "Your account" in supplier.get("/account", headers={"Accept-Language": "de"}).text


@pytest.mark.parametrize(
    ("accepted", "words"),
    [("*", "Your account"), ("de, *;q=0.8", "Your account"), ("*, it;q=0.5", "Your account"),
     ("it, *;q=0.5", "Il tuo profilo")],
)  # fmt: skip
def test_a_browser_that_takes_any_language_reads_english_unless_it_prefers_italian(
    client: FlaskClient, supplier: FlaskClient, accepted: str, words: str
) -> None:
    assert words in supplier.get("/account", headers={"Accept-Language": accepted}).text
    signing_in = client.get("/sign-in", headers={"Accept-Language": accepted})
    assert f'lang="{"it" if words == "Il tuo profilo" else "en"}"' in signing_in.text


def test_a_user_chooses_italian_on_its_profile_and_keeps_it_whatever_the_browser(
    supplier: FlaskClient,
) -> None:
    token = csrf(supplier, "/account")
    response = supplier.post(
        "/account/language", data={"csrf_token": token, "language": "it"}, headers=ENGLISH
    )
    assert response.status_code == 302
    page = supplier.get("/account", headers=ENGLISH).text
    assert "La tua lingua è salvata." in page  # the note is said in the language chosen
    assert '<option value="it" lang="it" selected>' in page
    token = csrf(supplier, "/account")
    supplier.post("/account/language", data={"csrf_token": token, "language": ""})
    assert "Your account" in supplier.get("/account", headers=ENGLISH).text


def test_a_language_fiducia_does_not_speak_is_refused_naming_the_field(
    supplier: FlaskClient,
) -> None:
    token = csrf(supplier, "/account")
    response = supplier.post(
        "/account/language", data={"csrf_token": token, "language": "fr"}, headers=ITALIAN
    )
    assert response.status_code == 422
    assert 'id="refusal"' in response.text and "Non salvato" in response.text


def test_an_admin_sets_a_users_language_on_its_page(
    app: Flask, world: World, supplier: FlaskClient
) -> None:
    admin = app.test_client()
    sign_in(admin, world.tokens["admin"])
    user = world.ids["user:supplier"]
    token = csrf(admin, f"/people/{user}")
    response = admin.post(
        f"/people/{user}",
        data={"csrf_token": token, "name": "supplier", "role": "supplier", "language": "it"},
    )
    assert response.status_code == 302
    assert "Il tuo profilo" in supplier.get("/account", headers=ENGLISH).text
    assert "Italiano" in admin.get("/people").text


def test_the_api_speaks_english_to_an_italian_browser(client: FlaskClient, world: World) -> None:
    response = client.get(
        "/api/v1/statements/999999", headers={**world.headers("supplier"), **ITALIAN}
    )
    assert response.status_code == 404
    assert json_of(response)["message"] == "no such statement"


def test_an_admin_sets_a_language_through_the_api(client: FlaskClient, world: World) -> None:
    user = world.ids["user:supplier"]
    response = client.patch(
        f"/api/v1/users/{user}", json={"language": "it"}, headers=world.headers("admin")
    )
    assert json_of(response)["language"] == "it"
    cleared = client.patch(
        f"/api/v1/users/{user}", json={"language": None}, headers=world.headers("admin")
    )
    assert json_of(cleared)["language"] is None
    refused = client.patch(
        f"/api/v1/users/{user}", json={"language": "fr"}, headers=world.headers("admin")
    )
    assert refused.status_code == 422
    assert errors_at(refused, "json.language")


def test_organizations_have_a_language_english_unless_given(
    client: FlaskClient, world: World
) -> None:
    made = client.post(
        "/api/v1/organizations",
        json={"name": "Contact Bari", "kind": "supplier"},
        headers=world.headers("admin"),
    )
    assert json_of(made)["language"] == "en"
    italian = client.post(
        "/api/v1/organizations",
        json={"name": "Contact Lecce", "kind": "supplier", "language": "it"},
        headers=world.headers("admin"),
    )
    assert json_of(italian)["language"] == "it"
    changed = client.patch(
        f"/api/v1/organizations/{json_of(made)['id']}",
        json={"language": "it"},
        headers=world.headers("admin"),
    )
    assert json_of(changed)["language"] == "it"


def test_only_an_admin_changes_an_organizations_language(client: FlaskClient, world: World) -> None:
    path = f"/api/v1/organizations/{world.ids['client']}"
    assert (
        client.patch(path, json={"language": "it"}, headers=world.headers("client")).status_code
        == 403
    )
    missing = client.patch(
        "/api/v1/organizations/999999", json={"language": "it"}, headers=world.headers("admin")
    )
    assert missing.status_code == 404


def test_a_refused_form_says_why_in_italian_naming_the_field(supplier: FlaskClient) -> None:
    token = csrf(supplier, "/account")
    response = supplier.post(
        "/account/password",
        data={"csrf_token": token, "current_password": "not it at all", "password": "short"},
        headers=ITALIAN,
    )
    assert response.status_code == 422
    page = response.text
    assert "La lunghezza deve essere tra 12 e 200 caratteri." in page  # marshmallow's, said
    token = csrf(supplier, "/account")
    wrong = supplier.post(
        "/account/password",
        data={"csrf_token": token, "current_password": "not it at all", "password": "x" * 12},
        headers=ITALIAN,
    )
    assert "la password attuale non è corretta" in wrong.text
    assert "questa non è la tua password attuale" in wrong.text


def test_an_italian_reader_is_told_in_italian_when_a_month_is_not_one(
    supplier: FlaskClient,
) -> None:
    page = supplier.get("/statements?period=2026-13", headers=ITALIAN).text
    assert "«2026-13» non è un mese tra 2000-01 e 2199-12 nella forma AAAA-MM" in page


def test_a_page_varies_with_the_browsers_language_and_the_api_does_not(
    client: FlaskClient, world: World
) -> None:
    assert "Accept-Language" in client.get("/sign-in").headers["Vary"]
    api = client.get("/api/v1/me", headers=world.headers("client"))
    assert "Accept-Language" not in api.headers.get("Vary", "")


def test_an_admin_who_chooses_italian_for_itself_reads_the_note_in_italian(
    app: Flask, world: World
) -> None:
    admin = app.test_client()
    sign_in(admin, world.tokens["admin"])
    me = world.ids["user:admin"]
    token = csrf(admin, f"/people/{me}")
    response = admin.post(
        f"/people/{me}",
        data={"csrf_token": token, "name": "admin", "role": "admin", "language": "it"},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "admin è salvato con il ruolo amministratore." in response.text


def test_a_code_with_no_word_is_shown_as_it_is_and_none_as_nothing(app: Flask) -> None:
    from service.language.labels import label

    with app.test_request_context("/", headers=ITALIAN):
        assert (label("draft"), label("weird_code"), label(None)) == ("bozza", "weird_code", "")


def test_the_words_for_codes_follow_each_reader_not_the_first_one(supplier: FlaskClient) -> None:
    """A worker renders a page for many readers: Jinja computes a filter over a constant
    (`{{ "yes_no"|label }}`) once, when it compiles the template, and kept the first reader's
    language for everyone after."""
    first = supplier.get("/forms/standard/1", headers=ENGLISH).text
    later = supplier.get("/forms/standard/1", headers=ITALIAN).text
    assert "<td>yes / no</td>" in first
    assert "<td>sì / no</td>" in later
    assert "<td>sì / no</td>" in supplier.get("/forms/standard/1", headers=ITALIAN).text
    assert "<td>yes / no</td>" in supplier.get("/forms/standard/1", headers=ENGLISH).text
