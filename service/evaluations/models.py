"""Scored evaluations of calls, and every revision of each (DESIGN 12)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contracts.periods import Period
from contracts.terms import SOURCES
from service.accounts.models import User
from service.database.engine import Base, BigId, Document, Month, UTCDateTime, utcnow
from service.forms.models import Form

# The sources, as the rules name them; the pages and schemas read them from here.
__all__ = ["REVISION_KINDS", "SOURCES", "Evaluation", "EvaluationRevision"]

# What made a revision: the submission, an amendment or a retraction by the author side, or
# a dispute's decision or arbitration.
REVISION_KINDS = ("submission", "amendment", "retraction", "decision", "arbitration")


class Scored:
    """An answer set with its score, as an evaluation and each of its revisions keep it.

    The score is kept in hundredths of a point (8750 is 87.50): exact, and summable in SQL
    on every database. Critical errors are one flag per COPC category for the same reason.
    """

    answers: Mapped[dict[str, Any]] = mapped_column(Document)
    score_hundredths: Mapped[int | None]
    passed: Mapped[bool | None]
    critical_customer: Mapped[bool] = mapped_column(default=False)
    critical_business: Mapped[bool] = mapped_column(default=False)
    critical_compliance: Mapped[bool] = mapped_column(default=False)
    section_scores: Mapped[dict[str, Any]] = mapped_column(Document)
    retracted: Mapped[bool] = mapped_column(default=False)

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


SCORED_COLUMNS = (
    "answers",
    "score_hundredths",
    "passed",
    "critical_customer",
    "critical_business",
    "critical_compliance",
    "section_scores",
    "retracted",
)


class Evaluation(Scored, Base):
    """One call scored against one form version by one source, as its current revision says.

    The row holds the current revision's answers and score (what every aggregate reads);
    `evaluation_revisions` keeps all of them. Only the evaluations service writes both, in
    one transaction. `content_hash` stays the submission's: resubmitting it is idempotent.
    """

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("contract_id", "call_ref", "source"),
        Index("ix_evaluations_contract_call_at", "contract_id", "call_at"),
        # A month's figures read this index alone (see migrations 0014 and 0018).
        Index(
            "ix_evaluations_month",
            "period",
            "contract_id",
            "call_ref",
            postgresql_include=[
                "source",
                "form_id",
                "score_hundredths",
                "passed",
                "critical_customer",
                "critical_business",
                "critical_compliance",
                "retracted",
                "id",
                "created_at",
                "agent_ref",
                "team",
            ],
        ),
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
    # The contract's month the call falls in (in its terms' time zone), kept as the call is
    # stored: every figure of a month reads it, and a change of time zone moves no call.
    period: Mapped[Period] = mapped_column(Month)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    evaluator_ref: Mapped[str | None] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The current revision: its number and when it was made (a statement's inputs changed).
    revision: Mapped[int] = mapped_column(default=1)
    revised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The dispute waiting on this evaluation (open or escalated): no amendment meanwhile.
    held_by_dispute_id: Mapped[int | None] = mapped_column(
        ForeignKey("disputes.id", use_alter=True)
    )
    # Questions a dispute has decided: their answers change no more, by amendment or dispute.
    settled_questions: Mapped[list[str]] = mapped_column(Document, default=list)

    form: Mapped[Form] = relationship(lazy="joined")

    def inputs_months(self) -> tuple[tuple[int, Period], ...]:
        """The month whose figures this evaluation is an input of (`service.database.stamps`)."""
        return ((self.contract_id, self.period),)


class EvaluationRevision(Scored, Base):
    """One revision of an evaluation: the whole answer set and its score, who, when and why.

    Revision 1 is the submission. Never changed once written.
    """

    __tablename__ = "evaluation_revisions"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "revision"),
        CheckConstraint(
            "kind IN ('submission', 'amendment', 'retraction', 'decision', 'arbitration')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"))
    revision: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("disputes.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User | None] = relationship(lazy="joined")
