"""The People and Account pages, per role, through the test client."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import World, json_of, row_counts
from tests.web.test_pages import PASSWORD, csrf, sign_in

Browse = Callable[[str], FlaskClient]
MEMBERS = ("client", "finance", "supplier")


@pytest.fixture
def browse(app: Flask, world: World) -> Browse:
    """Return a signed-in test client for a user of the world, one per user."""
    clients: dict[str, FlaskClient] = {}

    def client_of(who: str) -> FlaskClient:
        if who not in clients:
            clients[who] = app.test_client()
            sign_in(clients[who], world.tokens[who])
        return clients[who]

    return client_of


def post(browse: Browse, who: str, path: str, form: dict[str, Any] | None = None) -> Any:
    """Send a page's form as a user would, with the form's token."""
    client = browse(who)
    return client.post(path, data={"csrf_token": csrf(client, "/account"), **(form or {})})


def field_error(response: Any, name: str) -> str:
    """Return the first message shown after the field `name`, before the next field."""
    after = response.text.split(f'name="{name}"', 1)[1].split(' name="', 1)[0]
    found = re.search(r'<span class="field-error">([^<]+)', after)
    assert found is not None, f"no message next to {name}"
    return html.unescape(found.group(1))


def test_an_admin_sees_every_organization_with_its_users(browse: Browse, world: World) -> None:
    response = browse("admin").get("/people")
    assert response.status_code == 200
    for name in ("client", "other_client", "supplier", "other_supplier"):
        assert f"<h2>{name} <span" in response.text
    row = re.search(r'<tr data-email="supplier@example.test">.*?</tr>', response.text, re.S)
    assert row is not None
    assert "active" in row.group(0) and '<td class="num">1</td>' in row.group(0)
    assert 'href="/people"' in response.text and 'href="/account"' in response.text


@pytest.mark.parametrize("who", MEMBERS)
def test_people_pages_are_403_for_every_other_role(
    app: Flask, browse: Browse, world: World, who: str
) -> None:
    client = browse(who)
    assert client.get("/people").status_code == 403
    assert client.get(f"/people/{world.ids['user:' + who]}").status_code == 403
    assert 'href="/people"' not in client.get("/account").text
    before = row_counts(app)
    for path, form in [
        ("/people", {"role": "supplier", "name": "x", "email": "x@example.test",
                     "organization_id": str(world.ids["supplier"])}),
        (f"/people/{world.ids['user:supplier']}", {"role": "supplier", "name": "x"}),
        (f"/people/{world.ids['user:supplier']}/active", {"active": "false"}),
        (f"/people/{world.ids['user:supplier']}/password", {"password": PASSWORD}),
        (f"/people/{world.ids['user:supplier']}/tokens", {}),
    ]:  # fmt: skip
        assert post(browse, who, path, form).status_code == 403, path
    assert row_counts(app) == before


def test_a_stranger_is_sent_to_sign_in(client: FlaskClient, world: World) -> None:
    for path in ("/people", f"/people/{world.ids['user:supplier']}", "/account"):
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.location


def test_an_unknown_user_is_404(browse: Browse) -> None:
    assert browse("admin").get("/people/999999").status_code == 404


def test_an_admin_adds_a_user_with_a_password_who_then_signs_in(
    app: Flask, browse: Browse, world: World
) -> None:
    form = {"organization_id": str(world.ids["supplier"]), "role": "supplier",
            "name": "Nadia", "email": "Nadia@Example.test", "password": PASSWORD}  # fmt: skip
    response = post(browse, "admin", "/people", form)
    assert response.status_code == 302
    page = browse("admin").get(response.location)
    assert "Nadia" in page.text and "nadia@example.test" in page.text
    newcomer = app.test_client()
    signed_in = newcomer.post(
        "/sign-in",
        data={"csrf_token": csrf(newcomer), "email": "nadia@example.test", "password": PASSWORD},
    )
    assert signed_in.status_code == 302


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"role": "client"}, "role", "a client user belongs to a client organization"),
        ({"email": "not an email"}, "email", "Not a valid email address."),
        ({"email": "client@example.test"}, "email", "already taken"),
        ({"password": "short"}, "password", "Length must be between 12 and 200."),
        ({"organization_id": "999999"}, "organization_id", "a supplier user needs an existing"),
        ({"organization_id": "nine"}, "organization_id", "Not a valid integer."),
        ({"name": ""}, "name", "This is required."),
    ],
)
def test_a_refused_new_user_shows_why_next_to_the_field_and_writes_nothing(
    app: Flask, browse: Browse, world: World, changes: dict[str, str], field: str, message: str
) -> None:
    form = {"organization_id": str(world.ids["supplier"]), "role": "supplier",
            "name": "Nadia", "email": "nadia@example.test"} | changes  # fmt: skip
    browse("admin")
    before = row_counts(app)
    response = post(browse, "admin", "/people", form)
    assert response.status_code in (409, 422)
    assert field_error(response, field).startswith(message)
    assert row_counts(app) == before


def test_an_admin_changes_a_role_and_a_role_the_organization_cannot_hold_is_refused(
    app: Flask, browse: Browse, world: World
) -> None:
    path = f"/people/{world.ids['user:client']}"
    assert post(browse, "admin", path, {"name": "Clara", "role": "finance"}).status_code == 302
    assert "<h1>Clara" in browse("admin").get(path).text
    before = row_counts(app)
    refused = post(browse, "admin", path, {"name": "Clara", "role": "supplier"})
    assert refused.status_code == 422
    assert field_error(refused, "role") == "a supplier user belongs to a supplier organization"
    assert row_counts(app) == before


def test_deactivating_ends_the_users_session_at_once_and_reactivating_restores_its_token(
    app: Flask, browse: Browse, world: World
) -> None:
    assert browse("supplier").get("/scorecards").status_code == 200
    path = f"/people/{world.ids['user:supplier']}/active"
    off = post(browse, "admin", path, {"active": "false"})
    assert off.status_code == 302
    assert "deactivated" in browse("admin").get(off.location).text
    assert browse("supplier").get("/scorecards").status_code == 302
    me = {"Authorization": f"Bearer {world.tokens['supplier']}"}
    assert app.test_client().get("/api/v1/me", headers=me).status_code == 401
    assert post(browse, "admin", path, {"active": "true"}).status_code == 302
    assert app.test_client().get("/api/v1/me", headers=me).status_code == 200
    assert browse("supplier").get("/scorecards").status_code == 302  # that session stays ended


def test_an_admin_cannot_deactivate_itself_on_the_page(
    app: Flask, browse: Browse, world: World
) -> None:
    browse("admin")
    before = row_counts(app)
    response = post(
        browse, "admin", f"/people/{world.ids['user:admin']}/active", {"active": "false"}
    )
    assert response.status_code == 422
    assert "an admin stays active" in response.text
    assert row_counts(app) == before


def test_a_password_of_a_deactivated_user_fails_like_a_wrong_one(
    app: Flask, browse: Browse, world: World
) -> None:
    user = world.ids["user:finance"]
    assert (
        post(browse, "admin", f"/people/{user}/password", {"password": PASSWORD}).status_code == 302
    )
    post(browse, "admin", f"/people/{user}/active", {"active": "false"})
    stranger = app.test_client()
    response = stranger.post(
        "/sign-in",
        data={"csrf_token": csrf(stranger), "email": "finance@example.test", "password": PASSWORD},
    )
    assert response.status_code == 401
    assert "The email or the password is wrong." in response.text


def test_an_admin_issues_a_token_shown_once_and_revokes_it(
    app: Flask, browse: Browse, world: World
) -> None:
    path = f"/people/{world.ids['user:supplier']}"
    issued = post(browse, "admin", f"{path}/tokens")
    assert issued.status_code == 200
    found = re.search(r'<code id="issued-token">(fid_[^<]+)</code>', issued.text)
    assert found is not None
    token = found.group(1)
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200
    shown = browse("admin").get(path).text
    assert token not in shown and token[:12] in shown
    tokens = json_of(app.test_client().get(f"/api/v1/users/{world.ids['user:supplier']}/tokens",
                                           headers=headers))  # fmt: skip
    revoked = post(browse, "admin", f"/tokens/{tokens[0]['id']}/revoke")
    assert revoked.status_code == 302 and revoked.location.endswith(path)
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401


@pytest.mark.parametrize("who", ("admin", *MEMBERS))
def test_everyone_sees_only_its_own_tokens_on_its_account(
    browse: Browse, world: World, who: str
) -> None:
    page = browse(who).get("/account")
    assert page.status_code == 200
    assert world.tokens[who][:12] in page.text
    others = [token[:12] for name, token in world.tokens.items() if name != who]
    assert not any(prefix in page.text for prefix in others)


@pytest.mark.parametrize("who", MEMBERS)
def test_another_users_token_cannot_be_revoked_from_a_page(
    app: Flask, browse: Browse, world: World, who: str
) -> None:
    admin_tokens = json_of(app.test_client().get(
        f"/api/v1/users/{world.ids['user:admin']}/tokens", headers=world.headers("admin")
    ))  # fmt: skip
    browse(who)
    before = row_counts(app)
    assert post(browse, who, f"/tokens/{admin_tokens[0]['id']}/revoke").status_code == 404
    assert row_counts(app) == before


def test_a_user_revokes_its_own_token_and_its_session_ends(browse: Browse, world: World) -> None:
    client = browse("client")
    token_id = re.search(r'data-token="(\d+)"', client.get("/account").text)
    assert token_id is not None
    response = post(browse, "client", f"/tokens/{token_id.group(1)}/revoke")
    assert response.status_code == 302 and response.location.endswith("/account")
    assert client.get("/account").status_code == 302  # signed in with that token


def test_changing_ones_password_needs_the_current_one_and_keeps_this_session(
    app: Flask, browse: Browse, world: World
) -> None:
    client = browse("finance")
    before = row_counts(app)
    wrong = post(browse, "finance", "/account/password",
                 {"current_password": "a guess", "password": PASSWORD})  # fmt: skip
    assert wrong.status_code == 422
    assert field_error(wrong, "current_password") == "this is not your current password"
    assert row_counts(app) == before | {"sign_in_attempts": 1}  # the guess counts, and only it

    post(browse, "admin", f"/people/{world.ids['user:finance']}/password", {"password": PASSWORD})
    client = browse("finance")
    sign_in(client, world.tokens["finance"])  # the admin's reset ended the session
    changed = post(browse, "finance", "/account/password",
                   {"current_password": PASSWORD, "password": PASSWORD + " two"})  # fmt: skip
    assert changed.status_code == 302
    assert client.get("/account").status_code == 200
    again = app.test_client()
    form = {"email": "finance@example.test", "password": PASSWORD + " two"}
    response = again.post("/sign-in", data={"csrf_token": csrf(again), **form})
    assert response.status_code == 302


def test_a_short_new_password_is_refused_next_to_its_field(browse: Browse) -> None:
    response = post(browse, "client", "/account/password",
                    {"current_password": "whatever", "password": "short"})  # fmt: skip
    assert response.status_code == 422
    assert field_error(response, "password") == "Length must be between 12 and 200."


def test_an_admin_gives_its_current_password_to_mint_itself_a_token_on_its_page(
    app: Flask, browse: Browse, world: World
) -> None:
    admin = world.ids["user:admin"]
    assert (
        post(browse, "admin", f"/people/{admin}/password", {"password": PASSWORD}).status_code
        == 302
    )
    sign_in(browse("admin"), world.tokens["admin"])  # setting it ended the session
    page = browse("admin").get(f"/people/{admin}").text
    assert page.count('name="current_password"') == 2  # to set the password, to issue a token
    before = row_counts(app)
    alone = post(browse, "admin", f"/people/{admin}/tokens")
    assert alone.status_code == 422
    issue_form = alone.text.split('id="issue-form"', 1)[1]
    assert '<span class="field-error">give your current password</span>' in issue_form
    assert row_counts(app) == before
    issued = post(browse, "admin", f"/people/{admin}/tokens", {"current_password": PASSWORD})
    assert issued.status_code == 200 and 'id="issued-token"' in issued.text
    assert (
        'name="current_password"'
        not in browse("admin").get(f"/people/{world.ids['user:client']}").text
    )
