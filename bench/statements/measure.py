"""Measuring a month's statements beside a bare GROUP BY: time, memory, a check, the SQL."""

from __future__ import annotations

import cProfile
import itertools
import json
import os
import pstats
import tracemalloc
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bench.common import (
    ROOT,
    BenchError,
    other_bench_pids,
    other_benchmarks,
    peak_rss_mb,
    timed,
    wait_for_quiet,
)
from bench.record import Figure, load_average
from bench.statements.explain import Captured, Explained, capturing, explain_all
from contracts.examples import QUALITY_TERMS, load_example
from contracts.periods import Period
from service.database.engine import make_engine
from service.jobs.service import run_close

OTHER_BENCHES = other_benchmarks("statements")  # measured alone: wait while one runs
# The month's figures as bare SQL: what the database must read at least.
BARE_GROUP_BY = """
SELECT contract_id, count(*), sum(score_hundredths),
       sum(score_hundredths::bigint * score_hundredths), sum(passed::int),
       sum(critical_customer::int), sum(critical_business::int), sum(critical_compliance::int)
FROM evaluations
WHERE period = :period
GROUP BY contract_id
"""
# Per contract: its month's calls (one counted evaluation or more), the calls with an audit
# (all that count when too few self-scores are paired to verify them), and the pairs.
EXPECTED = """
SELECT contract_id, count(*) FILTER (WHERE own OR audit), count(*) FILTER (WHERE audit),
       count(*) FILTER (WHERE own AND audit)
FROM (
    SELECT contract_id, call_ref,
           bool_or(source = 'supplier' AND counted) AS own,
           bool_or(source <> 'supplier' AND counted) AS audit
    FROM (SELECT contract_id, call_ref, source,
                 NOT retracted AND score_hundredths IS NOT NULL AS counted
          FROM evaluations WHERE period = :period) AS month
    GROUP BY contract_id, call_ref
) AS calls
GROUP BY contract_id
"""
CLOSE_AFTER = timedelta(hours=1)  # the close runs this long after the month: drafts only


@dataclass(frozen=True, slots=True)
class Month:
    """The month the benchmark closes, and when: just after it ended, inside its dispute
    window, so the close drafts every statement and finalizes none."""

    period: Period
    now: datetime
    evaluations: int  # in the whole database
    contracts: int


@dataclass(frozen=True, slots=True)
class Measured:
    """The timings and memory figures of the measurement, and the SQL of one close run."""

    month: Month
    month_evaluations: int
    close_runs: list[float]
    bare_runs: list[float]
    rss_before_mb: float
    rss_peak_mb: float
    traced_peak_mb: float
    captured: Captured
    explained: list[Explained]
    baseline: str  # how the bare GROUP BY read the month
    waited_seconds: float
    still_busy: bool
    load: Figure  # the machine's load average as the timed runs ended


def close_month(factory: sessionmaker[Session], month: Month, tick: int) -> int:
    """Run the monthly close of the month for every contract, as `fiducia close` does.

    Each run is `tick` seconds later than the month's `now`, so each stamps its drafts anew.
    """
    run = run_close(factory, month.now + timedelta(seconds=tick), period=month.period)
    if run.outcome != "success":
        raise BenchError(f"the close of {month.period} failed: {run.counts} {run.error}")
    return int(run.counts.get("items", 0))


# The baseline reads the month as the close does, from the month index (an index-only scan
# once the table is vacuumed): a sequential scan would measure another way of reading.
ON_THE_INDEX = ("SET LOCAL enable_seqscan = off", "SET LOCAL enable_bitmapscan = off")


def bare_group_by(engine: Engine, period: Period) -> int:
    """Run the bare GROUP BY of the month's figures; return its rows."""
    with engine.begin() as connection:
        for setting in ON_THE_INDEX:
            connection.execute(text(setting))
        return len(connection.execute(text(BARE_GROUP_BY), {"period": str(period)}).all())


def baseline_plan(engine: Engine, period: Period) -> str:
    """Say how the bare GROUP BY reads the month: each scan node, its relation and index."""
    with engine.begin() as connection:
        for setting in ON_THE_INDEX:
            connection.execute(text(setting))
        document = connection.execute(
            text(f"EXPLAIN (FORMAT JSON) {BARE_GROUP_BY}"), {"period": str(period)}
        ).scalar_one()
    if isinstance(document, str):
        document = json.loads(document)
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if "Relation Name" in node or "Index Name" in node:
            index = f" using {node['Index Name']}" if "Index Name" in node else ""
            relation = f" on {node['Relation Name']}" if "Relation Name" in node else ""
            found.append(f"{node['Node Type']}{index}{relation}")
        for child in node.get("Plans", []):
            walk(child)

    walk(document[0]["Plan"])
    return "; ".join(found)


def describe(engine: Engine, period_text: str | None) -> Month:
    """Return the month to close (the data's last by default) and what the database holds."""
    with engine.connect() as connection:
        evaluations = connection.execute(text("SELECT count(*) FROM evaluations")).scalar_one()
        contracts = connection.execute(text("SELECT count(*) FROM contracts")).scalar_one()
        latest = connection.execute(text("SELECT max(period) FROM evaluations")).scalar_one()
    if period_text is None and latest is None:
        raise BenchError("the database holds no evaluations; name the month with --period")
    period = Period.parse(period_text or latest)
    _, end = period.bounds(load_example(QUALITY_TERMS)["timezone"])
    return Month(period, end + CLOSE_AFTER, evaluations, contracts)


def expected_counts(engine: Engine, period: Period) -> dict[int, tuple[int, int]]:
    """Return each contract's counted calls and supplier/audit pairs of the month, in SQL.

    With fewer pairs than the terms' `min_pairs` the self-scores are not verified and only
    the audited calls count (DESIGN 13).
    """
    needed = load_example(QUALITY_TERMS)["quality"]["self_assessment"]["min_pairs"]
    with engine.connect() as connection:
        rows = connection.execute(text(EXPECTED), {"period": str(period)})
        return {
            contract: (calls if pairs >= needed else audited, pairs)
            for contract, calls, audited, pairs in rows
        }


def check(engine: Engine, period: Period) -> int:
    """Check each draft counts the month's calls and pairs; return the month's evaluations."""
    expected = expected_counts(engine, period)
    with engine.connect() as connection:
        drafts = {
            row[0]: (row[1], row[2])
            for row in connection.execute(
                text(
                    "SELECT contract_id, (figures->>'n')::int, "
                    "(figures->'self_assessment'->>'pairs')::int FROM statements "
                    "WHERE period = :period"
                ),
                {"period": str(period)},
            )
        }
        total = connection.execute(
            text("SELECT count(*) FROM evaluations WHERE period = :period"),
            {"period": str(period)},
        ).scalar_one()
    for contract_id, counts in expected.items():
        if drafts.get(contract_id) != counts:
            raise BenchError(
                f"contract {contract_id}: the draft says (n, pairs) = {drafts.get(contract_id)}, "
                f"the month has {counts[0]} calls counted and {counts[1]} pairs"
            )
    return int(total)


def measure(url: str, period_text: str | None, runs: int, wait: bool) -> Measured:
    """Time the month's close and the bare GROUP BY, run by run; take memory and SQL."""
    engine = make_engine(url)
    try:
        factory = sessionmaker(engine, expire_on_commit=False)
        month = describe(engine, period_text)
        waited, still_busy = wait_for_quiet(OTHER_BENCHES) if wait else (0.0, False)
        ticks = itertools.count()
        rss_before = peak_rss_mb()
        close_month(factory, month, next(ticks))  # warm-up: caches, compiled SQL, drafts made
        bare_group_by(engine, month.period)
        close_runs, bare_runs = [], []
        for _ in range(runs):  # in turns, so a disturbance hits both sides alike
            close_runs.append(timed(lambda: close_month(factory, month, next(ticks))))
            bare_runs.append(timed(lambda: bare_group_by(engine, month.period)))
        rss_peak, load = peak_rss_mb(), load_average()
        tracemalloc.start()
        close_month(factory, month, next(ticks))
        traced_peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        still_busy = still_busy or bool(wait and other_bench_pids(OTHER_BENCHES))
        with capturing(engine) as captured:
            close_month(factory, month, next(ticks))
        month_evaluations = check(engine, month.period)
        explained = explain_all(engine, captured.heavy())
        baseline = baseline_plan(engine, month.period)
    finally:
        engine.dispose()
    return Measured(
        month=month,
        month_evaluations=month_evaluations,
        close_runs=close_runs,
        bare_runs=bare_runs,
        rss_before_mb=rss_before,
        rss_peak_mb=rss_peak,
        traced_peak_mb=traced_peak,
        captured=captured,
        explained=explained,
        baseline=baseline,
        waited_seconds=waited,
        still_busy=still_busy,
        load=load,
    )


def _short(filename: str) -> str:
    """Return a source path relative to the checkout or to site-packages."""
    path = filename.replace(os.sep, "/")
    for prefix in (str(ROOT) + "/", "site-packages/"):
        if prefix in path:
            return path.split(prefix, 1)[1]
    return path


def profile(url: str, month: Month, top: int) -> list[str]:
    """Return the top cProfile entries (by cumulative time) of one close run of the month."""
    engine = make_engine(url)
    try:
        factory = sessionmaker(engine, expire_on_commit=False)
        close_month(factory, month, 1000)
        profiler = cProfile.Profile()
        profiler.enable()
        close_month(factory, month, 1001)
        profiler.disable()
    finally:
        engine.dispose()
    entries: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    ranked = sorted(entries.items(), key=lambda item: -item[1][3])[:top]
    lines = [f"\ncProfile of one close run, top {top} by cumulative time:"]
    lines.append("   cum s   own s    calls  function")
    for (filename, line, function), (_, calls, own, cumulative, _) in ranked:
        lines.append(
            f"  {cumulative:6.3f}  {own:6.3f}  {calls:7d}  {_short(filename)}:{line}({function})"
        )
    return lines
