"""Statements benchmark: the monthly close of every contract beside a bare SQL GROUP BY.

    python -m bench.statements [--scale 1m|10m] [--vacuum] [--profile] [--check]

Loads 1M evaluations over 50 contracts (10M over 500 with --scale 10m) and 12 months, runs
`ANALYZE`, then times the close of the last month (every contract's draft statement) in
turns with a bare GROUP BY of the same figures. Prints each target beside its figure with
`met` or `missed`, the SQL one close sends, EXPLAIN (ANALYZE, BUFFERS) of its heavy
statements with the partitions they scan, and appends the figures to
bench/results/statements.csv.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import record
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

CHECK = {"evaluations": 600, "contracts": 3, "months": 2, "runs": 1}


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.statements",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scale", choices=sorted(report.SCALES), default="1m", help="data size and its targets"
    )
    parser.add_argument("--evaluations", type=int, help="evaluations stored (default: the scale's)")
    parser.add_argument("--contracts", type=int, help="contracts, one per supplier (the scale's)")
    parser.add_argument("--months", type=int, help="closed months of data (the scale's)")
    add_server_option(parser)
    parser.add_argument("--period", help="the month to close, YYYY-MM (default: the data's last)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database for reruns and print its URL"
    )
    parser.add_argument(
        "--database", metavar="URL", help="reuse a kept database: no generation, never dropped"
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each side")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated data")
    parser.add_argument(
        "--vacuum",
        action="store_true",
        help="VACUUM (ANALYZE) after loading, as autovacuum would have long after the month, "
        "instead of ANALYZE alone",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print the top cProfile entries of one close"
    )
    parser.add_argument("--profile-top", type=int, default=30, help="cProfile entries printed")
    parser.add_argument(
        "--check",
        action="store_true",
        help="a smoke run: a few hundred evaluations, one run, no waiting for other benchmarks",
    )
    parser.add_argument(
        "--results", type=Path, default=record.RESULTS, help="where the CSV goes (%(default)s)"
    )
    args = parser.parse_args(argv)
    scale = report.SCALES[args.scale]
    sizes = CHECK if args.check else {}
    for name in ("evaluations", "contracts", "months"):
        if getattr(args, name) is None:
            setattr(args, name, sizes.get(name, getattr(scale, name)))
    args.runs = CHECK["runs"] if args.check else args.runs
    if min(args.evaluations, args.contracts, args.months, args.runs) < 1:
        parser.error("--evaluations, --contracts, --months and --runs must be positive")
    if args.period is not None:
        try:
            Period.parse(args.period)
        except ValueError as error:
            parser.error(str(error))
    return args


def run(args: argparse.Namespace, url: str, fresh: bool) -> None:
    """Generate the data (when fresh), measure, and print and save what was found."""
    if fresh:
        today = datetime.now(ZoneInfo(load_example(QUALITY_TERMS)["timezone"])).date()
        months = closed_months(today, args.months)
        print(report.generating(args.evaluations, args.contracts, months, url), flush=True)
        built = build_apart(url, args.evaluations, args.contracts, months, args.seed, args.vacuum)
        print(report.generated(built), flush=True)
    found = measure(url, args.period, args.runs, wait=not args.check)
    print(report.measured(found))
    print("\n".join(report.sql(found) + report.plans(found)))
    if args.profile:
        print("\n".join(profile(url, found.month, args.profile_top)))
    # The targets of the scale the database holds (a kept one too), else those asked for.
    label = report.scale_of(found.month, args.check)
    scale = report.SCALES.get(label, report.SCALES[args.scale])
    saved = args.results / "statements.csv"
    figures, notes = report.figures(found, scale, saved)
    if label not in report.SCALES and not args.check:
        notes.append(f"note: the data is not of the {scale.name} scale; its targets are shown")
    for note in report.notes(found, args.check) + notes:
        print(note)
    print("\n" + "\n".join(record.table(figures)))
    path = record.save("statements", label, figures, args.results)
    print(f"saved: {path}")


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
