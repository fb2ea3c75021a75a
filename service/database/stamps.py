"""The stamp of a contract's month: a counter that every committed write to the month's
inputs bumps, so a reader knows whether figures it stored are still current (DESIGN §5).

A model whose rows are inputs of months says which with an `inputs_months()` method
returning `(contract_id, period)` pairs; every ORM write of such a row (insert, change, delete) is
seen here, whatever path made it. Writes that bypass the ORM (COPY, INSERT … SELECT) name
their months with `touch`. The bumps run when the transaction commits, in one sorted order:
a writer holds a month's counter row only for its commit, and writers of other months never
wait for each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import BigInteger, ForeignKey, event, select
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from contracts.periods import Period
from service.database.engine import Base, BigId, Month, upsert_statement

TOUCHED = "fiducia.touched_months"


class MonthInputs(Base):
    """A contract's month's stamp: `version` grows with every committed write to what its
    figures read. No row: nothing was written since stamps began (version 0)."""

    __tablename__ = "month_inputs"

    contract_id: Mapped[int] = mapped_column(BigId, ForeignKey("contracts.id"), primary_key=True)
    period: Mapped[Period] = mapped_column(Month, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class InputOfMonths(Protocol):
    def inputs_months(self) -> Iterable[tuple[int, Period]]: ...


def touch(session: Session, months: Iterable[tuple[int, Period]]) -> None:
    """Say that this transaction (or the savepoint it is in) writes inputs of these months."""
    within = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(TOUCHED, {}).setdefault(within, set()).update(months)


@event.listens_for(Session, "before_flush")
def _seen(session: Session, _context: Any, _instances: Any) -> None:
    for row in (*session.new, *session.dirty, *session.deleted):
        months_of = getattr(row, "inputs_months", None)
        if months_of is not None:
            touch(session, months_of())


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint: its months are bumped when the whole transaction commits
    session.flush()  # what is still pending names its months now
    touched = set().union(*session.info.pop(TOUCHED, {}).values())
    table = MonthInputs.__table__
    for contract_id, period in sorted(touched, key=lambda month: (month[0], str(month[1]))):
        insert = upsert_statement(session, table).values(
            contract_id=contract_id, period=period, version=1
        )
        session.execute(
            insert.on_conflict_do_update(
                index_elements=[table.c.contract_id, table.c.period],
                set_={"version": table.c.version + 1},
            )
        )


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, rolled_back: SessionTransaction) -> None:
    """Forget what a rolled-back savepoint touched; all of it when the transaction is."""
    touched = session.info.get(TOUCHED, {})
    touched.pop(rolled_back, None)
    if rolled_back.parent is None:
        touched.clear()


def versions(session: Session, contract_ids: Iterable[int], period: Period) -> dict[int, int]:
    """Return the stamp of each contract's month (0 where nothing was ever written)."""
    ids = list(contract_ids)
    query = select(MonthInputs.contract_id, MonthInputs.version).where(
        MonthInputs.contract_id.in_(ids), MonthInputs.period == period
    )
    found: dict[int, int] = {id_: version for id_, version in session.execute(query)}
    return {id_: found.get(id_, 0) for id_ in ids}
