"""A contract's import profiles: what a telephony format cannot say by itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.database.engine import Base, BigId, Document, UTCDateTime, utcnow


class ImportProfile(Base):
    """How a contract's files of one format are read (DESIGN §19); one per contract and format.

    `document` holds exactly the keys `timezone`, `agent`, `directions` and `queue`, checked
    when it was stored.
    """

    __tablename__ = "import_profiles"
    __table_args__ = (UniqueConstraint("contract_id", "format"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    format: Mapped[str] = mapped_column(String(16))
    document: Mapped[dict[str, Any]] = mapped_column(Document)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
