"""Cookie sessions that nobody can forge or replay, and sign-in that cannot be guessed (§14)."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import select

from service import create_app
from service.accounts.models import ApiToken
from service.accounts.service import set_password
from service.database.engine import utcnow
from service.edge.actors import OPERATOR
from tests.conftest import World
from tests.web.test_pages import PASSWORD, csrf, sign_in

# The key main used when FIDUCIA_SECRET_KEY was unset, and compose's fallback.
OLD_DEFAULT_KEYS = ("dev-only-not-secret", "change-me")


def _give_finance_a_password(app: Flask, world: World, password: str) -> None:
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        set_password(
            session=session, actor=OPERATOR, user_id=world.ids["user:finance"], password=password
        )


def _forged_cookie(key: str, content: dict[str, Any]) -> str:
    """Sign a session cookie with `key`, as anyone reading the old code could."""
    forger = Flask("forger")
    forger.secret_key = key
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    return serializer.dumps(content)


def _admin_token_id(app: Flask, world: World) -> int:
    with app.extensions["fiducia.sessionmaker"]() as session:
        token_id: int = session.scalars(
            select(ApiToken.id).where(ApiToken.user_id == world.ids["user:admin"])
        ).one()
    return token_id


@pytest.mark.parametrize("key", OLD_DEFAULT_KEYS)
def test_a_cookie_signed_with_an_old_default_key_signs_nobody_in(
    app: Flask, client: FlaskClient, world: World, key: str
) -> None:
    token_id = _admin_token_id(app, world)
    for content in (
        {"user_id": world.ids["user:admin"], "token_id": token_id, "stamp": None},
        {"user_id": world.ids["user:admin"], "token_id": token_id, "key": "guess"},
    ):
        client.set_cookie("session", _forged_cookie(key, content))
        assert client.get("/statements").status_code == 302


def test_a_cookie_naming_a_user_is_not_a_session_even_signed_with_the_real_key(
    app: Flask, client: FlaskClient, world: World
) -> None:
    token_id = _admin_token_id(app, world)
    content = {"user_id": world.ids["user:admin"], "token_id": token_id, "stamp": None}
    client.set_cookie("session", _forged_cookie(app.secret_key or "", content))
    assert client.get("/statements").status_code == 302


def test_a_cookie_replayed_after_sign_out_is_signed_out(client: FlaskClient, world: World) -> None:
    sign_in(client, world.tokens["client"])
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert client.get("/statements").status_code == 200
    signed_out = client.post("/sign-out", data={"csrf_token": csrf(client, "/statements")})
    assert signed_out.status_code == 302
    client.set_cookie("session", cookie.value)
    assert client.get("/statements").status_code == 302


def test_a_password_session_carries_no_hash_and_ends_when_the_password_changes(
    app: Flask, client: FlaskClient, world: World
) -> None:
    _give_finance_a_password(app, world, PASSWORD)
    response = client.post("/sign-in", data={"csrf_token": csrf(client),
                           "email": "finance@example.test", "password": PASSWORD})  # fmt: skip
    assert response.status_code == 302
    cookie = client.get_cookie("session")
    assert cookie is not None
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    content = serializer.loads(cookie.value)
    assert set(content) <= {"key", "csrf_token", "_permanent", "_flashes"}
    assert "$argon2" not in str(content)
    _give_finance_a_password(app, world, PASSWORD + "!")
    assert client.get("/statements").status_code == 302


def test_the_session_cookie_is_lax_http_only_and_lasts_twelve_hours(
    client: FlaskClient, world: World
) -> None:
    response = client.post(
        "/sign-in", data={"csrf_token": csrf(client), "token": world.tokens["client"]}
    )
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "SameSite=Lax" in header and "HttpOnly" in header and "Secure" not in header
    assert "Max-Age=43200" in header or "Expires=" in header
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None
    lifetime = cookie.expires - utcnow()
    assert timedelta(hours=11, minutes=59) < lifetime <= timedelta(hours=12)


def test_secure_cookies_are_required_when_configured(
    database_url: str, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIDUCIA_SECURE_COOKIES", "1")
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    client = app.test_client()
    response = client.post(
        "/sign-in", data={"csrf_token": csrf(client), "token": world.tokens["client"]}
    )
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Secure" in header
    app.extensions["fiducia.engine"].dispose()


def test_a_session_expires_on_the_server_after_twelve_hours(
    client: FlaskClient, world: World
) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        sign_in(client, world.tokens["client"])
        cookie = client.get_cookie("session")
        assert cookie is not None
        clock.shift(timedelta(hours=12, minutes=1))
        client.set_cookie("session", cookie.value)  # a client that ignores the expiry
        assert client.get("/statements").status_code == 302


def test_without_a_configured_key_a_random_one_is_made_once_and_kept_private(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FIDUCIA_SECRET_KEY", raising=False)
    monkeypatch.setenv("FIDUCIA_INSTANCE_PATH", str(tmp_path / "instance"))
    first = create_app({"DATABASE_URL": database_url})
    second = create_app({"DATABASE_URL": database_url})
    keyfile = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "instance").st_mode) == 0o700
    assert first.secret_key == second.secret_key == keyfile.read_text().strip()
    assert len(first.secret_key or "") >= 43 and first.secret_key not in OLD_DEFAULT_KEYS
    for app in (first, second):
        app.extensions["fiducia.engine"].dispose()


@pytest.mark.parametrize("weak", ["change-me", "x" * 31])
def test_a_short_configured_key_refuses_to_start(
    database_url: str, monkeypatch: pytest.MonkeyPatch, weak: str
) -> None:
    monkeypatch.setenv("FIDUCIA_SECRET_KEY", weak)
    with pytest.raises(RuntimeError, match="FIDUCIA_SECRET_KEY"):
        create_app({"DATABASE_URL": database_url})


def _try_password(client: FlaskClient, email: str, password: str, address: str) -> Any:
    return client.post(
        "/sign-in",
        data={"csrf_token": csrf(client), "email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_wrong_passwords_lock_the_account_for_a_while_then_the_right_one_works(
    app: Flask, client: FlaskClient, world: World
) -> None:
    _give_finance_a_password(app, world, PASSWORD)
    email = "finance@example.test"
    with time_machine.travel(utcnow(), tick=False) as clock:
        statuses = [
            _try_password(client, email, f"guess {n}", f"192.0.2.{n}").status_code for n in range(8)
        ]
        assert statuses == [401] * 5 + [429] * 3
        right = _try_password(client, email, PASSWORD, "198.51.100.7")
        assert right.status_code == 429
        assert 1 <= int(right.headers["Retry-After"]) <= 15 * 60
        clock.shift(timedelta(seconds=int(right.headers["Retry-After"])))
        assert _try_password(client, email, PASSWORD, "198.51.100.7").status_code == 302


def test_one_address_guessing_many_accounts_is_throttled(client: FlaskClient, world: World) -> None:
    statuses = [
        _try_password(client, f"user{n}@example.test", "guess", "203.0.113.9").status_code
        for n in range(22)
    ]
    assert statuses == [401] * 20 + [429] * 2
    tokens = client.post(
        "/sign-in",
        data={"csrf_token": csrf(client), "token": "fid_guess"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert tokens.status_code == 429
    elsewhere = client.post(
        "/sign-in",
        data={"csrf_token": csrf(client), "token": world.tokens["client"]},
        environ_base={"REMOTE_ADDR": "203.0.113.10"},
    )
    assert elsewhere.status_code == 302


def test_signing_in_clears_the_users_ended_sessions_and_keeps_live_ones(
    app: Flask, world: World
) -> None:
    from service.accounts.models import WebSession

    first, second = app.test_client(), app.test_client()
    sign_in(first, world.tokens["client"])
    first.post("/sign-out", data={"csrf_token": csrf(first, "/statements")})
    sign_in(second, world.tokens["client"])
    sign_in(first, world.tokens["client"])
    with app.extensions["fiducia.sessionmaker"]() as session:
        kept = session.scalars(select(WebSession.ended_at)).all()
    assert kept == [None, None]
    assert first.get("/statements").status_code == second.get("/statements").status_code == 200
