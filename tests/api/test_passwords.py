"""A token alone neither sets its user's password nor mints its user more tokens (§14)."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.accounts.models import ApiToken
from service.accounts.service import check_password, set_password
from service.database.engine import utcnow
from service.edge.actors import OPERATOR
from tests.conftest import World, errors_at, json_of
from tests.web.test_pages import PASSWORD, csrf

NEW = "another long enough password"


def give_password(app: Flask, world: World, who: str, password: str = PASSWORD) -> None:
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        set_password(
            session=session, actor=OPERATOR, user_id=world.ids[f"user:{who}"], password=password
        )


def signs_in_with(app: Flask, who: str, password: str) -> bool:
    with app.extensions["fiducia.sessionmaker"]() as session:
        return (
            check_password(session=session, email=f"{who}@example.test", password=password)
            is not None
        )


def token_count(app: Flask, world: World, who: str) -> int:
    with app.extensions["fiducia.sessionmaker"]() as session:
        count: int = session.scalar(
            select(func.count())
            .select_from(ApiToken)
            .where(ApiToken.user_id == world.ids[f"user:{who}"])
        )
    return count


def password_path(world: World, who: str) -> str:
    return f"/api/v1/users/{world.ids[f'user:{who}']}/password"


def tokens_path(world: World, who: str) -> str:
    return f"/api/v1/users/{world.ids[f'user:{who}']}/tokens"


def test_a_token_sets_its_own_users_password_only_with_the_current_one(
    app: Flask, client: FlaskClient, world: World
) -> None:
    give_password(app, world, "supplier")
    path, headers = password_path(world, "supplier"), world.headers("supplier")
    alone = client.put(path, json={"password": NEW}, headers=headers)
    assert alone.status_code == 422
    assert errors_at(alone, "json.current_password") == ["give your current password"]
    wrong = client.put(path, json={"current_password": "a guess", "password": NEW}, headers=headers)
    assert wrong.status_code == 422
    assert errors_at(wrong, "json.current_password") == ["this is not your current password"]
    assert signs_in_with(app, "supplier", PASSWORD) and not signs_in_with(app, "supplier", NEW)

    right = client.put(path, json={"current_password": PASSWORD, "password": NEW}, headers=headers)
    assert right.status_code == 204
    assert signs_in_with(app, "supplier", NEW) and not signs_in_with(app, "supplier", PASSWORD)


def test_a_user_without_a_password_cannot_give_itself_one_with_a_token(
    app: Flask, client: FlaskClient, world: World
) -> None:
    path, headers = password_path(world, "finance"), world.headers("finance")
    for body in ({"password": NEW}, {"current_password": "", "password": NEW},
                 {"current_password": "anything at all", "password": NEW}):  # fmt: skip
        response = client.put(path, json=body, headers=headers)
        assert response.status_code == 422
        assert "current_password" in json_of(response)["errors"]["json"]
    assert not signs_in_with(app, "finance", NEW)


def test_an_admin_sets_another_users_password_without_knowing_it(
    app: Flask, client: FlaskClient, world: World
) -> None:
    give_password(app, world, "supplier")
    response = client.put(
        password_path(world, "supplier"), json={"password": NEW}, headers=world.headers("admin")
    )
    assert response.status_code == 204
    assert signs_in_with(app, "supplier", NEW)


def test_an_admin_changes_its_own_password_with_the_current_one_once_it_has_one(
    app: Flask, client: FlaskClient, world: World
) -> None:
    path, headers = password_path(world, "admin"), world.headers("admin")
    first = client.put(path, json={"password": PASSWORD}, headers=headers)
    assert first.status_code == 204  # a bootstrapped admin has only its token
    alone = client.put(path, json={"password": NEW}, headers=headers)
    assert alone.status_code == 422
    assert errors_at(alone, "json.current_password") == ["give your current password"]
    assert signs_in_with(app, "admin", PASSWORD)
    right = client.put(path, json={"current_password": PASSWORD, "password": NEW}, headers=headers)
    assert right.status_code == 204
    assert signs_in_with(app, "admin", NEW)


def test_a_token_mints_a_token_for_its_own_user_only_with_the_current_password(
    app: Flask, client: FlaskClient, world: World
) -> None:
    give_password(app, world, "supplier")
    path, headers = tokens_path(world, "supplier"), world.headers("supplier")
    alone = client.post(path, headers=headers)
    assert alone.status_code == 422
    assert errors_at(alone, "json.current_password") == ["give your current password"]
    wrong = client.post(path, json={"current_password": "a guess"}, headers=headers)
    assert wrong.status_code == 422
    assert errors_at(wrong, "json.current_password") == ["this is not your current password"]
    assert token_count(app, world, "supplier") == 1

    issued = client.post(path, json={"current_password": PASSWORD}, headers=headers)
    assert issued.status_code == 201
    assert token_count(app, world, "supplier") == 2
    minted = {"Authorization": f"Bearer {json_of(issued)['token']}"}
    assert json_of(client.get("/api/v1/me", headers=minted))["email"] == "supplier@example.test"
    # A minted token is a token like the others: alone, it mints nothing either.
    assert client.post(path, headers=minted).status_code == 422
    assert token_count(app, world, "supplier") == 2


def test_an_admin_mints_tokens_for_another_user_without_its_password(
    app: Flask, client: FlaskClient, world: World
) -> None:
    issued = client.post(tokens_path(world, "finance"), headers=world.headers("admin"))
    assert issued.status_code == 201
    assert token_count(app, world, "finance") == 2


def test_guessing_the_current_password_is_throttled_with_the_sign_ins_of_the_account(
    app: Flask, client: FlaskClient, world: World
) -> None:
    give_password(app, world, "supplier")
    path, headers = password_path(world, "supplier"), world.headers("supplier")
    with time_machine.travel(utcnow(), tick=False) as clock:
        statuses = [
            client.put(
                path, json={"current_password": f"guess {n}", "password": NEW}, headers=headers
            ).status_code
            for n in range(3)
        ]
        statuses += [
            client.post(
                tokens_path(world, "supplier"),
                json={"current_password": f"guess {n}"},
                headers=headers,
            ).status_code
            for n in range(2)
        ]
        assert statuses == [422] * 5
        right = client.put(path, json={"current_password": PASSWORD, "password": NEW},
                           headers=headers)  # fmt: skip
        assert right.status_code == 429
        assert json_of(right)["code"] == 429
        wait = int(right.headers["Retry-After"])
        assert 14 * 60 < wait <= 15 * 60
        # One count per account: the sign-in page refuses the right password as well.
        browser = app.test_client()
        page = browser.post("/sign-in", data={"csrf_token": csrf(browser),
                            "email": "supplier@example.test", "password": PASSWORD})  # fmt: skip
        assert page.status_code == 429
        assert not signs_in_with(app, "supplier", NEW)

        clock.shift(timedelta(seconds=wait))
        again = client.put(path, json={"current_password": PASSWORD, "password": NEW},
                           headers=headers)  # fmt: skip
        assert again.status_code == 204
    assert signs_in_with(app, "supplier", NEW)
