"""Survey answers of logged calls, and the client's daily counts of offered calls."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from contracts.periods import Period
from service.database.engine import Base, BigId, Month, UTCDateTime, utcnow


class SurveyAnswer(Base):
    """A caller's rating of one logged call, as the client (or an admin) sent it; one per call.

    `period` is the month of the call it rates (not of the answer), so a month's surveys are
    read through one index.
    """

    __tablename__ = "survey_answers"
    __table_args__ = (
        UniqueConstraint("contract_id", "call_ref"),
        Index("ix_survey_answers_contract_period", "contract_id", "period"),
        CheckConstraint("csat BETWEEN 1 AND 5", name="csat"),
        CheckConstraint("nps IS NULL OR nps BETWEEN 0 AND 10", name="nps"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    call_ref: Mapped[str] = mapped_column(String(200))
    period: Mapped[Period] = mapped_column(Month)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    csat: Mapped[int] = mapped_column(SmallInteger)
    resolved: Mapped[bool | None]
    nps: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def inputs_months(self) -> tuple[tuple[int, Period], ...]:
        """The month whose customer's-voice figures this answer is an input of."""
        return ((self.contract_id, self.period),)


class ClientCount(Base):
    """The client's own count of the calls offered on one day (its telephony bill, its ACD)."""

    __tablename__ = "client_counts"
    __table_args__ = (
        UniqueConstraint("contract_id", "day"),
        CheckConstraint("offered >= 0", name="offered"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    day: Mapped[date]
    offered: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def inputs_months(self) -> tuple[tuple[int, Period], ...]:
        """The month whose reconciliation this day's count is an input of."""
        return ((self.contract_id, Period.of(self.day)),)


class ClientCountChange(Base):
    """Who set a day's count to what, and when; `previous` is null on first entry."""

    __tablename__ = "client_count_changes"
    __table_args__ = (Index("ix_client_count_changes_contract_day", "contract_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    day: Mapped[date]
    previous: Mapped[int | None] = mapped_column(BigInteger)
    offered: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
