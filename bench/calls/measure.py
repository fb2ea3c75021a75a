"""What the call log benchmark times: the upload over HTTP, a raw COPY, and the draw."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import requests

from bench.common import ROOT, BenchError

BARE = """CREATE TABLE bare_calls (call_ref text, call_at timestamptz, agent_ref text,
    team text, queue text, direction text, duration_s integer, outcome text, wait_s integer,
    handle_s integer, caller_ref text)"""


def upload(base: str, token: str, contract_id: int, path: Path) -> tuple[float, dict[str, object]]:
    """POST the file to the upload endpoint; return the seconds and the answer."""
    with path.open("rb") as file:
        started = time.perf_counter()
        response = requests.post(
            f"{base}/api/v1/contracts/{contract_id}/calls/upload",
            files={"file": ("calls.csv", file, "text/csv")},
            headers={"Authorization": f"Bearer {token}"},
            timeout=3600,
        )
        elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise BenchError(f"upload answered {response.status_code}: {response.text[:500]}")
    answer: dict[str, object] = response.json()
    return elapsed, answer


def raw_copy(url: str, path: Path) -> float:
    """COPY the same file into a bare table (no keys, no indexes); return the seconds."""
    with psycopg.connect(url) as connection:
        connection.execute(BARE)
        connection.commit()
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(
            "COPY bare_calls FROM STDIN WITH (FORMAT csv, HEADER true)"
        ) as copy, path.open("rb") as file:  # fmt: skip
            while chunk := file.read(1 << 20):
                copy.write(chunk)
        connection.commit()
        return time.perf_counter() - started


DRAW = """
import json, sys, time
from bench.common import peak_rss_mb
from datetime import timedelta
from sqlalchemy.orm import sessionmaker
from contracts.periods import Period
from service.agreements.models import Contract
from service.agreements.service import timeline_of
from service.calls import samples
from service.database.engine import make_engine, writing
engine = make_engine(sys.argv[1])
factory = sessionmaker(engine, expire_on_commit=False)
with writing(factory) as session:
    contract = session.get_one(Contract, int(sys.argv[2]))
    period = Period.parse(sys.argv[3])
    timeline = timeline_of(contract, period)
    samples.commit_seed(session, contract, period, timeline.begins - timedelta(days=10))
    started = time.perf_counter()
    # Both stages at once, as a close that runs once the self-assessments are due draws them.
    sample = samples.draw_samples(session, contract, period, timeline.self_due)
    elapsed = time.perf_counter() - started
    drawn = samples.sampled_calls(session, sample)
rss = peak_rss_mb()  # this program's own peak, not the forking benchmark's
print(json.dumps({"seconds": elapsed, "rss_mb": rss, "logged": sample.logged_calls,
                  "audit": len(drawn["audit"]), "self": len(drawn["self"])}))
"""


def draw(url: str, contract_id: int, period: str) -> dict[str, float]:
    """Draw the month's samples (both stages) in a process of its own; return its time and
    peak memory."""
    found = subprocess.run(
        [sys.executable, "-c", DRAW, url, str(contract_id), period],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if found.returncode != 0:
        raise BenchError(f"the draw failed:\n{found.stderr[-2000:]}")
    result: dict[str, float] = json.loads(found.stdout.strip().splitlines()[-1])
    return result
