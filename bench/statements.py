"""Statements benchmark: a month's statements for every contract beside a bare SQL GROUP BY."""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import multiprocessing
import os
import pstats
import random
import resource
import signal
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

from bench.common import EVALUATION_COLUMNS, conninfo, create_database, drop_database
from contracts import forms as rules
from contracts.examples import QUALITY_TERMS, STANDARD_FORM, load_example
from contracts.periods import Period
from service.actors import OPERATOR
from service.agreements.models import Contract
from service.db import make_engine
from service.demo import flattered, random_answers
from service.statements.service import refresh_draft

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


AGENTS = 40  # per contract, ten to a team
FLATTERY = (0.0, 0.3, 0.6)  # share of failures a supplier's self-assessment turns into passes
AUDIT_EVERY = 3  # the client re-grades every third call
TARGET_SECONDS = 2.0
TARGET_RATIO = 3.0
OTHER_BENCH = "bench.ingest"
QUIET_POLL_SECONDS = 10.0
QUIET_LIMIT_SECONDS = 20 * 60.0
COMMENTS = (None, None, None, None, None, "caller asked for a callback")
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


class BenchError(Exception):
    """A benchmark step failed; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Graded:
    """One answer set as the service stores it: JSON answers, score, flags, section scores."""

    answers: str
    score: int | None
    passed: bool | None
    customer: bool
    business: bool
    compliance: bool
    sections: str


@dataclass(frozen=True, slots=True)
class World:
    """What the setup created: the ids the generated rows refer to."""

    form_id: int
    client_user_id: int
    contracts: tuple[tuple[int, int], ...]  # (contract id, its supplier user's id)


@dataclass(frozen=True, slots=True)
class Built:
    """What the generation stored and how long each step took."""

    evaluations: int
    volume_days: int
    setup_seconds: float
    generate_seconds: float
    copy_seconds: float
    analyze_seconds: float


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


def closed_months(today: date, count: int) -> list[Period]:
    """Return the `count` months ending with the last full month before `today`, oldest first."""
    months = [Period.of(today).previous()]
    while len(months) < count:
        months.append(months[-1].previous())
    return months[::-1]


def set_up(url: str, contracts: int, first_day: date) -> World:
    """Migrate, then create the client, suppliers, form and contracts in one session."""
    from service import seed
    from service.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    try:
        with sessionmaker(engine, expire_on_commit=False).begin() as session:
            seed.member(session, None, role="admin", email="admin@bench.fiducia")
            client = seed.organization(session, "Bench Client", "client")
            client_qa = seed.member(session, client, role="client", email="client@bench.fiducia")
            form = seed.standard_form(session, client_qa)
            made = []
            for number in range(1, contracts + 1):
                supplier = seed.organization(session, f"Bench Supplier {number:02d}", "supplier")
                supplier_qa = seed.member(
                    session, supplier, role="supplier", email=f"supplier{number:02d}@bench.fiducia"
                )
                contract = seed.contract(
                    session,
                    client_qa,
                    supplier,
                    name=f"Customer care {number:02d}",
                    effective_from=first_day,
                )
                made.append((contract.id, supplier_qa.user.id))
            world = World(form.id, client_qa.user.id, tuple(made))
    finally:
        engine.dispose()
    return world


def grade(form: rules.Form, answers: dict[str, Any]) -> Graded:
    """Score an answer set once, keeping what the service stores of it."""
    score = rules.score_evaluation(form, answers)
    categories = set(score.critical_errors)
    sections = {
        key: None if value is None else f"{value:.2f}"
        for key, value in score.section_scores.items()
    }
    return Graded(
        answers=json.dumps(answers),
        score=None if score.score is None else int(score.score * 100),
        passed=score.passed,
        customer="customer" in categories,
        business="business" in categories,
        compliance="compliance" in categories,
        sections=json.dumps(sections),
    )


def answer_pool(rng: random.Random, form: rules.Form, size: int) -> list[tuple[Graded, ...]]:
    """Return `size` calls graded truly and at each flattery level, skill rising with the index."""
    # A contract draws from its own window of the pool, so each has its own level of quality.
    pool = []
    for index in range(size):
        truth = random_answers(rng, form, 0.70 + 0.28 * index / max(1, size - 1))
        graded = grade(form, truth)
        pool.append(
            tuple(
                graded if level == 0 else grade(form, flattered(rng, form, truth, level))
                for level in FLATTERY
            )
        )
    return pool


def cell_counts(total: int, cells: int) -> list[int]:
    """Spread `total` over `cells` as evenly as integers allow."""
    base, extra = divmod(total, cells)
    return [base + (cell < extra) for cell in range(cells)]


def month_rows(
    rng: random.Random,
    world: World,
    pool: Sequence[tuple[Graded, ...]],
    period: Period,
    counts: Sequence[int],
    zone: ZoneInfo,
    created_at: datetime,
) -> list[tuple[Any, ...]]:
    """Return a month's evaluation rows for every contract, in the order the calls happened."""
    # Contract i gets counts[i] rows: a self-assessment per call and a client audit (same
    # call_ref) of every third call; calls fall between 08:00 and 20:00 local time.
    days = (period.end_day - period.first_day).days
    # Noon, as UTC, of each day; 08:00-20:00 stays clear of the 02:00-03:00 DST changes.
    noons = [
        datetime.combine(period.first_day + timedelta(days=day), clock(12), zone).astimezone(UTC)
        for day in range(days)
    ]
    window = len(pool) // 2
    rows: list[tuple[Any, ...]] = []
    for position, ((contract_id, supplier_user_id), count) in enumerate(
        zip(world.contracts, counts, strict=True)
    ):
        start = position * window // max(1, len(world.contracts) - 1)
        level = position % len(FLATTERY)
        made = call = 0
        while made < count:
            variants = pool[start + rng.randrange(window)]
            call_at = noons[rng.randrange(days)] + timedelta(
                seconds=rng.randrange(-4 * 3600, 8 * 3600)
            )
            agent = rng.randrange(AGENTS)
            call_ref = f"{period}-{contract_id}-{call:05d}"
            shared = (f"agent-{agent + 1:02d}", f"team-{agent // 10 + 1}", call_at)
            for source, graded, evaluator, user_id in (
                ("supplier", variants[level], f"qa-{agent % 4 + 1}", supplier_user_id),
                ("client", variants[0], "client-auditor", world.client_user_id),
            ):
                rows.append(
                    (
                        contract_id,
                        call_ref,
                        source,
                        *shared,
                        world.form_id,
                        graded.answers,
                        evaluator,
                        rng.choice(COMMENTS),
                        graded.score,
                        graded.passed,
                        graded.customer,
                        graded.business,
                        graded.compliance,
                        graded.sections,
                        hashlib.sha256(f"{call_ref}{source}".encode()).hexdigest(),
                        created_at,
                        user_id,
                    )
                )
                made += 1
                if made == count or call % AUDIT_EVERY != 0:
                    break
            call += 1
    rows.sort(key=lambda row: row[5])
    return rows


def volume_rows(
    rng: random.Random, world: World, months: Sequence[Period], user_ids: dict[int, int]
) -> list[tuple[int, date, int, int]]:
    """Return (contract_id, day, units, user id) for every contract-day of the months."""
    rows = []
    for contract_id, _ in world.contracts:
        day = months[0].first_day
        while day < months[-1].end_day:
            base = 2100 if day.weekday() < 5 else 700
            rows.append((contract_id, day, base + rng.randrange(-250, 250), user_ids[contract_id]))
            day += timedelta(days=1)
    return rows


def build(url: str, evaluations: int, contracts: int, months: list[Period], seed: int) -> Built:
    """Set up the parties, then COPY the evaluations and daily volumes; ANALYZE afterwards."""
    started = time.perf_counter()
    world = set_up(url, contracts, months[0].first_day)
    setup_seconds = time.perf_counter() - started
    zone = ZoneInfo(load_example(QUALITY_TERMS)["timezone"])
    form = rules.parse_form(load_example(STANDARD_FORM))
    rng = random.Random(seed)
    created_at = datetime.now(UTC)
    counts = cell_counts(evaluations, contracts * len(months))
    generate_seconds = copy_seconds = 0.0
    statement = f"COPY evaluations ({', '.join(EVALUATION_COLUMNS)}) FROM STDIN"
    with psycopg.connect(url) as connection:
        begun = time.perf_counter()
        pool = answer_pool(rng, form, 2000)
        generate_seconds += time.perf_counter() - begun
        for index, period in enumerate(months):
            begun = time.perf_counter()
            cells = counts[index * contracts : (index + 1) * contracts]
            rows = month_rows(rng, world, pool, period, cells, zone, created_at)
            copying = time.perf_counter()
            generate_seconds += copying - begun
            with connection.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
            copy_seconds += time.perf_counter() - copying
        begun = time.perf_counter()
        users = dict(world.contracts)
        volumes = volume_rows(rng, world, months, users)
        with connection.cursor() as cursor:
            with cursor.copy(
                "COPY daily_volumes (contract_id, day, units, updated_at, updated_by) FROM STDIN"
            ) as copy:
                for contract_id, day, units, user_id in volumes:
                    copy.write_row((contract_id, day, units, created_at, user_id))
            with cursor.copy(
                "COPY volume_changes (contract_id, day, previous_units, units, changed_at, "
                "changed_by) FROM STDIN"
            ) as copy:
                for contract_id, day, units, user_id in volumes:
                    copy.write_row((contract_id, day, None, units, created_at, user_id))
        connection.commit()
        copy_seconds += time.perf_counter() - begun
    begun = time.perf_counter()
    # VACUUM as well: autovacuum (off on some servers) would have set hint bits and the
    # visibility map long before a month is closed.
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
    analyze_seconds = time.perf_counter() - begun
    return Built(
        evaluations=sum(counts),
        volume_days=len(volumes),
        setup_seconds=setup_seconds,
        generate_seconds=generate_seconds,
        copy_seconds=copy_seconds,
        analyze_seconds=analyze_seconds,
    )


def build_apart(
    url: str, evaluations: int, contracts: int, months: list[Period], seed: int
) -> Built:
    """Run `build` in a fresh process, so that its memory is not this process's peak."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as executor:
        future = executor.submit(build, url, evaluations, contracts, months, seed)
        try:
            return future.result()
        except BaseException:  # interrupted: stop the generation rather than wait for it
            for child in multiprocessing.active_children():
                child.terminate()
            raise


def other_bench_pids() -> set[int]:
    """Return the ids of the processes running the other benchmark (not this one's shell)."""
    try:
        found = subprocess.run(
            ["pgrep", "-f", OTHER_BENCH], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return set()
    return {int(pid) for pid in found.stdout.split()} - {os.getpid(), os.getppid()}


def wait_for_quiet() -> tuple[float, bool]:
    """Wait until no other benchmark runs (poll every 10 s, up to 20 min); say if it still does."""
    started = time.monotonic()
    polls = 0
    while busy := other_bench_pids():
        waited = time.monotonic() - started
        if waited >= QUIET_LIMIT_SECONDS:
            print(f"warning: {OTHER_BENCH} still runs after {waited:.0f} s; measuring anyway")
            return waited, True
        if polls % 6 == 0:  # once a minute
            pids = ", ".join(str(pid) for pid in sorted(busy))
            print(f"waiting: {OTHER_BENCH} runs (pid {pids}), {waited:.0f} s so far", flush=True)
        polls += 1
        time.sleep(QUIET_POLL_SECONDS)
    return (time.monotonic() - started if polls else 0.0), False


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


def timed(action: Callable[[], object]) -> float:
    """Return the seconds an action takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def peak_rss_mb() -> float:
    """Return the peak resident set size of this process so far, in MB (Linux: ru_maxrss in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


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
        waited, still_busy = wait_for_quiet()
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
        still_busy = still_busy or bool(other_bench_pids())
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


def summary(measured: Measured) -> list[str]:
    """Return the summary block."""
    statements = statistics.median(measured.statement_runs)
    bare = statistics.median(measured.bare_runs)
    ratio = statements / bare
    met = statements < TARGET_SECONDS and ratio < TARGET_RATIO
    return [
        f"statements: {measured.contracts} contracts, {measured.period}, "
        f"{measured.evaluations} evaluations in all: median {statements:.2f} s "
        f"({len(measured.statement_runs)} runs)",
        f"bare GROUP BY of the same figures: median {bare:.2f} s",
        f"ratio: {ratio:.2f}x",
        f"peak memory: RSS {measured.rss_peak_mb:.0f} MB; Python allocations during the month "
        f"{measured.traced_peak_mb:.1f} MB",
        f"target (< {TARGET_SECONDS:g} s and < {TARGET_RATIO:g}x the bare GROUP BY): "
        + ("met" if met else "missed"),
    ]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.statements", description=__doc__)
    parser.add_argument("--evaluations", type=int, default=1_000_000, help="evaluations stored")
    parser.add_argument("--contracts", type=int, default=50, help="contracts (one per supplier)")
    parser.add_argument("--months", type=int, default=12, help="closed months of data")
    parser.add_argument(
        "--server",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER),
        help="PostgreSQL server URL to create the scratch database on "
        "(default: $BENCH_DATABASE_URL or %(default)s)",
    )
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
    """Generate the data (when fresh), measure, and print the summary block."""
    if fresh:
        today = datetime.now(ZoneInfo(load_example(QUALITY_TERMS)["timezone"])).date()
        months = closed_months(today, args.months)
        print(
            f"generating: {args.evaluations} evaluations over {args.contracts} contracts and "
            f"{months[0]}..{months[-1]} in {make_url(url).database}",
            flush=True,
        )
        built = build_apart(url, args.evaluations, args.contracts, months, args.seed)
        print(
            f"generated (not measured): setup {built.setup_seconds:.1f} s, rows "
            f"{built.generate_seconds:.1f} s, COPY of {built.evaluations} evaluations and "
            f"{built.volume_days} contract-days {built.copy_seconds:.1f} s, VACUUM ANALYZE "
            f"{built.analyze_seconds:.1f} s",
            flush=True,
        )
    measured = measure(url, args.period, args.runs, args.custom_plans)
    runs = ", ".join(f"{seconds:.3f}" for seconds in measured.statement_runs)
    bare = ", ".join(f"{seconds:.3f}" for seconds in measured.bare_runs)
    waited = f" after waiting {measured.waited_seconds:.0f} s" if measured.waited_seconds else ""
    print(
        f"measured{waited}: {measured.month_evaluations} evaluations in {measured.period}; "
        f"statements runs {runs} s; bare GROUP BY runs {bare} s; RSS peak before the first "
        f"statement run {measured.rss_before_mb:.0f} MB"
    )
    print("check: every draft's n and pairs equal the month's calls and audits")
    if args.profile:
        profile(url, measured.period, args.profile_top, args.custom_plans)
    if measured.still_busy:
        print(f"note: {OTHER_BENCH} ran during the measurement; the timings are disturbed")
    if args.custom_plans:
        print("note: --custom-plans: plan_cache_mode=force_custom_plan, not the shipped service")
    print("\n" + "\n".join(summary(measured)))


def _terminate(signum: int, _frame: object) -> NoReturn:
    """Turn SIGTERM into SystemExit so that the database is dropped."""
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on a scratch database dropped whatever happens (unless kept)."""
    args = parse_arguments(argv)
    signal.signal(signal.SIGTERM, _terminate)
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
