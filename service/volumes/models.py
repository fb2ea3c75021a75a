"""Daily volumes per contract, with every change kept."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contracts.periods import Period
from service.database.engine import Base, BigId, UTCDateTime, utcnow


class DailyVolume(Base):
    __tablename__ = "daily_volumes"
    __table_args__ = (
        UniqueConstraint("contract_id", "day"),
        CheckConstraint("units >= 0", name="units"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    day: Mapped[date]
    units: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def inputs_months(self) -> tuple[tuple[int, Period], ...]:
        """The month whose units this day is an input of."""
        return ((self.contract_id, Period.of(self.day)),)


class VolumeChange(Base):
    """Who set a day's units to what, and when; `previous_units` is null on first entry."""

    __tablename__ = "volume_changes"
    __table_args__ = (Index("ix_volume_changes_contract_day", "contract_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    day: Mapped[date]
    previous_units: Mapped[int | None] = mapped_column(BigInteger)
    units: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
