"""`fiducia run` (what `make run` starts): the web server and the scheduler in one command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from service.database.migrate import upgrade
from tests.integration.test_serve import ROOT, free_port, health


def children_of(pid: int) -> set[int]:
    """Return the ids of a process's children (Linux's /proc)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_run_serves_and_closes_months_and_stopping_it_stops_both(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    upgrade(database)
    env = {key: value for key, value in os.environ.items() if not key.startswith("FIDUCIA_")}
    env |= {"DATABASE_URL": database, "FIDUCIA_INSTANCE_PATH": str(tmp_path)}
    port, log = free_port(), tmp_path / "run.log"
    command = [sys.executable, "-m", "service.cli", "run", "--port", str(port), "--workers", "1"]
    with log.open("wb") as output:
        run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    engine = create_engine(database)
    try:
        deadline = time.monotonic() + 60
        closes: list[str] = []
        while not closes:
            assert run.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
            try:
                served = health(f"http://127.0.0.1:{port}", timeout=2)[0] == 200
            except OSError:
                continue
            with engine.connect() as connection:
                closes = list(
                    connection.execute(text("SELECT outcome FROM job_runs WHERE job = 'close'"))
                    .scalars()
                    .all()
                )
        assert served and closes[0] in ("running", "success")
        children = children_of(run.pid)
        assert len(children) == 2  # gunicorn's master and the scheduler
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0, log.read_text()
        assert not any(alive(child) for child in children)
    finally:
        if run.poll() is None:
            run.kill()
        engine.dispose()
