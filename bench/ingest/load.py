"""Loading the ingest benchmark's database: the parties through the demo's seed, and a raw COPY."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date
from typing import Any

import psycopg
from sqlalchemy.orm import sessionmaker

from bench.common import EVALUATION_COLUMNS, BenchError
from bench.ingest.generate import World
from bench.statements.generate import REVISION_COLUMNS


def set_up(
    url: str, terms: dict[str, Any] | None = None, effective_from: date = date(2026, 1, 1)
) -> World:
    """Migrate the database and create the parties, form and contract in one session.

    The contract is on the shipped quality terms, unless `terms` are given.
    """
    from service.database.engine import make_engine
    from service.database.migrate import upgrade
    from service.demo import seed

    upgrade(url)
    engine = make_engine(url)
    try:
        with sessionmaker(engine, expire_on_commit=False).begin() as session:
            client = seed.organization(session, "Bench Client", "client")
            supplier = seed.organization(session, "Bench Supplier", "supplier")
            client_qa = seed.member(session, client, role="client", email="client@bench.fiducia")
            supplier_qa = seed.member(
                session, supplier, role="supplier", email="supplier@bench.fiducia"
            )
            form = seed.standard_form(session, client_qa)
            contract = seed.contract(
                session,
                client_qa,
                supplier,
                name="Bench customer care",
                effective_from=effective_from,
                terms=terms,
            )
            world = World(url, supplier_qa.token, contract.id, form.id, supplier_qa.user.id)
    finally:
        engine.dispose()
    return world


def time_copy(url: str, rows: Sequence[tuple[Any, ...]]) -> float:
    """COPY the rows into the evaluations table in one transaction; return the seconds."""
    statement = f"COPY evaluations ({', '.join(EVALUATION_COLUMNS + REVISION_COLUMNS)}) FROM STDIN"
    with psycopg.connect(url) as connection:
        start = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        elapsed = time.perf_counter() - start
        total = connection.execute("SELECT count(*) FROM evaluations").fetchone()
    if total is None or total[0] != len(rows):
        raise BenchError(f"COPY stored {total} rows, expected {len(rows)}")
    return elapsed
