"""Monthly partitions of the two big tables, evaluations and the call log (PostgreSQL only).

With `FIDUCIA_PARTITION=1` when the database is migrated, `evaluations` and `calls` are
range-partitioned by `period`, the contract's month each row belongs to, so a month's
figures read one partition. The close makes each month's partition ahead of time; a row of
a month without one waits in the default partition and moves when its month's is made.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from contracts.periods import Period

TABLES = ("evaluations", "calls")
AHEAD = 2  # months made ahead of the running one


def partitioned_tables(session: Session) -> list[str]:
    """Return which of the big tables are partitioned in this database (none on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    found = session.execute(
        text(
            "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = ANY(:names) AND c.relnamespace = 'public'::regnamespace"
        ),
        {"names": list(TABLES)},
    )
    return sorted(name for (name,) in found)


def partition_name(table: str, period: Period) -> str:
    """Return the name of a table's partition of a month: `evaluations_2026_10`."""
    return f"{table}_{period.year:04d}_{period.month:02d}"


def months_ahead(running: Period) -> list[Period]:
    """Return the months whose partitions the close makes now: the running month (in UTC),
    the month before (a contract's time zone may still be in it) and the months ahead."""
    months = [running.previous(), running]
    for _ in range(AHEAD):
        months.append(months[-1].next())
    return months


def ensure_partitions(session: Session, periods: Iterable[Period]) -> list[str]:
    """Make each partitioned table's partition of each month that has none; return their names.

    Rows of the month already in the default partition move into the new one first, with the
    default partition locked so nothing else lands there meanwhile.
    """
    made = []
    for table in partitioned_tables(session):
        existing = set(
            session.scalars(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :table"
                ),
                {"table": table},
            )
        )
        for period in periods:
            name = partition_name(table, period)
            if name not in existing:
                _make(session, table, name, period)
                made.append(name)
    return made


def _make(session: Session, table: str, name: str, period: Period) -> None:
    default, month = f"{table}_default", {"period": str(period)}
    session.execute(text(f'LOCK TABLE "{default}" IN ACCESS EXCLUSIVE MODE'))
    session.execute(
        text(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
    )
    moved = f'INSERT INTO "{name}" SELECT * FROM "{default}" WHERE period = :period'
    session.execute(text(moved), month)
    # A logged call is never deleted (a trigger refuses it), but here it only moves: the
    # default partition's triggers stand aside for this delete, locked to everyone else.
    session.execute(text(f'ALTER TABLE "{default}" DISABLE TRIGGER USER'))
    session.execute(text(f'DELETE FROM "{default}" WHERE period = :period'), month)
    session.execute(text(f'ALTER TABLE "{default}" ENABLE TRIGGER USER'))
    session.execute(
        text(
            f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" '
            f"FOR VALUES FROM ('{period}') TO ('{period.next()}')"
        )
    )
