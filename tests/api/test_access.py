"""Authentication, tokens and the admin's accounts endpoints."""

from flask import Flask
from flask.testing import FlaskClient

from tests.api.test_passwords import give_password
from tests.conftest import World, json_of, row_counts
from tests.web.test_pages import PASSWORD


def test_health_answers_without_a_token(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_a_request_without_a_token_is_401(client: FlaskClient, world: World) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert json_of(response)["code"] == 401


def test_an_unknown_token_is_401(client: FlaskClient, world: World) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer fid_nonsense"})
    assert response.status_code == 401


def test_me_names_the_caller_and_its_organization(client: FlaskClient, world: World) -> None:
    body = json_of(client.get("/api/v1/me", headers=world.headers("supplier")))
    assert body["email"] == "supplier@example.test"
    assert body["role"] == "supplier"
    assert body["organization"]["id"] == world.ids["supplier"]
    assert body["organization"]["kind"] == "supplier"


def test_openapi_document_is_public(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/evaluations/batch" in response.get_json()["paths"]


def test_admin_creates_an_organization_and_a_user_who_gets_a_token(
    client: FlaskClient, world: World
) -> None:
    admin = world.headers("admin")
    organization = client.post(
        "/api/v1/organizations",
        json={"name": "Teleservice Bari", "kind": "supplier"},
        headers=admin,
    )
    assert organization.status_code == 201
    user = client.post(
        "/api/v1/users",
        json={
            "organization_id": organization.get_json()["id"],
            "name": "Bari QA",
            "email": "qa@bari.test",
            "role": "supplier",
        },
        headers=admin,
    )
    assert user.status_code == 201
    token = client.post(f"/api/v1/users/{user.get_json()['id']}/tokens", headers=admin)
    assert token.status_code == 201
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.get_json()['token']}"})
    assert me.get_json()["email"] == "qa@bari.test"


def test_a_user_in_an_organization_of_the_wrong_kind_is_422(
    client: FlaskClient, world: World
) -> None:
    response = client.post(
        "/api/v1/users",
        json={
            "organization_id": world.ids["supplier"],
            "name": "x",
            "email": "x@example.test",
            "role": "finance",
        },
        headers=world.headers("admin"),
    )
    assert response.status_code == 422
    assert "role" in json_of(response)["errors"]["json"]


def test_a_duplicate_organization_name_is_409(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/organizations",
        json={"name": "client", "kind": "client"},
        headers=world.headers("admin"),
    )
    assert response.status_code == 409
    assert "name" in json_of(response)["errors"]["json"]


def test_non_admins_may_not_manage_organizations_or_users(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)
    for who in ("client", "finance", "supplier"):
        headers = world.headers(who)
        assert client.get("/api/v1/organizations", headers=headers).status_code == 403
        created = client.post(
            "/api/v1/organizations", json={"name": f"{who} org", "kind": "client"}, headers=headers
        )
        assert created.status_code == 403
        user = client.post(
            "/api/v1/users",
            json={"organization_id": None, "name": "x", "email": f"{who}@x.test", "role": "admin"},
            headers=headers,
        )
        assert user.status_code == 403
    assert row_counts(app) == before


def test_an_invalid_kind_is_422_naming_the_field(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/organizations",
        json={"name": "x", "kind": "reseller"},
        headers=world.headers("admin"),
    )
    assert response.status_code == 422
    assert "kind" in json_of(response)["errors"]["json"]


def test_a_user_issues_and_revokes_its_own_token(
    app: Flask, client: FlaskClient, world: World
) -> None:
    give_password(app, world, "finance")
    issued = client.post(
        f"/api/v1/users/{world.ids['user:finance']}/tokens",
        json={"current_password": PASSWORD},
        headers=world.headers("finance"),
    )
    assert issued.status_code == 201
    token = issued.get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.delete(f"/api/v1/tokens/{token['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    # The user's other token still works.
    assert client.get("/api/v1/me", headers=world.headers("finance")).status_code == 200


def test_a_user_cannot_touch_another_users_tokens(
    app: Flask, client: FlaskClient, world: World
) -> None:
    before = row_counts(app)
    response = client.post(
        f"/api/v1/users/{world.ids['user:other_supplier']}/tokens",
        headers=world.headers("supplier"),
    )
    assert response.status_code == 404
    assert row_counts(app) == before
    issued = client.post(
        f"/api/v1/users/{world.ids['user:client']}/tokens", headers=world.headers("admin")
    ).get_json()
    revoke = client.delete(f"/api/v1/tokens/{issued['id']}", headers=world.headers("supplier"))
    assert revoke.status_code == 404
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued['token']}"}).status_code
        == 200
    )


def test_tokens_are_stored_hashed(app: Flask, client: FlaskClient, world: World) -> None:
    issued = client.post(
        f"/api/v1/users/{world.ids['user:client']}/tokens", headers=world.headers("admin")
    ).get_json()
    engine = app.extensions["fiducia.engine"]
    with engine.connect() as connection:
        stored = [row[0] for row in connection.exec_driver_sql("SELECT token_hash FROM api_tokens")]
    assert issued["token"] not in stored
    assert len(stored[0]) == 64
