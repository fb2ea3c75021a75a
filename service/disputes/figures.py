"""A month's disputes in figures: per contract and per evaluator, counted in SQL (DESIGN 12).

An evaluator who is often overturned is a calibration problem, and the client should see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from contracts.disputes import UNRESOLVED
from contracts.money import round_ratio
from contracts.periods import Period
from contracts.terms import AUDIT_SOURCES
from service.agreements.models import Contract
from service.agreements.service import get_contract
from service.disputes.models import Dispute
from service.edge.actors import Actor
from service.evaluations.models import Evaluation

OVERTURN_PLACES = 4  # an overturn rate is a fraction, like a pass rate


@dataclass(frozen=True, slots=True)
class DisputeFigures:
    """A contract's month of disputes: how many audits, disputed, and how they went."""

    audits: int
    disputed: int
    accepted: int
    partly_accepted: int
    rejected: int
    open: int
    still_open: tuple[int, ...]

    @property
    def overturn_rate(self) -> Decimal | None:
        return overturn_rate(self.accepted + self.partly_accepted, self.audits)


def overturn_rate(overturned: int, audits: int) -> Decimal | None:
    """Return the share of audits a dispute overturned in part or whole (None: no audits)."""
    return round_ratio(overturned, audits, OVERTURN_PLACES) if audits else None


def dispute_figures(session: Session, contract: Contract, period: Period) -> DisputeFigures:
    """Count a contract's month of audits and disputes, in SQL."""
    return dispute_figures_by_contract(session, [contract.id], period)[contract.id]


def dispute_figures_by_contract(
    session: Session, contract_ids: Sequence[int], period: Period
) -> dict[int, DisputeFigures]:
    """Count each contract's month of audits and disputes, in three queries for them all."""
    audits = dict(
        session.execute(
            select(Evaluation.contract_id, func.count())
            .where(
                Evaluation.contract_id.in_(contract_ids),
                Evaluation.period == period,
                Evaluation.source.in_(AUDIT_SOURCES),
                Evaluation.retracted.is_(False),
            )
            .group_by(Evaluation.contract_id)
        ).all()
    )
    settled = Dispute.status.in_(("decided", "arbitrated"))

    def settled_as(outcome: str) -> Any:
        return func.coalesce(func.sum(case((settled & (Dispute.outcome == outcome), 1))), 0)

    counts = {
        row.contract_id: row
        for row in session.execute(
            select(
                Dispute.contract_id,
                func.count(Dispute.id).label("disputed"),
                settled_as("accepted").label("accepted"),
                settled_as("partly_accepted").label("partly_accepted"),
                settled_as("rejected").label("rejected"),
            )
            .where(
                Dispute.contract_id.in_(contract_ids),
                Dispute.period == period,
                Dispute.status != "withdrawn",  # a withdrawn dispute counts nowhere
            )
            .group_by(Dispute.contract_id)
        )
    }
    waiting: dict[int, list[int]] = {}
    for contract_id, dispute_id in session.execute(
        select(Dispute.contract_id, Dispute.id)
        .where(
            Dispute.contract_id.in_(contract_ids),
            Dispute.period == period,
            Dispute.status.in_(UNRESOLVED),
        )
        .order_by(Dispute.id)
    ):
        waiting.setdefault(contract_id, []).append(dispute_id)
    found = {}
    for contract_id in contract_ids:
        row = counts.get(contract_id)
        still_open = waiting.get(contract_id, [])
        found[contract_id] = DisputeFigures(
            audits=int(audits.get(contract_id) or 0),
            disputed=int(row.disputed) if row else 0,
            accepted=int(row.accepted) if row else 0,
            partly_accepted=int(row.partly_accepted) if row else 0,
            rejected=int(row.rejected) if row else 0,
            open=len(still_open),
            still_open=tuple(still_open),
        )
    return found


@dataclass(frozen=True, slots=True)
class EvaluatorFigures:
    """One evaluator's audits of a month and how often a dispute overturned them."""

    evaluator_ref: str | None
    audits: int
    disputed: int
    overturned: int

    @property
    def overturn_rate(self) -> Decimal | None:
        return overturn_rate(self.overturned, self.audits)


def evaluator_figures(
    *, session: Session, actor: Actor, contract_id: int, period: Period
) -> list[EvaluatorFigures]:
    """Count each evaluator's audits of a month, those disputed and those overturned, in SQL.

    An audit is overturned when a dispute of it was accepted in part or whole.
    """
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    settled = Dispute.status.in_(("decided", "arbitrated"))
    overturned = settled & Dispute.outcome.in_(("accepted", "partly_accepted"))
    per_audit = (
        select(
            Evaluation.id,
            Evaluation.evaluator_ref,
            func.max(case((Dispute.status != "withdrawn", 1), else_=0)).label("disputed"),
            func.max(case((overturned, 1), else_=0)).label("overturned"),
        )
        .outerjoin(Dispute, Dispute.evaluation_id == Evaluation.id)
        .where(
            Evaluation.contract_id == contract.id,
            Evaluation.period == period,
            Evaluation.source.in_(AUDIT_SOURCES),
            Evaluation.retracted.is_(False),
        )
        .group_by(Evaluation.id, Evaluation.evaluator_ref)
        .subquery("per_audit")
    )
    query = (
        select(
            per_audit.c.evaluator_ref,
            func.count(),
            func.sum(per_audit.c.disputed),
            func.sum(per_audit.c.overturned),
        )
        .group_by(per_audit.c.evaluator_ref)
        .order_by(per_audit.c.evaluator_ref)
    )
    return [
        EvaluatorFigures(ref, int(audits), int(disputed or 0), int(overturned or 0))
        for ref, audits, disputed, overturned in session.execute(query)
    ]


def unresolved_disputes(session: Session, contract_id: int, period: Period) -> list[int]:
    """Return the ids of a contract's month's disputes still waiting (open or escalated)."""
    query = select(Dispute.id).where(
        Dispute.contract_id == contract_id,
        Dispute.period == period,
        Dispute.status.in_(UNRESOLVED),
    )
    return list(session.scalars(query.order_by(Dispute.id)))
