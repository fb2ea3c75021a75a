"""Signed notices of finalized statements: verifiable, retried, never blocking the close."""

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.config import parse_networks
from service.jobs.service import run_close
from service.notices import service as webhooks
from service.notices.addresses import AddressPolicy
from service.notices.models import WebhookDelivery
from tests.conftest import World

SECRET = "a-shared-secret-of-enough-length"
# The receivers of these tests listen on loopback: an operator's intranet allowance.
LOOPBACK = AddressPolicy(allow_http=True, allowed_networks=parse_networks("127.0.0.1/32"))


@pytest.fixture(autouse=True)
def loopback_receivers_allowed(app: Flask) -> None:
    app.config["WEBHOOK_ALLOW_HTTP"] = LOOPBACK.allow_http
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = LOOPBACK.allowed_networks


class Receiver:
    """A local HTTP endpoint that records what it is sent and answers a chosen status."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/fiducia"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def subscribe(client: FlaskClient, world: World, url: str) -> None:
    response = client.put(
        f"/api/v1/organizations/{world.ids['client']}/webhook",
        json={"url": url, "secret": SECRET},
        headers=world.headers("client"),
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "organization_id": world.ids["client"],
        "url": url,
        "signed": True,
    }


def deliveries(app: Flask) -> list[WebhookDelivery]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_a_finalized_statement_is_announced_with_a_signature_the_client_can_verify(
    app: Flask, client: FlaskClient, world: World, receiver: Receiver
) -> None:
    subscribe(client, world, receiver.url)
    factory = app.extensions["fiducia.sessionmaker"]
    moment = datetime(2026, 9, 10, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        run_close(factory)
        counts = webhooks.deliver_due(factory, policy=LOOPBACK)
    assert counts.delivered == 1  # only the client with a webhook hears of its statement
    headers, body = receiver.received[0]
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Fiducia-Signature"] == f"sha256={expected}"
    notice = json.loads(body)
    assert notice["event"] == "statement.finalized"
    assert notice["contract_id"] == world.ids["contract"]
    assert notice["period"] == "2026-08"
    assert deliveries(app)[0].delivered_at is not None


def test_a_failing_receiver_does_not_stop_the_close_and_is_retried_with_backoff(
    app: Flask, client: FlaskClient, world: World, receiver: Receiver
) -> None:
    subscribe(client, world, receiver.url)
    receiver.status = 500
    factory = app.extensions["fiducia.sessionmaker"]
    moment = datetime(2026, 9, 10, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        run = run_close(factory)
        failed = webhooks.deliver_due(factory, policy=LOOPBACK)
        again = webhooks.deliver_due(factory, policy=LOOPBACK)  # not due yet: it waits its backoff
    assert run.outcome == "success" and run.counts["finalized"] == 2
    assert (failed.failed, again.failed, again.delivered) == (1, 0, 0)
    (delivery,) = deliveries(app)
    assert delivery.attempts == 1 and delivery.last_error == "HTTP 500"
    assert delivery.next_attempt_at == moment + timedelta(minutes=1)

    receiver.status = 204
    with time_machine.travel(moment + timedelta(minutes=1), tick=False):
        recovered = webhooks.deliver_due(factory, policy=LOOPBACK)
    assert recovered.delivered == 1
    assert len(receiver.received) == 2
    assert deliveries(app)[0].attempts == 2


def test_an_unreachable_receiver_is_recorded_not_raised(
    app: Flask, client: FlaskClient, world: World, receiver: Receiver
) -> None:
    url = receiver.url
    receiver.close()  # nothing listens there any more
    subscribe(client, world, url)
    factory = app.extensions["fiducia.sessionmaker"]
    with time_machine.travel(datetime(2026, 9, 10, tzinfo=UTC), tick=False):
        run_close(factory)
        counts = webhooks.deliver_due(factory, policy=LOOPBACK)
    assert counts.failed == 1
    assert deliveries(app)[0].last_error


def test_only_the_client_itself_or_an_admin_sets_its_webhook(
    client: FlaskClient, world: World
) -> None:
    url = f"/api/v1/organizations/{world.ids['client']}/webhook"
    body = {"url": "https://93.184.216.34/fiducia", "secret": SECRET}
    assert client.put(url, json=body, headers=world.headers("finance")).status_code == 403
    assert client.put(url, json=body, headers=world.headers("supplier")).status_code == 404
    assert client.put(url, json=body, headers=world.headers("other_client")).status_code == 404
    assert client.put(url, json=body, headers=world.headers("admin")).status_code == 200
    bad = client.put(url, json={"url": "ftp://x"}, headers=world.headers("client"))
    assert bad.status_code == 422 and "url" in bad.get_json()["errors"]["json"]
