"""Each period's samples: a seed committed as the period starts, the draw when its log closes.

The close job does both (see `service.jobs`), under its lock per contract and period. The
seed is kept secret until the log closes; its commitment is shown to both parties at once.
The draw itself is `contracts.sampling.draw`, fed the period's log as a stream.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, and_, case, column, exists, func, insert, or_, select, values
from sqlalchemy.orm import Session

from contracts import sampling
from contracts.payout import SampleShare
from contracts.periods import Period
from contracts.terms import AUDIT_SOURCES
from service.actors import Actor
from service.agreements.models import Contract
from service.agreements.service import get_contract, lock_contracts, terms_for_period
from service.calls.models import Call, CallSample, SampledCall
from service.calls.service import log_closes_at
from service.db import utcnow
from service.errors import NotFound
from service.evaluations.models import Evaluation

STREAM_BUFFER = 20_000  # rows of the log held at a time while a month is drawn or checked

# Who must evaluate each sample: the client (or a third party) audits, the call center
# assesses itself.
SIDES = {"audit": AUDIT_SOURCES, "self": ("supplier",)}


def sample_of(session: Session, contract_id: int, period: Period) -> CallSample | None:
    """Return a contract's sample row of a period, if its seed was committed."""
    return session.scalar(
        select(CallSample).where(
            CallSample.contract_id == contract_id, CallSample.period == str(period)
        )
    )


def commit_seed(
    session: Session, contract: Contract, period: Period, now: datetime | None = None
) -> CallSample | None:
    """Draw and keep a period's seed, once, if its terms sample; return the sample row.

    The caller holds the close's lock of the contract and period; the unique key on
    (contract, period) refuses a second commitment whatever else runs.
    """
    if terms_for_period(contract, period).terms.sampling is None:
        return None
    found = sample_of(session, contract.id, period)
    if found is not None:
        return found
    seed = secrets.token_bytes(sampling.SEED_BYTES)
    sample = CallSample(
        contract_id=contract.id,
        period=str(period),
        seed=seed.hex(),
        commitment=sampling.commitment(seed),
        committed_at=now or utcnow(),
    )
    session.add(sample)
    session.flush()
    return sample


def draw_due(contract: Contract, period: Period, now: datetime) -> bool:
    """Say whether a period's samples may be drawn: its terms sample and its log has closed."""
    sampled = terms_for_period(contract, period).terms.sampling is not None
    return sampled and now >= log_closes_at(contract, period)


def draw_samples(
    session: Session, contract: Contract, period: Period, now: datetime | None = None
) -> CallSample | None:
    """Draw a period's samples from its closed log, once; return the sample row.

    The contract is locked FOR UPDATE first, which waits for any writer of its log: what is
    drawn from is the whole log. A period whose seed was never committed (the scheduler was
    down all month) gets it now, and its commitment says when.
    """
    now = now or utcnow()
    if not draw_due(contract, period, now):
        return None
    lock_contracts(session, [contract.id], "statement")
    sample = commit_seed(session, contract, period, now)
    assert sample is not None
    sample = session.scalars(
        select(CallSample)
        .where(CallSample.id == sample.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if sample.drawn:
        return sample
    sizes = terms_for_period(contract, period).terms.sampling
    assert sizes is not None
    drawn = sampling.draw(
        _logged_calls(session, contract.id, period), bytes.fromhex(sample.seed), sizes.sizes
    )
    rows = [
        {
            "sample_id": sample.id,
            "purpose": purpose,
            "call_ref": call.call_ref,
            "agent_ref": call.agent_ref,
            "rank_key": call.rank_key,
            "via": call.via,
        }
        for purpose in sampling.PURPOSES
        for call in drawn.of(purpose)
    ]
    if rows:
        session.execute(insert(SampledCall), rows)
    sample.sizes = sizes_document(sizes.sizes)
    sample.logged_calls = drawn.calls
    sample.drawn_at = now
    session.flush()
    return sample


def sampled_calls(session: Session, sample: CallSample) -> dict[str, list[Call]]:
    """Return the logged calls of each of a drawn period's samples, in order of rank key."""
    found: dict[str, list[Call]] = {purpose: [] for purpose in sampling.PURPOSES}
    query = (
        select(SampledCall.purpose, Call)
        .join(
            Call,
            (Call.contract_id == sample.contract_id) & (Call.call_ref == SampledCall.call_ref),
        )
        .where(SampledCall.sample_id == sample.id)
        .order_by(SampledCall.purpose, SampledCall.rank_key)
    )
    for purpose, call in session.execute(query):
        found[purpose].append(call)
    return found


def sizes_document(sizes: sampling.SampleSizes) -> dict[str, int]:
    """Return the sizes a sample was drawn with, as stored and shown."""
    return {
        "audit_per_agent": sizes.audit_per_agent,
        "audit_min": sizes.audit_min,
        "self_per_agent": sizes.self_per_agent,
    }


def _logged_calls(session: Session, contract_id: int, period: Period) -> Iterator[tuple[str, str]]:
    """Stream a period's logged calls as (call_ref, agent_ref), in batches from the database.

    Read on the session's connection (Core rows, a server-side cursor on PostgreSQL): a month
    of millions of calls is read a buffer at a time, with none of the ORM's work per row.
    """
    query = select(Call.call_ref, Call.agent_ref).where(
        Call.contract_id == contract_id, Call.period == str(period)
    )
    streamed = {"stream_results": True, "max_row_buffer": STREAM_BUFFER}
    result = session.connection().execute(query, execution_options=streamed)
    try:
        yield from result  # rows unpack as (call_ref, agent_ref)
    finally:
        result.close()  # its server-side cursor too, should the draw stop half-way


@dataclass(frozen=True, slots=True)
class Drawn:
    """A contract's drawn sample of a month, and the form its terms count evaluations on."""

    contract_id: int
    sample_id: int
    form_id: int


def coverage_by_contract(
    session: Session, drawn: Sequence[Drawn], period: Period
) -> dict[tuple[int, str], SampleShare]:
    """Count, per drawn sample and purpose, its calls and those evaluated by the side that
    owes them, in one query whatever the number of contracts.

    An evaluation covers a call when it is of that call, in the month, on the terms' form,
    not retracted, and from the right side (an audit for the audit sample, the call center's
    own for the self sample).
    """
    if not drawn:
        return {}
    names = ("contract_id", "sample_id", "form_id")
    rows = [(each.contract_id, each.sample_id, each.form_id) for each in drawn]
    listed = values(*(column(name, BigInteger) for name in names), name="drawn")
    table = listed.data(rows).cte("drawn")
    right_side = or_(
        *(
            and_(SampledCall.purpose == purpose, Evaluation.source.in_(sources))
            for purpose, sources in SIDES.items()
        )
    )
    evaluated = exists().where(
        Evaluation.contract_id == table.c.contract_id,
        Evaluation.call_ref == SampledCall.call_ref,
        Evaluation.period == str(period),
        Evaluation.form_id == table.c.form_id,
        Evaluation.retracted.is_(False),
        right_side,
    )
    query = (
        select(
            table.c.contract_id,
            SampledCall.purpose,
            func.count(),
            func.coalesce(func.sum(case((evaluated, 1), else_=0)), 0),
        )
        .join(table, table.c.sample_id == SampledCall.sample_id)
        .group_by(table.c.contract_id, SampledCall.purpose)
    )
    return {
        (contract, purpose): SampleShare(int(sampled), int(done))
        for contract, purpose, sampled, done in session.execute(query)
    }


def coverage(
    session: Session, contract: Contract, period: Period, sample: CallSample, form_id: int
) -> dict[str, SampleShare]:
    """Return how much of each of one drawn sample is evaluated (see `coverage_by_contract`)."""
    found = coverage_by_contract(session, [Drawn(contract.id, sample.id, form_id)], period)
    return {purpose: found.get((contract.id, purpose), SampleShare(0, 0)) for purpose in SIDES}


# Reading ----------------------------------------------------------------------------------


# Which sample each role evaluates: the call center its own, the client (and an admin, as
# the third party) the audit sample.
ROLE_PURPOSE = {"supplier": "self", "client": "audit", "admin": "audit"}


@dataclass(frozen=True, slots=True)
class ToDo:
    """The calls of a caller's sample that its side has not evaluated yet."""

    contract: Contract
    period: Period
    purpose: str
    drawn: bool
    sampled: int
    calls: list[Call]


def to_do(*, session: Session, actor: Actor, contract_id: int, period: Period) -> ToDo:
    """List the calls of the caller's sample of a month still to evaluate, by rank key."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    actor.require("supplier", "client")
    purpose = ROLE_PURPOSE[actor.role]
    sample = sample_of(session, contract.id, period)
    if sample is None or not sample.drawn:
        return ToDo(contract, period, purpose, False, 0, [])
    evaluated = exists().where(
        Evaluation.contract_id == contract.id,
        Evaluation.call_ref == Call.call_ref,
        Evaluation.period == str(period),
        Evaluation.retracted.is_(False),
        Evaluation.source.in_(SIDES[purpose]),
    )
    drawn = (
        select(Call)
        .join(SampledCall, SampledCall.call_ref == Call.call_ref)
        .where(Call.contract_id == contract.id, SampledCall.sample_id == sample.id)
        .where(SampledCall.purpose == purpose)
    )
    sampled = session.scalar(select(func.count()).select_from(drawn.subquery())) or 0
    waiting = list(session.scalars(drawn.where(~evaluated).order_by(SampledCall.rank_key)))
    return ToDo(contract, period, purpose, True, sampled, waiting)


@dataclass(frozen=True, slots=True)
class SampleView:
    """A period's sample as the parties see it: the seed only once the log has closed."""

    contract_id: int
    period: Period
    commitment: str
    committed_at: datetime
    log_closes_at: datetime
    seed: str | None
    drawn_at: datetime | None
    sizes: dict[str, int] | None
    logged_calls: int | None
    audit: list[SampledCall] | None
    self_assessment: list[SampledCall] | None
    coverage: dict[str, SampleShare] | None


def read_sample(
    *, session: Session, actor: Actor, contract_id: int, period: Period, now: datetime | None = None
) -> SampleView:
    """Return a period's commitment, and once drawn its seed, samples and coverage."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    sample = sample_of(session, contract.id, period)
    if sample is None:
        raise NotFound(f"no seed is committed for {period} yet", location="path")
    closes = log_closes_at(contract, period)
    revealed = sample.drawn and (now or utcnow()) >= closes
    listed: dict[str, list[SampledCall]] = {"audit": [], "self": []}
    shares = None
    if revealed:
        for call in session.scalars(
            select(SampledCall)
            .where(SampledCall.sample_id == sample.id)
            .order_by(SampledCall.purpose, SampledCall.rank_key)
        ):
            listed[call.purpose].append(call)
        form_id = terms_for_period(contract, period).version.form_id
        shares = coverage(session, contract, period, sample, form_id)
    return SampleView(
        contract_id=contract.id,
        period=period,
        commitment=sample.commitment,
        committed_at=sample.committed_at,
        log_closes_at=closes,
        seed=sample.seed if revealed else None,
        drawn_at=sample.drawn_at if revealed else None,
        sizes=sample.sizes if revealed else None,
        logged_calls=sample.logged_calls if revealed else None,
        audit=listed["audit"] if revealed else None,
        self_assessment=listed["self"] if revealed else None,
        coverage=shares,
    )


@dataclass(frozen=True, slots=True)
class Verification:
    """A stored draw recomputed from the stored log and seed: whether all of it matches."""

    contract_id: int
    period: Period
    commitment_matches: bool
    samples_match: bool
    logged_calls: int
    differences: dict[str, dict[str, list[str]]]

    @property
    def matches(self) -> bool:
        return self.commitment_matches and self.samples_match


def verify_sample(
    *, session: Session, actor: Actor, contract_id: int, period: Period
) -> Verification:
    """Recompute a drawn sample from the stored log and seed, and compare it with the stored."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    sample = sample_of(session, contract.id, period)
    if sample is None or not sample.drawn or sample.sizes is None:
        raise NotFound(f"the samples of {period} are not drawn yet", location="path")
    seed = bytes.fromhex(sample.seed)
    sizes = sampling.SampleSizes(**sample.sizes)
    recomputed = sampling.draw(_logged_calls(session, contract.id, period), seed, sizes)
    stored = {
        purpose: {
            (call.call_ref, call.rank_key, call.via)
            for call in session.scalars(
                select(SampledCall).where(
                    SampledCall.sample_id == sample.id, SampledCall.purpose == purpose
                )
            )
        }
        for purpose in sampling.PURPOSES
    }
    differences: dict[str, dict[str, list[str]]] = {}
    for purpose in sampling.PURPOSES:
        fresh = {(call.call_ref, call.rank_key, call.via) for call in recomputed.of(purpose)}
        missing = sorted(ref for ref, _, _ in stored[purpose] - fresh)
        extra = sorted(ref for ref, _, _ in fresh - stored[purpose])
        if missing or extra:
            differences[purpose] = {"stored_only": missing, "recomputed_only": extra}
    return Verification(
        contract_id=contract.id,
        period=period,
        commitment_matches=sampling.commitment(seed) == sample.commitment,
        samples_match=not differences and recomputed.calls == sample.logged_calls,
        logged_calls=recomputed.calls,
        differences=differences,
    )
