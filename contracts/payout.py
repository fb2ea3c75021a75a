"""A period's payout statement from contract terms and quality figures (DESIGN sections 6, 7)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from contracts import _fields as fields
from contracts.money import round_money, round_ratio
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


@dataclass(frozen=True, slots=True)
class PriorAdjustment:
    """A finalized period recomputed: `amount` is the recomputed total less the finalized one."""

    statement_id: int
    period: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a statement: what happened, how much, and the figures and rule behind it."""

    code: str
    description: str
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
        fee = volume_fee(terms.volume.tiers, figures.units)
        volume = _volume_line(terms, figures.units, fee)
        lines = [volume]
        if terms.quality is not None:
            lines += _quality_lines(terms.quality, figures, fee, currency)
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


def _volume_line(terms: Terms, units: int, fee: Decimal) -> Line:
    shares = _tier_shares(terms.volume.tiers, units)
    amount = round_money(fee, terms.currency)
    counted = f"{units:,} unit{'' if units == 1 else 's'} of {terms.volume.unit}"
    counted += f" {_volume_source(terms)}"
    priced = [f"{share:,} at {_decimal(tier.price)}" for tier, share in shares]
    if not shares:
        description = f"Volume fee: no units of {terms.volume.unit} {_volume_source(terms)}"
    elif len(shares) == 1:
        description = f"Volume fee: {counted} at {_decimal(shares[0][0].price)}"
    else:
        description = f"Volume fee: {counted}, {', '.join(priced[:-1])} and {priced[-1]}"
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
    return Line("volume", description, amount, basis)


def _volume_source(terms: Terms) -> str:
    """Say where the units come from: the supplier's declared days, or the call log."""
    if terms.volume.source == "declared":
        return "(declared daily volumes)"
    if terms.volume.direction is None:
        return "(logged calls)"
    return f"(logged {terms.volume.direction} calls)"


def _quality_lines(
    quality: Quality, period: PeriodFigures, fee: Decimal, currency: str
) -> list[Line]:
    stats = period.quality
    held = _pending(period.sampling)
    short = () if held is not None or period.sampling is None else period.sampling.short()
    if held is None and not short and stats.n < quality.min_sample:
        # A side short of its sample cannot shelter behind the minimum either (see _coverage).
        why = f"{stats.n:,} evaluations, fewer than the minimum sample of {quality.min_sample:,}"
        held = ("min_sample", why, {})
    if held is not None:
        # Every quality line is still listed, at 0, so a statement has the same lines each month.
        return _zero_lines(quality, period, fee, currency, held)
    lines = [_band_line(quality, period, fee, currency)]
    lines += [_critical_line(rule, quality, stats, fee, currency) for rule in quality.critical]
    if short:
        assert period.sampling is not None
        lines = [_coverage(line, period.sampling, short, quality, stats.n) for line in lines]
    if quality.cap is not None:
        cap = _cap_line(quality.cap, fee, lines, currency)
        if cap is not None:
            lines.append(cap)
    return lines


Held = tuple[str, str, dict[str, Any]]  # a reason's code, its words, and its figures


def _pending(sampling: SampleFigures | None) -> Held | None:
    """Return why the samples hold quality at 0: a sample not drawn yet."""
    if sampling is None or sampling.drawn:
        return None
    if sampling.seed is None:
        why = f"the samples are drawn when the call log closes ({sampling.log_closes})"
        return "sample_pending", why, {"log_closes": sampling.log_closes}
    why = f"the audit sample is drawn when the self-assessments are due ({sampling.self_due})"
    return "sample_pending", why, {"self_due": sampling.self_due}


# What a sample short of its floor takes away (DESIGN 13): the side that falls short cannot
# gain from it. The client's short audits take away every malus, the call center's short
# self-assessments every bonus; what is left is judged on what was evaluated, however few.
WAIVES = {"audit": "malus", "self": "bonus"}


def _coverage(
    line: Line, sampling: SampleFigures, short: tuple[str, ...], quality: Quality, n: int
) -> Line:
    """Apply the coverage rule to a quality line: waive it if it is what the short side would
    gain, and say whose sample fell short and what that changed."""
    waived = {WAIVES[name] for name in short}
    kind = "bonus" if line.amount > 0 else "malus" if line.amount < 0 else None
    floor = fields.percent_out(sampling.min_coverage, signed=False)
    said = " and ".join(_coverage_words(name, sampling, floor) for name in short)
    effect = " or ".join(sorted(waived, key=("bonus", "malus").index))
    description = f"{line.description}; {said}: no quality {effect} applies"
    below_minimum = n < quality.min_sample and len(short) == 1
    if below_minimum:
        kept = "bonus" if "malus" in waived else "malus"
        description += (
            f", and the minimum sample of {quality.min_sample:,} does not hold back a {kept}"
        )
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
        return Line(line.code, description, line.amount, basis)
    zero = Decimal(0).quantize(line.amount)  # the line's places, and no sign
    return Line(line.code, description, zero, basis | {"applied": False})


def _share_basis(share: SampleShare) -> dict[str, Any]:
    return {"sampled": share.sampled, "evaluated": share.evaluated, "rate": _optional(share.rate)}


def _coverage_words(name: str, sampling: SampleFigures, floor: str) -> str:
    share = sampling.of(name)
    whose = (
        "the client's audit sample"
        if name == "audit"
        else "the call center's self-assessment sample"
    )
    rate = fields.percent_out(share.rate or Decimal(0), signed=False)
    return (
        f"{whose} is {rate} evaluated ({share.evaluated:,} of {share.sampled:,} calls),"
        f" below the {floor} floor"
    )


def _zero_lines(
    quality: Quality, period: PeriodFigures, fee: Decimal, currency: str, held: Held
) -> list[Line]:
    stats = period.quality
    code, reason, extra = held
    zero = round_money(Decimal(0), currency)
    band_basis = {
        **_score_basis(quality, stats, fee),
        "applied": False,
        "reason": code,
        **extra,
        **_self_assessment_basis(period.self_assessment),
        **_sampling_basis(period),
    }
    # Before the audit sample is drawn, no self-score can be verified yet: nothing is said.
    note = (
        "" if code == "sample_pending" else _self_assessment_note(quality, period.self_assessment)
    )
    lines = [Line("quality_band", f"No quality band adjustment: {reason}{note}", zero, band_basis)]
    for rule in quality.critical:
        critical = _critical_of(stats, rule.category)
        basis = {
            **_critical_basis(rule, quality, stats, critical, fee),
            "applied": False,
            "reason": code,
            **extra,
        }
        description = f"No {rule.category} critical error adjustment: {reason}"
        lines.append(Line(f"critical_{rule.category}", description, zero, basis))
    return lines


def _band_line(quality: Quality, period: PeriodFigures, fee: Decimal, currency: str) -> Line:
    stats = period.quality
    if quality.evidence == "point":
        band, description, extra = _point_band(quality.bands, stats.mean)
    else:
        band, description, extra = _confident_band(quality.bands, stats.ci, stats.n)
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
    description += _self_assessment_note(quality, period.self_assessment)
    return Line("quality_band", description, round_money(adjust * fee, currency), basis)


def _point_band(
    bands: Sequence[Band], mean: Decimal | None
) -> tuple[Band | None, str, dict[str, Any]]:
    if mean is None:
        return None, "No quality band adjustment: no scored evaluations in the period", {}
    band = _band_of(bands, mean)
    if band is None:
        return None, f"No quality band adjustment: mean {mean} is below every band", {}
    return band, f"Quality band {_label(band)}: mean {mean} falls in it", {}


def _confident_band(
    bands: Sequence[Band], ci: Interval | None, n: int
) -> tuple[Band | None, str, dict[str, Any]]:
    if ci is None:
        reason = f"{n} evaluation{'s' if n != 1 else ''} give no 95% interval"
        return None, f"No quality band adjustment: {reason}, and money moves only on evidence", {}
    low_band, high_band = _band_of(bands, ci.low), _band_of(bands, ci.high)
    extra = {"low_band": _band_basis(low_band), "high_band": _band_basis(high_band)}
    interval = f"the 95% interval {ci.low}–{ci.high}"
    if low_band is not None and low_band.adjust > 0:
        where = f"lies wholly at or above {fields.number_out(low_band.from_score)}"
        return low_band, f"Quality band {_label(low_band)}: {interval} {where}", extra
    if high_band is not None and high_band.adjust < 0:
        above = _band_above(bands, high_band)
        where = "lies wholly in it"
        if above is not None:
            where = f"lies wholly below {fields.number_out(above.from_score)}"
        return high_band, f"Quality band {_label(high_band)}: {interval} {where}", extra
    if low_band == high_band:
        if low_band is None:
            return None, f"No quality band adjustment: {interval} is below every band", extra
        return None, f"Quality band {_label(low_band)}: {interval} lies wholly in it", extra
    spans = f"spans bands {_label(low_band)} to {_label(high_band)}"
    return None, f"No quality band adjustment: {interval} {spans}; no side is proven", extra


def _band_of(bands: Sequence[Band], score: Decimal) -> Band | None:
    return next((band for band in bands if band.from_score <= score), None)


def _band_above(bands: Sequence[Band], band: Band) -> Band | None:
    index = bands.index(band)
    return bands[index - 1] if index > 0 else None


def _critical_line(
    rule: CriticalRule, quality: Quality, stats: Figures, fee: Decimal, currency: str
) -> Line:
    critical = _critical_of(stats, rule.category)
    limit = fields.percent_out(rule.max_rate, signed=False)
    name = f"{rule.category.capitalize()} critical errors"
    if critical.rate is None or critical.ci is None:
        applied = False
        description = f"{name}: no scored evaluations in the period"
    else:
        rate = f"rate {fields.percent_out(critical.rate, signed=False)}"
        rate += f" ({critical.errors:,} of {stats.n:,})"
        wilson = f"the 95% Wilson interval {_percent_range(critical.ci)}"
        if quality.evidence == "point":
            applied = critical.rate > rule.max_rate
        else:
            applied = critical.ci.low > rule.max_rate
        adjust = fields.percent_out(rule.adjust, signed=True)
        if applied and quality.evidence == "point":
            description = f"{name} ({adjust}): {rate} is above the {limit} limit"
        elif applied:
            description = f"{name} ({adjust}): {rate}; {wilson} lies wholly above the {limit} limit"
        elif critical.rate > rule.max_rate:
            description = (
                f"{name}: {rate} is above the {limit} limit, but {wilson} reaches"
                " down to it, so the excess is not proven"
            )
        else:
            description = f"{name}: {rate} is within the {limit} limit"
    amount = rule.adjust * fee if applied else Decimal(0)
    basis = {**_critical_basis(rule, quality, stats, critical, fee), "applied": applied}
    return Line(f"critical_{rule.category}", description, round_money(amount, currency), basis)


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
    parts = []
    if bonus_trim:
        limit = fields.percent_out(cap.bonus, signed=False)
        parts.append(
            f"quality bonus of {bonus:,f} trimmed to {limit} of the volume fee, {bonus_limit:,f}"
        )
    if malus_trim:
        limit = fields.percent_out(cap.malus, signed=False)
        parts.append(
            f"quality malus of {malus:,f} trimmed to {limit} of the volume fee, {malus_limit:,f}"
        )
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
    return Line("cap", "Cap: " + "; ".join(parts), amount, basis)


def _prior_line(adjustment: PriorAdjustment, currency: str) -> Line:
    amount = round_money(adjustment.amount, currency)
    description = (
        f"Prior period adjustment for {adjustment.period}: recomputed with current data, the"
        f" period pays {amount:+,f} against final statement {adjustment.statement_id}"
    )
    basis = {
        "statement_id": adjustment.statement_id,
        "period": adjustment.period,
        "difference": _decimal(adjustment.amount),
    }
    return Line(PRIOR_ADJUSTMENT, description, amount, basis)


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


def _self_assessment_note(quality: Quality, check: SelfAssessmentCheck | None) -> str:
    if check is None:
        return ""
    rule = quality.self_assessment
    if check.status == "corrected" and check.inflation is not None:
        tolerance = ""
        if rule is not None:
            tolerance = f" above the {fields.number_out(rule.tolerance)}-point tolerance"
        return (
            f"; supplier self-scores were lowered by {check.inflation} points, their inflation"
            f" over {check.pairs:,} audited calls{tolerance}"
        )
    if check.status == "unverified":
        needed = f", fewer than the {rule.min_pairs:,} needed" if rule else ""
        if check.counted:
            return (
                "; supplier self-scores count unverified, as the client's audit sample fell"
                f" short: {check.pairs:,} audited calls{needed}"
            )
        return (
            f"; supplier self-scores do not count, unverified: {check.pairs:,} audited calls"
            f"{needed}"
        )
    return ""


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


def _label(band: Band | None) -> str:
    if band is None:
        return "below every band"
    return f"{fields.number_out(band.from_score)}+ ({fields.percent_out(band.adjust, signed=True)})"


def _percent_range(interval: Interval) -> str:
    low = fields.percent_out(interval.low, signed=False)
    return f"{low}–{fields.percent_out(interval.high, signed=False)}"


def _interval(interval: Interval | None) -> list[str] | None:
    return None if interval is None else [_decimal(interval.low), _decimal(interval.high)]


def _optional(value: Decimal | None) -> str | None:
    return None if value is None else _decimal(value)


def _decimal(value: Decimal) -> str:
    return format(value, "f")
