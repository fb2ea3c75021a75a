"""Ingest benchmark: evaluations over HTTP against a raw PostgreSQL COPY of the same rows."""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import queue
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import psycopg
import requests
from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bench.common import EVALUATION_COLUMNS, create_database, drop_database
from contracts import forms as rules
from contracts.examples import STANDARD_FORM, load_example
from service.demo import random_answers

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
BATCH_PATH = "/api/v1/evaluations/batch"
FORM_REF = "standard@1"
ZONE = ZoneInfo("Europe/Rome")
AGENTS = 50
COMMENTS = (None, None, None, None, "caller asked for a callback", "escalated to second level")
# Server-side phases of a batch request: (label, file suffix, function); none nests another.
PHASES = (
    ("auth (token lookup)", "service/accounts/service.py", "authenticate"),
    ("JSON depth check + parse", "service/auth.py", "json_body"),
    ("NUL and surrogate scan of the body", "service/schemas.py", "find_unstorable"),
    ("webargs: JSON re-parse + load", "webargs/core.py", "parse"),
    ("marshmallow load per record", "service/evaluations/schemas.py", "load_each"),
    ("contract + role check (SQL)", "service/evaluations/service.py", "_contracts_for"),
    ("form lookup (SQL)", "service/forms/service.py", "find_form"),
    ("parsed_form per record", "service/forms/service.py", "parsed_form"),
    ("scoring", "contracts/forms.py", "score_evaluation"),
    ("row build + content hash", "service/evaluations/service.py", "_row"),
    ("lookup of conflicting calls (SQL)", "service/evaluations/service.py", "_stored"),
    ("SQL insert ... ON CONFLICT DO NOTHING", "service/evaluations/service.py", "_insert_new"),
    ("commit", "sqlalchemy/engine/base.py", "_commit_impl"),
)


class BenchError(Exception):
    """A benchmark step failed; the message says which and why."""


@dataclass(frozen=True)
class World:
    """What the setup created: the database, the supplier's token and the ids rows refer to."""

    url: str
    token: str
    contract_id: int
    form_id: int
    supplier_user_id: int


@dataclass(frozen=True)
class Batch:
    """One pre-encoded request body and the number of evaluations in it."""

    body: bytes
    size: int


def set_up(url: str) -> World:
    """Migrate the database and create the parties, form and contract in one session."""
    from service import seed
    from service.db import make_engine
    from service.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    try:
        with sessionmaker(engine, expire_on_commit=False).begin() as session:
            client = seed.organization(session, "Bench Client", "client")
            supplier = seed.organization(session, "Bench Supplier", "supplier")
            client_qa = seed.member(session, client, role="client", email="client@bench.fiducia")
            supplier_qa = seed.member(
                session, supplier, role="supplier", email="supplier@bench.fiducia"
            )
            form = seed.standard_form(session, client_qa)
            contract = seed.contract(
                session,
                client_qa,
                supplier,
                name="Bench customer care",
                effective_from=date(2026, 1, 1),
            )
            world = World(url, supplier_qa.token, contract.id, form.id, supplier_qa.user.id)
    finally:
        engine.dispose()
    return world


def make_records(
    rng: random.Random, form: rules.Form, contract_id: int, count: int, prefix: str
) -> list[dict[str, Any]]:
    """Return `count` JSON-ready supplier evaluations with unique call refs across 2026."""
    skills = [rng.uniform(0.7, 0.97) for _ in range(AGENTS)]
    records = []
    for index in range(count):
        agent = rng.randrange(AGENTS)
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
        moment = datetime.combine(
            day, clock(8 + rng.randrange(12), rng.randrange(60), rng.randrange(60)), ZONE
        )
        records.append(
            {
                "contract_id": contract_id,
                "call_ref": f"{prefix}-{index:07d}",
                "source": "supplier",
                "agent_ref": f"agent-{agent + 1:02d}",
                "team": f"team-{agent // 10 + 1}",
                "call_at": moment.isoformat(),
                "form": FORM_REF,
                "answers": random_answers(rng, form, skills[agent]),
                "evaluator_ref": f"qa-{rng.randrange(1, 9)}",
                "comment": rng.choice(COMMENTS),
            }
        )
    return records


def encode(records: Sequence[dict[str, Any]], batch: int) -> list[Batch]:
    """Encode the records into request bodies of `batch` evaluations each."""
    chunks = [records[start : start + batch] for start in range(0, len(records), batch)]
    return [Batch(json.dumps({"evaluations": chunk}).encode(), len(chunk)) for chunk in chunks]


def stored_row(
    record: dict[str, Any], form: rules.Form, world: World, created_at: datetime
) -> tuple[Any, ...]:
    """Return the values the service stores for a record, in EVALUATION_COLUMNS order."""
    score = rules.score_evaluation(form, record["answers"])
    call_at = datetime.fromisoformat(record["call_at"]).astimezone(UTC)
    content = {
        "agent_ref": record["agent_ref"],
        "team": record["team"],
        "call_at": call_at.isoformat(),
        "form": record["form"],
        "answers": record["answers"],
        "evaluator_ref": record["evaluator_ref"],
        "comment": record["comment"],
    }
    digest = hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    categories = set(score.critical_errors)
    sections = {
        key: None if value is None else f"{value:.2f}"
        for key, value in score.section_scores.items()
    }
    return (
        record["contract_id"],
        record["call_ref"],
        record["source"],
        record["agent_ref"],
        record["team"],
        call_at,
        world.form_id,
        json.dumps(record["answers"]),
        record["evaluator_ref"],
        record["comment"],
        None if score.score is None else int(score.score * 100),
        score.passed,
        "customer" in categories,
        "business" in categories,
        "compliance" in categories,
        json.dumps(sections),
        digest,
        created_at,
        world.supplier_user_id,
    )


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
        for position in (7, 15):  # the JSON documents, compared as documents
            expected[position] = json.loads(expected[position])
        if list(values) != expected:
            raise BenchError(f"stored row differs from the pre-computed one: {values}")


def time_copy(url: str, rows: Sequence[tuple[Any, ...]]) -> float:
    """COPY the rows into the evaluations table in one transaction; return the seconds."""
    statement = f"COPY evaluations ({', '.join(EVALUATION_COLUMNS)}) FROM STDIN"
    with psycopg.connect(url) as connection:
        start = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        elapsed = time.perf_counter() - start
        total = connection.execute("SELECT count(*) FROM evaluations").fetchone()
    if total is None or total[0] != len(rows):
        raise BenchError(f"COPY stored {total} rows, expected {len(rows)}")
    return elapsed


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


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--count", type=int, default=200_000, help="evaluations to submit")
    parser.add_argument("--batch", type=int, default=1000, help="evaluations per request")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER),
        help="PostgreSQL server URL to create the scratch database on "
        "(default: $BENCH_DATABASE_URL or %(default)s)",
    )
    parser.add_argument("--profile-batches", type=int, default=5, help="batches profiled")
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=0,
        metavar="SECONDS",
        help="ANALYZE evaluations this often during the HTTP run (0: never, the default)",
    )
    parser.add_argument("--skip-profile", action="store_true", help="skip the cProfile run")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated data")
    args = parser.parse_args(argv)
    if args.count < 1 or not 1 <= args.batch <= 1000:
        parser.error("--count must be positive and --batch within 1..1000")
    if args.workers < 1 or args.concurrency < 1 or args.profile_batches < 1:
        parser.error("--workers, --concurrency and --profile-batches must be positive")
    return args


def run(args: argparse.Namespace, url: str) -> None:
    """Set up, ingest over HTTP, COPY the same rows, profile, and print the summary."""
    started = time.perf_counter()
    world = set_up(url)
    form = rules.parse_form(load_example(STANDARD_FORM))
    rng = random.Random(args.seed)
    records = make_records(rng, form, world.contract_id, args.count, "call")
    batches = encode(records, args.batch)
    created_at = datetime.now(UTC)
    rows = [stored_row(record, form, world, created_at) for record in records]
    if not autovacuum_on(url) and args.analyze_every <= 0:
        print(
            "note: autovacuum is off on this server, so evaluations gets no planner statistics "
            "while it grows; --analyze-every 10 stands in for it"
        )
    megabytes = sum(len(batch.body) for batch in batches) / 1e6
    print(
        f"setup: database {make_url(url).database}, {len(batches)} bodies ({megabytes:.0f} MB) "
        f"and {len(rows)} COPY rows ready in {time.perf_counter() - started:.1f} s"
    )

    # The in-process app is built now, from the same code gunicorn is about to load.
    app = None if args.skip_profile else create_app(world.url)
    with tempfile.TemporaryDirectory(prefix="fiducia-bench-") as scratch:
        log = Path(scratch) / "gunicorn.log"
        with serving(url, args.workers, log) as base:
            print(f"serving: {base} with {args.workers} workers; posting...", flush=True)
            with analyzing(url, args.analyze_every):
                api_seconds = post_all(base, world.token, batches, args.concurrency)
    analyze = f", ANALYZE every {args.analyze_every:g} s" if args.analyze_every > 0 else ""
    api_line = (
        f"ingest: {args.count} evaluations in {api_seconds:.1f} s over HTTP = "
        f"{args.count / api_seconds:.0f}/s (gunicorn {args.workers} workers, "
        f"{args.concurrency} clients, batches of {args.batch}{analyze})"
    )
    print(api_line, flush=True)
    check_stored(url, rows, rng)
    print("check: row count and 200 sampled rows match the pre-computed COPY rows")

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("TRUNCATE evaluations RESTART IDENTITY")
    copy_seconds = time_copy(url, rows)
    copy_line = (
        f"COPY:   {args.count} rows in {copy_seconds:.1f} s = {args.count / copy_seconds:.0f}/s"
    )
    print(copy_line, flush=True)

    if app is not None:
        extra = make_records(
            rng, form, world.contract_id, (args.profile_batches + 1) * args.batch, "profile"
        )
        total, phases = profile(app, world.token, encode(extra, args.batch))
        print(
            f"\nprofile: {args.profile_batches} batches of {args.batch} in process "
            f"(test client, cProfile, {len(rows)} rows already stored), {total:.2f} s in Flask"
        )
        for label, seconds in phases:
            if seconds >= 0.0005:
                print(f"  {label:<31} {seconds:7.3f} s  {100 * seconds / total:5.1f}%")

    print(f"\n{api_line}\n{copy_line}\nratio:  API / COPY = {copy_seconds / api_seconds:.3f}")


def create_app(url: str) -> Flask:
    """Build the service's Flask app on a database, quiet below warnings."""
    from service import create_app as create

    return create({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})


def _terminate(signum: int, _frame: object) -> NoReturn:
    """Turn SIGTERM into SystemExit so that gunicorn is stopped and the database dropped."""
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on a scratch database that is dropped whatever happens."""
    args = parse_arguments(argv)
    signal.signal(signal.SIGTERM, _terminate)
    name, url = create_database(args.server, "fiducia_bench")
    try:
        run(args, url)
    except BenchError as error:
        print(f"bench.ingest: {error}", file=sys.stderr)
        return 1
    finally:
        drop_database(args.server, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
