"""The call log of each contract, each period's committed seed and drawn samples, and how
the contract's telephony files are read (import profiles)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contracts.periods import Period
from service.database.engine import Base, BigId, Document, Month, UTCDateTime, utcnow

DIRECTIONS = ("inbound", "outbound")
OUTCOMES = ("answered", "abandoned", "no_answer", "busy", "failed")


def call_months(contract_id: int, period: Period) -> tuple[tuple[int, Period], ...]:
    """Return the months a call of `period` is an input of: its own, and the month before,
    whose repeat contacts look at most 28 days ahead (DESIGN 16)."""
    return ((contract_id, period), (contract_id, period.previous()))


class Call(Base):
    """One call handled under a contract, as the supplier logged it; never changed.

    Keyed by the contract and the call's reference, so logging it again is idempotent.
    `period` is the contract's month the call falls in (in the terms' time zone), kept so
    that a month of the log is read through one index. No foreign keys (to the contract, to
    the user who logged it): a month may hold millions of calls, logged only through the
    service for a contract and a user it has just read, and a key check per row more than
    doubles the time a month's log takes to load.
    """

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_contract_period", "contract_id", "period"),
        CheckConstraint("direction IS NULL OR direction IN ('inbound', 'outbound')", name="dir"),
        CheckConstraint("duration_s IS NULL OR duration_s >= 0", name="duration"),
        CheckConstraint(
            f"outcome IN ({', '.join(repr(each) for each in OUTCOMES)})", name="outcome"
        ),
        CheckConstraint("wait_s IS NULL OR wait_s >= 0", name="wait"),
        CheckConstraint("handle_s IS NULL OR handle_s >= 0", name="handle"),
    )

    contract_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    call_ref: Mapped[str] = mapped_column(String(200), primary_key=True)
    period: Mapped[Period] = mapped_column(Month)
    call_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # An abandoned call has no agent: it is stored as "" (shown as null), so the column keeps
    # its NOT NULL and the log is not rebuilt to drop it (DESIGN 16).
    agent_ref: Mapped[str] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    queue: Mapped[str | None] = mapped_column(String(200))
    direction: Mapped[str | None] = mapped_column(String(8))
    duration_s: Mapped[int | None] = mapped_column(Integer)
    # Service levels (DESIGN 16): how the call ended (a call logged without one is answered),
    # seconds in queue and handled, and the caller as a pseudonym (never a phone number).
    outcome: Mapped[str] = mapped_column(String(16), default="answered", server_default="answered")
    wait_s: Mapped[int | None] = mapped_column(Integer)
    handle_s: Mapped[int | None] = mapped_column(Integer)
    caller_ref: Mapped[str | None] = mapped_column(String(200))
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    logged_by: Mapped[int | None] = mapped_column(BigId)  # a user's id; None: the operator

    def inputs_months(self) -> tuple[tuple[int, Period], ...]:
        """The months whose figures this call is an input of: its own (units, coverage, logged
        calls, service levels) and the one before (a repeat contact of its calls)."""
        return call_months(self.contract_id, self.period)


class CallSample(Base):
    """A contract's period: its committed seeds, and the samples drawn with them (DESIGN 13).

    Two stages (`scheme` 2): the seeds of the self sample (`seed`) and of the audit sample
    (`seed_audit`) are committed in the month before, their SHA-256 shown at once; the self
    sample is drawn when the log closes (`drawn_at`), the audit sample out of it when the
    self-assessments are due (`audit_drawn_at`). Per agent (`scheme` 1, retired): one seed,
    both samples drawn when the log closes. Each seed is shown only once its sample is drawn.
    The seeds, the commitments and when they were made never change, nor does a stage once
    drawn (a trigger refuses it).
    """

    __tablename__ = "call_samples"
    __table_args__ = (UniqueConstraint("contract_id", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    period: Mapped[Period] = mapped_column(Month)
    scheme: Mapped[int] = mapped_column(default=1, server_default="1")
    seed: Mapped[str] = mapped_column(String(64))  # 32 bytes, lowercase hex: the self sample's
    commitment: Mapped[str] = mapped_column(String(64))  # sha256(seed), lowercase hex
    seed_audit: Mapped[str | None] = mapped_column(String(64))  # two stages: the audit sample's
    commitment_audit: Mapped[str | None] = mapped_column(String(64))
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The sizes drawn with (`contracts.sampling.SampleSizes` as a document, or two stages'
    # sizes), and when each stage was drawn.
    sizes: Mapped[dict[str, Any] | None] = mapped_column(Document)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    audit_drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    logged_calls: Mapped[int | None]  # how many calls the log held when drawn

    @property
    def drawn(self) -> bool:
        """Say whether the first stage is drawn (the one stage of scheme 1)."""
        return self.drawn_at is not None

    @property
    def audit_drawn(self) -> bool:
        """Say whether the audit sample is drawn (under scheme 1, with the self sample)."""
        return self.drawn if self.scheme == 1 else self.audit_drawn_at is not None

    def inputs_months(self) -> tuple[tuple[int, Period], ...]:
        """The month whose sample figures this commitment and its draw are inputs of."""
        return ((self.contract_id, self.period),)


class SampledCall(Base):
    """A call in one of a period's samples, with the rank key it was drawn by; never changed.

    `via` says how scheme 1 took it ("agent": among its agent's first; "top_up": by its rank
    over the whole month); a two-stage draw takes every call by its rank, as "top_up".
    `agent_ref` is the agent the call was logged under, kept to show: it plays no part in a
    two-stage draw.
    """

    __tablename__ = "sampled_calls"
    __table_args__ = (
        CheckConstraint("purpose IN ('audit', 'self')", name="purpose"),
        CheckConstraint("via IN ('agent', 'top_up')", name="via"),
    )

    sample_id: Mapped[int] = mapped_column(ForeignKey("call_samples.id"), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(8), primary_key=True)
    call_ref: Mapped[str] = mapped_column(String(200), primary_key=True)
    # An abandoned call has no agent: it is stored as "" (shown as null), so the column keeps
    # its NOT NULL and the log is not rebuilt to drop it (DESIGN 16).
    agent_ref: Mapped[str] = mapped_column(String(200))
    rank_key: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(8))


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
