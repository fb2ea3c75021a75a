"""The throttle refuses guesses, never the right credential from a busy address (§14)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from service.database.engine import utcnow
from tests.api.test_passwords import NEW, give_password, signs_in_with
from tests.conftest import World
from tests.web.test_pages import PASSWORD, csrf, sign_in

ITALIAN = {"Accept-Language": "it"}


def try_password(client: FlaskClient, email: str, password: str, **environ: Any) -> Any:
    return client.post(
        "/sign-in",
        data={"csrf_token": csrf(client), "email": email, "password": password},
        environ_base={"REMOTE_ADDR": "203.0.113.9", **environ},
    )


def test_an_address_past_its_limit_still_signs_in_the_right_password_and_token(
    app: Flask, client: FlaskClient, world: World
) -> None:
    app.config["SIGN_IN_ADDRESS_LIMIT"] = 3
    give_password(app, world, "finance")
    with time_machine.travel(utcnow(), tick=False):
        guesses = [
            try_password(client, f"user{n}@example.test", "guess").status_code for n in range(3)
        ]
        assert guesses == [401] * 3
        wrong = try_password(client, "finance@example.test", "a guess")
        assert wrong.status_code == 429 and 14 * 60 < int(wrong.headers["Retry-After"]) <= 900
        right = try_password(client, "finance@example.test", PASSWORD)
        assert right.status_code == 302
        assert client.get("/statements").status_code == 200
        token = app.test_client()
        by_token = token.post(
            "/sign-in",
            data={"csrf_token": csrf(token), "token": world.tokens["client"]},
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        )
        assert by_token.status_code == 302


def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_count(
    database_url: str, world: World
) -> None:
    behind = create_app(
        {"DATABASE_URL": database_url, "TESTING": True, "TRUSTED_PROXIES": 1,
         "SIGN_IN_ADDRESS_LIMIT": 3}
    )  # fmt: skip
    client = behind.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    accounts = itertools.count()

    def guess(forwarded_for: str) -> int:
        environ = proxy | {"HTTP_X_FORWARDED_FOR": forwarded_for}
        email = f"nobody{next(accounts)}@example.test"  # one guess each: no account's limit
        return int(try_password(client, email, "guess", **environ).status_code)

    try:
        with time_machine.travel(utcnow(), tick=False):
            assert [guess(f"198.51.100.{n + 1}, 192.0.2.1") for n in range(3)] == [401] * 3
            # The address is the one the proxy saw: hops a client writes before it change nothing.
            assert guess("198.51.100.9, 192.0.2.1") == 429
            assert guess("192.0.2.2") == 401
    finally:
        behind.extensions["fiducia.engine"].dispose()


def test_guessing_the_current_password_on_the_account_page_is_throttled(
    app: Flask, world: World
) -> None:
    give_password(app, world, "client")
    browser = app.test_client()
    sign_in(browser, world.tokens["client"])

    def change(current: str) -> Any:
        form = {"csrf_token": csrf(browser, "/account"), "current_password": current,
                "password": NEW}  # fmt: skip
        return browser.post("/account/password", data=form, headers=ITALIAN)

    with time_machine.travel(utcnow(), tick=False) as clock:
        assert [change(f"guess {n}").status_code for n in range(5)] == [422] * 5
        refused = change(PASSWORD)
        assert refused.status_code == 429
        assert "Troppi tentativi falliti. Riprova tra 15 minuti." in refused.text
        assert not signs_in_with(app, "client", NEW)
        clock.shift(timedelta(seconds=int(refused.headers["Retry-After"])))
        assert change(PASSWORD).status_code == 302
    assert signs_in_with(app, "client", NEW)
