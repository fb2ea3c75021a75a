"""Scored evaluations of calls."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contracts.terms import SOURCES
from service.db import Base, BigId, Document, UTCDateTime, utcnow
from service.forms.models import Form

# The sources, as the rules name them; the pages and schemas read them from here.
__all__ = ["SOURCES", "Evaluation"]


class Evaluation(Base):
    """One call scored against one form version by one source.

    The score is kept in hundredths of a point (8750 is 87.50): exact, and summable in SQL
    on every database. Critical errors are one flag per COPC category for the same reason.
    """

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("contract_id", "call_ref", "source"),
        Index("ix_evaluations_contract_call_at", "contract_id", "call_at"),
        CheckConstraint("source IN ('supplier', 'client', 'third_party')", name="source"),
        CheckConstraint(
            "score_hundredths IS NULL OR score_hundredths BETWEEN 0 AND 10000", name="score"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    call_ref: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))
    agent_ref: Mapped[str] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    call_at: Mapped[datetime] = mapped_column(UTCDateTime)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(Document)
    evaluator_ref: Mapped[str | None] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    score_hundredths: Mapped[int | None]
    passed: Mapped[bool | None]
    critical_customer: Mapped[bool] = mapped_column(default=False)
    critical_business: Mapped[bool] = mapped_column(default=False)
    critical_compliance: Mapped[bool] = mapped_column(default=False)
    section_scores: Mapped[dict[str, Any]] = mapped_column(Document)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    form: Mapped[Form] = relationship(lazy="joined")

    @property
    def score(self) -> Decimal | None:
        """Return the score as a 2-decimal number (None when every question was N/A)."""
        hundredths = self.score_hundredths
        return None if hundredths is None else Decimal(hundredths).scaleb(-2)

    @property
    def critical_errors(self) -> list[str]:
        flags = {
            "customer": self.critical_customer,
            "business": self.critical_business,
            "compliance": self.critical_compliance,
        }
        return [category for category, failed in flags.items() if failed]
