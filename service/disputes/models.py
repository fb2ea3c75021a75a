"""Disputes of audits: the contested questions and every step taken (DESIGN 12)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contracts.periods import Period
from service.accounts.models import User
from service.database.engine import Base, BigId, Document, Month, UTCDateTime, utcnow
from service.evaluations.models import Evaluation

# One unresolved dispute per evaluation, enforced by the database itself.
UNRESOLVED_SQL = "status IN ('open', 'escalated')"


class Dispute(Base):
    """A supplier's dispute of one audit, in one of the states of `contracts.disputes`."""

    __tablename__ = "disputes"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'decided', 'escalated', 'arbitrated', 'withdrawn')", name="status"
        ),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('accepted', 'partly_accepted', 'rejected')",
            name="outcome",
        ),
        Index("ix_disputes_contract_period", "contract_id", "period"),
        Index(
            "ix_disputes_one_unresolved",
            "evaluation_id",
            unique=True,
            sqlite_where=text(UNRESOLVED_SQL),
            postgresql_where=text(UNRESOLVED_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    # The evaluation's month in the contract's time zone: whose statement it can move.
    period: Mapped[Period] = mapped_column(Month)
    status: Mapped[str] = mapped_column(String(16), default="open")
    outcome: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decide_by: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalate_by: Mapped[datetime | None] = mapped_column(UTCDateTime)

    evaluation: Mapped[Evaluation] = relationship(lazy="joined", foreign_keys=[evaluation_id])
    items: Mapped[list[DisputeItem]] = relationship(
        order_by="DisputeItem.position", cascade="all, delete-orphan"
    )
    steps: Mapped[list[DisputeStep]] = relationship(
        order_by="DisputeStep.id", cascade="all, delete-orphan"
    )

    def inputs_months(self) -> tuple[tuple[int, Period], ...]:
        """The month whose dispute figures this dispute is an input of."""
        return ((self.contract_id, self.period),)


class DisputeItem(Base):
    """One contested question: the proposed answer, the decision and the arbitration."""

    __tablename__ = "dispute_items"
    __table_args__ = (UniqueConstraint("dispute_id", "question"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"))
    position: Mapped[int]
    question: Mapped[str] = mapped_column(String(100))
    # "yes", "no", "na" or a number on the question's scale, as the answers hold it.
    proposed_answer: Mapped[Any] = mapped_column(Document)
    reason: Mapped[str] = mapped_column(Text)
    decision_accepted: Mapped[bool | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    arbitration_accepted: Mapped[bool | None]
    arbitration_reason: Mapped[str | None] = mapped_column(Text)


class DisputeStep(Base):
    """A step of a dispute's thread: who took it, when, why, and the score around it."""

    __tablename__ = "dispute_steps"
    __table_args__ = (
        CheckConstraint(
            "step IN ('opened', 'decided', 'escalated', 'arbitrated', 'withdrawn')", name="step"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    step: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    score_before_hundredths: Mapped[int | None]
    score_after_hundredths: Mapped[int | None]
    revision: Mapped[int | None]

    author: Mapped[User | None] = relationship(lazy="joined")

    @property
    def score_before(self) -> Decimal | None:
        """Return the evaluation's score before the step (None when every answer was N/A)."""
        return _points(self.score_before_hundredths)

    @property
    def score_after(self) -> Decimal | None:
        """Return the evaluation's score after the step."""
        return _points(self.score_after_hundredths)


def _points(hundredths: int | None) -> Decimal | None:
    return None if hundredths is None else Decimal(hundredths).scaleb(-2)
