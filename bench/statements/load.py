"""Loading the statements benchmark's database: the parties (service.demo.seed), then COPY.

The scorecards benchmark loads its database here too.
"""

from __future__ import annotations

import multiprocessing
import random
import re
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.orm import sessionmaker

from bench.common import EVALUATION_COLUMNS, BenchError
from bench.statements.generate import (
    REVISION_COLUMNS,
    World,
    answer_pool,
    cell_counts,
    month_rows,
    volume_rows,
)
from contracts import forms as form_rules
from contracts.examples import QUALITY_TERMS, STANDARD_FORM, load_example
from contracts.periods import Period
from service.database.engine import make_engine


@dataclass(frozen=True, slots=True)
class Built:
    """What the generation stored and how long each step took."""

    world: World
    evaluations: int
    volume_days: int
    partitions: tuple[str, ...]  # made for the months (evaluations partitioned), or none
    setup_seconds: float
    generate_seconds: float
    copy_seconds: float
    analyze_seconds: float
    vacuumed: bool  # VACUUM (ANALYZE) rather than ANALYZE alone


def set_up(url: str, contracts: int, first_day: date) -> World:
    """Migrate, then create the client, suppliers, form and contracts in one session."""
    from service.database.migrate import upgrade
    from service.demo import seed

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


PARTITION_KEY = re.compile(r"RANGE \((\w+)\)")


def month_partitions(
    connection: psycopg.Connection, table: str, months: Sequence[Period]
) -> list[str]:
    """Make a partition for each month that none covers yet, when `table` is partitioned.

    The migration partitions by month (FIDUCIA_PARTITION=1) and the close makes partitions
    ahead of time; the generated months lie in the past, so they are made here. The key is
    read from the catalog: RANGE on `period` ('YYYY-MM') or on `call_at` (UTC months).
    """
    key = connection.execute("SELECT pg_get_partkeydef(%s::regclass)", [table]).fetchone()
    if key is None or key[0] is None:
        return []
    found = PARTITION_KEY.fullmatch(key[0])
    if found is None or found.group(1) not in ("period", "call_at"):
        raise BenchError(f"{table} is partitioned by {key[0]}; the loader knows RANGE on "
                         "period or call_at")  # fmt: skip
    column, made = found.group(1), []
    for period in months:
        low, high = (
            (str(period), str(period.next()))
            if column == "period"
            else (period.bounds("UTC")[0].isoformat(), period.next().bounds("UTC")[0].isoformat())
        )
        name = f"{table}_{period.year:04d}_{period.month:02d}"
        try:
            with connection.transaction():
                connection.execute(
                    f'CREATE TABLE "{name}" PARTITION OF {table} '
                    f"FOR VALUES FROM ('{low}') TO ('{high}')"
                )
            made.append(name)
        except (psycopg.errors.DuplicateTable, psycopg.errors.InvalidObjectDefinition):
            pass  # a partition covers the month already
    return made


def copy_evaluations(
    connection: psycopg.Connection, world: World, months: list[Period], evaluations: int, seed: int
) -> tuple[int, float, float]:
    """Generate each month's evaluations and COPY them; return the rows and both durations."""
    zone = ZoneInfo(load_example(QUALITY_TERMS)["timezone"])
    form = form_rules.parse_form(load_example(STANDARD_FORM))
    rng = random.Random(seed)
    contracts = len(world.contracts)
    counts = cell_counts(evaluations, contracts * len(months))
    statement = f"COPY evaluations ({', '.join(EVALUATION_COLUMNS + REVISION_COLUMNS)}) FROM STDIN"
    generate_seconds = copy_seconds = 0.0
    begun = time.perf_counter()
    pool = answer_pool(rng, form, 2000)
    generate_seconds += time.perf_counter() - begun
    for index, period in enumerate(months):
        begun = time.perf_counter()
        cells = counts[index * contracts : (index + 1) * contracts]
        # Stored two days before the month's end, a few revised a day later: all before the
        # close that the benchmark runs just after the month.
        created_at = period.bounds(zone.key)[1] - timedelta(days=2)
        rows = month_rows(rng, world, pool, period, cells, zone, created_at)
        copying = time.perf_counter()
        generate_seconds += copying - begun
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        copy_seconds += time.perf_counter() - copying
    return sum(counts), generate_seconds, copy_seconds


def copy_volumes(
    connection: psycopg.Connection, world: World, months: list[Period], seed: int
) -> int:
    """COPY a daily volume (and its change record) for every contract-day; return the days."""
    rng = random.Random(seed + 1)
    volumes = volume_rows(rng, world, months, dict(world.contracts))
    changed_at = months[-1].bounds("UTC")[1] - timedelta(days=2)
    with connection.cursor() as cursor:
        with cursor.copy(
            "COPY daily_volumes (contract_id, day, units, updated_at, updated_by) FROM STDIN"
        ) as copy:
            for contract_id, day, units, user_id in volumes:
                copy.write_row((contract_id, day, units, changed_at, user_id))
        with cursor.copy(
            "COPY volume_changes (contract_id, day, previous_units, units, changed_at, "
            "changed_by) FROM STDIN"
        ) as copy:
            for contract_id, day, units, user_id in volumes:
                copy.write_row((contract_id, day, None, units, changed_at, user_id))
    return len(volumes)


def build(
    url: str, evaluations: int, contracts: int, months: list[Period], seed: int, vacuum: bool
) -> Built:
    """Set up the parties, then COPY the evaluations and daily volumes; ANALYZE afterwards."""
    started = time.perf_counter()
    world = set_up(url, contracts, months[0].first_day)
    setup_seconds = time.perf_counter() - started
    with psycopg.connect(url) as connection:
        partitions = month_partitions(connection, "evaluations", months)
        stored, generate_seconds, copy_seconds = copy_evaluations(
            connection, world, months, evaluations, seed
        )
        begun = time.perf_counter()
        volume_days = copy_volumes(connection, world, months, seed)
        connection.commit()
        copy_seconds += time.perf_counter() - begun
    begun = time.perf_counter()
    # Planner statistics from ANALYZE, not from autovacuum (off on some servers, and late on
    # a table that has just grown). VACUUM only when asked: then the visibility map is set,
    # as autovacuum would have set it on a month long closed.
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)" if vacuum else "ANALYZE")
    analyze_seconds = time.perf_counter() - begun
    return Built(
        world=world,
        evaluations=stored,
        volume_days=volume_days,
        partitions=tuple(partitions),
        setup_seconds=setup_seconds,
        generate_seconds=generate_seconds,
        copy_seconds=copy_seconds,
        analyze_seconds=analyze_seconds,
        vacuumed=vacuum,
    )


def build_apart(
    url: str, evaluations: int, contracts: int, months: list[Period], seed: int, vacuum: bool
) -> Built:
    """Run `build` in a fresh process, so that its memory is not this process's peak."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as executor:
        future = executor.submit(build, url, evaluations, contracts, months, seed, vacuum)
        try:
            return future.result()
        except BaseException:  # interrupted: stop the generation rather than wait for it
            for child in multiprocessing.active_children():
                child.terminate()
            raise
