"""The scorecards benchmark's database: the statements benchmark's data, closed and signed in to.

The data comes from bench.statements (the same generator and COPY); the month's drafts are
made by the close, as they would be when a client opens the page; the client's API token
is issued through the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bench.common import BenchError
from bench.statements.generate import closed_months
from bench.statements.load import Built, build_apart
from bench.statements.measure import Month, close_month, describe
from contracts.examples import QUALITY_TERMS, load_example
from service.accounts.models import User
from service.accounts.service import issue_token
from service.agreements.models import Contract
from service.database.engine import make_engine

CLIENT_EMAIL = "client@bench.fiducia"  # the client's QA lead, as bench.statements makes it
ADMIN_EMAIL = "admin@bench.fiducia"  # the writer of the write-load row


def build(url: str, evaluations: int, contracts: int, months: int, seed: int) -> Built:
    """Generate and COPY the data in a process of its own (bench.statements), then ANALYZE."""
    today = datetime.now(ZoneInfo(load_example(QUALITY_TERMS)["timezone"])).date()
    return build_apart(url, evaluations, contracts, closed_months(today, months), seed, False)


@dataclass(frozen=True, slots=True)
class Prepared:
    """The month read, the client's token, and what the writer needs: the admin's token and
    every contract."""

    month: Month
    token: str
    admin_token: str
    contract_ids: tuple[int, ...]


def prepare(url: str, period: str | None) -> Prepared:
    """Close the month (its drafts, as the page lists them); return it and the tokens."""
    engine = make_engine(url)
    try:
        factory = sessionmaker(engine, expire_on_commit=False)
        month = describe(engine, period)
        close_month(factory, month, 0)
        with factory.begin() as session:
            user = session.scalar(select(User).where(User.email == CLIENT_EMAIL))
            if user is None:
                raise BenchError(f"no user {CLIENT_EMAIL}: not a database of bench.statements")
            token = issue_token(session=session, actor=None, user_id=user.id).token
            admin = session.scalar(select(User).where(User.email == ADMIN_EMAIL))
            if admin is None:
                raise BenchError(f"no user {ADMIN_EMAIL}: not a database of bench.statements")
            admin_token = issue_token(session=session, actor=None, user_id=admin.id).token
            contract_ids = tuple(session.scalars(select(Contract.id).order_by(Contract.id)))
    finally:
        engine.dispose()
    return Prepared(month, token, admin_token, contract_ids)
