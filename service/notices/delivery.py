"""One HTTP POST of a notice: to a checked address, no redirects, within a total deadline."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from typing import Any

from service.notices.addresses import AddressPolicy, RefusedURL, check

USER_AGENT = "fiducia-webhook"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to a checked address; the Host header keeps the URL's name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to a checked address; the certificate is checked against the URL's name."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    policy: AddressPolicy,
    deadline: float,
    tls: ssl.SSLContext | None = None,
) -> str | None:
    """POST a body; return None on a 2xx answer within `deadline` seconds, else what failed.

    The URL is checked again (DNS may have changed since it was set) and the connection goes
    to the address that was checked. A redirect is an answer like any other: not followed.
    `tls` is the trust to check certificates with (default: the system's).
    """
    try:
        target = check(url, policy)
    except RefusedURL as refused:
        return f"refused: {refused}"
    connection: http.client.HTTPConnection
    if target.url.scheme == "https":
        context = tls or ssl.create_default_context()
        connection = _PinnedHTTPSConnection(
            target.host, target.port, target.addresses[0], deadline, context
        )
    else:
        connection = _PinnedHTTPConnection(target.host, target.port, target.addresses[0], deadline)
    path = (target.url.path or "/") + (f"?{target.url.query}" if target.url.query else "")
    status, error = _exchange(
        connection, path, body, headers | {"User-Agent": USER_AGENT}, deadline
    )
    if error is not None:
        return error
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"HTTP {status} (redirects are not followed)"
    return f"HTTP {status}"


def _exchange(
    connection: http.client.HTTPConnection,
    path: str,
    body: bytes,
    headers: dict[str, str],
    deadline: float,
) -> tuple[int, str | None]:
    """Send the request and read the status line, all within `deadline` seconds.

    Socket timeouts bound each read, not the whole answer: a receiver that drips a byte a
    second never trips them. A watchdog shuts the socket when the deadline passes.
    """
    cut = threading.Event()

    def _cut() -> None:
        cut.set()
        sock: Any = connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(deadline, _cut)
    watchdog.start()
    failure: str | None = None
    try:
        connection.request("POST", path, body=body, headers=headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as error:
        status, failure = 0, f"{type(error).__name__}: {error}"
    finally:
        watchdog.cancel()
        connection.close()
    if cut.is_set():
        return 0, f"no answer within the {deadline:g} s deadline"
    return status, failure
