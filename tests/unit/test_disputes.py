from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.disputes import (
    STATUSES,
    Dispute,
    IllegalStep,
    Item,
    Verdict,
    arbitrate,
    decide,
    escalate,
    open_dispute,
    outcome_of,
    window_closes,
    withdraw,
)
from contracts.errors import RuleError
from contracts.terms import Disputes

T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
DEADLINES = Disputes(decide_within_days=10, escalate_within_days=5)
ITEMS = (Item("greeting", "yes", "she greeted"), Item("tone", 4, "calm throughout"))


def opened() -> Dispute:
    return open_dispute(ITEMS, T0, DEADLINES)


def verdicts(*accepted: bool) -> list[Verdict]:
    return [
        Verdict(item.question, flag, "because") for item, flag in zip(ITEMS, accepted, strict=False)
    ]


def test_an_opened_dispute_must_be_decided_within_the_terms_days() -> None:
    dispute = opened()
    assert (dispute.status, dispute.outcome) == ("open", None)
    assert dispute.decide_by == T0 + timedelta(days=10)


def test_a_dispute_contests_each_question_once() -> None:
    with pytest.raises(RuleError) as refused:
        open_dispute((ITEMS[0], ITEMS[0]), T0, DEADLINES)
    assert refused.value.errors == {"items.1.question": ["contested twice"]}
    with pytest.raises(RuleError, match="at least one"):
        open_dispute((), T0, DEADLINES)


@pytest.mark.parametrize(
    ("accepted", "outcome"),
    [((True, True), "accepted"), ((True, False), "partly_accepted"), ((False, False), "rejected")],
)
def test_a_decision_reads_by_how_many_questions_it_accepted(
    accepted: tuple[bool, bool], outcome: str
) -> None:
    decided = decide(opened(), verdicts(*accepted), T0 + timedelta(days=1), DEADLINES)
    assert (decided.status, decided.outcome) == ("decided", outcome)
    assert decided.escalate_by == T0 + timedelta(days=6)


def test_a_decision_names_every_contested_question_exactly_once() -> None:
    with pytest.raises(RuleError) as missing:
        decide(opened(), verdicts(True), T0, DEADLINES)
    assert missing.value.errors == {"items": ["decide every question: tone left undecided"]}
    twice = [*verdicts(True, True), Verdict("tone", False, "again")]
    with pytest.raises(RuleError) as repeated:
        decide(opened(), twice, T0, DEADLINES)
    assert repeated.value.errors == {"items.2.question": ["decided twice"]}
    with pytest.raises(RuleError) as unknown:
        decide(opened(), [*verdicts(True, True), Verdict("hold", True, "-")], T0, DEADLINES)
    assert "items.2.question" in unknown.value.errors


def test_only_a_rejection_is_escalated_and_only_before_its_deadline() -> None:
    accepted = decide(opened(), verdicts(True, True), T0, DEADLINES)
    with pytest.raises(RuleError, match="nothing to escalate"):
        escalate(accepted, T0)
    rejected = decide(opened(), verdicts(True, False), T0, DEADLINES)
    assert escalate(rejected, T0 + timedelta(days=5)).status == "escalated"
    with pytest.raises(RuleError) as late:
        escalate(rejected, T0 + timedelta(days=5, seconds=1))
    assert late.value.errors == {
        "escalate_by": ["the escalation window closed at 2026-03-08T09:00:00+00:00"]
    }


def test_arbitration_rules_on_the_rejected_questions_and_is_final() -> None:
    escalated = escalate(decide(opened(), verdicts(True, False), T0, DEADLINES), T0)
    with pytest.raises(RuleError):
        arbitrate(escalated, [Verdict("greeting", False, "no")])  # was accepted already
    final = arbitrate(escalated, [Verdict("tone", True, "the recording is calm")])
    assert (final.status, final.outcome) == ("arbitrated", "accepted")
    with pytest.raises(IllegalStep) as again:
        arbitrate(final, [Verdict("tone", False, "changed my mind")])
    assert again.value.status == "arbitrated"


def test_a_dispute_nobody_decided_in_time_goes_to_the_arbiter_whole() -> None:
    with pytest.raises(IllegalStep, match="open cannot be escalated"):
        escalate(opened(), T0 + timedelta(days=10))
    escalated = escalate(opened(), T0 + timedelta(days=10, seconds=1))
    assert (escalated.status, escalated.outcome) == ("escalated", None)
    final = arbitrate(escalated, verdicts(True, False))
    assert (final.status, final.outcome) == ("arbitrated", "partly_accepted")


def test_only_an_open_dispute_is_withdrawn() -> None:
    assert withdraw(opened()).status == "withdrawn"
    with pytest.raises(IllegalStep, match="decided cannot be withdrawn"):
        withdraw(decide(opened(), verdicts(False, False), T0, DEADLINES))


def test_the_window_counts_from_the_latest_revision() -> None:
    assert window_closes(T0, 5) == T0 + timedelta(days=5)
    assert outcome_of([]) == "accepted"  # nothing contested is nothing refused


STEPS = st.lists(
    st.tuples(
        st.sampled_from(["decide", "escalate", "arbitrate", "withdraw"]),
        st.lists(st.booleans(), min_size=0, max_size=3),
        st.integers(0, 8),
    ),
    max_size=8,
)


def _apply(dispute: Dispute, step: str, flags: list[bool], now: datetime) -> Dispute:
    """Take a step with verdicts for the first questions awaiting one (maybe too few)."""
    awaiting = [item.question for item in dispute.items]
    if step == "arbitrate":
        awaiting = list(dispute.not_accepted)
    given = [Verdict(question, flag, "r") for question, flag in zip(awaiting, flags, strict=False)]
    if step == "decide":
        return decide(dispute, given, now, DEADLINES)
    if step == "escalate":
        return escalate(dispute, now)
    if step == "arbitrate":
        return arbitrate(dispute, given)
    return withdraw(dispute)


def _check_legal(dispute: Dispute) -> None:
    assert dispute.status in STATUSES
    decided = [item.decision is not None for item in dispute.items]
    arbitrated = [item.arbitration is not None for item in dispute.items]
    if dispute.status in ("open", "withdrawn"):
        assert not any(decided) and not any(arbitrated) and dispute.outcome is None
        return
    # Decided as a whole or not at all; an undecided dispute is escalated only when overdue.
    assert all(decided) or not any(decided)
    assert (dispute.decided_at is not None) == all(decided)
    if not any(decided):
        assert dispute.status in ("escalated", "arbitrated")
    if dispute.status == "arbitrated":
        assert dispute.not_accepted  # only what was not accepted reaches an arbiter
        for item in dispute.items:
            assert (item.arbitration is not None) == (item.question in dispute.not_accepted)
        assert dispute.outcome is not None
    else:
        assert not any(arbitrated)
        assert (dispute.outcome is not None) == all(decided)


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_no_sequence_of_calls_reaches_an_illegal_state(
    steps: list[tuple[str, list[bool], int]],
) -> None:
    dispute = opened()
    now = T0
    for step, flags, days in steps:
        now += timedelta(days=days)
        before = dispute
        try:
            dispute = _apply(dispute, step, flags, now)
        except (IllegalStep, RuleError):
            assert dispute is before
        _check_legal(dispute)
