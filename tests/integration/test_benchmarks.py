"""Smoke tests of the benchmarks (bench/), so that they cannot rot between full runs.

What needs no database runs in every pass: the generated rows against the schema, the
CSV and the met/missed table, wrk's output and the plans' partitions read. Each benchmark's
own `--check` run (a few hundred rows, one second of load at most) needs PostgreSQL: those
tests are marked `postgresql` and collected only where TEST_DATABASE_URL names a server.
Nothing here asserts a timing.
"""

from __future__ import annotations

import csv
import os
import random
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import text

from bench import record
from bench.common import EVALUATION_COLUMNS, BenchError, conninfo
from bench.record import Figure, Target
from bench.scorecards.wrk import parse
from bench.statements.explain import Partitions, Sent, explain, partitions, scans
from bench.statements.generate import (
    REVISION_COLUMNS,
    World,
    answer_pool,
    cell_counts,
    month_rows,
)
from bench.statements.load import month_partitions
from contracts import forms as form_rules
from contracts.examples import STANDARD_FORM, load_example
from contracts.periods import Period
from service.database.engine import make_engine
from service.evaluations.models import Evaluation

SERVER = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture(autouse=True)
def frozen_today() -> Iterator[None]:
    """Keep the real clock: the benchmarks' gunicorn is a process no test clock reaches."""
    yield


@pytest.fixture
def sigterm_kept() -> Iterator[None]:
    """Give back the SIGTERM handler a benchmark's main() installs."""
    before = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, before)


def saved(path: Path) -> dict[str, dict[str, str]]:
    """Read a benchmark's CSV: each figure's row, by the figure's name."""
    with path.open(newline="") as rows:
        return {row["figure"]: row for row in csv.DictReader(rows)}


def test_generated_rows_fill_every_required_column_of_evaluations() -> None:
    columns = (*EVALUATION_COLUMNS, *REVISION_COLUMNS)
    required = {
        column.name
        for column in Evaluation.__table__.columns
        if not column.nullable and not column.primary_key and column.server_default is None
    }
    assert required - set(columns) == set()
    rng = random.Random(1)
    form = form_rules.parse_form(load_example(STANDARD_FORM))
    world = World(form_id=1, client_user_id=2, contracts=((10, 3), (11, 4)))
    zone = ZoneInfo("Europe/Rome")
    period = Period(2026, 3)  # the month summer time starts
    made = datetime(2026, 3, 29, tzinfo=UTC)
    rows = month_rows(rng, world, answer_pool(rng, form, 20), period, [30, 31], zone, made)
    assert len(rows) == 61
    assert {len(row) for row in rows} == {len(columns)}
    named = [dict(zip(columns, row, strict=True)) for row in rows]
    assert {row["period"] for row in named} == {"2026-03"}
    assert all(Period.of(row["call_at"].astimezone(zone).date()) == period for row in named)
    assert sum(row["contract_id"] == 11 for row in named) == 31
    assert {row["revision"] for row in named if row["retracted"]} <= {2}
    assert cell_counts(10, 3) == [4, 3, 3]


def test_the_table_says_met_or_missed_and_the_csv_keeps_each_figure(tmp_path: Path) -> None:
    figures = [
        Figure("close / bare GROUP BY", 1.4, "x", Target("<=", 1.5)),
        Figure("median", 120.0, "ms", Target("<", 100), 0),
        Figure("SQL statements per close", 855, "", None, 0),
    ]
    lines = record.table(figures)
    assert lines[1].split()[-1] == "met"
    assert lines[2].split()[-1] == "missed"
    assert lines[3].rstrip().endswith("855")
    path = record.save("statements", "1m", figures, tmp_path)
    record.save("statements", "10m", figures[:1], tmp_path)
    with path.open(newline="") as written:
        rows = list(csv.DictReader(written))
    assert [row["scale"] for row in rows] == ["1m", "1m", "1m", "10m"]
    median = rows[1]
    assert (median["value"], median["unit"], median["target"]) == ("120.000", "ms", "< 100")
    assert median["verdict"] == "missed"
    when = f"{median['run_at']} on {median['commit']}"
    assert record.last_value(path, "1m", "median") == (120.0, when)
    assert record.last_value(path, "10m", "median") is None


def test_a_csv_of_other_columns_is_moved_aside(tmp_path: Path) -> None:
    (tmp_path / "calls.csv").write_text("run_at,count,figure,value,target,verdict\n")
    path = record.save("calls", "check", [Figure("draw peak RSS", 175, "MB")], tmp_path)
    assert path.read_text().startswith(",".join(record.COLUMNS))
    assert len(list(tmp_path.glob("calls.before-*.csv"))) == 1


WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:4000/scorecards?period=2026-11
  2 threads and 8 connections
  9 requests in 1.00s, 1.1MB read
Requests/sec:      8.98
fiducia-wrk {"requests": 9, "duration_us": 1002000, "not_200": %d, "connect": 0, "read": 0, \
"write": 0, "timeout": 0, "min_us": 81000, "p50_us": 90500, "p90_us": 180000, \
"p95_us": 190250, "p99_us": 199000, "max_us": 201000}
"""


def test_wrk_figures_are_read_in_milliseconds() -> None:
    latency = parse(WRK_OUTPUT % 0, 8)
    assert (latency.p50, latency.p95, latency.max) == (90.5, 190.25, 201.0)
    assert latency.rate == pytest.approx(9 / 1.002)


def test_a_wrk_run_with_an_answer_other_than_200_is_refused() -> None:
    with pytest.raises(BenchError, match="not_200': 1"):
        parse(WRK_OUTPUT % 1, 8)


def node(kind: str, relation: str | None, loops: int, *children: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"Node Type": kind, "Actual Loops": loops, "Plans": list(children)}
    if relation is not None:
        found["Relation Name"] = relation
    return found


def test_a_plan_names_the_partitions_it_read_and_those_never_executed() -> None:
    plan = node(
        "Aggregate",
        None,
        1,
        node(
            "Append",
            None,
            1,
            node("Seq Scan", "evaluations_2026_10", 0),
            node("Index Scan", "evaluations_2026_11", 1),
        ),
        node("Index Scan", "contracts", 3),
    )
    known = Partitions(
        parent={f"evaluations_2026_{month}": "evaluations" for month in ("10", "11", "12")},
        count={"evaluations": 3},
    )
    assert [scan.relation for scan in scans(plan)] == [
        "evaluations_2026_10",
        "evaluations_2026_11",
        "contracts",
    ]
    assert known.describe(scans(plan)) == (
        "contracts; evaluations: 1 of 3 partitions (evaluations_2026_11); "
        "never executed: evaluations_2026_10"
    )


postgresql = pytest.mark.postgresql


@postgresql
def test_a_month_of_a_partitioned_table_gets_a_partition_and_its_query_scans_only_it(
    database_url: str,
) -> None:
    months = [Period(2026, 10), Period(2026, 11)]
    with psycopg.connect(conninfo(database_url), autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE bench_probe (period varchar(7) NOT NULL, units int NOT NULL) "
            "PARTITION BY RANGE (period)"
        )
        try:
            assert month_partitions(connection, "bench_probe", months) == [
                "bench_probe_2026_10",
                "bench_probe_2026_11",
            ]
            assert month_partitions(connection, "bench_probe", months) == []
            connection.execute("INSERT INTO bench_probe VALUES ('2026-10', 1), ('2026-11', 2)")
            engine = make_engine(database_url)
            try:
                query = "SELECT sum(units) FROM bench_probe WHERE period = %(period)s"
                kind = Sent(query, {"period": "2026-11"}, 0.0, calls=1)
                explained = explain(engine, kind, partitions(engine).describe)
                with engine.connect() as probe:
                    assert probe.execute(text("SELECT count(*) FROM bench_probe")).scalar() == 2
            finally:
                engine.dispose()
        finally:
            connection.execute("DROP TABLE bench_probe")
    assert explained.scanned == "bench_probe: 1 of 2 partitions (bench_probe_2026_11)"
    assert any("Buffers" in line for line in explained.plan)


@postgresql
def test_the_statements_benchmark_runs_through_on_a_few_hundred_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sigterm_kept: None
) -> None:
    from bench.statements.__main__ import main

    assert main(["--check", "--server", SERVER, "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "check: every draft's n and pairs equal the month's counted calls and pairs" in out
    assert "== aggregate_month: every contract's pairs and sums, one read" in out
    assert "baseline plan: Index Only Scan using ix_evaluations_month" in out
    figures = saved(tmp_path / "statements.csv")
    assert figures["close / bare GROUP BY"]["verdict"] in ("met", "missed")
    assert figures["close / bare GROUP BY"]["target"] == "<= 2"
    assert {row["scale"] for row in figures.values()} == {"check"}
    assert float(figures["SQL statements per close"]["value"]) > 0


@postgresql
def test_the_scorecards_benchmark_runs_through_with_a_second_of_wrk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sigterm_kept: None
) -> None:
    from bench.scorecards.__main__ import main

    argv = ["--check", "--workers", "1", "--server", SERVER, "--results", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "check: the page lists every contract; the API's n and pairs are exact" in out
    figures = saved(tmp_path / "scorecards.csv")
    assert "check: after the writes, the answers are still exact" in out
    for endpoint in ("suppliers page", "GET /api/v1/scorecards"):
        assert figures[f"{endpoint}, 8 conn., p95"]["target"] == "< 150"
        assert figures[f"{endpoint}, 8 conn., p95"]["verdict"] in ("met", "missed")
        assert figures[f"{endpoint} under writes, 8 conn., p95"]["target"] == "< 400"
        assert float(figures[f"{endpoint}, 8 conn., requests/s"]["value"]) > 0
        assert float(figures[f"{endpoint}: SQL statements per request"]["value"]) > 0


@postgresql
def test_the_calls_benchmark_runs_through_on_a_few_hundred_calls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sigterm_kept: None
) -> None:
    from bench.calls.__main__ import main

    assert main(["--check", "--server", SERVER, "--results", str(tmp_path)]) == 0
    assert "drawn: " in capsys.readouterr().out
    figures = saved(tmp_path / "calls.csv")
    assert figures["upload / raw COPY"]["target"] == ">= 0.35"
    assert figures["draw peak RSS"]["verdict"] in ("met", "missed")


@postgresql
def test_the_ingest_benchmark_runs_through_on_a_few_hundred_evaluations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sigterm_kept: None
) -> None:
    from bench.ingest.__main__ import main

    assert main(["--check", "--server", SERVER, "--results", str(tmp_path)]) == 0
    assert "check: row count and 200 sampled rows match" in capsys.readouterr().out
    figures = saved(tmp_path / "ingest.csv")
    assert figures["batches / raw COPY"]["target"] == ">= 0.35"
    assert figures["single POST, 8 conn., p99"]["target"] == "< 60"
    assert figures["single POST, 8 conn., requests/s"]["target"] == ">= 250"
    assert float(figures["single POST, 8 conn., requests/s"]["value"]) > 0
