"""Calibration sessions, their calls and participants, and the participants' scores.

Calibration scores are not evaluations: they live in their own table and never count in any
figure, sample, dispute or statement.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.accounts.models import User
from service.agreements.models import Contract
from service.database.engine import Base, BigId, Document, UTCDateTime, utcnow

STATUSES = ("open", "closed")
# Who a participant scores for: the contract's client, its supplier, or an admin's third party.
SIDES = ("client", "supplier", "third_party")


class CalibrationSession(Base):
    """Several people score the same calls blind; the agreement is measured at the close."""

    __tablename__ = "calibration_sessions"
    __table_args__ = (CheckConstraint("status IN ('open', 'closed')", name="status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(8), default="open")
    reference_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    # The bootstrap's seed, drawn at creation and kept, so the interval can be recomputed.
    seed: Mapped[int] = mapped_column(BigInteger)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Computed once, at the close (see contracts.agreement), and never again.
    agreement: Mapped[dict[str, Any] | None] = mapped_column(Document)

    contract: Mapped[Contract] = relationship()
    calls: Mapped[list[CalibrationCall]] = relationship(
        order_by="CalibrationCall.position", cascade="all, delete-orphan"
    )
    participants: Mapped[list[CalibrationParticipant]] = relationship(
        order_by="CalibrationParticipant.position", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def alpha(self) -> Decimal | None:
        """Return the session's alpha on the total scores, once closed and where defined."""
        found = (self.agreement or {}).get("alpha")
        return None if found is None else Decimal(found)


class CalibrationCall(Base):
    """One call of a session, with the instant that decides the form it is scored on."""

    __tablename__ = "calibration_calls"

    session_id: Mapped[int] = mapped_column(ForeignKey("calibration_sessions.id"), primary_key=True)
    call_ref: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int]
    call_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalibrationParticipant(Base):
    """One person who scores every call of a session."""

    __tablename__ = "calibration_participants"
    __table_args__ = (
        CheckConstraint("side IN ('client', 'supplier', 'third_party')", name="side"),
    )

    session_id: Mapped[int] = mapped_column(ForeignKey("calibration_sessions.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    position: Mapped[int]
    side: Mapped[str] = mapped_column(String(16))

    user: Mapped[User] = relationship(lazy="joined")


class CalibrationScore(Base):
    """One participant's answers for one call of a session, scored as an evaluation is."""

    __tablename__ = "calibration_scores"
    __table_args__ = (UniqueConstraint("session_id", "call_ref", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("calibration_sessions.id"), index=True)
    call_ref: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(Document)
    score_hundredths: Mapped[int | None]
    passed: Mapped[bool | None]
    critical_errors: Mapped[list[str]] = mapped_column(Document)
    section_scores: Mapped[dict[str, Any]] = mapped_column(Document)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def score(self) -> Decimal | None:
        hundredths = self.score_hundredths
        return None if hundredths is None else Decimal(hundredths).scaleb(-2)
