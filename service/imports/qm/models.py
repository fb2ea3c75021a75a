"""What a QM product's imports leave beside Fiducia's own rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.database.engine import Base, Document, UTCDateTime, utcnow


class FormImport(Base):
    """A form version published from a QM product's form: the product's document as given,
    and the key that reads the product's evaluations as answers to it."""

    __tablename__ = "form_imports"

    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), primary_key=True)
    format: Mapped[str] = mapped_column(String(20))
    source: Mapped[dict[str, Any]] = mapped_column(Document)
    reading: Mapped[dict[str, Any]] = mapped_column(Document)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvaluationImport(Base):
    """An evaluation imported from a QM product, with the product's own score of it: kept
    beside Fiducia's, never trusted (Fiducia scores the answers by its own rules)."""

    __tablename__ = "evaluation_imports"

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), primary_key=True)
    format: Mapped[str] = mapped_column(String(20))
    # The product's percentage as it wrote it (a float's digits): exact, not rounded here.
    product_score: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
