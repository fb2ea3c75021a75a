"""The outbox of signed notices: one row per notice and receiver, until delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.database.engine import Base, BigId, Document, UTCDateTime, utcnow


class WebhookDelivery(Base):
    """A signed notice (a finalized statement, a dispute step), retried until delivered."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("organization_id", "statement_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # The statement a `statement.finalized` notice announces (other notices name none).
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"))
    url: Mapped[str] = mapped_column(String(2000))
    payload: Mapped[dict[str, Any]] = mapped_column(Document)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
