"""A contract's month of figures as stored for readers (DESIGN §5); its stamp is in
`service.database.stamps`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from contracts.periods import Period
from service.database.engine import Base, BigId, Document, Month, UTCDateTime, utcnow


class MonthFigures(Base):
    """A contract's month of figures as last computed, with the stamp and the terms version
    they were computed at: current while both still are."""

    __tablename__ = "month_figures"

    contract_id: Mapped[int] = mapped_column(BigId, ForeignKey("contracts.id"), primary_key=True)
    period: Mapped[Period] = mapped_column(Month, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    terms_version_id: Mapped[int] = mapped_column(BigId, ForeignKey("terms_versions.id"))
    figures: Mapped[dict[str, Any]] = mapped_column(Document)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
