"""Call log benchmark: upload a month's CSV over HTTP, COPY the same file raw, draw samples.

    python -m bench.calls [--count 2000000] [--agents 400]

Reports rows/s of the upload beside the raw COPY (target: at least 0.5 of it), the draw's
time (target: under 10 s for 2M calls) and its peak memory (target: under 300 MB), says
`met` or `missed` for each, and saves the figures in bench/results/calls.csv.
"""

from __future__ import annotations

import argparse
import csv
import signal
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from bench.calls.generate import write_month
from bench.calls.measure import draw, raw_copy, upload
from bench.common import (
    ROOT,
    BenchError,
    add_server_option,
    create_database,
    drop_database,
    terminate,
)
from bench.ingest import load
from bench.ingest.serve import serving
from contracts.examples import SAMPLED_TERMS, load_example
from contracts.periods import Period

RESULTS = ROOT / "bench" / "results" / "calls.csv"


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.calls", description=__doc__)
    parser.add_argument("--count", type=int, default=2_000_000, help="calls in the month")
    parser.add_argument("--agents", type=int, default=400, help="agents taking them")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated calls")
    add_server_option(parser)
    args = parser.parse_args(argv)
    if args.count < 1 or args.agents < 1:
        parser.error("--count and --agents must be positive")
    return args


def set_up(url: str) -> tuple[int, str, Period]:
    """Migrate; make a client, a call center and a contract on the sampled terms.

    The log of last month stays open for a month (`log_closes_days: 31`), so the upload is
    taken whatever day the benchmark runs; the draw then runs as of the log's close.
    """
    period = Period.of(datetime.now(UTC).date()).previous()
    terms = load_example(SAMPLED_TERMS)
    terms["quality"]["sampling"]["log_closes_days"] = 31
    world = load.set_up(url, terms, date(period.year - 1, 1, 1))
    return world.contract_id, world.token, period


def verdict(met: bool) -> str:
    return "met" if met else "missed"


def run(args: argparse.Namespace, url: str) -> list[tuple[str, str, str, str]]:
    contract_id, token, period = set_up(url)
    with tempfile.TemporaryDirectory(prefix="fiducia-calls-") as scratch:
        path = Path(scratch) / "calls.csv"
        size = write_month(path, period, args.count, args.agents, args.seed)
        print(f"setup: {args.count:,} calls of {period} over {args.agents} agents, "
              f"{size / 1e6:.0f} MB of CSV", flush=True)  # fmt: skip
        log = Path(scratch) / "gunicorn.log"
        with serving(url, args.workers, log) as base:
            upload_seconds, answer = upload(base, token, contract_id, path)
        if answer.get("created") != args.count:
            raise BenchError(f"the upload created {answer.get('created')} calls")
        copy_seconds = raw_copy(url, path)
    drawn = draw(url, contract_id, str(period))
    uploaded, copied = args.count / upload_seconds, args.count / copy_seconds
    ratio = uploaded / copied
    seconds, rss = drawn["seconds"], drawn["rss_mb"]
    rows = [
        ("upload over HTTP, rows/s", f"{uploaded:,.0f}", "", ""),
        ("raw COPY into a bare table, rows/s", f"{copied:,.0f}", "", ""),
        ("upload / raw COPY", f"{ratio:.2f}", ">= 0.50", verdict(ratio >= 0.5)),
        ("draw of the samples, s", f"{seconds:.2f}", "< 10", verdict(seconds < 10)),
        ("draw peak RSS, MB", f"{rss:.0f}", "< 300", verdict(rss < 300)),
    ]
    print(f"drawn: {drawn['audit']:.0f} calls for audit, {drawn['self']:.0f} for "
          f"self-assessment, from {drawn['logged']:,.0f} logged")  # fmt: skip
    for name, value, target, said in rows:
        print(f"{name:38} {value:>12} {target:>8} {said}")
    return rows


def save(args: argparse.Namespace, rows: list[tuple[str, str, str, str]]) -> None:
    """Append this run's figures to bench/results/calls.csv (kept out of git)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    new = not RESULTS.exists()
    with RESULTS.open("a", newline="") as out:
        writer = csv.writer(out)
        if new:
            writer.writerow(["run_at", "count", "figure", "value", "target", "verdict"])
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        for row in rows:
            writer.writerow([stamp, args.count, *row])


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    signal.signal(signal.SIGTERM, terminate)
    name, url = create_database(args.server, "fiducia_bench_calls")
    try:
        save(args, run(args, url))
    except BenchError as error:
        print(f"bench.calls: {error}", file=sys.stderr)
        return 1
    finally:
        drop_database(args.server, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
