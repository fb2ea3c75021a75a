"""Sign-ins at once: right credentials all get in, racing guesses still count each other."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy import func, select

from service.accounts.models import SignInAttempt
from tests.api.test_passwords import give_password
from tests.conftest import World
from tests.web.test_pages import PASSWORD, csrf

RACERS = 16
ADDRESS = {"REMOTE_ADDR": "198.51.100.20"}


def race(app: Flask, forms: list[dict[str, str]]) -> list[int]:
    """Send each sign-in form from its own browser, all at the same moment; return statuses."""
    start = threading.Barrier(len(forms))

    def send(form: dict[str, str]) -> int:
        browser = app.test_client()
        token = csrf(browser)
        start.wait()
        response = browser.post("/sign-in", data={"csrf_token": token, **form},
                                environ_base=ADDRESS)  # fmt: skip
        return response.status_code

    with ThreadPoolExecutor(max_workers=len(forms)) as pool:
        return list(pool.map(send, forms))


def failures(app: Flask) -> int:
    with app.extensions["fiducia.sessionmaker"]() as session:
        count: int = session.scalar(select(func.count()).select_from(SignInAttempt))
    return count


def test_sixteen_simultaneous_right_passwords_of_one_account_all_sign_in(
    app: Flask, world: World
) -> None:
    give_password(app, world, "finance")
    form = {"email": "finance@example.test", "password": PASSWORD}
    assert race(app, [form] * RACERS) == [302] * RACERS
    assert failures(app) == 0


def test_simultaneous_right_tokens_from_one_address_all_sign_in_past_its_limit(
    app: Flask, world: World
) -> None:
    app.config["SIGN_IN_ADDRESS_LIMIT"] = 3
    tokens = [world.tokens[who] for who in sorted(world.tokens)]
    forms = [{"token": tokens[n % len(tokens)]} for n in range(RACERS)]
    assert race(app, forms) == [302] * RACERS
    assert failures(app) == 0


def test_racing_wrong_passwords_of_one_account_see_each_other(app: Flask, world: World) -> None:
    give_password(app, world, "finance")
    guesses = [{"email": "finance@example.test", "password": f"guess {n}"} for n in range(10)]
    statuses = race(app, guesses)
    assert sorted(statuses) == [401] * 5 + [429] * 5
    assert failures(app) == 5
