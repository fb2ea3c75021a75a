"""Statements benchmark: a month's statements for every contract beside a bare SQL GROUP BY."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bench.common import (
    BenchError,
    add_server_option,
    conninfo,
    create_database,
    drop_database,
    terminate,
)
from bench.statements import report
from bench.statements.generate import closed_months
from bench.statements.load import build_apart
from bench.statements.measure import measure, profile
from contracts.examples import QUALITY_TERMS, load_example
from contracts.periods import Period


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.statements", description=__doc__)
    parser.add_argument("--evaluations", type=int, default=1_000_000, help="evaluations stored")
    parser.add_argument("--contracts", type=int, default=50, help="contracts (one per supplier)")
    parser.add_argument("--months", type=int, default=12, help="closed months of data")
    add_server_option(parser)
    parser.add_argument(
        "--period", help="the month to compute, YYYY-MM (default: the last month of the data)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database for reruns and print its URL"
    )
    parser.add_argument(
        "--database", metavar="URL", help="reuse a kept database: no generation, never dropped"
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each side")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated data")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print SQL time per query and the top cProfile entries of one run",
    )
    parser.add_argument("--profile-top", type=int, default=30, help="cProfile entries printed")
    parser.add_argument(
        "--custom-plans",
        action="store_true",
        help="diagnosis, not the service as shipped: the connections set "
        "plan_cache_mode=force_custom_plan, so prepared statements never use a generic plan",
    )
    args = parser.parse_args(argv)
    if args.evaluations < 1 or args.contracts < 1 or args.months < 1 or args.runs < 1:
        parser.error("--evaluations, --contracts, --months and --runs must be positive")
    if args.period is not None:
        try:
            Period.parse(args.period)
        except ValueError as error:
            parser.error(str(error))
    return args


def run(args: argparse.Namespace, url: str, fresh: bool) -> None:
    """Generate the data (when fresh), measure, and print what was found."""
    if fresh:
        today = datetime.now(ZoneInfo(load_example(QUALITY_TERMS)["timezone"])).date()
        months = closed_months(today, args.months)
        print(report.generating(args.evaluations, args.contracts, months, url), flush=True)
        built = build_apart(url, args.evaluations, args.contracts, months, args.seed)
        print(report.generated(built), flush=True)
    measured = measure(url, args.period, args.runs, args.custom_plans)
    print(report.measured(measured))
    if args.profile:
        profile(url, measured.period, args.profile_top, args.custom_plans)
    for note in report.notes(measured, args.custom_plans):
        print(note)
    print("\n" + "\n".join(report.summary(measured)))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on a scratch database dropped whatever happens (unless kept)."""
    args = parse_arguments(argv)
    signal.signal(signal.SIGTERM, terminate)
    try:
        if args.database:
            run(args, conninfo(args.database), fresh=False)
            return 0
        name, url = create_database(args.server, "fiducia_bench_stmt")
        try:
            run(args, url, fresh=True)
        finally:
            if args.keep:
                print(f"kept: {url} (rerun with --database {url})")
            else:
                drop_database(args.server, name)
    except BenchError as error:
        print(f"bench.statements: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
