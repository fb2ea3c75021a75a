"""Webhooks reach public receivers only, never follow redirects, never stall (DESIGN §14)."""

from __future__ import annotations

import socket
import sqlite3
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from service.config import parse_networks
from service.database.engine import engine_url
from service.jobs.service import run_close
from service.notices import addresses
from service.notices import service as notices
from service.notices.addresses import AddressPolicy
from service.notices.models import WebhookDelivery
from tests.conftest import World

SECRET = "a-shared-secret-of-enough-length"
PUBLIC = "93.184.216.34"  # a public address; nothing here ever connects to it
LOOPBACK = AddressPolicy(allow_http=True, allowed_networks=parse_networks("127.0.0.1/32"))

REFUSED_ON_SET = [
    "http://93.184.216.34/hook",  # http, not allowed by default
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://2130706433/hook",  # 127.0.0.1 in decimal
    "https://0x7f000001/hook",  # in hex
    "https://127.1/hook",  # short form
    "https://0177.0.0.1/hook",  # octal
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "https://[::ffff:7f00:1]/hook",
    "https://[2002:7f00:1::1]/hook",  # 6to4 around loopback
    "https://[64:ff9b::a00:1]/hook",  # NAT64 around 10.0.0.1
    "https://10.0.0.5/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",  # shared address space
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://[fd00:ec2::254]/hook",  # cloud metadata, IPv6
    "https://[fe80::1]/hook",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",  # multicast
    "https://user:pw@93.184.216.34/hook",
    "https://[fec0::1]/hook",  # site-local, which Python still calls global
    "https://93.184.216.34:0/hook",
    "https://[1:2:3:4:5:6:7:8:9]/hook",  # not an address at all
]


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A resolver stub: names in the returned mapping resolve to the address given there."""
    table: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in table:
            family = socket.AF_INET6 if ":" in table[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (table[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(addresses.socket, "getaddrinfo", getaddrinfo)
    return table


def _set(client: FlaskClient, world: World, url: str, who: str = "client") -> Any:
    organization = world.ids["client" if who == "client" else "other_client"]
    return client.put(
        f"/api/v1/organizations/{organization}/webhook",
        json={"url": url, "secret": SECRET},
        headers=world.headers(who),
    )


def _allow_loopback(app: Flask) -> None:
    """Let the operator's settings allow this machine's test receivers."""
    app.config["WEBHOOK_ALLOW_HTTP"] = LOOPBACK.allow_http
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = LOOPBACK.allowed_networks


def _stored_url(app: Flask, world: World) -> str | None:
    from service.accounts.models import Organization

    with app.extensions["fiducia.sessionmaker"]() as session:
        return session.get_one(Organization, world.ids["client"]).webhook_url


@pytest.mark.parametrize("url", REFUSED_ON_SET)
def test_a_url_fiducia_may_not_call_is_refused_when_set(
    app: Flask, client: FlaskClient, world: World, url: str
) -> None:
    response = _set(client, world, url)
    assert response.status_code == 422, url
    assert response.get_json()["errors"]["json"]["url"]
    assert _stored_url(app, world) is None


def test_a_name_that_resolves_to_a_private_address_is_refused_and_a_public_one_kept(
    app: Flask, client: FlaskClient, world: World, names: dict[str, str]
) -> None:
    names["inside.example.test"] = "10.0.0.7"
    names["hooks.example.test"] = PUBLIC
    refused = _set(client, world, "https://inside.example.test/hook")
    assert refused.status_code == 422
    assert "10.0.0.7" in refused.get_json()["errors"]["json"]["url"][0]
    assert _set(client, world, "https://hooks.example.test/hook").status_code == 200
    assert _stored_url(app, world) == "https://hooks.example.test/hook"


class Receiver:
    """A local HTTP endpoint (HTTPS with `tls`); `answer` decides what each POST gets back."""

    def __init__(self, answer: Any = None, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[bytes] = []
        self.got_one = threading.Event()
        self.observations: list[Any] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                receiver.received.append(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.got_one.set()
                if answer is not None:
                    answer(self, receiver)
                else:
                    self.send_response(200)
                    self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server_names: list[str | None] = []
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _context: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/fiducia"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for receiver in made:
        receiver.close()


def _finalize_both_contracts(app: Flask) -> None:
    with time_machine.travel(datetime(2026, 9, 10, tzinfo=UTC), tick=False):
        run = run_close(app.extensions["fiducia.sessionmaker"])
    assert run.counts["finalized"] == 2


def _deliveries(app: Flask) -> dict[int, WebhookDelivery]:
    with app.extensions["fiducia.sessionmaker"]() as session:
        rows = session.scalars(select(WebhookDelivery)).all()
        return {row.organization_id: row for row in rows}


def test_a_name_that_turns_private_after_it_was_set_is_refused_on_send_unconnected(
    app: Flask,
    client: FlaskClient,
    world: World,
    names: dict[str, str],
    receivers: list[Receiver],
) -> None:
    receiver = Receiver()
    receivers.append(receiver)
    app.config["WEBHOOK_ALLOW_HTTP"] = True
    names["hooks.example.test"] = PUBLIC
    assert _set(client, world, f"http://hooks.example.test:{receiver.port}/hook").status_code == 200
    _finalize_both_contracts(app)
    names["hooks.example.test"] = "127.0.0.1"  # DNS now points at the receiver on loopback
    counts = notices.deliver_due(
        app.extensions["fiducia.sessionmaker"], policy=AddressPolicy(allow_http=True)
    )
    assert (counts.delivered, counts.failed) == (0, 1)
    delivery = _deliveries(app)[world.ids["client"]]
    assert delivery.last_error is not None and delivery.last_error.startswith("refused")
    assert "127.0.0.1" in delivery.last_error
    assert receiver.received == []


def test_a_redirect_is_not_followed(
    app: Flask, client: FlaskClient, world: World, receivers: list[Receiver]
) -> None:
    elsewhere = Receiver()

    def redirect(handler: BaseHTTPRequestHandler, _receiver: Receiver) -> None:
        handler.send_response(302)
        handler.send_header("Location", elsewhere.url)
        handler.end_headers()

    first = Receiver(redirect)
    receivers.extend([elsewhere, first])
    _allow_loopback(app)
    assert _set(client, world, first.url).status_code == 200
    _finalize_both_contracts(app)
    counts = notices.deliver_due(app.extensions["fiducia.sessionmaker"], policy=LOOPBACK)
    assert (counts.delivered, counts.failed) == (0, 1)
    assert len(first.received) == 1 and elsewhere.received == []
    delivery = _deliveries(app)[world.ids["client"]]
    assert delivery.last_error == "HTTP 302 (redirects are not followed)"
    assert delivery.delivered_at is None and delivery.attempts == 1


def test_a_dripping_receiver_is_cut_at_the_deadline_and_delays_no_other(
    app: Flask, client: FlaskClient, world: World, receivers: list[Receiver]
) -> None:
    cut_off = threading.Event()

    def drip(handler: BaseHTTPRequestHandler, receiver: Receiver) -> None:
        # One byte of an answer every 0.2 s for up to 10 s: never a socket timeout.
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" + b"X" * 50:
            try:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
            except OSError:
                cut_off.set()
                return
            time.sleep(0.2)

    def quick(handler: BaseHTTPRequestHandler, receiver: Receiver) -> None:
        # Queued behind the slow receiver, this would be heard only once the slow attempt
        # had been cut and recorded.
        receiver.observations.append(_deliveries(app)[world.ids["client"]].attempts)
        handler.send_response(204)
        handler.end_headers()

    slow, fast = Receiver(drip), Receiver(quick)
    receivers.extend([slow, fast])
    _allow_loopback(app)
    assert _set(client, world, slow.url).status_code == 200
    assert _set(client, world, fast.url, who="other_client").status_code == 200
    _finalize_both_contracts(app)
    started = time.monotonic()
    counts = notices.deliver_due(
        app.extensions["fiducia.sessionmaker"], policy=LOOPBACK, deadline=1.0
    )
    took = time.monotonic() - started
    assert (counts.delivered, counts.failed) == (1, 1)
    assert took < 5  # cut at 1 s, not after the 11 s the drip would take
    rows = _deliveries(app)
    assert rows[world.ids["client"]].last_error == "no answer within the 1 s deadline"
    assert rows[world.ids["other_client"]].delivered_at is not None
    assert fast.observations == [0]
    assert cut_off.wait(timeout=5)  # the slow receiver saw its connection shut


def test_no_transaction_is_open_while_a_receiver_holds_the_request(
    app: Flask, client: FlaskClient, world: World, receivers: list[Receiver], database_url: str
) -> None:
    def probe(handler: BaseHTTPRequestHandler, receiver: Receiver) -> None:
        receiver.observations.append(_row_is_free(database_url))
        handler.send_response(200)
        handler.end_headers()

    receiver = Receiver(probe)
    receivers.append(receiver)
    _allow_loopback(app)
    assert _set(client, world, receiver.url).status_code == 200
    _finalize_both_contracts(app)
    counts = notices.deliver_due(app.extensions["fiducia.sessionmaker"], policy=LOOPBACK)
    assert counts.delivered == 1
    assert receiver.observations == [True]


def _row_is_free(database_url: str) -> bool:
    """Say whether another connection can write the delivery row right now, without waiting."""
    url = make_url(engine_url(database_url))
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database or "", timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")  # fails at once if a writer holds the lock
            connection.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            connection.close()
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT id FROM webhook_deliveries FOR UPDATE NOWAIT")).all()
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def test_a_webhook_without_a_secret_is_refused_so_every_notice_is_signed(
    app: Flask, client: FlaskClient, world: World
) -> None:
    response = client.put(
        f"/api/v1/organizations/{world.ids['client']}/webhook",
        json={"url": f"https://{PUBLIC}/hook"},
        headers=world.headers("client"),
    )
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["secret"]
    assert _stored_url(app, world) is None


# A test CA and a certificate it issued for hooks.example.test (made with openssl, valid to 2126).
TLS = Path(__file__).parent / "tls"


def _deliver_over_https(
    app: Flask,
    client: FlaskClient,
    world: World,
    names: dict[str, str],
    receivers: list[Receiver],
    host: str,
) -> tuple[Receiver, notices.DeliveryCounts]:
    """Serve HTTPS with a certificate for hooks.example.test, reach it as `host`, deliver."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "hooks.example.test.pem", TLS / "hooks.example.test.key")
    receiver = Receiver(tls=context)
    receivers.append(receiver)
    _allow_loopback(app)
    names[host] = "127.0.0.1"
    assert _set(client, world, f"https://{host}:{receiver.port}/fiducia").status_code == 200
    _finalize_both_contracts(app)
    trust = ssl.create_default_context(cafile=TLS / "ca.pem")
    counts = notices.deliver_due(app.extensions["fiducia.sessionmaker"], policy=LOOPBACK, tls=trust)
    return receiver, counts


def test_https_goes_to_the_checked_address_and_checks_the_certificate_on_the_urls_name(
    app: Flask,
    client: FlaskClient,
    world: World,
    names: dict[str, str],
    receivers: list[Receiver],
) -> None:
    receiver, counts = _deliver_over_https(
        app, client, world, names, receivers, "hooks.example.test"
    )
    assert (counts.delivered, counts.failed) == (1, 0)
    assert receiver.server_names == ["hooks.example.test"]  # the TLS name is the URL's host
    assert len(receiver.received) == 1


def test_https_to_a_certificate_naming_another_host_sends_nothing(
    app: Flask,
    client: FlaskClient,
    world: World,
    names: dict[str, str],
    receivers: list[Receiver],
) -> None:
    receiver, counts = _deliver_over_https(
        app, client, world, names, receivers, "other.example.test"
    )
    assert (counts.delivered, counts.failed) == (0, 1)
    assert receiver.received == []
    error = _deliveries(app)[world.ids["client"]].last_error
    assert error is not None and "Hostname mismatch" in error
