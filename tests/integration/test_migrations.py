"""Migrations that move data, run on a database holding data of the revision before them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from service.database.engine import engine_url
from service.database.migrate import alembic_config, upgrade
from tests.conftest import postgres_database


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """Return the URL of a new empty database, on the server the suite runs on."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        yield from postgres_database(server)
    else:
        yield f"sqlite:///{tmp_path / 'before.db'}"


def test_form_shares_start_with_every_supplier_that_has_a_contract(empty_url: str) -> None:
    url = empty_url
    upgrade(url, "0005")
    engine = create_engine(engine_url(url))
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO organizations (id, name, kind, created_at) VALUES "
            "(1, 'client', 'client', '2026-01-01'), (2, 'napoli', 'supplier', '2026-01-01'), "
            "(3, 'torino', 'supplier', '2026-01-01'), (4, 'idle', 'supplier', '2026-01-01')"
        ))  # fmt: skip
        connection.execute(text(
            "INSERT INTO contracts (id, client_id, supplier_id, name, created_at) VALUES "
            "(1, 1, 2, 'inbound', '2026-01-01'), (2, 1, 2, 'outbound', '2026-01-01'), "
            "(3, 1, 3, 'inbound', '2026-01-01')"
        ))  # fmt: skip
    upgrade(url)
    with engine.connect() as connection:
        shares = connection.execute(text("SELECT owner_id, reader_id FROM form_shares")).all()
    assert sorted(shares) == [(1, 2), (1, 3)]
    command.downgrade(alembic_config(url), "0005")
    engine.dispose()


def test_carried_adjustments_start_from_the_lines_statements_already_carry(
    empty_url: str,
) -> None:
    url = empty_url
    upgrade(url, "0006")
    engine = create_engine(engine_url(url))
    as_json = "CAST(:lines AS jsonb)" if engine.dialect.name == "postgresql" else ":lines"
    lines = [
        {"code": "volume_fee", "description": "", "amount": "1000.00", "basis": {}},
        {"code": "prior_period_adjustment", "description": "", "amount": "-12.34",
         "basis": {"statement_id": 1, "period": "2026-08", "amount": "-12.34"}},
    ]  # fmt: skip
    parties = [
        "INSERT INTO organizations (id, name, kind, created_at) VALUES "
        "(1, 'client', 'client', '2026-01-01'), (2, 'napoli', 'supplier', '2026-01-01')",
        "INSERT INTO contracts (id, client_id, supplier_id, name, created_at) "
        "VALUES (1, 1, 2, 'inbound', '2026-01-01')",
        "INSERT INTO forms (id, organization_id, code, version, title, document, created_at) "
        "VALUES (1, 1, 'standard', 1, 'Standard', '{}', '2026-01-01')",
        "INSERT INTO terms_versions (id, contract_id, effective_from, form_id, document, "
        "created_at) VALUES (1, 1, '2026-01-01', 1, '{}', '2026-01-01')",
    ]
    statement = text(
        "INSERT INTO statements (id, contract_id, period, status, currency, terms_version_id, "
        "figures, lines, total_minor, volume_only_minor, computed_at) VALUES "
        f"(:id, 1, :period, 'final', 'EUR', 1, '{{}}', {as_json}, 0, 0, '2026-10-01')"
    )
    with engine.begin() as connection:
        for insert in parties:
            connection.execute(text(insert))
        connection.execute(statement, [
            {"id": 1, "period": "2026-08", "lines": json.dumps(lines[:1])},
            {"id": 2, "period": "2026-09", "lines": json.dumps(lines)},
        ])  # fmt: skip
    upgrade(url)
    with engine.connect() as connection:
        carried = connection.execute(text("SELECT * FROM carried_adjustments")).all()
    assert carried == [(2, 1, -1234)]
    engine.dispose()


def test_every_stored_evaluation_becomes_its_own_first_revision(empty_url: str) -> None:
    url = empty_url
    upgrade(url, "0007")
    engine = create_engine(engine_url(url))
    as_json = "CAST(:doc AS jsonb)" if engine.dialect.name == "postgresql" else ":doc"
    parties = [
        "INSERT INTO organizations (id, name, kind, created_at) VALUES "
        "(1, 'client', 'client', '2026-01-01'), (2, 'napoli', 'supplier', '2026-01-01')",
        "INSERT INTO contracts (id, client_id, supplier_id, name, created_at) "
        "VALUES (1, 1, 2, 'inbound', '2026-01-01')",
        "INSERT INTO forms (id, organization_id, code, version, title, document, created_at) "
        "VALUES (1, 1, 'standard', 1, 'Standard', '{}', '2026-01-01')",
    ]
    evaluation = text(
        "INSERT INTO evaluations (id, contract_id, call_ref, source, agent_ref, call_at, "
        "form_id, answers, score_hundredths, passed, critical_customer, critical_business, "
        "critical_compliance, section_scores, content_hash, created_at) VALUES "
        f"(:id, 1, :call, 'client', 'a-1', '2026-10-02', 1, {as_json}, :score, true, false, "
        f"false, true, {as_json}, 'h', :at)"
    )
    with engine.begin() as connection:
        for insert in parties:
            connection.execute(text(insert))
        connection.execute(evaluation, [
            {"id": 1, "call": "c-1", "doc": json.dumps({"tone": 3}), "score": 8750,
             "at": "2026-10-03 10:00:00"},
            {"id": 2, "call": "c-2", "doc": json.dumps({"tone": 5}), "score": None,
             "at": "2026-10-04 10:00:00"},
        ])  # fmt: skip
    upgrade(url)
    with engine.connect() as connection:
        revisions = connection.execute(text(
            "SELECT evaluation_id, revision, kind, score_hundredths, critical_compliance, "
            "retracted FROM evaluation_revisions ORDER BY evaluation_id"
        )).all()  # fmt: skip
        current = connection.execute(
            text("SELECT id, revision, retracted, revised_at = created_at FROM evaluations")
        ).all()
    assert [tuple(row) for row in revisions] == [
        (1, 1, "submission", 8750, True, False),
        (2, 1, "submission", None, True, False),
    ]
    assert sorted(tuple(row) for row in current) == [(1, 1, False, True), (2, 1, False, True)]
    command.downgrade(alembic_config(url), "0007")
    engine.dispose()


def test_every_existing_user_stays_active(empty_url: str) -> None:
    url = empty_url
    upgrade(url, "0008")
    engine = create_engine(engine_url(url))
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (id, name, email, role, created_at) "
            "VALUES (1, 'Ada', 'ada@example.test', 'admin', '2026-01-01')"
        ))  # fmt: skip
    upgrade(url)
    with engine.connect() as connection:
        active = connection.execute(text("SELECT active FROM users WHERE id = 1")).scalar_one()
    assert active is True or active == 1
    command.downgrade(alembic_config(url), "0008")
    engine.dispose()


def test_every_stored_evaluation_gets_the_month_of_its_call_in_its_terms_time_zone(
    empty_url: str,
) -> None:
    url = empty_url
    upgrade(url, "0010")
    engine = create_engine(engine_url(url))
    as_json = "CAST(:doc AS jsonb)" if engine.dialect.name == "postgresql" else ":doc"
    rome, tokyo = json.dumps({"timezone": "Europe/Rome"}), json.dumps({"timezone": "Asia/Tokyo"})
    parties = [
        "INSERT INTO organizations (id, name, kind, created_at) VALUES "
        "(1, 'client', 'client', '2026-01-01'), (2, 'napoli', 'supplier', '2026-01-01')",
        "INSERT INTO contracts (id, client_id, supplier_id, name, created_at) "
        "VALUES (1, 1, 2, 'rome', '2026-01-01'), (2, 1, 2, 'rome then tokyo', '2026-01-01')",
        "INSERT INTO forms (id, organization_id, code, version, title, document, created_at) "
        "VALUES (1, 1, 'standard', 1, 'Standard', '{}', '2026-01-01')",
    ]
    terms = text(
        "INSERT INTO terms_versions (id, contract_id, effective_from, form_id, document, "
        f"created_at) VALUES (:id, :contract, :start, 1, {as_json}, '2026-01-01')"
    )
    evaluation = text(
        "INSERT INTO evaluations (id, contract_id, call_ref, source, agent_ref, call_at, "
        "form_id, answers, score_hundredths, passed, critical_customer, critical_business, "
        "critical_compliance, section_scores, content_hash, created_at, revision, revised_at, "
        "retracted, settled_questions) VALUES (:id, :contract, :call, 'client', 'a-1', :at, 1, "
        "'{}', 9000, true, false, false, false, '{}', 'h', '2026-11-01', 1, '2026-11-01', "
        "false, '[]')"
    )
    with engine.begin() as connection:
        for insert in parties:
            connection.execute(text(insert))
        connection.execute(terms, [
            {"id": 1, "contract": 1, "start": "2026-01-01", "doc": rome},
            {"id": 2, "contract": 2, "start": "2026-01-01", "doc": rome},
            {"id": 3, "contract": 2, "start": "2026-11-01", "doc": tokyo},
        ])  # fmt: skip
        connection.execute(evaluation, [
            # 23:30 UTC on 31 October is half past midnight on 1 November in Rome.
            {"id": 1, "contract": 1, "call": "c-1", "at": "2026-10-31 23:30:00"},
            {"id": 2, "contract": 1, "call": "c-2", "at": "2026-10-31 22:30:00"},
            # From November the contract counts in Tokyo: 20:00 UTC on 30 November is
            # already 1 December there.
            {"id": 3, "contract": 2, "call": "c-3", "at": "2026-11-30 20:00:00"},
        ])  # fmt: skip
    upgrade(url)
    with engine.connect() as connection:
        periods = connection.execute(text("SELECT id, period FROM evaluations ORDER BY id")).all()
    assert [tuple(row) for row in periods] == [(1, "2026-11"), (2, "2026-10"), (3, "2026-12")]
    command.downgrade(alembic_config(url), "0010")
    engine.dispose()


def test_existing_organizations_speak_english_and_users_their_browsers_language(
    empty_url: str,
) -> None:
    url = empty_url
    upgrade(url, "0012")
    engine = create_engine(engine_url(url))
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO organizations (id, name, kind, created_at) "
            "VALUES (1, 'Demo Energia', 'client', '2026-01-01')"
        ))  # fmt: skip
        connection.execute(text(
            "INSERT INTO users (id, organization_id, name, email, role, created_at) "
            "VALUES (1, 1, 'Chiara', 'chiara@example.test', 'client', '2026-01-01')"
        ))  # fmt: skip
    upgrade(url)
    with engine.connect() as connection:
        organization = connection.execute(text("SELECT language FROM organizations")).scalar_one()
        user = connection.execute(text("SELECT language FROM users")).scalar_one()
    assert (organization, user) == ("en", None)
    command.downgrade(alembic_config(url), "0012")
    engine.dispose()
