"""Measuring a month's statements beside a bare GROUP BY: time, memory, a check, a profile."""

from __future__ import annotations

import cProfile
import os
import pstats
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bench.common import (
    ROOT,
    BenchError,
    other_bench_pids,
    peak_rss_mb,
    timed,
    wait_for_quiet,
)
from contracts.examples import QUALITY_TERMS, load_example
from contracts.periods import Period
from service.actors import OPERATOR
from service.agreements.models import Contract
from service.db import make_engine
from service.statements.service import refresh_draft

OTHER_BENCH = "bench.ingest"  # measured alone: wait while it runs
BARE_GROUP_BY = """
SELECT contract_id, count(*), sum(score_hundredths),
       sum(score_hundredths::bigint * score_hundredths), sum(passed::int),
       sum(critical_customer::int), sum(critical_business::int), sum(critical_compliance::int)
FROM evaluations
WHERE call_at >= :start AND call_at < :end
GROUP BY contract_id
"""


# Names for the SQL a statement run sends, by a marker in the statement's text (first match).
SQL_LABELS = (
    ("top_audit", "_pairs: supplier/audit pairs (scorecards)"),
    ("sum_squares", "_aggregate: one-pass sums (figures)"),
    ("FROM daily_volumes", "units_in (volumes)"),
    ("statements.period <", "prior_adjustments: earlier statements"),
    ("UPDATE statements", "flush: UPDATE statements"),
    ("INSERT INTO statements", "flush: INSERT INTO statements"),
    ("FROM statements", "refresh_draft: statement lookup"),
    ("FROM terms_versions", "lazy load of contract.terms_versions"),
    ("FROM contracts", "load the contracts"),
)


@dataclass(frozen=True, slots=True)
class Measured:
    """The timings and memory figures of the measurement."""

    period: Period
    contracts: int
    evaluations: int
    month_evaluations: int
    statement_runs: list[float]
    bare_runs: list[float]
    rss_before_mb: float
    rss_peak_mb: float
    traced_peak_mb: float
    waited_seconds: float
    still_busy: bool


def compute_month(factory: sessionmaker[Any], period: Period) -> int:
    """Refresh every contract's draft for the month in one session and one commit."""
    with factory() as session:
        contracts = list(session.scalars(select(Contract).order_by(Contract.id)))
        for contract in contracts:
            refresh_draft(session=session, actor=OPERATOR, contract_id=contract.id, period=period)
        session.commit()
    return len(contracts)


def bare_group_by(engine: Engine, period: Period) -> int:
    """Run the bare GROUP BY of the month's figures over UTC month bounds; return its rows."""
    start, end = period.bounds("UTC")
    with engine.connect() as connection:
        return len(connection.execute(text(BARE_GROUP_BY), {"start": start, "end": end}).all())


def describe(engine: Engine, period_text: str | None) -> tuple[int, int, Period]:
    """Return the number of evaluations and contracts, and the month to compute."""
    with engine.connect() as connection:
        evaluations = connection.execute(text("SELECT count(*) FROM evaluations")).scalar_one()
        contracts = connection.execute(text("SELECT count(*) FROM contracts")).scalar_one()
        latest = connection.execute(text("SELECT max(call_at) FROM evaluations")).scalar_one()
    if period_text is not None:
        return evaluations, contracts, Period.parse(period_text)
    if latest is None:
        raise BenchError("the database holds no evaluations; name the month with --period")
    zone = ZoneInfo(load_example(QUALITY_TERMS)["timezone"])
    return evaluations, contracts, Period.of(latest.astimezone(zone).date())


def check(engine: Engine, period: Period) -> int:
    """Check each draft counts the month's calls and pairs; return the month's evaluations."""
    start, end = period.bounds("UTC")
    with engine.connect() as connection:
        expected = {
            row[0]: (row[1], row[2], row[3])
            for row in connection.execute(
                text(
                    "SELECT contract_id, count(*) FILTER (WHERE source = 'supplier'), "
                    "count(*) FILTER (WHERE source = 'client'), count(*) FROM evaluations "
                    "WHERE call_at >= :start AND call_at < :end GROUP BY contract_id"
                ),
                {"start": start, "end": end},
            )
        }
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
    for contract_id, (calls, audits, _) in expected.items():
        if drafts.get(contract_id) != (calls, audits):
            raise BenchError(
                f"contract {contract_id}: the draft says (n, pairs) = {drafts.get(contract_id)}, "
                f"the month has {calls} calls and {audits} audits"
            )
    return sum(total for _, _, total in expected.values())


def bench_engine(url: str, custom_plans: bool) -> Engine:
    """Return an engine as the service makes it, optionally never using generic plans."""
    if not custom_plans:
        return make_engine(url)
    return make_engine(url, connect_args={"options": "-c plan_cache_mode=force_custom_plan"})


def measure(url: str, period_text: str | None, runs: int, custom_plans: bool) -> Measured:
    """Time the month's statements and the bare GROUP BY; take the memory figures."""
    engine = bench_engine(url, custom_plans)
    try:
        factory = sessionmaker(engine, expire_on_commit=False)
        evaluations, contracts, period = describe(engine, period_text)
        waited, still_busy = wait_for_quiet(OTHER_BENCH)
        rss_before = peak_rss_mb()
        compute_month(factory, period)  # warm-up: caches, compiled SQL, drafts created
        statement_runs = [timed(lambda: compute_month(factory, period)) for _ in range(runs)]
        rss_peak = peak_rss_mb()
        bare_group_by(engine, period)  # warm-up
        bare_runs = [timed(lambda: bare_group_by(engine, period)) for _ in range(runs)]
        tracemalloc.start()
        compute_month(factory, period)
        traced_peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        month_evaluations = check(engine, period)
        still_busy = still_busy or bool(other_bench_pids(OTHER_BENCH))
    finally:
        engine.dispose()
    return Measured(
        period=period,
        contracts=contracts,
        evaluations=evaluations,
        month_evaluations=month_evaluations,
        statement_runs=statement_runs,
        bare_runs=bare_runs,
        rss_before_mb=rss_before,
        rss_peak_mb=rss_peak,
        traced_peak_mb=traced_peak,
        waited_seconds=waited,
        still_busy=still_busy,
    )


def _short(filename: str) -> str:
    """Return a source path relative to the checkout or to site-packages."""
    path = filename.replace(os.sep, "/")
    for prefix in (str(ROOT) + "/", "site-packages/"):
        if prefix in path:
            return path.split(prefix, 1)[1]
    return path


def _sql_label(statement: str) -> str:
    """Name a SQL statement by what sends it."""
    for marker, label in SQL_LABELS:
        if marker in statement:
            return label
    return " ".join(statement.split())[:70]


def profile(url: str, period: Period, top: int, custom_plans: bool) -> None:
    """Print where one month's statements spend their time: SQL per query, then cProfile."""
    engine = bench_engine(url, custom_plans)
    spent: dict[str, list[float]] = {}

    def before(conn: Any, _cursor: Any, _statement: str, *_: Any) -> None:
        """Note when a statement is sent."""
        conn.info["bench.sent"] = time.perf_counter()

    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        """Add the statement's round trip to its label."""
        seconds = time.perf_counter() - conn.info.pop("bench.sent")
        entry = spent.setdefault(_sql_label(statement), [0, 0.0])
        entry[0] += 1
        entry[1] += seconds

    try:
        factory = sessionmaker(engine, expire_on_commit=False)
        compute_month(factory, period)
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        total = timed(lambda: compute_month(factory, period))
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        print(f"\nSQL of one run ({total:.3f} s in all; execute to result, per statement kind):")
        for label, (calls, seconds) in sorted(spent.items(), key=lambda item: -item[1][1]):
            share = 100 * seconds / total
            print(f"  {seconds:7.3f} s {share:5.1f}%  {int(calls):4d}x  {label}")
        sql = sum(seconds for _, seconds in spent.values())
        print(f"  {total - sql:7.3f} s {100 * (total - sql) / total:5.1f}%         outside SQL")
        profiler = cProfile.Profile()
        profiler.enable()
        compute_month(factory, period)
        profiler.disable()
    finally:
        engine.dispose()
    entries: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    ranked = sorted(entries.items(), key=lambda item: -item[1][3])[:top]
    print(f"\ncProfile of one run, top {top} by cumulative time:")
    print("   cum s   own s    calls  function")
    for (filename, line, function), (_, calls, own, cumulative, _) in ranked:
        print(f"  {cumulative:6.3f}  {own:6.3f}  {calls:7d}  {_short(filename)}:{line}({function})")
