"""Contracts between a client and a supplier, and their versioned terms."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.accounts.models import Organization
from service.database.engine import Base, BigId, Document, UTCDateTime, utcnow


class Contract(Base):
    __tablename__ = "contracts"
    __table_args__ = (UniqueConstraint("client_id", "supplier_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The last day the contract runs; months after it are never closed. Null: open-ended.
    ends_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The key of the contract's agent pseudonyms (DESIGN 18): made once, never shown to anyone.
    privacy_key: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(32))

    client: Mapped[Organization] = relationship(foreign_keys=[client_id], lazy="joined")
    supplier: Mapped[Organization] = relationship(foreign_keys=[supplier_id], lazy="joined")
    terms_versions: Mapped[list[TermsVersion]] = relationship(
        back_populates="contract", order_by="TermsVersion.effective_from"
    )


class TermsVersion(Base):
    """A terms document in force from `effective_from` until the next version starts."""

    __tablename__ = "terms_versions"
    __table_args__ = (UniqueConstraint("contract_id", "effective_from"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    effective_from: Mapped[date]
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    document: Mapped[dict[str, Any]] = mapped_column(Document)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    contract: Mapped[Contract] = relationship(back_populates="terms_versions")
