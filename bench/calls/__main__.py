"""Call log benchmark: upload a month's CSV over HTTP, COPY the same file raw, draw samples.

    python -m bench.calls [--count 2000000] [--agents 400]

Reports rows/s of the upload beside the raw COPY (target: at least 0.35 of it), the draw's
time (target: under 10 s for 2M calls) and its peak memory (target: under 300 MB), says
`met` or `missed` for each, and appends the figures to bench/results/calls.csv (the columns
of bench.record). `--check` is a smoke run: a few hundred calls, no waiting.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from bench import record
from bench.calls.generate import write_month
from bench.calls.measure import draw, raw_copy, upload
from bench.common import (
    BenchError,
    add_server_option,
    create_database,
    drop_database,
    other_bench_pids,
    other_benchmarks,
    terminate,
    wait_for_quiet,
)
from bench.ingest import load
from bench.ingest.serve import serving
from bench.record import Figure, Target
from contracts.examples import SAMPLED_TERMS, load_example
from contracts.periods import Period

OTHER_BENCHES = other_benchmarks("calls")  # measured alone: wait while one runs
CHECK = {"count": 300, "agents": 10, "workers": 1}


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.calls", description=__doc__)
    parser.add_argument("--count", type=int, default=2_000_000, help="calls in the month")
    parser.add_argument("--agents", type=int, default=400, help="agents taking them")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated calls")
    add_server_option(parser)
    parser.add_argument(
        "--check", action="store_true", help="a smoke run: a few hundred calls, no waiting"
    )
    parser.add_argument(
        "--results", type=Path, default=record.RESULTS, help="where the CSV goes (%(default)s)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (to look into it) and print its URL"
    )
    args = parser.parse_args(argv)
    if args.check:
        vars(args).update(CHECK)
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


def run(args: argparse.Namespace, url: str) -> list[Figure]:
    contract_id, token, period = set_up(url)
    with tempfile.TemporaryDirectory(prefix="fiducia-calls-") as scratch:
        path = Path(scratch) / "calls.csv"
        size = write_month(path, period, args.count, args.agents, args.seed)
        print(f"setup: {args.count:,} calls of {period} over {args.agents} agents, "
              f"{size / 1e6:.0f} MB of CSV", flush=True)  # fmt: skip
        log = Path(scratch) / "gunicorn.log"
        with serving(url, args.workers, log) as base:
            waited, busy = wait_for_quiet(OTHER_BENCHES) if not args.check else (0.0, False)
            upload_seconds, answer = upload(base, token, contract_id, path)
        if answer.get("created") != args.count:
            raise BenchError(f"the upload created {answer.get('created')} calls")
        copy_seconds = raw_copy(url, path)
    drawn = draw(url, contract_id, str(period))
    machine = record.load_average()
    busy = busy or bool(not args.check and other_bench_pids(OTHER_BENCHES))
    uploaded, copied = args.count / upload_seconds, args.count / copy_seconds
    print(f"drawn: {drawn['audit']:.0f} calls for audit, {drawn['self']:.0f} for "
          f"self-assessment, from {drawn['logged']:,.0f} logged")  # fmt: skip
    if waited:
        print(f"note: waited {waited:.0f} s for another benchmark to end")
    if busy:
        print("note: another benchmark ran during the measurement; timings are disturbed")
    if args.check:
        print("note: --check: a few hundred calls, no waiting; the figures mean nothing")
    return [
        Figure("upload over HTTP", uploaded, "rows/s", None, 0),
        Figure("raw COPY into a bare table", copied, "rows/s", None, 0),
        Figure("upload / raw COPY", uploaded / copied, "x", Target(">=", 0.35)),
        Figure("draw of the samples", drawn["seconds"], "s", Target("<", 10)),
        Figure("draw peak RSS", drawn["rss_mb"], "MB", Target("<", 300), 0),
        machine,
    ]


def scale_label(args: argparse.Namespace) -> str:
    """Return the scale the CSV names: `check`, or the calls in the month."""
    return "check" if args.check else f"{args.count}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    signal.signal(signal.SIGTERM, terminate)
    name, url = create_database(args.server, "fiducia_bench_calls")
    try:
        figures = run(args, url)
        print("\n" + "\n".join(record.table(figures)))
        print(f"saved: {record.save('calls', scale_label(args), figures, args.results)}")
    except BenchError as error:
        print(f"bench.calls: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept: {url}")
        else:
            drop_database(args.server, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
