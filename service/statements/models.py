"""Payout statements: one per contract and period, draft until frozen for good."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contracts.money import minor_unit
from contracts.periods import Period
from service.agreements.models import Contract
from service.database.engine import Base, BigId, Document, Month, UTCDateTime, utcnow


class Statement(Base):
    """A contract's payout for a period.

    Amounts are kept in the currency's minor unit (cents for EUR), exact and summable in SQL;
    the lines, with their amounts as strings, and the figures they came from are documents.
    """

    __tablename__ = "statements"
    __table_args__ = (
        UniqueConstraint("contract_id", "period"),
        CheckConstraint("status IN ('draft', 'final')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    period: Mapped[Period] = mapped_column(Month, index=True)
    status: Mapped[str] = mapped_column(String(8), default="draft")
    currency: Mapped[str] = mapped_column(String(3))
    terms_version_id: Mapped[int] = mapped_column(ForeignKey("terms_versions.id"))
    figures: Mapped[dict[str, Any]] = mapped_column(Document)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(Document)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    volume_only_minor: Mapped[int] = mapped_column(BigInteger)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalized_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    contract: Mapped[Contract] = relationship(lazy="joined")
    # The corrections of earlier final statements this one carries as lines (see below).
    carried: Mapped[list[CarriedAdjustment]] = relationship(
        foreign_keys="CarriedAdjustment.statement_id", cascade="all, delete-orphan"
    )

    @property
    def total(self) -> Decimal:
        return Decimal(self.total_minor).scaleb(-minor_unit(self.currency))

    @property
    def volume_only(self) -> Decimal:
        return Decimal(self.volume_only_minor).scaleb(-minor_unit(self.currency))

    @property
    def is_final(self) -> bool:
        return self.status == "final"


class CarriedAdjustment(Base):
    """A correction of a final statement, carried as a line by a later statement.

    The amounts a statement's `prior_period_adjustment` lines pay, kept as exact minor units
    beside the lines, so the next draft sums what was carried in SQL.
    """

    __tablename__ = "carried_adjustments"
    __table_args__ = (PrimaryKeyConstraint("statement_id", "corrects_id"),)

    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"))
    corrects_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class ReportFile(Base):
    """A file made once when a statement is finalized: CSV, XLSX or a printable HTML page."""

    __tablename__ = "report_files"
    __table_args__ = (UniqueConstraint("statement_id", "format"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(8))
    media_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
