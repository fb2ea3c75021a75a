"""Reading evaluations and their revisions, of the contracts the caller may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from contracts.periods import Period
from service.agreements.models import Contract
from service.agreements.service import get_contract, visible_contracts
from service.edge.actors import Actor
from service.edge.errors import NotFound
from service.edge.paging import Page, count, page_of
from service.evaluations.models import Evaluation, EvaluationRevision
from service.language.i18n import N_
from service.privacy.policy import Lens, agent_filter


def get_evaluation(*, session: Session, actor: Actor, evaluation_id: int) -> Evaluation:
    """Return an evaluation of a contract the caller may see."""
    visible = visible_contracts(actor).with_only_columns(Contract.id)
    evaluation = session.scalar(
        select(Evaluation).where(
            Evaluation.id == evaluation_id, Evaluation.contract_id.in_(visible)
        )
    )
    if evaluation is None:
        raise NotFound(N_("no such evaluation"))
    return evaluation


def evaluations_query(
    *,
    session: Session,
    actor: Actor,
    contract_id: int | None = None,
    period: Period | None = None,
    source: str | None = None,
    agent_ref: str | None = None,
) -> Select[Evaluation]:
    """Select the evaluations the caller may see, filtered; a period is each contract's month."""
    query = select(Evaluation)
    if contract_id is not None:
        contracts = [get_contract(session=session, actor=actor, contract_id=contract_id)]
        query = query.where(Evaluation.contract_id == contract_id)
    else:
        visible = visible_contracts(actor)
        query = query.where(Evaluation.contract_id.in_(visible.with_only_columns(Contract.id)))
        contracts = list(session.scalars(visible)) if agent_ref is not None else []
    if period is not None:
        query = query.where(Evaluation.period == period)
    if source is not None:
        query = query.where(Evaluation.source == source)
    if agent_ref is not None:  # as the caller sees agents (DESIGN 18)
        query = query.where(
            agent_filter(
                Lens(actor),
                contracts,
                agent_ref,
                contract_id=Evaluation.contract_id,
                period=Evaluation.period,
                agent_ref=Evaluation.agent_ref,
            )
        )
    return query


def evaluations_page(
    *, session: Session, actor: Actor, number: int, size: int, **filters: Any
) -> Page[Evaluation]:
    """Return page `number` of the visible evaluations, newest call first (for the pages)."""
    query = evaluations_query(session=session, actor=actor, **filters)
    return page_of(session, query, number, size, Evaluation.call_at.desc(), Evaluation.id.desc())


def list_evaluations(
    *, session: Session, actor: Actor, first: int, size: int, **filters: Any
) -> tuple[list[Evaluation], int]:
    """Return a page of the visible evaluations (oldest call first) and how many there are."""
    query = evaluations_query(session=session, actor=actor, **filters)
    page = query.order_by(Evaluation.call_at, Evaluation.id).offset(first).limit(size)
    return list(session.scalars(page)), count(session, query)


def list_revisions(
    *, session: Session, actor: Actor, evaluation_id: int
) -> list[EvaluationRevision]:
    """Return every revision of a visible evaluation, oldest first."""
    evaluation = get_evaluation(session=session, actor=actor, evaluation_id=evaluation_id)
    query = (
        select(EvaluationRevision)
        .where(EvaluationRevision.evaluation_id == evaluation.id)
        .order_by(EvaluationRevision.revision)
    )
    return list(session.scalars(query))
