"""Ingest benchmark: evaluations over HTTP against a raw PostgreSQL COPY of the same rows.

    python -m bench.ingest [--count N] [--batch N] [--check]

Posts `--count` evaluations in batches to gunicorn from a few client threads, checks what
was stored, COPYs the same rows into the emptied table, then loads single
`POST /evaluations` from 8 wrk connections for `--single-seconds`. Prints each target
beside its figure with `met` or `missed` (the batch rate as a ratio of the COPY's, measured
in the same run; the single POST's p99), a profile of where a batch's server time goes, and
appends the figures to bench/results/ingest.csv. `--check` is a smoke run: a few hundred
evaluations, one second of wrk, no profile.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from bench import record
from bench.common import (
    BenchError,
    add_server_option,
    create_database,
    drop_database,
    terminate,
)
from bench.ingest import report
from bench.ingest.generate import encode, make_records, stored_row
from bench.ingest.load import set_up, time_copy
from bench.ingest.measure import (
    analyzing,
    autovacuum_on,
    check_stored,
    create_app,
    post_all,
    profile,
)
from bench.ingest.serve import serving
from bench.record import Figure, Target
from bench.scorecards.wrk import Latency, run_wrk
from contracts import forms as form_rules
from contracts.examples import STANDARD_FORM, load_example

CHECK = {"count": 300, "batch": 100, "workers": 1, "single_seconds": 1, "skip_profile": True}
SINGLE_CONNECTIONS = 8


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--count", type=int, default=200_000, help="evaluations to submit")
    parser.add_argument("--batch", type=int, default=1000, help="evaluations per request")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    add_server_option(parser)
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
    parser.add_argument(
        "--single-seconds", type=int, default=20, help="wrk's run of single POSTs, in seconds"
    )
    parser.add_argument(
        "--check", action="store_true", help="a smoke run: a few hundred evaluations, no profile"
    )
    parser.add_argument(
        "--results", type=Path, default=record.RESULTS, help="where the CSV goes (%(default)s)"
    )
    args = parser.parse_args(argv)
    if args.check:
        vars(args).update(CHECK)
    if args.count < 1 or not 1 <= args.batch <= 1000:
        parser.error("--count must be positive and --batch within 1..1000")
    if args.workers < 1 or args.concurrency < 1 or args.profile_batches < 1:
        parser.error("--workers, --concurrency and --profile-batches must be positive")
    return args


def run(args: argparse.Namespace, url: str) -> list[Figure]:
    """Set up, ingest over HTTP, COPY the same rows, time single POSTs, profile; report."""
    started = time.perf_counter()
    world = set_up(url)
    form = form_rules.parse_form(load_example(STANDARD_FORM))
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
        setting = report.Setting(
            args.count, args.batch, args.workers, args.concurrency, args.analyze_every
        )
        api_line = report.ingested(setting, api_seconds)
        print(api_line, flush=True)
        check_stored(url, rows, rng)
        print("check: row count and 200 sampled rows match the pre-computed COPY rows")

        with psycopg.connect(url, autocommit=True) as connection:
            # Revisions (and anything referring to them) go too: the table starts empty.
            connection.execute("TRUNCATE evaluations RESTART IDENTITY CASCADE")
        copy_seconds = time_copy(url, rows)
        copy_line = report.copied(args.count, copy_seconds)
        print(copy_line, flush=True)

        with serving(url, args.workers, log) as base:
            single = single_posts(base, world.token, records[0], args.single_seconds)
        print(
            f"single POST /evaluations: {single.requests} from {single.connections} wrk "
            f"connections in {single.seconds:.0f} s, p50 {single.p50:.1f} ms, "
            f"p99 {single.p99:.1f} ms",
            flush=True,
        )

    if app is not None:
        extra = make_records(
            rng, form, world.contract_id, (args.profile_batches + 1) * args.batch, "profile"
        )
        total, phases = profile(app, world.token, encode(extra, args.batch))
        lines = report.profiled(args.profile_batches, args.batch, len(rows), total, phases)
        print("\n".join(lines))

    print(report.summary(api_line, copy_line, api_seconds, copy_seconds))
    if args.check:
        print("note: --check: a few hundred evaluations; the figures mean nothing")
    api_rate, copy_rate = args.count / api_seconds, args.count / copy_seconds
    return [
        Figure("batches over HTTP", api_rate, "evaluations/s", None, 0),
        Figure("raw COPY into evaluations", copy_rate, "rows/s", None, 0),
        Figure("batches / raw COPY", api_rate / copy_rate, "x", Target(">=", 0.35)),
        Figure("single POST, 8 conn., p50", single.p50, "ms", None, 1),
        Figure("single POST, 8 conn., p99", single.p99, "ms", Target("<", 60), 1),
        Figure("single POST, 8 conn., requests/s", single.rate, "req/s", Target(">=", 250), 0),
        record.load_average(),
    ]


def single_posts(base: str, token: str, sample: dict[str, Any], seconds: int) -> Latency:
    """Load `POST /evaluations` with one evaluation per request, each of its own call."""
    body = json.dumps(sample | {"call_ref": "CALL_REF"})
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{base}/api/v1/evaluations"
    return run_wrk(url, headers, SINGLE_CONNECTIONS, seconds, body=body, expected=201)


def scale_label(args: argparse.Namespace) -> str:
    """Return the scale the CSV names: `check`, or the evaluations posted."""
    return "check" if args.check else f"{args.count}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on a scratch database that is dropped whatever happens."""
    args = parse_arguments(argv)
    signal.signal(signal.SIGTERM, terminate)
    name, url = create_database(args.server, "fiducia_bench")
    try:
        figures = run(args, url)
        print("\n" + "\n".join(record.table(figures)))
        print(f"saved: {record.save('ingest', scale_label(args), figures, args.results)}")
    except BenchError as error:
        print(f"bench.ingest: {error}", file=sys.stderr)
        return 1
    finally:
        drop_database(args.server, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
