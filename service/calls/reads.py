"""Reading the call log, as both parties do: its calls with their samples, a month's figures
and a month's export.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from contracts.periods import Period
from service.agreements.models import Contract
from service.agreements.service import get_contract, terms_for_period
from service.calls.ingest import log_closes_at
from service.calls.models import Call, CallSample, SampledCall
from service.calls.rows import COLUMNS
from service.database.engine import UTCDateTime
from service.edge.actors import Actor
from service.edge.paging import Page, page_of
from service.privacy.policy import Lens, View, agent_filter


def calls_query(
    *,
    actor: Actor,
    contract: Contract,
    period: Period | None = None,
    agent_ref: str | None = None,
    sampled: str | None = None,
) -> Select[Any]:
    """Select a contract's logged calls, filtered; `sampled` keeps one sample's calls;
    `agent_ref` is an agent as the caller sees it (DESIGN 18)."""
    query = select(Call).where(Call.contract_id == contract.id)
    if period is not None:
        query = query.where(Call.period == period)
    if agent_ref is not None:
        query = query.where(
            agent_filter(
                Lens(actor),
                [contract],
                agent_ref,
                contract_id=Call.contract_id,
                period=Call.period,
                agent_ref=Call.agent_ref,
            )
        )
    if sampled is not None:
        query = query.where(
            exists().where(
                CallSample.contract_id == Call.contract_id,
                CallSample.period == Call.period,
                SampledCall.sample_id == CallSample.id,
                SampledCall.purpose == sampled,
                SampledCall.call_ref == Call.call_ref,
            )
        )
    return query


@dataclass(frozen=True, slots=True)
class ListedCall:
    """A logged call, with the samples it was drawn into."""

    call: Call
    sampled: list[str]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.call, name)


def calls_page(
    *,
    session: Session,
    actor: Actor,
    contract_id: int,
    number: int,
    size: int,
    period: Period | None = None,
    agent_ref: str | None = None,
    sampled: str | None = None,
) -> Page[ListedCall]:
    """Return page `number` of a contract's logged calls, in time order, with their samples."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    query = calls_query(
        actor=actor, contract=contract, period=period, agent_ref=agent_ref, sampled=sampled
    )
    page = page_of(session, query, number, size, Call.call_at, Call.call_ref)
    samples = samples_of(session, contract.id, [call.call_ref for call in page.rows])
    rows = [ListedCall(call, samples.get((call.period, call.call_ref), [])) for call in page.rows]
    return Page(rows, page.total, page.number, page.pages)


def samples_of(
    session: Session, contract_id: int, call_refs: Iterable[str]
) -> dict[tuple[Period, str], list[str]]:
    """Return the samples each of some calls was drawn into, by (period, call_ref)."""
    refs = list(call_refs)
    if not refs:
        return {}
    found: dict[tuple[Period, str], list[str]] = {}
    query = (
        select(CallSample.period, SampledCall.call_ref, SampledCall.purpose)
        .join(CallSample, CallSample.id == SampledCall.sample_id)
        .where(CallSample.contract_id == contract_id, SampledCall.call_ref.in_(refs))
        .order_by(SampledCall.purpose)
    )
    for period, call_ref, purpose in session.execute(query):
        found.setdefault((period, call_ref), []).append(purpose)
    return found


@dataclass(frozen=True, slots=True)
class Summary:
    """A month of a contract's log in figures: calls, per day, per agent, per direction."""

    contract_id: int
    period: Period
    calls: int
    per_day: list[dict[str, Any]]
    per_agent: list[dict[str, Any]]
    per_direction: dict[str, int]
    log_closes_at: datetime


def summary(*, session: Session, actor: Actor, contract_id: int, period: Period) -> Summary:
    """Count a month of a contract's log, in SQL: in all, per local day, agent and direction."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    month = and_(Call.contract_id == contract.id, Call.period == period)
    zone = ZoneInfo(terms_for_period(contract, period).timezone)
    day = _local_day(Call.call_at, _day_starts(period, zone))
    per_day = session.execute(
        select(day.label("day"), func.count()).where(month).group_by(day).order_by(day)
    ).all()
    per_agent = session.execute(
        select(Call.agent_ref, func.count())
        .where(month)
        .group_by(Call.agent_ref)
        .order_by(Call.agent_ref)
    ).all()
    directions: dict[str | None, int] = {
        direction: count
        for direction, count in session.execute(
            select(Call.direction, func.count()).where(month).group_by(Call.direction)
        )
    }
    return Summary(
        contract_id=contract.id,
        period=period,
        calls=sum(count for _, count in per_day),
        per_day=[{"date": date.fromisoformat(day), "calls": count} for day, count in per_day],
        per_agent=_seen_agents(Lens(actor).view(contract, period), per_agent),
        per_direction={
            "inbound": directions.get("inbound", 0),
            "outbound": directions.get("outbound", 0),
            "unknown": directions.get(None, 0),
        },
        log_closes_at=log_closes_at(contract, period),
    )


def _seen_agents(view: View, per_agent: Iterable[Any]) -> list[dict[str, Any]]:
    """Return a month's calls per agent as the reader sees agents: none where it sees teams."""
    if not view.per_agent:
        return []
    counted: dict[str, int] = {}
    for agent, count in per_agent:
        shown = view.agent(agent)
        if shown is None:
            continue  # abandoned calls: no agent took them
        counted[shown] = counted.get(shown, 0) + count
    return [{"agent_ref": agent, "calls": count} for agent, count in sorted(counted.items())]


def _day_starts(period: Period, zone: ZoneInfo) -> list[tuple[datetime, str]]:
    """Return each local day of a month with the instant it starts."""
    days = []
    day = period.first_day
    while day < period.end_day:
        days.append((datetime.combine(day, time(), zone), day.isoformat()))
        day += timedelta(days=1)
    return days


def _local_day(column: Any, days: Sequence[tuple[datetime, str]]) -> Any:
    """Return the local day of an instant, as a CASE that bisects the month's day starts.

    Portable (no time zone support needed in the database) and a handful of comparisons
    per row, whatever the zone's daylight saving does that month.
    """
    if len(days) == 1:
        return literal(days[0][1])
    middle = len(days) // 2
    return case(
        (column < literal(days[middle][0], UTCDateTime), _local_day(column, days[:middle])),
        else_=_local_day(column, days[middle:]),
    )


def calls_in(session: Session, contract_id: int, period: Period, direction: str | None) -> int:
    """Count a period's answered logged calls (of one direction, when given), in SQL."""
    query = select(func.count()).where(Call.contract_id == contract_id, Call.period == period)
    query = query.where(Call.outcome == "answered")
    if direction is not None:
        query = query.where(Call.direction == direction)
    return int(session.scalar(query) or 0)


def exported_calls(
    session: Session, contract_id: int, period: Period, view: View
) -> Iterator[dict[str, Any]]:
    """Yield a month of a contract's log in time order, read from the database in batches,
    each call's agent and team as the reader sees them (`view`)."""
    query = (
        select(*(getattr(Call, name) for name in COLUMNS))
        .where(Call.contract_id == contract_id, Call.period == period)
        .order_by(Call.call_at, Call.call_ref)
        .execution_options(yield_per=10_000)
    )
    result = session.execute(query)
    try:
        for row in result:
            call = dict(zip(COLUMNS, row, strict=True))
            call["call_at"] = call["call_at"].isoformat()
            call["agent_ref"], call["team"] = view.agent(call["agent_ref"]), view.team(call["team"])
            yield call
    finally:
        result.close()  # its server-side cursor too, when the download stops half-way


# The template's example calls: one answered, one abandoned (no agent, no handling).
TEMPLATE_EXAMPLES = (
    ("CALL-0001", "2026-10-14T10:30:00+02:00", "agent-07", "team-a", "billing", "inbound",
     "312", "answered", "14", "298", "c-5f2a9e"),
    ("CALL-0002", "2026-10-14T10:31:12+02:00", "", "", "billing", "inbound", "", "abandoned",
     "48", "", "c-91b0d4"),
)  # fmt: skip


def calls_template() -> str:
    """Return the CSV template of the call log: the header and two example rows."""
    rows = [",".join(COLUMNS), *(",".join(example) for example in TEMPLATE_EXAMPLES)]
    return "\r\n".join(rows) + "\r\n"
