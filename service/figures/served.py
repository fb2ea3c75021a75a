"""Figures served, not recomputed (DESIGN §5): each contract's month is stored with the stamp
of the inputs it read, and a reader recomputes only the months whose stamp or terms moved on.

A reader reads the stamps first, then computes: a write committed in between is in the
figures but not in the stamp they are stored with, so they only ever look older than they
are, and the next reader computes them again. The store is a short transaction of its own,
after the figures are computed: a newer stamp already stored is never overwritten, and a
store that cannot be made now (the database busy or gone) is left to the next reader.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from contracts import payout, stats
from contracts.periods import Period
from contracts.service_levels import (
    ServiceCounts,
    ServiceFigures,
    service_figures,
    thresholds_of,
)
from service.agreements.models import Contract
from service.agreements.service import PeriodTerms, terms_for_period
from service.database.engine import upsert_statement, utcnow
from service.database.stamps import versions
from service.disputes.figures import DisputeFigures
from service.figures.models import MonthFigures
from service.figures.service import PeriodAggregate, aggregate_month
from service.surveys.kpis import month_counts

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServedMonth:
    """A contract's month as readers see it: its quality figures (`aggregate_month`, without
    the per-agent groups) and its service levels (DESIGN 16)."""

    aggregate: PeriodAggregate
    service: ServiceFigures


def served_month(
    session: Session, contracts: Sequence[Contract], period: Period
) -> dict[int, ServedMonth]:
    """Return each contract's month: stored figures where their stamp and terms version are
    still current, computed (and stored) for the others."""
    if not contracts:
        return {}
    ids = [contract.id for contract in contracts]
    stamps = versions(session, ids, period)
    terms = {contract.id: terms_for_period(contract, period) for contract in contracts}
    stored = session.scalars(
        select(MonthFigures).where(MonthFigures.contract_id.in_(ids), MonthFigures.period == period)
    )
    served = {
        row.contract_id: _served(row, terms[row.contract_id])
        for row in stored
        if row.version == stamps[row.contract_id]
        and row.terms_version_id == terms[row.contract_id].version.id
    }
    stale = [contract for contract in contracts if contract.id not in served]
    if stale:
        aggregates = aggregate_month(session, stale, period)
        computed = {
            contract.id: (
                aggregates[contract.id],
                month_counts(
                    session, contract.id, period, thresholds_of(terms[contract.id].terms.service)
                ),
            )
            for contract in stale
        }
        keep(session, period, {id_: (stamps[id_], *month) for id_, month in computed.items()})
        served |= {
            id_: ServedMonth(aggregate, service_figures(counts, aggregate.terms.service))
            for id_, (aggregate, counts) in computed.items()
        }
    return served


def _served(row: MonthFigures, in_force: PeriodTerms) -> ServedMonth:
    counts = ServiceCounts(**row.figures["service_counts"])
    return ServedMonth(
        from_document(row.figures, row.terms_version_id, in_force),
        service_figures(counts, in_force.terms.service),
    )


def keep(
    session: Session,
    period: Period,
    computed: Mapping[int, tuple[int, PeriodAggregate, ServiceCounts]],
) -> None:
    """Store computed months with the stamps they were computed at, in a short transaction
    of their own (not the reader's: a read stays a read)."""
    bind = session.get_bind()
    if not isinstance(bind, Engine) or not computed:
        return
    table = MonthFigures.__table__
    now = utcnow()
    rows = [
        {
            "contract_id": id_,
            "period": period,
            "version": stamp,
            "terms_version_id": aggregate.terms_version_id,
            "figures": to_document(aggregate) | {"service_counts": asdict(counts)},
            "computed_at": now,
        }
        for id_, (stamp, aggregate, counts) in sorted(computed.items())
    ]
    try:
        with Session(bind) as writer, writer.begin():
            insert = upsert_statement(writer, table)
            writer.execute(
                insert.on_conflict_do_update(
                    index_elements=[table.c.contract_id, table.c.period],
                    set_={
                        name: insert.excluded[name]
                        for name in ("version", "terms_version_id", "figures", "computed_at")
                    },
                    where=table.c.version <= insert.excluded.version,
                ),
                rows,
            )
    except DBAPIError:
        # Served all the same; the next reader computes the month again and stores it.
        log.warning("figures of %s not stored", period, exc_info=True)


def to_document(aggregate: PeriodAggregate) -> dict[str, Any]:
    """Write a month's figures as JSON (the per-agent groups are not kept)."""
    statistics, check = aggregate.statistics, aggregate.self_assessment
    sampling, disputes = aggregate.sampling, aggregate.disputes
    return {
        "statistics": {
            "n": statistics.n,
            "sum_hundredths": statistics.sum_hundredths,
            "sum_squares_hundredths": statistics.sum_squares_hundredths,
            "passed": statistics.passed,
            "critical_errors": dict(statistics.critical_errors),
        },
        "self_assessment": {
            "pairs": check.pairs,
            "inflation": None if check.inflation is None else str(check.inflation),
            "applied": check.applied,
            "status": check.status,
            "counted": check.counted,
        },
        "units": aggregate.units,
        "unlogged": aggregate.unlogged,
        "sampling": None
        if sampling is None
        else {
            "commitment": sampling.commitment,
            "seed": sampling.seed,
            "counts": sampling.counts,
            "min_coverage": str(sampling.min_coverage),
            "audit": [sampling.audit.sampled, sampling.audit.evaluated],
            "self_assessment": [
                sampling.self_assessment.sampled,
                sampling.self_assessment.evaluated,
            ],
            "log_closes": sampling.log_closes,
            "scheme": sampling.scheme,
            "audit_commitment": sampling.audit_commitment,
            "audit_seed": sampling.audit_seed,
            "self_due": sampling.self_due,
            "audit_due": sampling.audit_due,
            "committed_at": sampling.committed_at,
            "late": sampling.late,
        },
        "disputes": None
        if disputes is None
        else {
            "audits": disputes.audits,
            "disputed": disputes.disputed,
            "accepted": disputes.accepted,
            "partly_accepted": disputes.partly_accepted,
            "rejected": disputes.rejected,
            "open": disputes.open,
            "still_open": list(disputes.still_open),
        },
    }


def from_document(
    document: Mapping[str, Any], version_id: int, in_force: PeriodTerms
) -> PeriodAggregate:
    """Read a month's figures back as `to_document` wrote them."""
    check = document["self_assessment"]
    sampling = document["sampling"]
    disputes = document["disputes"]
    return PeriodAggregate(
        terms_version_id=version_id,
        terms=in_force.terms,
        statistics=stats.SufficientStatistics(**document["statistics"]),
        self_assessment=stats.SelfAssessmentCheck(
            pairs=check["pairs"],
            inflation=None if check["inflation"] is None else Decimal(check["inflation"]),
            applied=check["applied"],
            status=check["status"],
            counted=check["counted"],
        ),
        units=document["units"],
        unlogged=document["unlogged"],
        sampling=None
        if sampling is None
        else payout.SampleFigures(
            **sampling
            | {
                "min_coverage": Decimal(sampling["min_coverage"]),
                "audit": payout.SampleShare(*sampling["audit"]),
                "self_assessment": payout.SampleShare(*sampling["self_assessment"]),
            }
        ),
        disputes=None
        if disputes is None
        else DisputeFigures(**disputes | {"still_open": tuple(disputes["still_open"])}),
    )
