"""The service under test: gunicorn on a free port, started and stopped around a run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import requests

from bench.common import ROOT, BenchError


def free_port() -> int:
    """Return a TCP port that is free on the loopback interface right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _fail_with_log(message: str, log: Path) -> NoReturn:
    """Raise a BenchError carrying the last lines of the gunicorn log."""
    tail = log.read_text(errors="replace").splitlines()[-20:]
    raise BenchError("\n".join([message, "gunicorn log (last lines):", *tail]))


@contextmanager
def serving(url: str, workers: int, log: Path) -> Iterator[str]:
    """Run `fiducia serve` on a free port until the block ends; yield its base URL."""
    port = free_port()
    # The checkout first on the path: an editable install can map `service` as a namespace.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = os.environ | {"DATABASE_URL": url, "FIDUCIA_LOG_LEVEL": "WARNING", "PYTHONPATH": path}
    command = [
        str(Path(sys.executable).with_name("fiducia")),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, process, log)
        yield base
    finally:
        _stop(process)


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until GET /health answers 200, failing if gunicorn exits or takes a minute."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _fail_with_log(f"gunicorn exited with {process.returncode}", log)
        try:
            if requests.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    _fail_with_log("gunicorn did not answer /health within 60 s", log)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn: SIGTERM, SIGKILL to its process group after 20 s, then reap."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    try:  # workers left behind by the master still carry its process group
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
