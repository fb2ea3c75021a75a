"""`fiducia serve` as production runs it: clients that send slowly do not stop it answering."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import main
from service.database.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
SLOW_CLIENTS = 6  # three per worker: a worker that served one request at a time would stall
PARTS = [
    b"GE",
    b"GET /health HT",
    b"GET /health HTTP/1.1\r\n",
    b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    b"POST /api/v1/evaluations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le",
    b"GET /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def health(base: str, timeout: float) -> tuple[int, dict[str, str]]:
    with urllib.request.urlopen(f"{base}/health", timeout=timeout) as response:
        return response.status, json.loads(response.read())


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """Run `fiducia serve --workers 2` on a free loopback port and an empty SQLite database."""
    database = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    upgrade(database)
    env = {key: value for key, value in os.environ.items() if not key.startswith("FIDUCIA_")}
    # No FIDUCIA_SECRET_KEY: the workers share the key made once in the instance folder.
    env |= {"DATABASE_URL": database, "FIDUCIA_INSTANCE_PATH": str(tmp_path)}
    port = free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-c", "from service.cli import main; main()", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)]
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if health(base, timeout=2)[0] == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_health_answers_while_more_clients_than_workers_send_half_a_request(
    served: str,
) -> None:
    port = int(served.rsplit(":", 1)[1])
    slow = []
    try:
        for part in PARTS[:SLOW_CLIENTS]:
            client = socket.create_connection(("127.0.0.1", port), timeout=5)
            client.sendall(part)  # ... and never the rest
            slow.append(client)
        try:
            status, body = health(served, timeout=10)
        except OSError as error:
            pytest.fail(f"/health did not answer with {SLOW_CLIENTS} slow clients: {error!r}")
        assert (status, body) == (200, {"status": "ok"})
    finally:
        for client in slow:
            client.close()


def test_serve_runs_threaded_workers_configured_by_options_or_the_environment(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr("service.cli.os.execv", lambda _path, argv: started.append(argv))
    result = CliRunner().invoke(
        main,
        ["serve", "--port", "8123", "--workers", "3", "--keep-alive", "10"],
        env={"DATABASE_URL": database_url, "FIDUCIA_WEB_THREADS": "4"},
    )
    assert result.exit_code == 0, result.output
    assert "3 workers of 4 threads" in result.output
    (argv,) = started
    assert argv[:3] == [sys.executable, "-m", "gunicorn"]
    assert argv[-1] == "service:create_app()"
    assert dict(zip(argv[3:-1:2], argv[4:-1:2], strict=True)) == {
        "--bind": "127.0.0.1:8123",
        "--workers": "3",
        "--worker-class": "gthread",
        "--threads": "4",
        "--timeout": "30",
        "--graceful-timeout": "30",
        "--keep-alive": "10",
        "--access-logfile": "-",
    }
