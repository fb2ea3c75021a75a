"""What both benchmarks need: a throwaway database, a quiet machine, a clock and a memory gauge."""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import psycopg
from sqlalchemy.engine import make_url

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parents[1]


QUIET_POLL_SECONDS = 10.0


# Every benchmark (python -m bench.NAME); each waits while any other runs.
BENCHMARKS = ("ingest", "statements", "scorecards", "calls")


QUIET_LIMIT_SECONDS = 20 * 60.0


class BenchError(Exception):
    """A benchmark step failed; the message says which and why."""


def other_bench_pids(other: str) -> set[int]:
    """Return the ids of the processes running another benchmark (not this one's shell)."""
    try:
        found = subprocess.run(["pgrep", "-f", other], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return set()
    return {int(pid) for pid in found.stdout.split()} - {os.getpid(), os.getppid()}


def other_benchmarks(own: str) -> str:
    """Return the pgrep pattern of every benchmark but `own`."""
    return r"bench\.(" + "|".join(name for name in BENCHMARKS if name != own) + ")"


def wait_for_quiet(other: str) -> tuple[float, bool]:
    """Wait until another benchmark stops (poll every 10 s, up to 20 min); say if it still runs."""
    started = time.monotonic()
    polls = 0
    while busy := other_bench_pids(other):
        waited = time.monotonic() - started
        if waited >= QUIET_LIMIT_SECONDS:
            print(f"warning: {other} still runs after {waited:.0f} s; measuring anyway")
            return waited, True
        if polls % 6 == 0:  # once a minute
            pids = ", ".join(str(pid) for pid in sorted(busy))
            print(f"waiting: {other} runs (pid {pids}), {waited:.0f} s so far", flush=True)
        polls += 1
        time.sleep(QUIET_POLL_SECONDS)
    return (time.monotonic() - started if polls else 0.0), False


def timed(action: Callable[[], object]) -> float:
    """Return the seconds an action takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def peak_rss_mb() -> float:
    """Return the peak resident set size of this process so far, in MB.

    Linux's `VmHWM` is that of the process's own memory since it started its program;
    `ru_maxrss` also keeps the peak of the parent's memory it was forked from (the kernel
    carries it across exec), so a small process started by a large one would read large.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def add_server_option(parser: argparse.ArgumentParser) -> None:
    """Add `--server`, the PostgreSQL server a benchmark makes its scratch database on."""
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER),
        help="PostgreSQL server URL to create the scratch database on "
        "(default: $BENCH_DATABASE_URL or %(default)s)",
    )


def terminate(signum: int, _frame: object) -> NoReturn:
    """Turn SIGTERM into SystemExit, so that what a benchmark started is stopped and dropped."""
    raise SystemExit(128 + signum)


# The evaluation columns the service writes, in the order of pre-computed COPY rows.
EVALUATION_COLUMNS = (
    "contract_id",
    "call_ref",
    "source",
    "agent_ref",
    "team",
    "call_at",
    "period",
    "form_id",
    "answers",
    "evaluator_ref",
    "comment",
    "score_hundredths",
    "passed",
    "critical_customer",
    "critical_business",
    "critical_compliance",
    "section_scores",
    "content_hash",
    "created_at",
    "created_by",
)


def conninfo(url: str) -> str:
    """Return a libpq URL (no SQLAlchemy driver suffix) for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(server: str, prefix: str) -> tuple[str, str]:
    """Create a uniquely named database on the server; return its name and URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(conninfo(server), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, conninfo(make_url(server).set(database=name).render_as_string(hide_password=False))


def drop_database(server: str, name: str) -> None:
    """Drop a benchmark database, disconnecting whoever still uses it."""
    with psycopg.connect(conninfo(server), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
