"""The SQL a close run sends, and EXPLAIN (ANALYZE, BUFFERS) of its heavy statements.

The statements are caught as the service sends them (SQLAlchemy's cursor events) and each
heavy one is explained again on the same database with the same parameters: a custom plan,
as the first executions of a statement get. From the JSON plan, the report names the tables
and partitions each one actually scanned.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

# Names for the SQL a close run sends, by a marker in the statement's text (first match).
# A statement no marker names is shown by its first words.
SQL_LABELS = (
    ("sum(passed::int)", "bare GROUP BY (the reference)"),
    ("per_call", "aggregate_month: every contract's pairs and sums, one read"),
    ("sum_squares", "aggregate_month: lowered self-scores summed again"),
    ("AS count_1 \nFROM evaluations", "dispute_figures: audits"),
    ("FROM daily_volumes", "aggregate_month: declared units"),
    ("FROM disputes", "dispute_figures: disputes"),
    ("pg_try_advisory_xact_lock", "close: advisory lock"),
    ("job_runs", "close: job run"),
    ("total_minor -", "prior_adjustments: final statements before"),
    ("FROM carried_adjustments", "lazy load of statement.carried"),
    ("UPDATE statements", "flush: UPDATE statements"),
    ("INSERT INTO statements", "flush: INSERT INTO statements"),
    ("WHERE statements.status =", "due_items: final statements"),
    ("FROM statements", "refresh_draft: the statement, FOR UPDATE"),
    ("FROM terms_versions", "lazy load of contract.terms_versions"),
    ("ORDER BY contracts.id FOR UPDATE", "lock_contracts: contracts FOR UPDATE"),
    ("FROM contracts", "load a contract (or all)"),
)
HEAVY_SHARE = 0.05  # besides every statement reading evaluations: one with 5% of the SQL time


@dataclass(slots=True)
class Sent:
    """One kind of statement sent during the run: its text, how often, how long in all.

    `parameters` and `slowest` are those of its slowest execution, the one explained.
    """

    statement: str
    parameters: Any
    slowest: float
    calls: int = 0
    seconds: float = 0.0

    @property
    def label(self) -> str:
        """Name the statement by what sends it."""
        for marker, label in SQL_LABELS:
            if marker in self.statement:
                return label
        return " ".join(self.statement.split())[:70]

    @property
    def reads_evaluations(self) -> bool:
        """Say whether the statement reads the evaluations table."""
        return "FROM evaluations" in self.statement or "JOIN evaluations" in self.statement

    @property
    def explainable(self) -> bool:
        """Say whether EXPLAIN ANALYZE may run it again harmlessly: a query, not a write."""
        head = self.statement.lstrip().split(None, 1)[0].upper()
        return head in ("SELECT", "WITH") and not isinstance(self.parameters, list)


@dataclass(slots=True)
class Captured:
    """Every kind of statement a run sent, in the order first sent."""

    sent: dict[str, Sent] = field(default_factory=dict)

    @property
    def statements(self) -> int:
        """Return how many statements were sent in all."""
        return sum(kind.calls for kind in self.sent.values())

    @property
    def seconds(self) -> float:
        """Return the time spent from execute to result, over every statement."""
        return sum(kind.seconds for kind in self.sent.values())

    def by_label(self) -> list[tuple[str, int, float]]:
        """Return (label, statements, seconds) per label, slowest first."""
        labelled: dict[str, tuple[int, float]] = {}
        for kind in self.sent.values():
            calls, seconds = labelled.get(kind.label, (0, 0.0))
            labelled[kind.label] = (calls + kind.calls, seconds + kind.seconds)
        ranked = sorted(labelled.items(), key=lambda item: -item[1][1])
        return [(label, calls, seconds) for label, (calls, seconds) in ranked]

    def heavy(self) -> list[Sent]:
        """Return the statements worth explaining, slowest first."""
        total = self.seconds or 1.0
        found = [
            kind
            for kind in self.sent.values()
            if kind.explainable and (kind.reads_evaluations or kind.seconds / total >= HEAVY_SHARE)
        ]
        return sorted(found, key=lambda kind: -kind.seconds)


@contextmanager
def capturing(engine: Engine) -> Iterator[Captured]:
    """Record every statement the engine sends inside the block."""
    captured = Captured()

    def before(conn: Any, _cursor: Any, _statement: str, *_: Any) -> None:
        conn.info["bench.sent"] = time.perf_counter()

    def after(conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seconds = time.perf_counter() - conn.info.pop("bench.sent")
        kind = captured.sent.setdefault(statement, Sent(statement, parameters, seconds))
        kind.calls += 1
        kind.seconds += seconds
        if seconds > kind.slowest:
            kind.parameters, kind.slowest = parameters, seconds

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


@dataclass(frozen=True, slots=True)
class Scan:
    """A table (or partition) a plan read, and how many times its scan node ran."""

    relation: str
    loops: int


def scans(plan: dict[str, Any]) -> list[Scan]:
    """Return every relation a JSON plan's nodes read, in plan order, with their loops."""
    found = []
    if "Relation Name" in plan:
        found.append(Scan(plan["Relation Name"], int(plan.get("Actual Loops", 0))))
    for child in plan.get("Plans", []):
        found.extend(scans(child))
    return found


@dataclass(frozen=True, slots=True)
class Partitions:
    """The partitioned tables of the database: each partition's parent, and their number."""

    parent: dict[str, str]
    count: dict[str, int]

    def describe(self, found: Sequence[Scan]) -> str:
        """Say which relations were scanned; of a partitioned table, how many partitions."""
        read = {scan.relation for scan in found if scan.loops > 0}
        skipped = sorted({scan.relation for scan in found if scan.loops == 0} - read)
        by_table: dict[str, list[str]] = {}
        for relation in sorted(read):
            by_table.setdefault(self.parent.get(relation, relation), []).append(relation)
        said = []
        for table, relations in sorted(by_table.items()):
            if table in self.count:
                said.append(
                    f"{table}: {len(relations)} of {self.count[table]} partitions "
                    f"({', '.join(relations)})"
                )
            else:
                said.append(table)
        never = f"; never executed: {', '.join(skipped)}" if skipped else ""
        return ("; ".join(said) or "no table") + never


def partitions(engine: Engine) -> Partitions:
    """Read which tables are partitions of which, from the catalog."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT child.relname, parent.relname FROM pg_inherits "
                "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
                "JOIN pg_class parent ON parent.oid = pg_inherits.inhparent "
                "WHERE parent.relkind = 'p'"
            )
        ).all()
    parent = {child: table for child, table in rows}
    count: dict[str, int] = {}
    for table in parent.values():
        count[table] = count.get(table, 0) + 1
    return Partitions(parent, count)


@dataclass(frozen=True, slots=True)
class Explained:
    """One statement's plan as EXPLAIN (ANALYZE, BUFFERS) prints it, and what it scanned."""

    label: str
    calls: int
    seconds: float
    plan: list[str]
    scanned: str


def explain(engine: Engine, kind: Sent, described: Callable[[Sequence[Scan]], str]) -> Explained:
    """EXPLAIN (ANALYZE, BUFFERS) a statement with its parameters, rolled back after."""
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS) {kind.statement}", kind.parameters
        ).scalars()
        lines = [str(line) for line in plan]
        document = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {kind.statement}", kind.parameters
        ).scalar_one()
        connection.rollback()
    if isinstance(document, str):
        document = json.loads(document)
    return Explained(
        kind.label, kind.calls, kind.seconds, lines, described(scans(document[0]["Plan"]))
    )


def explain_all(engine: Engine, kinds: Sequence[Sent]) -> list[Explained]:
    """Explain each statement, naming the partitions each one read."""
    known = partitions(engine)
    return [explain(engine, kind, known.describe) for kind in kinds]
