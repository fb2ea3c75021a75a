"""A month's figures per agent and per team as the reader may see them (DESIGN 18)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.periods import Period
from service.agreements.models import Contract
from service.edge.actors import Actor
from service.evaluations.models import Evaluation
from service.figures.service import Group
from service.privacy.policy import Grouped, Lens, seen_groups


def team_sizes(session: Session, contract: Contract, period: Period) -> dict[str, int]:
    """Return how many agents each team had in a month: the distinct agents of its evaluations
    that are not retracted, in SQL."""
    query = (
        select(Evaluation.team, func.count(Evaluation.agent_ref.distinct()))
        .where(
            Evaluation.contract_id == contract.id,
            Evaluation.period == period,
            Evaluation.team.is_not(None),
            Evaluation.retracted.is_(False),
        )
        .group_by(Evaluation.team)
    )
    return {str(team): int(agents) for team, agents in session.execute(query)}


def seen_agent_groups(
    session: Session,
    actor: Actor,
    contract: Contract,
    period: Period,
    groups: Mapping[str, Sequence[Group]],
) -> tuple[list[Grouped], list[Grouped], bool]:
    """Return a month's groups per agent and per team as the reader may see them, and whether
    the agents are hidden from it (it sees teams only)."""
    view = Lens(actor).view(contract, period)
    sizes = {} if view.per_agent else team_sizes(session, contract, period)
    agents, teams = seen_groups(
        view,
        [(group.key, group.statistics) for group in groups["agent_ref"]],
        [(group.key, group.statistics) for group in groups["team"]],
        sizes,
    )
    return agents, teams, not view.per_agent
