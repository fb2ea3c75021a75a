"""Disputes of an audit (DESIGN 12): their states, the steps between them, their deadlines.

A dispute is a plain value; each step returns the next value or refuses. Who may take a
step, and storing it, is the service's business; what a step may do is decided here.

    open --decide--> decided --escalate--> escalated --arbitrate--> arbitrated
      |  \\--withdraw--> withdrawn
      \\--escalate, once nobody decided by `decide_by`--> escalated
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from contracts.errors import RuleError
from contracts.terms import Disputes as Deadlines
from contracts.text import said

Status = Literal["open", "decided", "escalated", "arbitrated", "withdrawn"]
Outcome = Literal["accepted", "partly_accepted", "rejected"]

STATUSES: tuple[Status, ...] = ("open", "decided", "escalated", "arbitrated", "withdrawn")
# Still waiting for someone: the close holds a month back for these (DESIGN 12, money).
UNRESOLVED: tuple[Status, ...] = ("open", "escalated")
OUTCOMES: tuple[Outcome, ...] = ("accepted", "partly_accepted", "rejected")


class IllegalStep(Exception):
    """A step the dispute's status does not allow (the service answers 409)."""

    def __init__(self, step: str, status: Status) -> None:
        self.step = step
        self.status = status
        super().__init__(f"a dispute that is {status} cannot be {_PAST[step]}")


_PAST = {
    "decide": "decided",
    "escalate": "escalated",
    "arbitrate": "arbitrated",
    "withdraw": "withdrawn",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision or an arbitration on one contested question."""

    question: str
    accepted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Item:
    """One contested question: the answer the supplier proposes, and what became of it."""

    question: str
    proposed_answer: str | int
    reason: str
    decision: Verdict | None = None
    arbitration: Verdict | None = None

    @property
    def accepted(self) -> bool | None:
        """Return whether the proposed answer stands in the end (None: not decided yet)."""
        final = self.arbitration or self.decision
        return None if final is None else final.accepted


@dataclass(frozen=True, slots=True)
class Dispute:
    """A dispute's state: its status, its items and its deadlines."""

    status: Status
    items: tuple[Item, ...]
    opened_at: datetime
    decide_by: datetime
    decided_at: datetime | None = None
    escalate_by: datetime | None = None

    @property
    def outcome(self) -> Outcome | None:
        """Return how the decision (or the arbitration) went, once there is one."""
        if any(item.accepted is None for item in self.items):
            return None  # open, withdrawn, or escalated undecided
        return outcome_of(item.accepted for item in self.items)

    @property
    def rejected(self) -> tuple[str, ...]:
        """Return the questions whose decision rejected the proposed answer."""
        return tuple(
            item.question
            for item in self.items
            if item.decision is not None and not item.decision.accepted
        )

    @property
    def not_accepted(self) -> tuple[str, ...]:
        """Return the questions an arbiter rules on: rejected, or never decided."""
        return tuple(
            item.question
            for item in self.items
            if item.decision is None or not item.decision.accepted
        )


def outcome_of(accepted: Iterable[bool | None]) -> Outcome:
    """Name a set of verdicts: every question accepted, some, or none."""
    flags = [bool(flag) for flag in accepted]
    if all(flags):
        return "accepted"
    return "partly_accepted" if any(flags) else "rejected"


def window_closes(latest_revision_at: datetime, window_days: int) -> datetime:
    """Return when an audit stops being disputable: its latest revision plus the window."""
    return latest_revision_at + timedelta(days=window_days)


def open_dispute(items: Sequence[Item], now: datetime, deadlines: Deadlines) -> Dispute:
    """Open a dispute of the given questions, each contested once."""
    problems: dict[str, list[str]] = {}
    if not items:
        problems["items"] = [said("name at least one question")]
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.question in seen:
            problems[f"items.{index}.question"] = [said("contested twice")]
        seen.add(item.question)
    if problems:
        raise RuleError(problems)
    decide_by = now + timedelta(days=deadlines.decide_within_days)
    return Dispute("open", tuple(items), opened_at=now, decide_by=decide_by)


def decide(
    dispute: Dispute, verdicts: Sequence[Verdict], now: datetime, deadlines: Deadlines
) -> Dispute:
    """Decide every contested question once; the escalation window opens now."""
    if dispute.status != "open":
        raise IllegalStep("decide", dispute.status)
    by_question = _verdicts_for([item.question for item in dispute.items], verdicts)
    items = tuple(replace(item, decision=by_question[item.question]) for item in dispute.items)
    escalate_by = now + timedelta(days=deadlines.escalate_within_days)
    return replace(dispute, status="decided", items=items, decided_at=now, escalate_by=escalate_by)


def escalate(dispute: Dispute, now: datetime) -> Dispute:
    """Escalate to an arbiter: a decision that rejected a question, before its deadline, or a
    dispute nobody decided by its `decide_by` (the supplier is never left waiting for good)."""
    if dispute.status == "open":
        if now <= dispute.decide_by:
            raise IllegalStep("escalate", dispute.status)
        return replace(dispute, status="escalated")
    if dispute.status != "decided":
        raise IllegalStep("escalate", dispute.status)
    if not dispute.rejected:
        raise RuleError({"status": ["every question was accepted: there is nothing to escalate"]})
    assert dispute.escalate_by is not None  # a decided dispute has its escalation deadline
    if now > dispute.escalate_by:
        raise RuleError(
            {"escalate_by": [f"the escalation window closed at {dispute.escalate_by.isoformat()}"]}
        )
    return replace(dispute, status="escalated")


def arbitrate(dispute: Dispute, verdicts: Sequence[Verdict]) -> Dispute:
    """Arbitrate every question the decision did not accept, once; final."""
    if dispute.status != "escalated":
        raise IllegalStep("arbitrate", dispute.status)
    by_question = _verdicts_for(dispute.not_accepted, verdicts)
    items = tuple(
        replace(item, arbitration=by_question[item.question])
        if item.question in by_question
        else item
        for item in dispute.items
    )
    return replace(dispute, status="arbitrated", items=items)


def withdraw(dispute: Dispute) -> Dispute:
    """Withdraw a dispute nobody has decided yet."""
    if dispute.status != "open":
        raise IllegalStep("withdraw", dispute.status)
    return replace(dispute, status="withdrawn")


def _verdicts_for(questions: Sequence[str], verdicts: Sequence[Verdict]) -> dict[str, Verdict]:
    """Check the verdicts name each of `questions` exactly once; return them by question."""
    problems: dict[str, list[str]] = {}
    found: dict[str, Verdict] = {}
    for index, verdict in enumerate(verdicts):
        if verdict.question not in questions:
            problems[f"items.{index}.question"] = [said("is not a question awaiting this verdict")]
        elif verdict.question in found:
            problems[f"items.{index}.question"] = [said("decided twice")]
        else:
            found[verdict.question] = verdict
    missing = [question for question in questions if question not in found]
    if missing:
        problems["items"] = [
            said("decide every question: %(left)s left undecided", left=", ".join(missing))
        ]
    if problems:
        raise RuleError(problems)
    return found
