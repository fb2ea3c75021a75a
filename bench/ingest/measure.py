"""Measuring ingest: batches posted over HTTP, the stored rows checked, a profile in process."""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import queue
import random
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import requests
from flask import Flask

from bench.common import EVALUATION_COLUMNS, BenchError
from bench.ingest.generate import Batch

BATCH_PATH = "/api/v1/evaluations/batch"


# Server-side phases of a batch request: (label, file suffix, function); none nests another.
PHASES = (
    ("auth (token lookup)", "service/accounts/service.py", "authenticate"),
    ("JSON depth check + parse", "service/auth.py", "json_body"),
    ("NUL and surrogate scan of the body", "service/schemas.py", "find_unstorable"),
    ("webargs: JSON re-parse + load", "webargs/core.py", "parse"),
    ("record loading (compiled check)", "service/fastload.py", "load_each"),
    ("contract + role check (SQL)", "service/evaluations/submission.py", "_contracts_for"),
    ("form lookup (SQL)", "service/forms/service.py", "find_form"),
    ("parsed_form per record", "service/forms/service.py", "parsed_form"),
    ("scoring", "contracts/forms.py", "score_evaluation"),
    ("row build + content hash", "service/evaluations/submission.py", "_row"),
    ("lookup of conflicting calls (SQL)", "service/evaluations/submission.py", "_stored"),
    ("SQL insert ... ON CONFLICT DO NOTHING", "service/evaluations/submission.py", "_insert_new"),
    ("commit", "sqlalchemy/engine/base.py", "_commit_impl"),
)


def _problem(status: int, text: str, size: int) -> str | None:
    """Return why a batch response is not 201 with every evaluation created, or None."""
    if status != 201:
        return f"HTTP {status}: {text[:2000]}"
    created = json.loads(text).get("created")
    if created != size:
        return f"created {created} of {size}: {text[:2000]}"
    return None


def post_all(base: str, token: str, batches: Sequence[Batch], concurrency: int) -> float:
    """Post every batch from `concurrency` threads; return the wall time in seconds."""
    work: queue.SimpleQueue[Batch] = queue.SimpleQueue()
    for batch in batches:
        work.put(batch)
    failures: list[str] = []
    stop = threading.Event()
    url = f"{base}{BATCH_PATH}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client() -> None:
        """Post batches until the queue is empty or a batch fails."""
        with requests.Session() as session:
            while not stop.is_set():
                try:
                    batch = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    response = session.post(url, data=batch.body, headers=headers, timeout=300)
                    problem = _problem(response.status_code, response.text, batch.size)
                except requests.RequestException as error:
                    problem = f"request failed: {error!r}"
                if problem is not None:
                    failures.append(problem)
                    stop.set()

    threads = [threading.Thread(target=client, name=f"client-{n}") for n in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise BenchError(f"batch rejected: {failures[0]}")
    return elapsed


@contextmanager
def analyzing(url: str, every: float) -> Iterator[None]:
    """Run ANALYZE evaluations every `every` seconds in a thread, as autovacuum would."""
    if every <= 0:
        yield
        return
    done = threading.Event()

    def loop() -> None:
        """Analyze until told to stop."""
        with psycopg.connect(url, autocommit=True) as connection:
            while not done.wait(every):
                connection.execute("ANALYZE evaluations")

    thread = threading.Thread(target=loop, name="analyze", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def autovacuum_on(url: str) -> bool:
    """Tell whether the server runs autovacuum (which also keeps planner statistics fresh)."""
    with psycopg.connect(url) as connection:
        setting = connection.execute("SHOW autovacuum").fetchone()
    return setting is not None and setting[0] == "on"


def check_stored(url: str, rows: Sequence[tuple[Any, ...]], rng: random.Random) -> None:
    """Check the row count and that sampled stored rows equal the pre-computed ones."""
    sample = {row[1]: row for row in rng.sample(list(rows), min(200, len(rows)))}
    names = ", ".join(EVALUATION_COLUMNS[:-2])
    with psycopg.connect(url) as connection:
        total = connection.execute("SELECT count(*) FROM evaluations").fetchone()
        if total is None or total[0] != len(rows):
            raise BenchError(f"{total} evaluations stored, expected {len(rows)}")
        stored = connection.execute(
            f"SELECT {names} FROM evaluations WHERE call_ref = ANY(%s)", [list(sample)]
        ).fetchall()
    if len(stored) != len(sample):
        raise BenchError(f"{len(stored)} of {len(sample)} sampled evaluations are stored")
    for values in stored:
        expected = list(sample[values[1]][: len(EVALUATION_COLUMNS) - 2])
        for position in (8, 16):  # the JSON documents, compared as documents
            expected[position] = json.loads(expected[position])
        if list(values) != expected:
            raise BenchError(f"stored row differs from the pre-computed one: {values}")


def profile(
    app: Flask, token: str, batches: Sequence[Batch]
) -> tuple[float, list[tuple[str, float]]]:
    """Post batches in process under cProfile (the first as warm-up); return time per phase."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def post(batch: Batch) -> None:
        """Post one batch through the test client and check it was stored."""
        response = client.post(
            BATCH_PATH, data=batch.body, headers=headers, content_type="application/json"
        )
        problem = _problem(response.status_code, response.get_data(as_text=True), batch.size)
        if problem is not None:
            raise BenchError(f"profiled batch rejected: {problem}")

    try:
        post(batches[0])
        profiler = cProfile.Profile()
        profiler.enable()
        for batch in batches[1:]:
            post(batch)
        profiler.disable()
    finally:
        app.extensions["fiducia.engine"].dispose()
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    phases = {label: 0.0 for label, _, _ in PHASES}
    total = 0.0
    for (filename, _, function), (_, _, _, cumulative, _) in stats.items():
        path = filename.replace(os.sep, "/")
        if function == "wsgi_app" and path.endswith("flask/app.py"):
            total += cumulative
        for label, suffix, name in PHASES:
            if function == name and path.endswith(suffix):
                phases[label] += cumulative
    ranked = sorted(phases.items(), key=lambda item: item[1], reverse=True)
    return total, [*ranked, ("other", total - sum(phases.values()))]


def create_app(url: str) -> Flask:
    """Build the service's Flask app on a database, quiet below warnings."""
    from service import create_app as create

    return create({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
