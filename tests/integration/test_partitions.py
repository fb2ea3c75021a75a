"""Evaluations and the call log partitioned by month (FIDUCIA_PARTITION=1, PostgreSQL): the
service works on them as it does on plain tables, keys as exact, months read one at a time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import text

from contracts.periods import Period
from service import create_app
from service.database.migrate import upgrade
from service.database.partitions import ensure_partitions, partitioned_tables
from service.demo import seed
from service.edge.actors import OPERATOR
from service.figures.service import aggregate_period
from tests.api.conftest import PERFECT
from tests.conftest import postgres_database

pytestmark = pytest.mark.postgresql


@pytest.fixture
def partitioned(monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """Return an app on a new database migrated with FIDUCIA_PARTITION=1."""
    databases = postgres_database(os.environ["TEST_DATABASE_URL"])
    url = next(databases)
    monkeypatch.setenv("FIDUCIA_PARTITION", "1")
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    yield app
    app.extensions["fiducia.engine"].dispose()
    next(databases, None)


def record(contract_id: int, call_at: str, **changes: object) -> dict[str, object]:
    return {
        "contract_id": contract_id,
        "call_ref": "call-1",
        "source": "client",
        "agent_ref": "agent-1",
        "team": None,
        "call_at": datetime.fromisoformat(call_at),
        "form": "standard@1",
        "answers": PERFECT,
        "evaluator_ref": None,
        "comment": None,
    } | changes


def test_keys_stay_exact_across_months_and_a_month_reads_one_partition(
    partitioned: Flask,
) -> None:
    from service.edge.errors import Conflict
    from service.evaluations.submission import submit_evaluations

    factory = partitioned.extensions["fiducia.sessionmaker"]
    with factory.begin() as session:
        assert partitioned_tables(session) == ["calls", "evaluations"]
        client_org = seed.organization(session, "client", "client")
        supplier = seed.organization(session, "supplier", "supplier")
        client = seed.member(session, client_org, role="client", email="c@example.test")
        seed.standard_form(session, client)
        contract = seed.contract(
            session, client, supplier, name="care", effective_from=date(2026, 8, 1)
        )
        contract_id = contract.id
        # A month with no partition of its own yet: its rows wait in the default one.
        ensure = [Period(2026, 8)]
        first = submit_evaluations(
            session=session,
            actor=OPERATOR,
            records={0: record(contract_id, "2026-08-14T10:00:00+02:00")},
        )
    assert first.created == 1
    with factory.begin() as session:
        again = submit_evaluations(
            session=session,
            actor=OPERATOR,
            records={0: record(contract_id, "2026-08-14T10:00:00+02:00")},
        )
    assert (again.created, again.unchanged) == (0, 1)
    # The same call and source with a time in another month: one key, so a 409, not a twin.
    with pytest.raises(Conflict), factory.begin() as session:
        submit_evaluations(
            session=session,
            actor=OPERATOR,
            records={0: record(contract_id, "2026-09-14T10:00:00+02:00")},
        )

    with factory.begin() as session:
        made = ensure_partitions(session, ensure)
        moved = session.scalar(text("SELECT count(*) FROM evaluations_2026_08"))
        left = session.scalar(text("SELECT count(*) FROM evaluations_default"))
    assert made == ["calls_2026_08", "evaluations_2026_08"] and (moved, left) == (1, 0)

    with factory() as session:
        from service.agreements.models import Contract

        contract = session.get_one(Contract, contract_id)
        figures = aggregate_period(session, contract, Period(2026, 8))
        plan = "\n".join(
            session.scalars(
                text("EXPLAIN SELECT count(*) FROM evaluations WHERE period = '2026-08'")
            )
        )
    assert figures.statistics.n == 1
    assert "evaluations_2026_08" in plan and "evaluations_2026_09" not in plan


def test_the_close_makes_the_running_month_and_two_ahead(partitioned: Flask) -> None:
    from service.jobs.service import run_close

    now = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)
    run = run_close(partitioned.extensions["fiducia.sessionmaker"], now)

    with partitioned.extensions["fiducia.sessionmaker"]() as session:
        names = set(
            session.scalars(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'evaluations'"
                )
            )
        )
    assert {"evaluations_2027_02", "evaluations_2027_03", "evaluations_2027_05"} <= names
    assert run.counts["partitions"] >= 8  # four months of two tables


def test_a_logged_call_waiting_in_the_default_partition_moves_into_its_month(
    partitioned: Flask,
) -> None:
    factory = partitioned.extensions["fiducia.sessionmaker"]
    with factory.begin() as session:
        client_org = seed.organization(session, "client", "client")
        supplier = seed.organization(session, "supplier", "supplier")
        client = seed.member(session, client_org, role="client", email="c@example.test")
        seed.standard_form(session, client)
        contract = seed.contract(
            session, client, supplier, name="care", effective_from=date(2026, 8, 1)
        )
        session.execute(
            text(
                "INSERT INTO calls (contract_id, call_ref, period, call_at, agent_ref, logged_at) "
                "VALUES (:contract, 'call-1', '2026-08', '2026-08-14 08:00+00', 'agent-1', "
                "'2026-08-14 09:00+00')"
            ),
            {"contract": contract.id},
        )
    with factory.begin() as session:
        made = ensure_partitions(session, [Period(2026, 8)])
    with factory() as session:
        moved = session.scalar(text("SELECT call_ref FROM calls_2026_08"))
        left = session.scalar(text("SELECT count(*) FROM calls_default"))
        refused = session.scalar(
            text(
                "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relname IN ('calls_2026_08', 'calls_default') "
                "AND t.tgname = 'logged_call_never_deleted' "
                "AND t.tgenabled = 'O'"
            )
        )
    assert (made, moved, left) == (["calls_2026_08", "evaluations_2026_08"], "call-1", 0)
    assert refused == 2  # the moved call is kept for good, and so is the next one waiting
