"""Loading the statements benchmark's database: the parties (service.seed), then COPY."""

from __future__ import annotations

import multiprocessing
import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.orm import sessionmaker

from bench.common import EVALUATION_COLUMNS
from bench.statements.generate import World, answer_pool, cell_counts, month_rows, volume_rows
from contracts import forms as rules
from contracts.examples import QUALITY_TERMS, STANDARD_FORM, load_example
from contracts.periods import Period
from service.db import make_engine


@dataclass(frozen=True, slots=True)
class Built:
    """What the generation stored and how long each step took."""

    evaluations: int
    volume_days: int
    setup_seconds: float
    generate_seconds: float
    copy_seconds: float
    analyze_seconds: float


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
