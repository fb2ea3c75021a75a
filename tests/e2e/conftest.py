"""A live server with the demo data, and a real headless Chromium to drive it."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Playwright, sync_playwright
from werkzeug.serving import make_server

from service.demo.data import DEMO_PASSWORD, DemoResult
from tests.conftest import DemoTemplate, load_template, on_a_copy

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# As the machine's notes advise: no background traffic, which the closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = DEMO_PASSWORD


@dataclass
class LiveDemo:
    url: str
    demo: DemoResult

    def token(self, email: str) -> str:
        return next(login.token for login in self.demo.logins if login.email == email)


@pytest.fixture(scope="session")
def live_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplate]:
    """The demo loaded on the real day once per test process (the browser keeps real time)."""
    yield from load_template(tmp_path_factory, None)


@pytest.fixture
def live(app: Flask, live_demo_template: DemoTemplate, tmp_path: Path) -> Iterator[LiveDemo]:
    """Serve the app on a fresh copy of the demo, on a free loopback port."""
    with on_a_copy(app, live_demo_template, tmp_path):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield LiveDemo(url=f"http://127.0.0.1:{server.server_port}", demo=live_demo_template.result)
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "browser tests need Chromium: apt-get install chromium (make test and .ci/run "
            "install it when they can)"
        )
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot of a main page as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


@pytest.fixture(autouse=True)
def frozen_today() -> Iterator[None]:
    """Keep the real clock: Chromium, in its own process, lives in real time and would
    drop cookies that expire twelve hours after a made-up today."""
    yield
