"""Scorecards: a contract's quality figures for a month, for people to compare (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session, selectinload

from contracts import stats
from contracts.agreement import Standing
from contracts.payout import SampleFigures
from contracts.periods import Period
from contracts.service_levels import ServiceFigures
from contracts.terms import Terms
from service.agreements.models import Contract
from service.agreements.service import get_contract, terms_for_period, visible_contracts
from service.calibration.service import standings
from service.disputes.figures import DisputeFigures
from service.edge.actors import Actor
from service.edge.errors import Invalid
from service.figures.served import served_month
from service.figures.service import aggregate_groups
from service.forms.service import find_form, parsed_form
from service.privacy.policy import Grouped
from service.scorecards.privacy import seen_agent_groups

MAX_TREND_MONTHS = 36


@dataclass(frozen=True, slots=True)
class Scorecard:
    """One contract's (or agent's, or team's) quality figures for one period."""

    contract: Contract
    period: Period
    figures: stats.Figures
    self_assessment: stats.SelfAssessmentCheck
    units: int | None
    agent_ref: str | None = None
    team: str | None = None
    disputes: DisputeFigures | None = None  # a contract's month only, not an agent's
    sampling: SampleFigures | None = None  # when the terms sample the call log
    unlogged: int | None = None  # evaluations left out: their call is not in the log
    calibration: Standing | None = None  # where the terms gate quality on calibration
    service: ServiceFigures | None = None  # the month's service levels (DESIGN 16)


@dataclass(frozen=True, slots=True)
class AgentBreakdown:
    """A period's figures per agent and per team, under the contract's correction."""

    contract: Contract
    period: Period
    self_assessment: stats.SelfAssessmentCheck
    agents: list[Scorecard]
    teams: list[Scorecard]
    agents_hidden: bool = False  # the reader sees teams only (DESIGN 18)


def scorecard(*, session: Session, actor: Actor, contract_id: int, period: Period) -> Scorecard:
    """Return a contract's scorecard for a period."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    return _scorecard(session, contract, period)


def _scorecard(session: Session, contract: Contract, period: Period) -> Scorecard:
    return _scorecards(session, [contract], period)[0]


def _scorecards(session: Session, contracts: Sequence[Contract], period: Period) -> list[Scorecard]:
    """Return the month's scorecard of each contract, every contract in the same few queries."""
    served = served_month(session, contracts, period)
    aggregates = {id_: month.aggregate for id_, month in served.items()}
    calibration = standings(session, contracts, period)
    return [
        Scorecard(
            contract=contract,
            period=period,
            figures=stats.figures(aggregates[contract.id].statistics),
            self_assessment=aggregates[contract.id].self_assessment,
            units=aggregates[contract.id].units,
            disputes=aggregates[contract.id].disputes,
            sampling=aggregates[contract.id].sampling,
            unlogged=aggregates[contract.id].unlogged,
            calibration=calibration[contract.id],
            service=served[contract.id].service,
        )
        for contract in contracts
    ]


def agent_scorecards(
    *, session: Session, actor: Actor, contract_id: int, period: Period
) -> AgentBreakdown:
    """Return a period's figures per agent and per team (where teams are given), for coaching."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    check, groups = aggregate_groups(session, contract, period)
    agents, teams, hidden = seen_agent_groups(session, actor, contract, period, groups)

    def cards(column: str, seen: list[Grouped]) -> list[Scorecard]:
        return [
            Scorecard(
                contract=contract,
                period=period,
                figures=stats.figures(statistics),
                self_assessment=check,
                units=None,
                agent_ref=key if column == "agent_ref" else None,
                team=key if column == "team" else None,
            )
            for key, statistics in seen
        ]

    return AgentBreakdown(
        contract, period, check, cards("agent_ref", agents), cards("team", teams), hidden
    )


@dataclass(frozen=True, slots=True)
class ContractOverview:
    """A contract's month beside the months before it, with what the trend is drawn against."""

    contract: Contract
    cards: list[Scorecard]  # oldest first; the last is the month asked for
    terms: Terms
    pass_mark: Decimal | None


def contract_overview(
    *, session: Session, actor: Actor, contract_id: int, period: Period, months: int
) -> ContractOverview:
    """Return a contract's scorecards of `months` months up to `period`, its terms and pass mark."""
    first = period
    for _ in range(months - 1):
        first = first.previous()
    cards = trend(session=session, actor=actor, contract_id=contract_id, first=first, last=period)
    contract = cards[-1].contract
    terms = terms_for_period(contract, period).terms
    form = find_form(session, contract.client_id, terms.form_ref)
    pass_mark = parsed_form(form).pass_mark if form else None
    return ContractOverview(contract, cards, terms, pass_mark)


def compare(*, session: Session, actor: Actor, period: Period) -> list[Scorecard]:
    """Return every visible contract's scorecard for a period, side by side."""
    query = visible_contracts(actor).order_by(Contract.id)
    contracts = session.scalars(query.options(selectinload(Contract.terms_versions))).all()
    return _scorecards(session, contracts, period)


def trend(
    *, session: Session, actor: Actor, contract_id: int, first: Period, last: Period
) -> list[Scorecard]:
    """Return one scorecard per month from `first` to `last`."""
    if last < first:
        raise Invalid(
            "the range runs forward", {"to": ["must not be before 'from'"]}, location="query"
        )
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    periods = [first]
    while periods[-1] < last:
        periods.append(periods[-1].next())
        if len(periods) > MAX_TREND_MONTHS:
            raise Invalid(
                "the range is too long",
                {"to": [f"at most {MAX_TREND_MONTHS} months"]},
                location="query",
            )
    return [_scorecard(session, contract, period) for period in periods]
