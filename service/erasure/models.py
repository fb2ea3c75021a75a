"""The record of each access and erasure request about one agent of a contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.database.engine import Base, BigId, Document, UTCDateTime, utcnow

REQUESTS = ("access", "erasure")


class PrivacyRequest(Base):
    """One access (GDPR art. 15) or erasure (art. 17) about one agent of a contract: who, when.

    The agent is recorded by its pseudonym, never its `agent_ref`: the record of an erasure
    must not keep what was erased.
    """

    __tablename__ = "privacy_requests"
    __table_args__ = (CheckConstraint("kind IN ('access', 'erasure')", name="kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    pseudonym: Mapped[str] = mapped_column(String(16))
    format: Mapped[str | None] = mapped_column(String(8))  # an access: json or csv
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    made_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the operator
    counts: Mapped[dict[str, Any]] = mapped_column(Document, default=dict)
