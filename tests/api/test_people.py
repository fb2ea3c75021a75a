"""People: listing users, changing their role, deactivating them, and listing their tokens."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.test_passwords import give_password
from tests.conftest import World, errors_at, json_of, row_counts
from tests.web.test_pages import PASSWORD, csrf, sign_in


def _patch(client: FlaskClient, world: World, who: str, user: str, body: object) -> object:
    return client.patch(
        f"/api/v1/users/{world.ids[f'user:{user}']}", json=body, headers=world.headers(who)
    )


def test_an_admin_lists_every_user_and_one_organizations(client: FlaskClient, world: World) -> None:
    everyone = json_of(client.get("/api/v1/users", headers=world.headers("admin")))
    assert len(everyone) == 7
    assert all(user["active"] for user in everyone)
    client_org = json_of(
        client.get(
            "/api/v1/users",
            query_string={"organization_id": world.ids["client"]},
            headers=world.headers("admin"),
        )
    )
    assert sorted(user["email"] for user in client_org) == [
        "client@example.test",
        "finance@example.test",
    ]


@pytest.mark.parametrize("who", ["client", "finance", "supplier"])
def test_a_member_lists_only_its_own_organizations_users(
    client: FlaskClient, world: World, who: str
) -> None:
    listed = json_of(client.get("/api/v1/users", headers=world.headers(who)))
    own = world.ids["supplier" if who == "supplier" else "client"]
    assert listed and {user["organization_id"] for user in listed} == {own}


def test_a_member_asking_for_another_organizations_users_gets_404(
    client: FlaskClient, world: World
) -> None:
    response = client.get(
        "/api/v1/users",
        query_string={"organization_id": world.ids["other_supplier"]},
        headers=world.headers("supplier"),
    )
    assert response.status_code == 404
    assert errors_at(response, "query.organization_id")


def test_an_unknown_organization_is_404_for_an_admin(client: FlaskClient, world: World) -> None:
    response = client.get(
        "/api/v1/users", query_string={"organization_id": 999999}, headers=world.headers("admin")
    )
    assert response.status_code == 404


def test_an_admin_renames_a_user_and_changes_a_client_into_finance(
    client: FlaskClient, world: World
) -> None:
    response = _patch(client, world, "admin", "client", {"name": "Clara", "role": "finance"})
    assert response.status_code == 200
    body = json_of(response)
    assert (body["name"], body["role"], body["active"]) == ("Clara", "finance", True)
    me = json_of(client.get("/api/v1/me", headers=world.headers("client")))
    assert me["role"] == "finance"


@pytest.mark.parametrize(
    ("user", "role"),
    [("supplier", "client"), ("supplier", "admin"), ("client", "supplier"), ("admin", "client")],
)
def test_a_role_its_organization_cannot_hold_is_422_naming_role_and_writes_nothing(
    app: Flask, client: FlaskClient, world: World, user: str, role: str
) -> None:
    before = row_counts(app)
    response = _patch(client, world, "admin", user, {"role": role, "name": "changed"})
    assert response.status_code == 422
    assert errors_at(response, "json.role")
    assert row_counts(app) == before
    listed = json_of(client.get("/api/v1/users", headers=world.headers("admin")))
    assert "changed" not in {person["name"] for person in listed}


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "_schema"), ({"role": "boss"}, "role"), ({"active": "maybe"}, "active"),
     ({"name": ""}, "name"), ({"name": None}, "name")],
)  # fmt: skip
def test_bad_changes_are_422_naming_the_field(
    client: FlaskClient, world: World, body: dict[str, object], field: str
) -> None:
    response = _patch(client, world, "admin", "supplier", body)
    assert response.status_code == 422
    assert errors_at(response, f"json.{field}")


@pytest.mark.parametrize("who", ["client", "finance", "supplier"])
def test_only_an_admin_changes_a_user(
    app: Flask, client: FlaskClient, world: World, who: str
) -> None:
    before = row_counts(app)
    for user in (who, "supplier", "other_client"):
        response = _patch(client, world, who, user, {"name": "mine now"})
        assert response.status_code == 403
    assert row_counts(app) == before


def test_an_unknown_user_is_404(client: FlaskClient, world: World) -> None:
    response = client.patch(
        "/api/v1/users/999999", json={"active": False}, headers=world.headers("admin")
    )
    assert response.status_code == 404


def test_an_admin_cannot_deactivate_itself(client: FlaskClient, world: World) -> None:
    response = _patch(client, world, "admin", "admin", {"active": False})
    assert response.status_code == 422
    assert errors_at(response, "json.active")
    assert client.get("/api/v1/me", headers=world.headers("admin")).status_code == 200


def test_deactivation_stops_tokens_and_sessions_at_once_and_reactivation_restores_tokens(
    app: Flask, client: FlaskClient, world: World
) -> None:
    browser = app.test_client()
    sign_in(browser, world.tokens["supplier"])
    assert browser.get("/scorecards").status_code == 200
    issued = client.post(
        f"/api/v1/users/{world.ids['user:supplier']}/tokens", headers=world.headers("admin")
    )
    revoked_id = json_of(issued)["id"]
    client.delete(f"/api/v1/tokens/{revoked_id}", headers=world.headers("admin"))

    off = _patch(client, world, "admin", "supplier", {"active": False})
    assert off.status_code == 200 and json_of(off)["active"] is False
    assert client.get("/api/v1/me", headers=world.headers("supplier")).status_code == 401
    assert browser.get("/scorecards").status_code == 302  # to the sign-in page
    again = app.test_client()
    refused = again.post(
        "/sign-in", data={"csrf_token": csrf(again), "token": world.tokens["supplier"]}
    )
    assert refused.status_code == 401

    assert _patch(client, world, "admin", "supplier", {"active": True}).status_code == 200
    assert client.get("/api/v1/me", headers=world.headers("supplier")).status_code == 200
    assert browser.get("/scorecards").status_code == 302  # the ended session stays ended
    revoked = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {json_of(issued)['token']}"}
    )
    assert revoked.status_code == 401


def test_a_user_and_an_admin_list_its_tokens_without_their_secret(
    app: Flask, client: FlaskClient, world: World
) -> None:
    give_password(app, world, "supplier")
    path = f"/api/v1/users/{world.ids['user:supplier']}/tokens"
    proof = {"current_password": PASSWORD}
    issued = json_of(client.post(path, json=proof, headers=world.headers("supplier")))
    client.delete(f"/api/v1/tokens/{issued['id']}", headers=world.headers("supplier"))
    for who in ("supplier", "admin"):
        tokens = json_of(client.get(path, headers=world.headers(who)))
        assert [token["revoked"] for token in tokens] == [True, False]
        assert tokens[0]["id"] == issued["id"] and tokens[0]["revoked_at"] is not None
        assert all("token" not in token and "token_hash" not in token for token in tokens)
        assert world.tokens["supplier"] not in str(tokens)
        assert tokens[1]["prefix"] == world.tokens["supplier"][:12]


@pytest.mark.parametrize("who", ["client", "finance", "other_supplier"])
def test_another_users_tokens_are_404(client: FlaskClient, world: World, who: str) -> None:
    response = client.get(
        f"/api/v1/users/{world.ids['user:supplier']}/tokens", headers=world.headers(who)
    )
    assert response.status_code == 404


def test_the_tokens_of_an_unknown_user_are_404(client: FlaskClient, world: World) -> None:
    response = client.get("/api/v1/users/999999/tokens", headers=world.headers("admin"))
    assert response.status_code == 404
