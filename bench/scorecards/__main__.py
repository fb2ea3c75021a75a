"""Scorecards benchmark: the suppliers page and GET /api/v1/scorecards under wrk, on gunicorn.

    python -m bench.scorecards [--duration 30] [--check]

Loads 1M evaluations over 50 contracts and 12 months (bench.statements' generator), closes
the last month, serves the app with gunicorn (`fiducia serve`) and signs a client in. Each
endpoint is checked (every contract listed; n and pairs exact), then loaded with wrk from 1
and from 8 connections. Prints latency percentiles beside the targets (8 connections:
median < 50 ms, p95 < 150 ms; and while a writer posts a 100-evaluation batch every second,
median < 150 ms, p95 < 400 ms) with `met` or `missed`, and appends the figures to
bench/results/scorecards.csv.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import record
from bench.common import (
    BenchError,
    add_server_option,
    conninfo,
    create_database,
    drop_database,
    terminate,
)
from bench.ingest.serve import serving
from bench.scorecards import load, report
from bench.scorecards.measure import check, endpoints, sign_in, sql_per_request
from bench.scorecards.measure import load as put_load
from bench.scorecards.writer import writing
from bench.scorecards.wrk import wrk_path
from bench.statements.report import scale_of

CHECK = {"evaluations": 600, "contracts": 3, "months": 2}


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.scorecards",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--evaluations", type=int, default=1_000_000, help="evaluations stored")
    parser.add_argument("--contracts", type=int, default=50, help="contracts (one per supplier)")
    parser.add_argument("--months", type=int, default=12, help="closed months of data")
    add_server_option(parser)
    parser.add_argument("--period", help="the month shown, YYYY-MM (default: the data's last)")
    parser.add_argument(
        "--database", metavar="URL", help="reuse a database of bench.statements (--keep)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=max(2, 2 * (os.cpu_count() or 1)),
        help="gunicorn workers (default: the service's, 2 per core)",
    )
    parser.add_argument("--duration", type=int, default=30, help="seconds of each wrk run")
    parser.add_argument("--warm-up", type=int, default=5, help="seconds of unmeasured load first")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated data")
    parser.add_argument(
        "--check",
        action="store_true",
        help="a smoke run: a few hundred evaluations, 1 s of load from 8 connections, no waiting",
    )
    parser.add_argument(
        "--results", type=Path, default=record.RESULTS, help="where the CSV goes (%(default)s)"
    )
    args = parser.parse_args(argv)
    if args.check:
        vars(args).update(CHECK, duration=1, warm_up=0)
    if min(args.evaluations, args.contracts, args.months, args.workers, args.duration) < 1:
        parser.error("--evaluations, --contracts, --months, --workers, --duration: positive")
    return args


def run(args: argparse.Namespace, url: str, fresh: bool) -> None:
    """Load the data (when fresh), serve it, check the answers, load them, report."""
    wrk_path()  # before anything is generated: say now if wrk is missing
    if fresh:
        print(f"generating: {args.evaluations:,} evaluations, {args.contracts} contracts, "
              f"{args.months} months", flush=True)  # fmt: skip
        print(report.built(load.build(url, args.evaluations, args.contracts, args.months,
                                      args.seed)), flush=True)  # fmt: skip
    prepared = load.prepare(url, args.period)
    month, token = prepared.month, prepared.token
    levels = [report.TARGET_CONNECTIONS] if args.check else [1, report.TARGET_CONNECTIONS]
    with tempfile.TemporaryDirectory(prefix="fiducia-bench-") as scratch:
        with serving(url, args.workers, Path(scratch) / "gunicorn.log") as base:
            print(report.prepared(month, args.workers, base), flush=True)
            found = endpoints(month, token, sign_in(base, token))
            check(base, url, month, found)
            print("check: the page lists every contract; the API's n and pairs are exact")

            def writes() -> Any:
                return writing(base, prepared.admin_token, month.period, prepared.contract_ids)

            loaded = put_load(
                base, found, levels, args.duration, args.warm_up, not args.check, writes
            )
            check(base, url, month, found)
            print("check: after the writes, the answers are still exact")
    statements = sql_per_request(url, token, found)
    figures = report.figures(loaded, statements)
    for note in report.notes(loaded, args.check):
        print(note)
    print("\n" + "\n".join(record.table(figures)))
    scale = scale_of(month, args.check)
    print(f"saved: {record.save('scorecards', scale, figures, args.results)}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on a scratch database dropped whatever happens."""
    args = parse_arguments(argv)
    signal.signal(signal.SIGTERM, terminate)
    try:
        if args.database:
            run(args, conninfo(args.database), fresh=False)
            return 0
        name, url = create_database(args.server, "fiducia_bench_cards")
        try:
            run(args, url, fresh=True)
        finally:
            drop_database(args.server, name)
    except BenchError as error:
        print(f"bench.scorecards: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
