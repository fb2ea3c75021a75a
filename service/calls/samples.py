"""Each period's samples (DESIGN 13): seeds committed in the month before, drawn in two stages.

The close job does it all (see `service.jobs`), under its lock per contract and period: during
month M it commits the seeds of M+1 and publishes their SHA-256 to both parties (and their
webhooks); when M's log closes it draws the self sample; when the self-assessments are due it
draws the audit sample out of the self sample. Each seed is kept secret until its sample is
drawn. The draws themselves are `contracts.sampling`'s, fed the period's log as a stream.

Months drawn under the retired per-agent scheme (one seed, both samples at once) keep their
rows, show and verify as they were drawn.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    and_,
    case,
    column,
    exists,
    func,
    insert,
    or_,
    select,
    values,
)
from sqlalchemy.orm import Session

from contracts import sampling
from contracts.deadlines import Timeline
from contracts.payout import SampleShare
from contracts.periods import Period
from contracts.terms import AUDIT_SOURCES, Sampling
from service.agreements.models import Contract
from service.agreements.service import (
    get_contract,
    lock_contracts,
    terms_for_period,
    timeline_of,
)
from service.calls.models import Call, CallSample, SampledCall
from service.database.engine import UTCDateTime, utcnow
from service.database.stamps import touch
from service.edge.actors import Actor
from service.edge.errors import NotFound
from service.evaluations.models import Evaluation
from service.notices.service import enqueue_for_both

STREAM_BUFFER = 20_000  # rows of the log held at a time while a month is drawn or checked

# Who must evaluate each sample: the client (or a third party) audits, the call center
# assesses itself.
SIDES = {"audit": AUDIT_SOURCES, "self": ("supplier",)}
# The deadline of a sample that has none (scheme 1): every evaluation is on time.
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


def sample_of(session: Session, contract_id: int, period: Period) -> CallSample | None:
    """Return a contract's sample row of a period, if its seeds were committed."""
    return session.scalar(
        select(CallSample).where(CallSample.contract_id == contract_id, CallSample.period == period)
    )


def is_late(timeline: Timeline, sample: CallSample) -> bool:
    """Say whether a period's seeds were committed only after the period began."""
    return sample.committed_at >= timeline.begins


def commit_seed(
    session: Session, contract: Contract, period: Period, now: datetime | None = None
) -> CallSample | None:
    """Draw and keep a period's seeds, once, if its terms sample; return the sample row.

    Their commitments are queued at once to both parties' webhooks (`sample.committed`), so a
    record of them exists outside the database. The caller holds the close's lock of the
    contract and period; the unique key on (contract, period) refuses a second commitment
    whatever else runs.
    """
    rule = terms_for_period(contract, period).terms.sampling
    if rule is None:
        return None
    found = sample_of(session, contract.id, period)
    if found is not None:
        return found
    seed = secrets.token_bytes(sampling.SEED_BYTES)
    audit_seed = secrets.token_bytes(sampling.SEED_BYTES) if rule.stages is not None else None
    sample = CallSample(
        contract_id=contract.id,
        period=period,
        scheme=rule.scheme,
        seed=seed.hex(),
        commitment=sampling.commitment(seed),
        seed_audit=None if audit_seed is None else audit_seed.hex(),
        commitment_audit=None if audit_seed is None else sampling.commitment(audit_seed),
        committed_at=now or utcnow(),
    )
    session.add(sample)
    session.flush()
    parties = (contract.client_id, contract.supplier_id)
    enqueue_for_both(session, parties, committed_notice(contract, period, sample), now)
    return sample


def commitments_of(sample: CallSample) -> dict[str, str]:
    """Return the commitment of each sample's seed (under scheme 1, one seed for both)."""
    return {"self": sample.commitment, "audit": sample.commitment_audit or sample.commitment}


def committed_notice(contract: Contract, period: Period, sample: CallSample) -> dict[str, Any]:
    """Return the JSON notice that a period's seeds are committed."""
    return {
        "event": "sample.committed",
        "contract_id": contract.id,
        "period": str(period),
        "scheme": sample.scheme,
        "commitments": commitments_of(sample),
        "committed_at": sample.committed_at.isoformat(),
        "late": is_late(timeline_of(contract, period), sample),
    }


def draw_due(contract: Contract, period: Period, now: datetime) -> bool:
    """Say whether a period's samples may be drawn: its terms sample and its log has closed."""
    sampled = terms_for_period(contract, period).terms.sampling is not None
    return sampled and now >= timeline_of(contract, period).log_closes


def draw_samples(
    session: Session, contract: Contract, period: Period, now: datetime | None = None
) -> CallSample | None:
    """Draw each of a period's samples that is due and not drawn yet; return the sample row.

    The contract is locked FOR UPDATE first, which waits for any writer of its log: what is
    drawn from is the whole log. A period whose seeds were never committed (the scheduler was
    down) gets them now, and the commitment says when.
    """
    now = now or utcnow()
    if not draw_due(contract, period, now):
        return None
    lock_contracts(session, [contract.id], "statement")
    committed = commit_seed(session, contract, period, now)
    assert committed is not None
    sample = session.scalars(
        select(CallSample)
        .where(CallSample.id == committed.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    rule = terms_for_period(contract, period).terms.sampling
    assert rule is not None and rule.scheme == sample.scheme, "the seeds' scheme is the terms'"
    if not sample.drawn and rule.stages is None:
        _draw_per_agent(session, sample, rule, now)
    elif not sample.drawn:
        _draw_self(session, sample, rule, now)
    due = timeline_of(contract, period).self_due
    if not sample.audit_drawn and due is not None and now >= due:
        _draw_audit(session, sample, now)
    return sample


def _draw_per_agent(session: Session, sample: CallSample, rule: Sampling, now: datetime) -> None:
    """Draw both samples of a month under the retired per-agent scheme, with its one seed."""
    assert isinstance(rule.sizes, sampling.SampleSizes)
    period = sample.period
    calls = _stream(session, _logged_calls(sample.contract_id, period))
    drawn = sampling.draw(calls, bytes.fromhex(sample.seed), rule.sizes)
    _store(session, sample, "audit", drawn.audit)
    _store(session, sample, "self", drawn.self_assessment)
    sample.sizes = sizes_document(rule.sizes)
    sample.logged_calls = drawn.calls
    sample.drawn_at = now
    session.flush()


def _draw_self(session: Session, sample: CallSample, rule: Sampling, now: datetime) -> None:
    """Draw the self sample of a month from its closed log (the first of two stages)."""
    stages = rule.stages
    assert stages is not None
    period = sample.period
    calls = _stream(session, drawable_calls(sample.contract_id, period))
    drawn, count = sampling.draw_self(calls, bytes.fromhex(sample.seed), stages.self_stage.size)
    _store(session, sample, "self", drawn)
    sample.sizes = {"self": stages.self_stage.size, "audit": stages.audit_stage.size}
    sample.logged_calls = count
    sample.drawn_at = now
    session.flush()


def _draw_audit(session: Session, sample: CallSample, now: datetime) -> None:
    """Draw the audit sample out of the self sample, once the self-assessments are due."""
    assert sample.seed_audit is not None and sample.sizes is not None
    drawn = sampling.draw_audit(
        _stored(session, sample, "self"), bytes.fromhex(sample.seed_audit), sample.sizes["audit"]
    )
    _store(session, sample, "audit", drawn)
    sample.audit_drawn_at = now
    session.flush()


def _store(
    session: Session, sample: CallSample, purpose: str, calls: Sequence[sampling.SampledCall]
) -> None:
    rows = [
        {
            "sample_id": sample.id,
            "purpose": purpose,
            "call_ref": call.call_ref,
            "agent_ref": call.agent_ref,
            "rank_key": call.rank_key,
            "via": call.via,
        }
        for call in calls
    ]
    if rows:
        touch(session, sample.inputs_months())
        session.execute(insert(SampledCall), rows)


def _stored(session: Session, sample: CallSample, purpose: str) -> list[sampling.SampledCall]:
    """Return one of a sample's stored calls, by rank key, as the draw made them."""
    query = (
        select(SampledCall)
        .where(SampledCall.sample_id == sample.id, SampledCall.purpose == purpose)
        .order_by(SampledCall.rank_key)
    )
    return [
        sampling.SampledCall(call.call_ref, call.agent_ref, call.rank_key, call.via)  # type: ignore[arg-type]
        for call in session.scalars(query)
    ]


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
    """Return the per-agent sizes a scheme 1 sample was drawn with, as stored and shown."""
    return {
        "audit_per_agent": sizes.audit_per_agent,
        "audit_min": sizes.audit_min,
        "self_per_agent": sizes.self_per_agent,
    }


def drawable_calls(contract_id: int, period: Period) -> Select[str, str]:
    """Select the calls a two-stage sample is drawn from, as (call_ref, agent_ref): the
    month's answered calls (DESIGN 16); the draw and its check follow this one query."""
    return select(Call.call_ref, Call.agent_ref).where(
        Call.contract_id == contract_id, Call.period == period, Call.outcome == "answered"
    )


def _logged_calls(contract_id: int, period: Period) -> Select[str, str]:
    """Select every logged call of a month, as (call_ref, agent_ref): what scheme 1 drew from,
    and so what its draws are checked against, whatever later filters the two-stage draw."""
    return select(Call.call_ref, Call.agent_ref).where(
        Call.contract_id == contract_id, Call.period == period
    )


def _stream(session: Session, query: Select[str, str]) -> Iterator[tuple[str, str]]:
    """Stream a query's (call_ref, agent_ref) rows in batches from the database.

    Read on the session's connection (Core rows, a server-side cursor on PostgreSQL): a month
    of millions of calls is read a buffer at a time, with none of the ORM's work per row.
    """
    streamed = {"stream_results": True, "max_row_buffer": STREAM_BUFFER}
    result = session.connection().execute(query, execution_options=streamed)
    try:
        yield from result  # rows unpack as (call_ref, agent_ref)
    finally:
        result.close()  # its server-side cursor too, should the draw stop half-way


# Coverage ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Drawn:
    """A contract's drawn sample of a month, the form its terms count evaluations on, and when
    each side's evaluations were due (scheme 1 has no deadline)."""

    contract_id: int
    sample_id: int
    form_id: int
    self_due: datetime = NO_DEADLINE
    audit_due: datetime = NO_DEADLINE


def drawn_of(contract: Contract, sample: CallSample, form_id: int) -> Drawn:
    """Return what the coverage of a contract's drawn sample needs."""
    timeline = timeline_of(contract, sample.period)
    return Drawn(
        contract.id,
        sample.id,
        form_id,
        timeline.self_due or NO_DEADLINE,
        timeline.audit_due or NO_DEADLINE,
    )


def coverage_by_contract(
    session: Session, drawn: Sequence[Drawn], period: Period
) -> dict[tuple[int, str], SampleShare]:
    """Count, per drawn sample and purpose, its calls and those evaluated by the side that
    owes them on time, in one query whatever the number of contracts.

    An evaluation covers a call when it is of that call, in the month, on the terms' form,
    not retracted, from the right side (an audit for the audit sample, the call center's own
    for the self sample), and submitted by its sample's due date.
    """
    if not drawn:
        return {}
    rows = [
        (each.contract_id, each.sample_id, each.form_id, each.self_due, each.audit_due)
        for each in drawn
    ]
    listed = values(
        column("contract_id", BigInteger),
        column("sample_id", BigInteger),
        column("form_id", BigInteger),
        column("self_due", UTCDateTime),
        column("audit_due", UTCDateTime),
        name="drawn",
    )
    table = listed.data(rows).cte("drawn")
    due = {"self": table.c.self_due, "audit": table.c.audit_due}
    right_side = or_(
        *(
            and_(
                SampledCall.purpose == purpose,
                Evaluation.source.in_(sources),
                Evaluation.created_at <= due[purpose],
            )
            for purpose, sources in SIDES.items()
        )
    )
    evaluated = exists().where(
        Evaluation.contract_id == table.c.contract_id,
        Evaluation.call_ref == SampledCall.call_ref,
        Evaluation.period == period,
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
    found = coverage_by_contract(session, [drawn_of(contract, sample, form_id)], period)
    return {purpose: found.get((contract.id, purpose), SampleShare(0, 0)) for purpose in SIDES}


# Reading ----------------------------------------------------------------------------------


# Which sample each role evaluates: the call center its own, the client (and an admin, as
# the third party) the audit sample.
ROLE_PURPOSE = {"supplier": "self", "client": "audit", "admin": "audit"}


@dataclass(frozen=True, slots=True)
class ToDo:
    """The calls of a caller's sample that its side has not evaluated yet, and its dates:
    when the sample is drawn, and by when its side evaluates it (None: no deadline)."""

    contract: Contract
    period: Period
    purpose: str
    drawn: bool
    sampled: int
    calls: list[Call]
    drawn_at: datetime
    due: datetime | None


def _stage_dates(timeline: Timeline, purpose: str) -> tuple[datetime, datetime | None]:
    """Return when a sample is drawn and when its evaluations are due."""
    if timeline.self_due is None:  # scheme 1: both at once, no deadline
        return timeline.log_closes, None
    if purpose == "self":
        return timeline.log_closes, timeline.self_due
    return timeline.self_due, timeline.audit_due


def to_do(*, session: Session, actor: Actor, contract_id: int, period: Period) -> ToDo:
    """List the calls of the caller's sample of a month still to evaluate, by rank key."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    actor.require("supplier", "client")
    purpose = ROLE_PURPOSE[actor.role]
    drawn_at, due = _stage_dates(timeline_of(contract, period), purpose)
    sample = sample_of(session, contract.id, period)
    revealed = sample is not None and _revealed(sample, purpose)
    if sample is None or not revealed:
        return ToDo(contract, period, purpose, False, 0, [], drawn_at, due)
    evaluated = exists().where(
        Evaluation.contract_id == contract.id,
        Evaluation.call_ref == Call.call_ref,
        Evaluation.period == period,
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
    return ToDo(contract, period, purpose, True, sampled, waiting, drawn_at, due)


def _revealed(sample: CallSample, purpose: str) -> bool:
    """Say whether a sample is drawn (and so its seed shown): the audit sample of two stages
    only once the self-assessments are due, when the close draws it."""
    return sample.audit_drawn if purpose == "audit" else sample.drawn


@dataclass(frozen=True, slots=True)
class SampleView:
    """A period's samples as the parties see them: both commitments at once, each seed and
    sample once it is drawn, every date, and how much of each sample is evaluated on time."""

    contract_id: int
    period: Period
    scheme: int
    commitments: dict[str, str]
    committed_at: datetime
    late: bool
    seeds: dict[str, str | None]
    log_closes_at: datetime
    self_due: datetime | None
    audit_due: datetime | None
    drawn_at: datetime | None
    audit_drawn_at: datetime | None
    sizes: dict[str, int] | None
    logged_calls: int | None
    self_assessment: list[SampledCall]
    audit: list[SampledCall]
    coverage: dict[str, SampleShare]

    @property
    def commitment(self) -> str:
        """Return the self sample's commitment (under scheme 1, the one seed's)."""
        return self.commitments["self"]


def read_sample(
    *, session: Session, actor: Actor, contract_id: int, period: Period, now: datetime | None = None
) -> SampleView:
    """Return a period's commitments, and each sample with its seed once it is drawn."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    sample = sample_of(session, contract.id, period)
    if sample is None:
        raise NotFound(f"no seed is committed for {period} yet", location="path")
    timeline = timeline_of(contract, period)
    now = now or utcnow()
    shown = {
        "self": sample.drawn and now >= timeline.log_closes,
        "audit": _revealed(sample, "audit") and now >= (timeline.self_due or timeline.log_closes),
    }
    listed: dict[str, list[SampledCall]] = {"audit": [], "self": []}
    for call in session.scalars(
        select(SampledCall)
        .where(SampledCall.sample_id == sample.id)
        .order_by(SampledCall.purpose, SampledCall.rank_key)
    ):
        if shown[call.purpose]:
            listed[call.purpose].append(call)
    shares = {purpose: SampleShare(0, 0) for purpose in SIDES}
    if shown["self"]:
        form_id = terms_for_period(contract, period).version.form_id
        found = coverage(session, contract, period, sample, form_id)
        shares = {
            purpose: found[purpose] if shown[purpose] else shares[purpose] for purpose in SIDES
        }
    seeds = {"self": sample.seed, "audit": sample.seed_audit or sample.seed}
    return SampleView(
        contract_id=contract.id,
        period=period,
        scheme=sample.scheme,
        commitments=commitments_of(sample),
        committed_at=sample.committed_at,
        late=is_late(timeline, sample),
        seeds={purpose: seed if shown[purpose] else None for purpose, seed in seeds.items()},
        log_closes_at=timeline.log_closes,
        self_due=timeline.self_due,
        audit_due=timeline.audit_due,
        drawn_at=sample.drawn_at if shown["self"] else None,
        audit_drawn_at=sample.audit_drawn_at if shown["audit"] else None,
        sizes=sample.sizes if shown["self"] else None,
        logged_calls=sample.logged_calls if shown["self"] else None,
        self_assessment=listed["self"],
        audit=listed["audit"],
        coverage=shares,
    )


def shown_sample(
    *, session: Session, actor: Actor, contract_id: int, period: Period
) -> SampleView | None:
    """Return a month's samples as the pages show them, or None if none are committed."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    if sample_of(session, contract.id, period) is None:
        return None
    return read_sample(session=session, actor=actor, contract_id=contract.id, period=period)


@dataclass(frozen=True, slots=True)
class Verification:
    """A stored draw recomputed from the stored log and seeds: whether all of it matches."""

    contract_id: int
    period: Period
    commitment_matches: bool
    samples_match: bool
    logged_calls: int
    differences: dict[str, dict[str, list[str]]]

    @property
    def matches(self) -> bool:
        return self.commitment_matches and self.samples_match


Keys = set[tuple[str, str, str]]  # (call_ref, rank_key, via) of a sample's calls


def verify_sample(
    *, session: Session, actor: Actor, contract_id: int, period: Period
) -> Verification:
    """Recompute a drawn sample from the stored log and seeds, by the scheme it was drawn
    under, and compare it with the stored."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    sample = sample_of(session, contract.id, period)
    if sample is None or not sample.drawn or sample.sizes is None:
        raise NotFound(f"the samples of {period} are not drawn yet", location="path")
    if sample.scheme == sampling.PER_AGENT:
        recomputed, count = _redraw_per_agent(session, sample)
        seeds = [sample.seed]
    else:
        recomputed, count = _redraw_two_stages(session, sample)
        seeds = [sample.seed, sample.seed_audit or ""]
    commitments = [sample.commitment, sample.commitment_audit][: len(seeds)]
    differences: dict[str, dict[str, list[str]]] = {}
    for purpose, fresh in recomputed.items():
        stored = {
            (call.call_ref, call.rank_key, call.via) for call in _stored(session, sample, purpose)
        }
        missing = sorted(ref for ref, _, _ in stored - fresh)
        extra = sorted(ref for ref, _, _ in fresh - stored)
        if missing or extra:
            differences[purpose] = {"stored_only": missing, "recomputed_only": extra}
    return Verification(
        contract_id=contract.id,
        period=period,
        commitment_matches=all(
            sampling.commitment(bytes.fromhex(seed)) == made
            for seed, made in zip(seeds, commitments, strict=True)
        ),
        samples_match=not differences and count == sample.logged_calls,
        logged_calls=count,
        differences=differences,
    )


def _redraw_per_agent(session: Session, sample: CallSample) -> tuple[dict[str, Keys], int]:
    """Draw a scheme 1 month again from the stored log and its one seed."""
    assert sample.sizes is not None
    calls = _stream(session, _logged_calls(sample.contract_id, sample.period))
    sizes = sampling.SampleSizes(**sample.sizes)
    drawn = sampling.draw(calls, bytes.fromhex(sample.seed), sizes)
    return {purpose: _keys(drawn.of(purpose)) for purpose in sampling.PURPOSES}, drawn.calls


def _redraw_two_stages(session: Session, sample: CallSample) -> tuple[dict[str, Keys], int]:
    """Draw a two-stage month again: its self sample from the log, and (once drawn) its audit
    sample from that."""
    assert sample.sizes is not None
    calls = _stream(session, drawable_calls(sample.contract_id, sample.period))
    own, count = sampling.draw_self(calls, bytes.fromhex(sample.seed), sample.sizes["self"])
    found = {"self": _keys(own)}
    if sample.audit_drawn and sample.seed_audit is not None:
        audit = sampling.draw_audit(own, bytes.fromhex(sample.seed_audit), sample.sizes["audit"])
        found["audit"] = _keys(audit)
    return found, count


def _keys(calls: Iterable[sampling.SampledCall]) -> Keys:
    return {(call.call_ref, call.rank_key, str(call.via)) for call in calls}
