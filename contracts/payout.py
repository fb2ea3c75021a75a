"""A period's payout statement from contract terms and quality figures (DESIGN sections 6, 7)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from contracts.agreement import Standing
from contracts.money import round_money, round_ratio
from contracts.service_levels import ServiceFigures, gate_closed_by, service_lines
from contracts.stats import (
    CriticalFigures,
    Figures,
    Interval,
    SelfAssessmentCheck,
    critical_figures,
)
from contracts.terms import Band, Cap, CriticalRule, Quality, Terms, Tier

# The code of a line that carries a correction of an earlier, final period.
PRIOR_ADJUSTMENT = "prior_period_adjustment"

# Products of prices, units and percentages stay exact well past any real invoice.
_PRECISION = 60


@dataclass(frozen=True, slots=True)
class SampleShare:
    """One sample of the call log, and how many of its calls the side owing it evaluated."""

    sampled: int
    evaluated: int

    @property
    def rate(self) -> Decimal | None:
        return round_ratio(self.evaluated, self.sampled, 4) if self.sampled else None

    def below(self, floor: Decimal) -> bool:
        """Say whether the share evaluated is under `floor` (an empty sample never is)."""
        return self.sampled > 0 and self.evaluated < floor * self.sampled


@dataclass(frozen=True, slots=True)
class SampleFigures:
    """What a period's samples say (DESIGN 13): the commitments, and once drawn the seeds and
    how much of each sample its side evaluated on time.

    Scheme 1 (retired) has one seed (`commitment`, `seed`) for both samples; the two-stage
    scheme (2) has the self sample's there and the audit sample's beside them. Times are
    written for people, in the contract's time zone.
    """

    commitment: str | None
    seed: str | None
    counts: str
    min_coverage: Decimal
    audit: SampleShare
    self_assessment: SampleShare
    log_closes: str  # when the period's log closes (and the samples are drawn), for people
    scheme: int = 1
    audit_commitment: str | None = None
    audit_seed: str | None = None  # revealed when the self-assessments are due
    self_due: str | None = None
    audit_due: str | None = None
    committed_at: str | None = None  # an ISO instant
    late: bool = False  # committed after the month began

    @property
    def drawn(self) -> bool:
        """Say whether every sample is drawn (and so each seed revealed)."""
        return self.seed is not None and (self.scheme == 1 or self.audit_seed is not None)

    def of(self, name: str) -> SampleShare:
        """Return the share of the sample named "audit" or "self"."""
        return self.audit if name == "audit" else self.self_assessment

    def short(self) -> tuple[str, ...]:
        """Return the samples whose coverage is under the floor: "audit", "self", both or none."""
        return tuple(name for name in ("audit", "self") if self.of(name).below(self.min_coverage))


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """What a period brings to its statement: units to pay for and quality figures."""

    units: int
    quality: Figures
    self_assessment: SelfAssessmentCheck | None = None
    sampling: SampleFigures | None = None
    # Evaluations left out because their call is not in the log (require_logged_calls).
    unlogged: int | None = None
    # Whether the month is calibrated (DESIGN 17), where the terms ask for it.
    calibration: Standing | None = None
    # The month's service levels and surveys (DESIGN 16), where the terms pay on them.
    service: ServiceFigures | None = None


@dataclass(frozen=True, slots=True)
class PriorAdjustment:
    """A finalized period recomputed: `amount` is the recomputed total less the finalized one."""

    statement_id: int
    period: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a statement: what it is, how much, and the figures and rule behind it.

    It carries no words: a line is said, in every language and in the English a statement
    stores, from its code and basis (service/statements/reasons.py).
    """

    code: str
    amount: Decimal
    basis: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Statement:
    """The payout of one contract for one period."""

    currency: str
    lines: tuple[Line, ...]
    total: Decimal
    volume_only: Decimal


def volume_fee(tiers: Sequence[Tier], units: int) -> Decimal:
    """Price units through graduated tiers, each unit at its own tier's price, unrounded."""
    with localcontext() as context:
        context.prec = _PRECISION
        return sum((share * tier.price for tier, share in _tier_shares(tiers, units)), Decimal(0))


def compute_statement(
    terms: Terms, figures: PeriodFigures, prior_adjustments: Sequence[PriorAdjustment] = ()
) -> Statement:
    """Compute a period's statement: volume, quality and cap lines, then prior-period ones."""
    currency = terms.currency
    with localcontext() as context:
        context.prec = _PRECISION
        units, reconciled = _reconciled_units(terms, figures)
        fee = volume_fee(terms.volume.tiers, units)
        volume = _volume_line(terms, units, fee, reconciled)
        lines = [volume]
        service: list[Line] = []
        if terms.service is not None and figures.service is not None:
            evidence = "point" if terms.quality is None else terms.quality.evidence
            service = [
                Line(line.code, line.amount, line.basis)
                for line in service_lines(terms.service, figures.service, fee, currency, evidence)
            ]
        closed_by = gate_closed_by(terms.service, service)
        if terms.quality is not None:
            lines += _quality_lines(terms.quality, figures, fee, currency, closed_by)
        lines += service
        lines += [_prior_line(adjustment, currency) for adjustment in prior_adjustments]
    total = round_money(sum((line.amount for line in lines), Decimal(0)), currency)
    return Statement(currency, tuple(lines), total, volume.amount)


def _tier_shares(tiers: Sequence[Tier], units: int) -> list[tuple[Tier, int]]:
    if units < 0:
        raise ValueError(f"units must not be negative, got {units}")
    shares: list[tuple[Tier, int]] = []
    below = 0
    for tier in tiers:
        if below >= units:
            break
        top = units if tier.up_to is None else min(units, tier.up_to)
        shares.append((tier, top - below))
        below = top
    if below < units:
        raise ValueError(f"the tiers price only {below} of {units} units; the last must be open")
    return shares


def _reconciled_units(terms: Terms, figures: PeriodFigures) -> tuple[int, dict[str, Any] | None]:
    """Return the units the volume line pays: at most the client's count when the log holds
    more calls than it beyond the tolerance (DESIGN 16), and what was capped."""
    service = figures.service
    if terms.service is None or service is None:
        return figures.units, None
    cap = service.reconciliation.units_cap
    if cap is None or figures.units <= cap:
        return figures.units, None
    return cap, {"units": figures.units, "client": cap, "log": service.reconciliation.log}


def _volume_line(
    terms: Terms, units: int, fee: Decimal, reconciled: dict[str, Any] | None = None
) -> Line:
    shares = _tier_shares(terms.volume.tiers, units)
    amount = round_money(fee, terms.currency)
    basis = {
        "unit": terms.volume.unit,
        "units": units,
        "source": terms.volume.source,
        "direction": terms.volume.direction,
        "tiers": [
            {
                "up_to": tier.up_to,
                "price": _decimal(tier.price),
                "units": share,
                "amount": _decimal(share * tier.price),
            }
            for tier, share in shares
        ],
        "volume_fee": _decimal(fee),
    }
    if reconciled is not None:
        basis["reconciled"] = reconciled  # units capped at the client's count
    return Line("volume", amount, basis)


def _quality_lines(
    quality: Quality,
    period: PeriodFigures,
    fee: Decimal,
    currency: str,
    closed_by: Sequence[str] = (),
) -> list[Line]:
    stats = period.quality
    gate = _gate(quality, period)
    calibrated: dict[str, Any] = {} if gate is None else {"calibration": gate.basis()}
    held = _pending(period.sampling)
    if held is None and gate is not None and not gate.qualifies:
        held = ("calibration", {})
    short = () if held is not None or period.sampling is None else period.sampling.short()
    if held is None and not short and stats.n < quality.min_sample:
        # A side short of its sample cannot shelter behind the minimum either (see _coverage).
        held = ("min_sample", {})
    if held is not None:
        # Every quality line is still listed, at 0, so a statement has the same lines each month.
        return _zero_lines(quality, period, fee, currency, (held[0], held[1] | calibrated))
    lines = [_band_line(quality, period, fee, currency)]
    lines += [_critical_line(rule, quality, stats, fee, currency) for rule in quality.critical]
    lines = [Line(line.code, line.amount, {**line.basis, **calibrated}) for line in lines]
    if short:
        assert period.sampling is not None
        lines = [_coverage(line, period.sampling, short, quality, stats.n) for line in lines]
    if closed_by:
        lines = [_gated(line, closed_by) for line in lines]
    if quality.cap is not None:
        cap = _cap_line(quality.cap, fee, lines, currency)
        if cap is not None:
            lines.append(cap)
    return lines


Held = tuple[str, dict[str, Any]]  # why every quality line is 0, and the figures saying so


def _gate(quality: Quality, period: PeriodFigures) -> Standing | None:
    """Return the month's calibration standing where the terms gate quality on it."""
    if quality.calibration is None:
        return None
    if period.calibration is None:  # nobody looked: no session is known
        return Standing(False, "none", None, quality.calibration, None)
    return period.calibration


def _pending(sampling: SampleFigures | None) -> Held | None:
    """Return why the samples hold quality at 0: a sample not drawn yet."""
    if sampling is None or sampling.drawn:
        return None
    if sampling.seed is None:
        return "sample_pending", {"log_closes": sampling.log_closes}
    return "sample_pending", {"self_due": sampling.self_due}


# What a sample short of its floor takes away (DESIGN 13): the side that falls short cannot
# gain from it. The client's short audits take away every malus, the call center's short
# self-assessments every bonus; what is left is judged on what was evaluated, however few.
WAIVES = {"audit": "malus", "self": "bonus"}


def _coverage(
    line: Line, sampling: SampleFigures, short: tuple[str, ...], quality: Quality, n: int
) -> Line:
    """Apply the coverage rule to a quality line: waive it if it is what the short side would
    gain, and record whose sample fell short and what that changed."""
    waived = {WAIVES[name] for name in short}
    kind = "bonus" if line.amount > 0 else "malus" if line.amount < 0 else None
    below_minimum = n < quality.min_sample and len(short) == 1
    basis = dict(line.basis) | {
        "coverage": {
            "short": list(short),
            "min_coverage": _decimal(sampling.min_coverage),
            "shares": {name: _share_basis(sampling.of(name)) for name in short},
            "waived": kind if kind in waived else None,
            "below_minimum": below_minimum,
        }
    }
    if kind not in waived:
        return Line(line.code, line.amount, basis)
    zero = Decimal(0).quantize(line.amount)  # the line's places, and no sign
    return Line(line.code, zero, basis | {"applied": False})


def _gated(line: Line, closed_by: Sequence[str]) -> Line:
    """Take away a quality bonus while a service KPI carries a malus (`service.gate`, the GSA
    rule: no bonus unless every KPI meets its minimum); the basis names the KPIs."""
    basis = dict(line.basis) | {"gate": {"closed_by": list(closed_by)}}
    if line.amount <= 0:
        return Line(line.code, line.amount, basis)
    zero = Decimal(0).quantize(line.amount)
    return Line(line.code, zero, basis | {"applied": False, "gated": True})


def _share_basis(share: SampleShare) -> dict[str, Any]:
    return {"sampled": share.sampled, "evaluated": share.evaluated, "rate": _optional(share.rate)}


def _zero_lines(
    quality: Quality, period: PeriodFigures, fee: Decimal, currency: str, held: Held
) -> list[Line]:
    stats = period.quality
    code, extra = held
    zero = round_money(Decimal(0), currency)
    band_basis = {
        **_score_basis(quality, stats, fee),
        "applied": False,
        "reason": code,
        **extra,
        **_self_assessment_basis(period.self_assessment),
        **_sampling_basis(period),
    }
    lines = [Line("quality_band", zero, band_basis)]
    for rule in quality.critical:
        critical = _critical_of(stats, rule.category)
        basis = {
            **_critical_basis(rule, quality, stats, critical, fee),
            "applied": False,
            "reason": code,
            **extra,
        }
        lines.append(Line(f"critical_{rule.category}", zero, basis))
    return lines


def _band_line(quality: Quality, period: PeriodFigures, fee: Decimal, currency: str) -> Line:
    stats = period.quality
    band: Band | None = None
    extra: dict[str, Any] = {}
    if quality.evidence == "confident":
        band, extra = _confident_band(quality.bands, stats.ci)
    elif stats.mean is not None:
        band = _band_of(quality.bands, stats.mean)
    adjust = band.adjust if band is not None else Decimal(0)
    basis = {
        **_score_basis(quality, stats, fee),
        **extra,
        "band": _band_basis(band),
        "adjust": _decimal(adjust),
        "applied": adjust != 0,
        **_self_assessment_basis(period.self_assessment),
        **_sampling_basis(period),
    }
    return Line("quality_band", round_money(adjust * fee, currency), basis)


def _confident_band(
    bands: Sequence[Band], ci: Interval | None
) -> tuple[Band | None, dict[str, Any]]:
    """Return the band the interval proves (a bonus its lower bound earns, else a malus its
    upper bound carries), if any, and the bands of both bounds."""
    if ci is None:
        return None, {}
    low_band, high_band = _band_of(bands, ci.low), _band_of(bands, ci.high)
    extra = {"low_band": _band_basis(low_band), "high_band": _band_basis(high_band)}
    if low_band is not None and low_band.adjust > 0:
        return low_band, extra
    if high_band is not None and high_band.adjust < 0:
        return high_band, extra
    return None, extra


def _band_of(bands: Sequence[Band], score: Decimal) -> Band | None:
    return next((band for band in bands if band.from_score <= score), None)


def _critical_line(
    rule: CriticalRule, quality: Quality, stats: Figures, fee: Decimal, currency: str
) -> Line:
    critical = _critical_of(stats, rule.category)
    if critical.rate is None or critical.ci is None:
        applied = False
    elif quality.evidence == "point":
        applied = critical.rate > rule.max_rate
    else:
        applied = critical.ci.low > rule.max_rate
    amount = rule.adjust * fee if applied else Decimal(0)
    basis = {**_critical_basis(rule, quality, stats, critical, fee), "applied": applied}
    return Line(f"critical_{rule.category}", round_money(amount, currency), basis)


def _critical_of(stats: Figures, category: str) -> CriticalFigures:
    found = stats.critical.get(category)
    # A category SQL found no error of is absent from the figures: it counts as 0 errors.
    return found if found is not None else critical_figures(0, stats.n)


def _cap_line(cap: Cap, fee: Decimal, lines: Sequence[Line], currency: str) -> Line | None:
    # The cap trims the rounded lines, so capped quality lines sum to exactly the rounded limit.
    bonus = sum((line.amount for line in lines if line.amount > 0), Decimal(0))
    malus = -sum((line.amount for line in lines if line.amount < 0), Decimal(0))
    bonus_limit = round_money(cap.bonus * fee, currency)
    malus_limit = round_money(cap.malus * fee, currency)
    bonus_trim = max(bonus - bonus_limit, Decimal(0))
    malus_trim = max(malus - malus_limit, Decimal(0))
    if not bonus_trim and not malus_trim:
        return None
    basis = {
        "volume_fee": _decimal(fee),
        "bonus_cap": _decimal(cap.bonus),
        "malus_cap": _decimal(cap.malus),
        "bonus_limit": _decimal(bonus_limit),
        "malus_limit": _decimal(malus_limit),
        "bonus_lines": _decimal(bonus),
        "malus_lines": _decimal(malus),
        "bonus_trimmed": _decimal(bonus_trim),
        "malus_trimmed": _decimal(malus_trim),
    }
    amount = round_money(malus_trim - bonus_trim, currency)
    return Line("cap", amount, basis)


def _prior_line(adjustment: PriorAdjustment, currency: str) -> Line:
    amount = round_money(adjustment.amount, currency)
    basis = {
        "statement_id": adjustment.statement_id,
        "period": adjustment.period,
        "difference": _decimal(adjustment.amount),
    }
    return Line(PRIOR_ADJUSTMENT, amount, basis)


def _score_basis(quality: Quality, stats: Figures, fee: Decimal) -> dict[str, Any]:
    return {
        "evidence": quality.evidence,
        "n": stats.n,
        "min_sample": quality.min_sample,
        "mean": _optional(stats.mean),
        "sd": _optional(stats.sd),
        "interval": _interval(stats.ci),
        "volume_fee": _decimal(fee),
    }


def _critical_basis(
    rule: CriticalRule, quality: Quality, stats: Figures, critical: CriticalFigures, fee: Decimal
) -> dict[str, Any]:
    return {
        "category": rule.category,
        "evidence": quality.evidence,
        "n": stats.n,
        "min_sample": quality.min_sample,
        "errors": critical.errors,
        "rate": _optional(critical.rate),
        "interval": _interval(critical.ci),
        "max_rate": _decimal(rule.max_rate),
        "adjust": _decimal(rule.adjust),
        "volume_fee": _decimal(fee),
    }


def _self_assessment_basis(check: SelfAssessmentCheck | None) -> dict[str, Any]:
    if check is None:
        return {}
    return {
        "self_assessment": {
            "status": check.status,
            "pairs": check.pairs,
            "inflation": _optional(check.inflation),
            "applied": check.applied,
            "counted": check.counted,
        }
    }


def _sampling_basis(period: PeriodFigures) -> dict[str, Any]:
    """Return what the call log adds to a quality line's basis: the samples, the unlogged."""
    basis: dict[str, Any] = {}
    if period.unlogged is not None:
        basis["unlogged"] = period.unlogged
    sampling = period.sampling
    if sampling is not None:
        basis["sampling"] = {
            "scheme": sampling.scheme,
            "commitment": sampling.commitment,
            "seed": sampling.seed,
            "audit_commitment": sampling.audit_commitment,
            "audit_seed": sampling.audit_seed,
            "late": sampling.late,
            "counts": sampling.counts,
            "min_coverage": _decimal(sampling.min_coverage),
            "coverage": {name: _share_basis(sampling.of(name)) for name in ("audit", "self")},
        }
    return basis


def _band_basis(band: Band | None) -> dict[str, str] | None:
    if band is None:
        return None
    return {"from": _decimal(band.from_score), "adjust": _decimal(band.adjust)}


def _interval(interval: Interval | None) -> list[str] | None:
    return None if interval is None else [_decimal(interval.low), _decimal(interval.high)]


def _optional(value: Decimal | None) -> str | None:
    return None if value is None else _decimal(value)


def _decimal(value: Decimal) -> str:
    return format(value, "f")
