"""Published evaluation forms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, PrimaryKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.database.engine import Base, BigId, Document, UTCDateTime, utcnow


class Form(Base):
    """One immutable version of an evaluation form, owned by a client organization."""

    __tablename__ = "forms"
    __table_args__ = (UniqueConstraint("organization_id", "code", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    code: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    document: Mapped[dict[str, Any]] = mapped_column(Document)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def ref(self) -> str:
        return f"{self.code}@{self.version}"


class FormShare(Base):
    """A client's forms shared with a supplier (from its first contract with it, for good).

    The supplier reads them to score its calls; a share is never taken back, so a supplier
    can always read the form of an evaluation it once submitted.
    """

    __tablename__ = "form_shares"
    __table_args__ = (PrimaryKeyConstraint("owner_id", "reader_id"),)

    owner_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
