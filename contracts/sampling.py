"""Samples nobody can steer: which logged calls each side evaluates (DESIGN 13).

Pure: a period's logged calls and seeds in, the samples out. A call's rank key is
`hmac_sha256(key=seed, msg=f"{purpose}:{call_ref}")` in lowercase hex.

Two schemes. The two-stage scheme (2) draws the self sample as the `self.size` calls of the
month with the lowest keys under `seed_self`, then the audit sample as the `audit.size` calls
*of the self sample* with the lowest keys under `seed_audit`: every call has the same chance
whatever agent it was logged under, and every audited call has a self-assessment the supplier
made before it could know it would be audited. The first scheme (1, retired) took the lowest
keys per agent under one seed and topped the audit sample up from the whole month; a per-agent
quota let whoever declares the agents choose each call's chance. Its draws stay as they were
made and still verify.

Anyone holding the log and the revealed seeds recomputes the same samples, and checks each seed
against the commitment published before the period began. Each draw is one streaming pass: it
keeps only the best few keys, so a month of millions of calls never sits in memory.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Purpose = Literal["audit", "self"]
PURPOSES: tuple[Purpose, ...] = ("audit", "self")
SEED_BYTES = 32
PER_AGENT, TWO_STAGE = 1, 2  # the schemes: per-agent quotas (retired), two stages
# Why a call is in a sample: it ranked among its agent's first (scheme 1), or it was taken by
# its rank over the whole: scheme 1's top-up to the audit minimum, and every call a two-stage
# draw takes (which stores it under the same name).
Via = Literal["agent", "top_up"]
BY_RANK: Via = "top_up"


def commitment(seed: bytes) -> str:
    """Return the commitment to a seed, published before the period: sha256(seed) in hex."""
    return hashlib.sha256(seed).hexdigest()


def rank_key(seed: bytes, purpose: str, call_ref: str) -> str:
    """Return a call's rank key for a purpose: hmac_sha256(seed, "purpose:call_ref"), hex."""
    return hmac.new(seed, f"{purpose}:{call_ref}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class SampleSizes:
    """How many calls each sample takes: per agent, and the audit sample's minimum."""

    audit_per_agent: int
    audit_min: int = 0
    self_per_agent: int = 0

    def __post_init__(self) -> None:
        for name in ("audit_per_agent", "audit_min", "self_per_agent"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")


@dataclass(frozen=True, slots=True)
class SampledCall:
    """A call in a sample, with the key it ranked by and why it was taken."""

    call_ref: str
    agent_ref: str
    rank_key: str
    via: Via


@dataclass(frozen=True, slots=True)
class Samples:
    """A period's two samples, each in ascending order of rank key, and how many logged
    calls they were drawn from."""

    audit: tuple[SampledCall, ...]
    self_assessment: tuple[SampledCall, ...]
    calls: int = 0

    def of(self, purpose: str) -> tuple[SampledCall, ...]:
        """Return the sample of a purpose ("audit" or "self")."""
        return self.audit if purpose == "audit" else self.self_assessment


Kept = list[tuple[bytes, str, str]]  # the lowest (digest, call_ref, agent_ref) so far, sorted


def _hmac_states(key: bytes, prefix: bytes) -> tuple[Any, Any]:
    """Return HMAC-SHA256's inner state (key and `prefix` hashed) and outer state (RFC 2104).

    What `hmac.new(key, prefix + message).digest()` computes, with the two hash states made
    once and copied per message: a month's millions of rank keys cost half as much. The
    tests hold every key to `rank_key`, which is `hmac.new`'s.
    """
    block = hashlib.sha256().block_size
    assert len(key) <= block  # a seed is 32 bytes: the key is used as it is, padded
    padded = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in padded))
    inner.update(prefix)
    outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in padded))
    return inner, outer


class _Ranking:
    """One purpose's ranking: the lowest keys per agent, and over the whole period.

    Digests compare as bytes, which orders them as their lowercase hex does. Most calls rank
    below the ones kept, so one comparison turns them away.
    """

    def __init__(self, seed: bytes, purpose: str, per_agent: int, overall: int) -> None:
        self.inner, self.outer = _hmac_states(seed, f"{purpose}:".encode())
        self.per_agent = per_agent
        self.size = overall
        self.agents: dict[str, Kept] = {}
        self.overall: Kept = []

    def offer(self, calls: list[tuple[bytes, str, str]]) -> None:
        """Rank a batch of (encoded call_ref, call_ref, agent_ref), keeping each agent's
        lowest and the lowest overall."""
        inner, outer, insort, agents = self.inner.copy, self.outer.copy, bisect.insort, self.agents
        per_agent, size, overall = self.per_agent, self.size, self.overall
        for encoded, call_ref, agent_ref in calls:
            mac = inner()
            mac.update(encoded)
            digest = outer()
            digest.update(mac.digest())
            key = digest.digest()
            if per_agent:
                kept = agents.get(agent_ref)
                if kept is None:
                    agents[agent_ref] = [(key, call_ref, agent_ref)]
                elif len(kept) < per_agent:
                    insort(kept, (key, call_ref, agent_ref))
                elif key < kept[-1][0]:
                    insort(kept, (key, call_ref, agent_ref))
                    kept.pop()
            if len(overall) < size:
                insort(overall, (key, call_ref, agent_ref))
            elif size and key < overall[-1][0]:
                insort(overall, (key, call_ref, agent_ref))
                overall.pop()

    def sample(self, minimum: int) -> tuple[SampledCall, ...]:
        """Take each agent's first calls, then top up from the whole ranking to `minimum`."""
        taken: list[tuple[bytes, str, str, Via]] = [
            (digest, call_ref, agent, "agent")
            for kept in self.agents.values()
            for digest, call_ref, agent in kept
        ]
        chosen = {call_ref for _, call_ref, _, _ in taken}
        # The `minimum` lowest keys overall hold every call a top-up can need: at most as many
        # of them as the agents took are already chosen.
        for digest, call_ref, agent in self.overall:
            if len(taken) >= minimum:
                break
            if call_ref not in chosen:
                taken.append((digest, call_ref, agent, "top_up"))
                chosen.add(call_ref)
        taken.sort()
        return tuple(
            SampledCall(call_ref, agent, digest.hex(), via)
            for digest, call_ref, agent, via in taken
        )


BATCH = 10_000  # calls ranked at a time: a month of millions is never held whole


def draw(calls: Iterable[tuple[str, str]], seed: bytes, sizes: SampleSizes) -> Samples:
    """Draw a period's audit and self-assessment samples from its logged calls.

    `calls` are (call_ref, agent_ref) pairs, each call once (the log's key makes it so), in
    any order; the samples do not depend on the order. For each agent, its calls ranked by
    key ascending give the first `per_agent` of each sample; then, while the audit sample is
    smaller than `audit_min`, the calls not yet taken are added from the whole period's
    audit ranking.
    """
    if len(seed) != SEED_BYTES:
        raise ValueError(f"a seed is {SEED_BYTES} bytes, got {len(seed)}")
    audit = _Ranking(seed, "audit", sizes.audit_per_agent, sizes.audit_min)
    own = _Ranking(seed, "self", sizes.self_per_agent, 0)
    rankings = [ranking for ranking in (audit, own) if ranking.per_agent or ranking.size]
    stream, count = iter(calls), 0
    while batch := [
        (call_ref.encode(), call_ref, agent_ref)
        for call_ref, agent_ref in itertools.islice(stream, BATCH)
    ]:
        count += len(batch)
        for ranking in rankings:
            ranking.offer(batch)
    return Samples(audit.sample(sizes.audit_min), own.sample(0), count)


# The two-stage scheme ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stage:
    """One sample of the two-stage scheme: how many calls, and how many days its side has
    to evaluate them once they are revealed."""

    size: int
    due_days: int

    def __post_init__(self) -> None:
        if self.size < 0 or self.due_days < 0:
            raise ValueError("a stage's size and due days must not be negative")


@dataclass(frozen=True, slots=True)
class TwoStage:
    """The sizes of a two-stage draw: the self sample, and the audit sample drawn from it."""

    self_stage: Stage
    audit_stage: Stage


def _lowest(
    calls: Iterable[tuple[str, str]], seed: bytes, purpose: str, size: int
) -> tuple[list[tuple[bytes, str, str]], int]:
    """Return the `size` (digest, call_ref, agent_ref) with the lowest keys, ascending, and
    how many calls were ranked. Only the call's reference makes its key."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"a seed is {SEED_BYTES} bytes, got {len(seed)}")
    ranking = _Ranking(seed, purpose, 0, size)
    stream, count = iter(calls), 0
    while batch := [
        (call_ref.encode(), call_ref, agent_ref)
        for call_ref, agent_ref in itertools.islice(stream, BATCH)
    ]:
        count += len(batch)
        ranking.offer(batch)
    return ranking.overall, count


def draw_self(
    calls: Iterable[tuple[str, str]], seed_self: bytes, size: int
) -> tuple[tuple[SampledCall, ...], int]:
    """Draw a month's self sample from its logged calls; return it and how many calls there
    were.

    `calls` are (call_ref, agent_ref) pairs, each call once, in any order. The sample is the
    `size` calls with the lowest `hmac_sha256(seed_self, "self:<call_ref>")`, ascending: the
    agent a call was logged under is kept to show, and plays no part.
    """
    kept, count = _lowest(calls, seed_self, "self", size)
    sample = tuple(SampledCall(ref, agent, digest.hex(), BY_RANK) for digest, ref, agent in kept)
    return sample, count


def draw_audit(
    self_sample: Iterable[SampledCall], seed_audit: bytes, size: int
) -> tuple[SampledCall, ...]:
    """Draw the audit sample from the self sample: its `size` calls with the lowest
    `hmac_sha256(seed_audit, "audit:<call_ref>")`, ascending."""
    kept, _ = _lowest(
        ((call.call_ref, call.agent_ref) for call in self_sample), seed_audit, "audit", size
    )
    return tuple(SampledCall(ref, agent, digest.hex(), BY_RANK) for digest, ref, agent in kept)
