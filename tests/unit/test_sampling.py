"""The draw of a period's samples (DESIGN 13): pure, deterministic, and nobody's choice.

The two-stage draw is the one new terms use; the per-agent draw stays for the months drawn
with it, which still verify.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections import Counter
from collections.abc import Callable, Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.sampling import (
    SampleSizes,
    Stage,
    TwoStage,
    commitment,
    draw,
    draw_audit,
    draw_self,
    rank_key,
)

SEED = bytes(range(32))


def reference_draw(
    calls: list[tuple[str, str]], seed: bytes, per_agent: int, minimum: int, purpose: str
) -> list[str]:
    """DESIGN 13 in a few plain lines: rank each agent's calls, take the first, top up."""

    def key(call_ref: str) -> str:
        return hmac.new(seed, f"{purpose}:{call_ref}".encode(), hashlib.sha256).hexdigest()

    agents = sorted({agent for _, agent in calls})
    taken = [
        ref
        for agent in agents
        for ref in sorted((ref for ref, a in calls if a == agent), key=key)[:per_agent]
    ]
    for ref in sorted((ref for ref, _ in calls), key=key):
        if len(taken) >= minimum:
            break
        if ref not in taken:
            taken.append(ref)
    return sorted(taken, key=key)


call_logs = st.lists(
    st.tuples(st.text(min_size=1, max_size=12), st.sampled_from(["a1", "a2", "a3", "a4", "a5"])),
    max_size=80,
    unique_by=lambda call: call[0],
)
sizes = st.builds(
    SampleSizes,
    audit_per_agent=st.integers(0, 6),
    audit_min=st.integers(0, 40),
    self_per_agent=st.integers(0, 6),
)


@settings(max_examples=200, deadline=None)
@given(calls=call_logs, sizes=sizes, seed=st.binary(min_size=32, max_size=32))
def test_the_draw_equals_the_plain_reference_implementation(
    calls: list[tuple[str, str]], sizes: SampleSizes, seed: bytes
) -> None:
    samples = draw(iter(calls), seed, sizes)

    audit = [call.call_ref for call in samples.audit]
    own = [call.call_ref for call in samples.self_assessment]
    assert audit == reference_draw(calls, seed, sizes.audit_per_agent, sizes.audit_min, "audit")
    assert own == reference_draw(calls, seed, sizes.self_per_agent, 0, "self")


@settings(max_examples=100, deadline=None)
@given(calls=call_logs, sizes=sizes, seed=st.binary(min_size=32, max_size=32), order=st.randoms())
def test_the_draw_is_deterministic_whatever_the_order_of_the_log(
    calls: list[tuple[str, str]], sizes: SampleSizes, seed: bytes, order: random.Random
) -> None:
    shuffled = list(calls)
    order.shuffle(shuffled)

    assert draw(iter(calls), seed, sizes) == draw(iter(shuffled), seed, sizes)


@settings(max_examples=100, deadline=None)
@given(calls=call_logs, sizes=sizes, seed=st.binary(min_size=32, max_size=32))
def test_each_agent_gives_exactly_its_share_and_the_top_up_never_repeats_a_call(
    calls: list[tuple[str, str]], sizes: SampleSizes, seed: bytes
) -> None:
    samples = draw(iter(calls), seed, sizes)

    logged = Counter(agent for _, agent in calls)
    for purpose, per_agent in (("audit", sizes.audit_per_agent), ("self", sizes.self_per_agent)):
        sample = samples.of(purpose)
        by_agent = Counter(call.agent_ref for call in sample if call.via == "agent")
        assert by_agent == {
            agent: min(per_agent, count) for agent, count in logged.items() if per_agent
        }
        refs = [call.call_ref for call in sample]
        assert len(refs) == len(set(refs))
        assert [call.rank_key for call in sample] == sorted(call.rank_key for call in sample)
    expected = max(min(sizes.audit_min, len(calls)), sum(by_agent_share(logged, sizes)))
    assert len(samples.audit) == expected
    assert not any(call.via == "top_up" for call in samples.self_assessment)


def by_agent_share(logged: Counter[str], sizes: SampleSizes) -> list[int]:
    return [min(sizes.audit_per_agent, count) for count in logged.values()]


def test_another_seed_draws_another_sample() -> None:
    calls = [(f"call-{number:04d}", f"agent-{number % 5}") for number in range(200)]
    sizes = SampleSizes(audit_per_agent=3, audit_min=20, self_per_agent=3)

    first = draw(iter(calls), SEED, sizes)
    second = draw(iter(calls), bytes(reversed(SEED)), sizes)

    assert {call.call_ref for call in first.audit} != {call.call_ref for call in second.audit}
    assert {c.call_ref for c in first.self_assessment} != {
        c.call_ref for c in second.self_assessment
    }


def test_a_rank_key_is_the_hmac_of_the_purpose_and_the_call_in_hex() -> None:
    key = rank_key(SEED, "audit", "CALL-1")

    assert key == hmac.new(SEED, b"audit:CALL-1", hashlib.sha256).hexdigest()
    assert draw(iter([("CALL-1", "a")]), SEED, SampleSizes(1)).audit[0].rank_key == key


def test_the_commitment_is_the_sha256_of_the_seed_in_hex() -> None:
    assert commitment(SEED) == hashlib.sha256(SEED).hexdigest()


def test_the_audit_sample_is_topped_up_from_the_whole_period_to_its_minimum() -> None:
    calls = [(f"call-{number}", "only-agent") for number in range(30)]

    samples = draw(iter(calls), SEED, SampleSizes(audit_per_agent=2, audit_min=10))

    assert [call.via for call in samples.audit].count("agent") == 2
    assert [call.via for call in samples.audit].count("top_up") == 8
    assert samples.self_assessment == ()


def test_a_small_log_gives_every_call_and_no_more() -> None:
    calls = [("a", "x"), ("b", "y")]

    samples = draw(iter(calls), SEED, SampleSizes(audit_per_agent=3, audit_min=60))

    assert sorted(call.call_ref for call in samples.audit) == ["a", "b"]


def test_a_seed_is_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        draw(iter([]), b"short", SampleSizes(1))


def test_sizes_are_not_negative() -> None:
    with pytest.raises(ValueError, match="audit_min"):
        SampleSizes(audit_per_agent=1, audit_min=-1)


# The two-stage scheme ----------------------------------------------------------------------


def plain_two_stage(
    calls: list[tuple[str, str]], seed_self: bytes, seed_audit: bytes, sizes: TwoStage
) -> tuple[list[str], list[str]]:
    """DESIGN 13 in a few plain lines: the lowest self keys of the month, then the lowest
    audit keys of those."""

    def key(seed: bytes, purpose: str) -> Callable[[str], str]:
        return lambda ref: hmac.new(seed, f"{purpose}:{ref}".encode(), hashlib.sha256).hexdigest()

    own = sorted((ref for ref, _ in calls), key=key(seed_self, "self"))[: sizes.self_stage.size]
    audit = sorted(own, key=key(seed_audit, "audit"))[: sizes.audit_stage.size]
    return own, audit


def two_stage(
    calls: Iterable[tuple[str, str]], seed_self: bytes, seed_audit: bytes, sizes: TwoStage
) -> tuple[list[str], list[str]]:
    own, _ = draw_self(calls, seed_self, sizes.self_stage.size)
    audit = draw_audit(own, seed_audit, sizes.audit_stage.size)
    return [call.call_ref for call in own], [call.call_ref for call in audit]


stages = st.builds(
    lambda own, audit: TwoStage(Stage(own, 7), Stage(min(own, audit), 10)),
    st.integers(0, 40),
    st.integers(0, 40),
)


@settings(max_examples=200, deadline=None)
@given(
    calls=call_logs,
    sizes=stages,
    seeds=st.tuples(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32)),
    order=st.randoms(),
)
def test_the_two_stage_draw_equals_the_plain_reference_whatever_the_order_of_the_log(
    calls: list[tuple[str, str]],
    sizes: TwoStage,
    seeds: tuple[bytes, bytes],
    order: random.Random,
) -> None:
    shuffled = list(calls)
    order.shuffle(shuffled)

    own, audit = two_stage(iter(shuffled), *seeds, sizes)

    assert (own, audit) == plain_two_stage(calls, *seeds, sizes)
    assert set(audit) <= set(own)
    assert len(own) == min(sizes.self_stage.size, len(calls))


def test_a_two_stage_sample_keeps_each_calls_key_and_counts_the_log() -> None:
    calls = [(f"call-{number}", "agent") for number in range(50)]

    own, count = draw_self(iter(calls), SEED, 10)
    audit = draw_audit(own, bytes(reversed(SEED)), 3)

    assert count == 50 and len(own) == 10 and len(audit) == 3
    assert own[0].rank_key == rank_key(SEED, "self", own[0].call_ref)
    assert audit[0].rank_key == rank_key(bytes(reversed(SEED)), "audit", audit[0].call_ref)
    assert [call.rank_key for call in own] == sorted(call.rank_key for call in own)


# A month as issue 20 measured it: 2,000 calls, 200 of them bad, over 20 agents.
MONTH = [f"call-{number:04d}" for number in range(2_000)]
BAD = set(MONTH[::10])


def honest_agents() -> list[tuple[str, str]]:
    return [(ref, f"agent-{number % 20:02d}") for number, ref in enumerate(MONTH)]


def steered_agents() -> list[tuple[str, str]]:
    """The same calls, every bad one booked on one "agent" and 120 good ones on agents of
    their own: what the supplier who declares the agents would do to a per-agent quota."""
    good = [ref for ref in MONTH if ref not in BAD]
    loners = {ref: f"loner-{number:03d}" for number, ref in enumerate(good[:120])}
    return [
        (ref, "dump" if ref in BAD else loners.get(ref, f"agent-{number % 20:02d}"))
        for number, ref in enumerate(MONTH)
    ]


SIZES = TwoStage(Stage(200, 7), Stage(60, 10))  # the shipped sampled terms
SEEDS = 300


def test_reassigning_agents_changes_no_calls_chance_of_being_audited() -> None:
    rng = random.Random(20)
    honest, steered = honest_agents(), steered_agents()
    bad_audited = 0
    for _ in range(SEEDS):
        seeds = rng.randbytes(32), rng.randbytes(32)
        own, audit = two_stage(iter(honest), *seeds, SIZES)
        # Whatever agents the supplier declares, every seed draws the very same calls.
        assert two_stage(iter(steered), *seeds, SIZES) == (own, audit)
        bad_audited += sum(ref in BAD for ref in audit)

    share = bad_audited / (SEEDS * SIZES.audit_stage.size)
    assert 0.09 < share < 0.11  # every call's chance: 10% of the audits are of bad calls


def test_the_retired_per_agent_draw_was_steered_by_the_agents_declared() -> None:
    rng = random.Random(20)
    sizes = SampleSizes(audit_per_agent=3, audit_min=60)
    shares = {}
    for name, calls in (("honest", honest_agents()), ("steered", steered_agents())):
        bad = total = 0
        for _ in range(SEEDS // 3):
            audit = draw(iter(calls), rng.randbytes(32), sizes).audit
            bad += sum(call.call_ref in BAD for call in audit)
            total += len(audit)
        shares[name] = bad / total

    assert shares["honest"] > 0.08 and shares["steered"] < 0.03
