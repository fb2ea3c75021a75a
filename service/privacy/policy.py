"""What a reader sees of a contract's agents (DESIGN 18): the one place that decides it.

The supplier and admins see agents as logged. The client side (client, finance) sees what the
terms in force for the record's month say: `agents` as logged, `pseudonyms` (each `agent_ref`
as `op-` + 8 hex of HMAC-SHA256 under the contract's key), or `teams` (no agent at all, and a
record shows no team either: with a few calls a month, a team and a time pick out a person).
Every read of the client side passes its agents through a `Lens`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import g, has_request_context
from marshmallow import fields
from sqlalchemy import ColumnElement, and_, false, or_, select

from contracts import stats
from contracts.periods import Period
from contracts.terms import Privacy
from service.agreements.models import Contract
from service.agreements.service import terms_for_period
from service.edge.actors import OPERATOR, Actor, current_actor
from service.edge.sessions import get_session

CLIENT_SIDE = ("client", "finance")
PSEUDONYM = re.compile(r"op-[0-9a-f]{8}")
OTHER = "other"  # the group the small teams are merged into


def pseudonym(key: str, agent_ref: str) -> str:
    """Return an agent's stable pseudonym in a contract: `op-` + the first 8 hex characters of
    HMAC-SHA256 of the reference under the contract's key (hex).

    A reference that already is a pseudonym (an erased one) is its own: what the client read
    before an erasure, it reads after it.
    """
    if PSEUDONYM.fullmatch(agent_ref):
        return agent_ref
    digest = hmac.new(bytes.fromhex(key), agent_ref.encode(), hashlib.sha256).hexdigest()
    return f"op-{digest[:8]}"


def client_side(actor: Actor) -> bool:
    """Say whether the reader is on the client's side of its contracts."""
    return actor.role in CLIENT_SIDE


@dataclass(frozen=True, slots=True)
class View:
    """What one reader sees of the agents of one contract's month."""

    shows: str  # "agents" (as logged), "pseudonyms" or "teams"
    key: str
    min_group: int

    def agent(self, agent_ref: str | None) -> str | None:
        """Return what the reader sees for an agent: itself, its pseudonym, or nothing (an
        abandoned call has no agent: its empty reference is shown as none)."""
        if not agent_ref:
            return None
        if self.shows == "agents":
            return agent_ref
        if self.shows == "pseudonyms":
            return pseudonym(self.key, agent_ref)
        return None

    def team(self, team: str | None) -> str | None:
        """Return the team a record shows: none where the reader sees teams only as figures."""
        return None if self.shows == "teams" else team

    @property
    def per_agent(self) -> bool:
        """Say whether the reader may see figures per agent (as logged or as pseudonyms)."""
        return self.shows != "teams"


AS_LOGGED = Privacy(client_sees="agents")


@dataclass(slots=True)
class Lens:
    """What one reader sees of agents, per contract and month (the terms of a month decide)."""

    actor: Actor
    _views: dict[tuple[int, Period], View] = field(default_factory=dict)

    @property
    def as_logged(self) -> bool:
        """Say whether the reader sees every agent as logged (the supplier, an admin)."""
        return not client_side(self.actor)

    def view(self, contract: Contract, period: Period) -> View:
        """Return what the reader sees of the agents of a contract's month."""
        found = self._views.get((contract.id, period))
        if found is None:
            rule = AS_LOGGED
            if client_side(self.actor):
                rule = terms_for_period(contract, period).terms.privacy
            found = View(rule.client_sees, contract.privacy_key, rule.min_group)
            self._views[(contract.id, period)] = found
        return found

    def view_of(self, contract_id: int, period: Period) -> View:
        """Return what the reader sees of the agents of a contract's month, by its id."""
        found = self._views.get((contract_id, period))
        if found is not None:
            return found
        contract = get_session().get(Contract, contract_id)
        assert contract is not None, "a record's contract exists"
        return self.view(contract, period)

    def agent_of(self, record: object) -> str | None:
        """Return what the reader sees of a record's agent (a call, an evaluation: anything
        with `contract_id`, `period` and `agent_ref`)."""
        view = self.view_of(record.contract_id, record.period)  # type: ignore[attr-defined]
        return view.agent(record.agent_ref)  # type: ignore[attr-defined]

    def team_of(self, record: object) -> str | None:
        """Return the team a record shows the reader."""
        view = self.view_of(record.contract_id, record.period)  # type: ignore[attr-defined]
        return view.team(record.team)  # type: ignore[attr-defined]

    def agent(self, contract: Contract, period: Period, agent_ref: str | None) -> str | None:
        """Return what the reader sees for an agent of a contract's month."""
        return self.view(contract, period).agent(agent_ref)

    def team(self, contract: Contract, period: Period, team: str | None) -> str | None:
        """Return the team a record of a contract's month shows the reader."""
        return self.view(contract, period).team(team)


def current_lens() -> Lens:
    """Return the lens of the current request's reader (outside a request: the operator's)."""
    if not has_request_context() or "actor" not in g:
        return Lens(OPERATOR)
    lens: Lens | None = g.get("privacy_lens")
    actor = current_actor()
    if lens is None or lens.actor != actor:
        lens = g.privacy_lens = Lens(actor)
    return lens


class SeenAgent(fields.String):
    """A record's `agent_ref` as the reader may see it (null where it sees teams only)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(required=True, allow_none=True, dump_only=True, **kwargs)  # type: ignore[arg-type]

    def _serialize(
        self, value: object, attr: str | None, obj: object, **kwargs: object
    ) -> str | None:
        return current_lens().agent_of(obj)


class SeenTeam(fields.String):
    """A record's `team` as the reader may see it."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(required=True, allow_none=True, dump_only=True, **kwargs)  # type: ignore[arg-type]

    def _serialize(
        self, value: object, attr: str | None, obj: object, **kwargs: object
    ) -> str | None:
        return current_lens().team_of(obj)


def agent_filter(
    lens: Lens,
    contracts: Iterable[Contract],
    shown: str,
    *,
    contract_id: Any,
    period: Any,
    agent_ref: Any,
) -> ColumnElement[bool]:
    """Return the condition a reader's `agent_ref` filter becomes: the records whose agent
    it sees as `shown`, month by month of each contract's terms. A client that gives a real
    reference where it reads pseudonyms or teams finds nothing it could not already see."""
    if lens.as_logged:
        return agent_ref == shown
    session = get_session()
    conditions = []
    for contract in contracts:
        versions = contract.terms_versions
        for index, version in enumerate(versions):
            first = Period.of(version.effective_from)
            within = [contract_id == contract.id]
            if index > 0:
                within.append(period >= first)
            if index + 1 < len(versions):
                within.append(period < Period.of(versions[index + 1].effective_from))
            view = lens.view(contract, first)
            if view.shows == "agents":
                conditions.append(and_(*within, agent_ref == shown))
            elif view.shows == "pseudonyms":
                refs = session.scalars(
                    select(agent_ref).where(contract_id == contract.id).distinct()
                )
                matching = [ref for ref in refs if view.agent(ref) == shown]
                if matching:
                    conditions.append(and_(*within, agent_ref.in_(matching)))
    return or_(false(), *conditions)


def seen_agent(record: object) -> str | None:
    """Return a record's agent as the current reader sees it (the pages' `agent_of`)."""
    return current_lens().agent_of(record)


def seen_team(record: object) -> str | None:
    """Return a record's team as the current reader sees it (the pages' `team_of`)."""
    return current_lens().team_of(record)


Grouped = tuple[str, stats.SufficientStatistics]  # a group's key and its sums


def seen_groups(
    view: View,
    agents: Sequence[Grouped],
    teams: Sequence[Grouped],
    team_sizes: Mapping[str, int],
) -> tuple[list[Grouped], list[Grouped]]:
    """Return a month's figures per agent and per team as the reader may see them.

    `agents`: as logged, or by pseudonym (in the pseudonyms' order, which says nothing of the
    references'); none where the reader sees teams only. There a team of fewer than
    `min_group` agents in the month (`team_sizes`) is merged into "other", and "other" under
    the minimum is not shown either.
    """
    if view.shows == "agents":
        return list(agents), list(teams)
    if view.shows == "pseudonyms":
        renamed = [(view.agent(key) or key, sums) for key, sums in agents]
        return sorted(renamed, key=lambda group: group[0]), list(teams)
    shown = [
        (key, sums)
        for key, sums in teams
        if key != OTHER and team_sizes.get(key, 0) >= view.min_group
    ]
    merged = [(key, sums) for key, sums in teams if (key, sums) not in shown]
    if merged and sum(team_sizes.get(key, 0) for key, _ in merged) >= view.min_group:
        shown.append((OTHER, summed(sums for _, sums in merged)))
    return [], shown


def summed(groups: Iterable[stats.SufficientStatistics]) -> stats.SufficientStatistics:
    """Return the sums of several groups as one group's."""
    n = total = squares = passed = 0
    critical: dict[str, int] = {}
    for sums in groups:
        n, total = n + sums.n, total + sums.sum_hundredths
        squares, passed = squares + sums.sum_squares_hundredths, passed + sums.passed
        for category, errors in sums.critical_errors.items():
            critical[category] = critical.get(category, 0) + errors
    return stats.SufficientStatistics(n, total, squares, passed, critical)
