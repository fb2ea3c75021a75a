"""Service levels and the customer's voice (DESIGN §16): the terms' `service:` block, a month's
KPIs from its counts, and the statement lines they pay.

Pure: the counts come in from SQL (service/surveys/kpis.py) as integers; every figure that
moves money is an exact `Fraction`, and a line's amount is rounded once, as quality's are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any, Literal

from contracts import _fields as fields
from contracts.money import round_half_up, round_money

KPIS = ("service_level", "abandoned", "answer_speed", "repeat_contacts", "csat")
# A KPI where a higher figure is better takes bands `from`; the others `up_to` (or `up_to_s`).
HIGHER_IS_BETTER = frozenset(("service_level", "csat"))
SERVICE_CAP = "service_cap"
OUTCOMES = {"inbound": ("answered", "abandoned"),
            "outbound": ("answered", "no_answer", "busy", "failed")}  # fmt: skip
ALL_OUTCOMES = ("answered", "abandoned", "no_answer", "busy", "failed")
# What the scorecard counts with when the terms say nothing (Consip's 20 s, a week).
DEFAULT_ANSWERED_WITHIN_S = 20
DEFAULT_WITHIN_DAYS = 7
DEFAULT_TOP_BOX_FROM = 4
MAX_WITHIN_DAYS = 28  # a repeat is looked for in the month and the next one only
SHARE_PLACES = 4
SECONDS_PLACES = 1
# How the client's count and the log compared (`Reconciliation.status`).
RECONCILED = ("off", "incomplete", "matched", "log_short", "log_over")

Form = Literal["bands", "linear"]


@dataclass(frozen=True, slots=True)
class KpiBand:
    """A band of a KPI: its edge (`from` a share, `up_to` a share or `up_to_s` seconds; None is
    open-ended) and the adjustment as a share of the volume fee."""

    edge: Decimal | None
    adjust: Decimal


@dataclass(frozen=True, slots=True)
class KpiRule:
    """How one KPI moves money: by `bands`, or linearly from a `target` (`per_point` of the fee
    for each percentage point on the wrong side, at most `max`)."""

    code: str
    form: Form
    bands: tuple[KpiBand, ...] = ()
    target: Decimal | None = None
    per_point: Decimal | None = None
    max: Decimal | None = None
    answered_within_s: int | None = None  # service_level
    within_days: int | None = None  # repeat_contacts
    top_box_from: int | None = None  # csat
    min_responses: int = 0  # csat

    @property
    def higher_is_better(self) -> bool:
        return self.code in HIGHER_IS_BETTER


@dataclass(frozen=True, slots=True)
class ServiceCap:
    bonus: Decimal
    malus: Decimal


@dataclass(frozen=True, slots=True)
class ServiceTerms:
    """The terms' `service:` block."""

    kpis: tuple[KpiRule, ...]
    short_abandon_s: int = 0
    tolerance: Decimal | None = None  # `reconcile.tolerance`; None: no reconciliation
    gate: bool = False
    cap: ServiceCap | None = None

    def rule(self, code: str) -> KpiRule | None:
        return next((rule for rule in self.kpis if rule.code == code), None)

    @property
    def answered_within_s(self) -> int:
        rule = self.rule("service_level")
        if rule is None or rule.answered_within_s is None:
            return DEFAULT_ANSWERED_WITHIN_S
        return rule.answered_within_s

    @property
    def within_days(self) -> int | None:
        """Return the repeat window where the terms pay on repeat contacts (the close waits)."""
        rule = self.rule("repeat_contacts")
        return None if rule is None else rule.within_days

    @property
    def top_box_from(self) -> int:
        rule = self.rule("csat")
        if rule is None or rule.top_box_from is None:
            return DEFAULT_TOP_BOX_FROM
        return rule.top_box_from


@dataclass(frozen=True, slots=True)
class Thresholds:
    """What the counts in SQL are counted against."""

    short_abandon_s: int = 0
    answered_within_s: int = DEFAULT_ANSWERED_WITHIN_S
    within_days: int = DEFAULT_WITHIN_DAYS
    top_box_from: int = DEFAULT_TOP_BOX_FROM


def thresholds_of(service: ServiceTerms | None) -> Thresholds:
    """Return the thresholds a month is counted with: the terms', else the defaults."""
    if service is None:
        return Thresholds()
    return Thresholds(
        service.short_abandon_s,
        service.answered_within_s,
        service.within_days or DEFAULT_WITHIN_DAYS,
        service.top_box_from,
    )


# Reading the block ---------------------------------------------------------------------------


def parse_service(value: object, problems: fields.Problems) -> ServiceTerms | None:
    """Read `service:`, recording every problem by its path."""
    path = "service"
    doc = fields.mapping(
        value, path, problems, required=("kpis",),
        optional=("short_abandon_s", "reconcile", "gate", "cap"),
    )  # fmt: skip
    if doc is None:
        return None
    short: int | None = 0
    if doc.get("short_abandon_s") is not None:
        short = _bounded(doc["short_abandon_s"], f"{path}.short_abandon_s", problems, 0, 3600)
    tolerance = _reconcile(doc.get("reconcile"), problems)
    gate: bool | None = False
    if doc.get("gate") is not None:
        gate = fields.flag(doc["gate"], f"{path}.gate", problems)
    cap = _cap(doc.get("cap"), problems)
    kpis = _kpis(doc.get("kpis"), problems)
    if short is None or gate is None or kpis is None:
        return None
    return ServiceTerms(kpis, short, tolerance, gate, cap)


def _bounded(
    value: object, path: str, problems: fields.Problems, low: int, high: int
) -> int | None:
    number = fields.integer(value, path, problems, minimum=low)
    if number is not None and number > high:
        problems.add(path, f"must be at most {high}")
        return None
    return number


def _share(value: object, path: str, problems: fields.Problems, *, signed: bool) -> Decimal | None:
    """Read a percentage: a share from 0% to 100%, or (signed) an adjustment."""
    share = fields.percent(value, path, problems)
    if share is None:
        return None
    if not signed and not 0 <= share <= 1:
        problems.add(path, "must be between 0% and 100%")
        return None
    if signed and not -1 <= share <= 1:
        problems.add(path, "must be between -100% and +100%")
        return None
    return share


def _reconcile(value: object, problems: fields.Problems) -> Decimal | None:
    if value is None:
        return None
    path = "service.reconcile"
    doc = fields.mapping(value, path, problems, required=("tolerance",))
    if doc is None or "tolerance" not in doc:
        return None
    return _share(doc["tolerance"], f"{path}.tolerance", problems, signed=False)


def _cap(value: object, problems: fields.Problems) -> ServiceCap | None:
    if value is None:
        return None
    path = "service.cap"
    doc = fields.mapping(value, path, problems, required=("bonus", "malus"))
    if doc is None:
        return None
    limits = {
        name: _share(doc[name], f"{path}.{name}", problems, signed=False)
        for name in ("bonus", "malus")
        if name in doc
    }
    bonus, malus = limits.get("bonus"), limits.get("malus")
    if bonus is None or malus is None:
        return None
    return ServiceCap(bonus, malus)


# Each KPI's own keys besides its rule (bands, or target/per_point/max).
OWN_KEYS = {
    "service_level": ("answered_within_s",),
    "abandoned": (),
    "answer_speed": (),
    "repeat_contacts": ("within_days",),
    "csat": ("top_box_from", "min_responses"),
}
REQUIRED_KEYS = {"service_level": ("answered_within_s",), "repeat_contacts": ("within_days",),
                 "csat": ("top_box_from",)}  # fmt: skip
LINEAR_KEYS = ("target", "per_point", "max")


def _kpis(value: object, problems: fields.Problems) -> tuple[KpiRule, ...] | None:
    path = "service.kpis"
    if not isinstance(value, Mapping):
        problems.add(path, "must be a mapping of KPI to rule")
        return None
    rules: dict[str, KpiRule] = {}
    for code, item in value.items():
        where = f"{path}.{code}"
        if code not in KPIS:
            problems.add(where, f"must be one of {', '.join(KPIS)}")
            continue
        rule = _kpi(str(code), item, where, problems)
        if rule is not None:
            rules[code] = rule
    return tuple(rules[code] for code in KPIS if code in rules)


def _kpi(code: str, value: object, path: str, problems: fields.Problems) -> KpiRule | None:
    own = OWN_KEYS[code]
    doc = fields.mapping(
        value, path, problems, required=REQUIRED_KEYS.get(code, ()),
        optional=("bands", *LINEAR_KEYS, *own),
    )  # fmt: skip
    if doc is None:
        return None
    extra: dict[str, int | None] = {}
    if "answered_within_s" in doc:
        extra["answered_within_s"] = _bounded(
            doc["answered_within_s"], f"{path}.answered_within_s", problems, 0, 3600
        )
    if "within_days" in doc:
        extra["within_days"] = _bounded(
            doc["within_days"], f"{path}.within_days", problems, 1, MAX_WITHIN_DAYS
        )
    if "top_box_from" in doc:
        extra["top_box_from"] = _bounded(
            doc["top_box_from"], f"{path}.top_box_from", problems, 1, 5
        )
    if doc.get("min_responses") is not None:
        extra["min_responses"] = _bounded(
            doc["min_responses"], f"{path}.min_responses", problems, 0, 10**9
        )
    linear = [name for name in LINEAR_KEYS if name in doc]
    if "bands" in doc and linear:
        problems.add(f"{path}.{linear[0]}", "give either bands or target, per_point and max")
        return None
    if "bands" not in doc and not linear:
        problems.add(f"{path}.bands", "is required (or target, per_point and max)")
        return None
    if any(value is None for value in extra.values()):
        return None
    numbers = {name: number for name, number in extra.items() if number is not None}
    if "bands" in doc:
        bands = _kpi_bands(code, doc["bands"], f"{path}.bands", problems)
        return None if bands is None else KpiRule(code, "bands", bands, **numbers)  # type: ignore[arg-type]
    return _linear(code, doc, path, problems, numbers)


def _linear(
    code: str, doc: Mapping[str, Any], path: str, problems: fields.Problems, numbers: dict[str, int]
) -> KpiRule | None:
    if code == "answer_speed":
        problems.add(f"{path}.target", "answer_speed moves by bands of up_to_s seconds")
        return None
    for name in LINEAR_KEYS:
        if name not in doc:
            problems.add(f"{path}.{name}", "is required")
    if any(name not in doc for name in LINEAR_KEYS):
        return None
    target = _share(doc["target"], f"{path}.target", problems, signed=False)
    per_point = _share(doc["per_point"], f"{path}.per_point", problems, signed=True)
    furthest = _share(doc["max"], f"{path}.max", problems, signed=True)
    if per_point is not None and per_point > 0:
        # A point on the wrong side of the target never pays the supplier more.
        problems.add(f"{path}.per_point", "must be zero or negative (a credit to the client)")
        per_point = None
    if furthest is not None and furthest > 0:
        problems.add(f"{path}.max", "must be zero or negative, as per_point is")
        furthest = None
    if target is None or per_point is None or furthest is None:
        return None
    return KpiRule(code, "linear", (), target, per_point, furthest, **numbers)


def _kpi_bands(
    code: str, value: object, path: str, problems: fields.Problems
) -> tuple[KpiBand, ...] | None:
    """Read a KPI's bands: `from` for a KPI where higher is better (highest first, as
    quality's), else `up_to` (`up_to_s` for answer_speed), lowest first, the last open."""
    listed = fields.items(value, path, problems)
    if listed is None:
        return None
    higher = code in HIGHER_IS_BETTER
    key = "from" if higher else "up_to_s" if code == "answer_speed" else "up_to"
    bands: list[KpiBand] = []
    failed = False
    for index, item in enumerate(listed):
        where = f"{path}.{index}"
        doc = fields.mapping(item, where, problems, required=(key, "adjust"))
        if doc is None or key not in doc or "adjust" not in doc:
            failed = True
            continue
        adjust = _share(doc["adjust"], f"{where}.adjust", problems, signed=True)
        edge = _edge(doc[key], f"{where}.{key}", problems, key, last=index == len(listed) - 1)
        if adjust is None or (edge is None and (higher or doc[key] is not None)):
            failed = True
            continue
        band = KpiBand(edge, adjust)
        if bands and not failed:
            _ordered(bands[-1], band, where, key, problems)
        bands.append(band)
    if failed:
        return None
    if higher and bands[-1].edge != 0 and bands[-1].adjust < 0:
        problems.add(
            f"{path}.{len(listed) - 1}.from",
            "the lowest band carries a malus, so it must start at 0%",
        )
    if not higher and bands[-1].edge is not None:
        problems.add(
            f"{path}.{len(listed) - 1}.{key}", f"the last band must be open-ended ({key} null)"
        )
    return tuple(bands)


def _edge(
    value: object, path: str, problems: fields.Problems, key: str, *, last: bool
) -> Decimal | None:
    if value is None:
        if key == "from" or not last:
            problems.add(path, "only the last band may be open-ended (null)" if key != "from"
                         else "must be a percentage")  # fmt: skip
        return None
    if key == "up_to_s":
        seconds = _bounded(value, path, problems, 0, 86400)
        return None if seconds is None else Decimal(seconds)
    return _share(value, path, problems, signed=False)


def _ordered(
    previous: KpiBand, band: KpiBand, path: str, key: str, problems: fields.Problems
) -> None:
    """Bands run from the best figure to the worst; a worse band never pays more."""
    if key == "from":
        assert previous.edge is not None and band.edge is not None
        if band.edge >= previous.edge:
            problems.add(f"{path}.from", "bands must be ordered from the highest share down")
            return
    elif previous.edge is not None and band.edge is not None and band.edge <= previous.edge:
        problems.add(f"{path}.{key}", f"bands must be ordered from the lowest {key} up")
        return
    if band.adjust > previous.adjust:
        problems.add(f"{path}.adjust", "adjustments must not grow as the figure gets worse")


def service_document(service: ServiceTerms) -> dict[str, Any]:
    """Return the canonical document of a `service:` block."""
    document: dict[str, Any] = {"short_abandon_s": service.short_abandon_s, "gate": service.gate}
    if service.tolerance is not None:
        document["reconcile"] = {"tolerance": fields.percent_out(service.tolerance, signed=False)}
    kpis: dict[str, Any] = {}
    for rule in service.kpis:
        kpi: dict[str, Any] = {}
        if rule.answered_within_s is not None:
            kpi["answered_within_s"] = rule.answered_within_s
        if rule.within_days is not None:
            kpi["within_days"] = rule.within_days
        if rule.top_box_from is not None:
            kpi["top_box_from"] = rule.top_box_from
        if rule.code == "csat":
            kpi["min_responses"] = rule.min_responses
        if rule.form == "bands":
            key = (
                "from"
                if rule.higher_is_better
                else "up_to_s"
                if rule.code == "answer_speed"
                else "up_to"
            )
            kpi["bands"] = [
                {
                    key: _edge_out(band.edge, key),
                    "adjust": fields.percent_out(band.adjust, signed=True),
                }
                for band in rule.bands
            ]
        else:
            assert rule.target is not None and rule.per_point is not None and rule.max is not None
            kpi["target"] = fields.percent_out(rule.target, signed=False)
            kpi["per_point"] = fields.percent_out(rule.per_point, signed=True)
            kpi["max"] = fields.percent_out(rule.max, signed=True)
        kpis[rule.code] = kpi
    document["kpis"] = kpis
    if service.cap is not None:
        document["cap"] = {
            "bonus": fields.percent_out(service.cap.bonus, signed=False),
            "malus": fields.percent_out(service.cap.malus, signed=False),
        }
    return document


def _edge_out(edge: Decimal | None, key: str) -> Any:
    if edge is None:
        return None
    return int(edge) if key == "up_to_s" else fields.percent_out(edge, signed=False)


# A month's figures ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceCounts:
    """What SQL counted of a month (inbound calls of the month, their surveys, the client's
    daily counts), against the `Thresholds`."""

    logged: int = 0  # inbound calls, every outcome, short abandons included
    answered: int = 0
    within: int = 0  # answered with wait_s <= answered_within_s
    abandoned: int = 0  # abandoned, not short
    waited: int = 0  # answered calls that carry wait_s
    wait_sum: int = 0
    with_caller: int = 0  # answered calls with a caller_ref
    repeated: int = 0  # of those, the ones whose caller called again within the window
    responses: int = 0
    top_box: int = 0
    resolved_answers: int = 0
    resolved: int = 0
    client: int | None = None  # the client's count of the month, if it posted every day
    client_days: int = 0
    days: int = 0


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """How the client's count and the log compared, and what was applied."""

    status: str  # one of RECONCILED
    log: int
    client: int | None
    missing: int = 0  # counted as abandoned (log_short)
    units_cap: int | None = None  # the volume pays at most this many units (log_over)
    tolerance: Decimal | None = None
    client_days: int = 0
    days: int = 0


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    """A month's KPIs: counts and exact ratios, reconciliation applied."""

    counts: ServiceCounts
    reconciliation: Reconciliation
    offered: int
    within: int
    abandoned: int

    def ratio(self, code: str) -> tuple[Fraction, int, int] | None:
        """Return a KPI's exact figure with its numerator and denominator (None: no data)."""
        counts = self.counts
        if code == "service_level":
            return _ratio(self.within, self.offered)
        if code == "abandoned":
            return _ratio(self.abandoned, self.offered)
        if code == "answer_speed":
            return _ratio(counts.wait_sum, counts.waited)
        if code == "repeat_contacts":
            return _ratio(counts.repeated, counts.with_caller)
        if code == "csat":
            return _ratio(counts.top_box, counts.responses)
        if code == "resolved":
            return _ratio(counts.resolved, counts.resolved_answers)
        raise ValueError(f"no KPI {code}")

    def csat_interval(self) -> tuple[Decimal, Decimal] | None:
        """Return the 95% Wilson interval of the csat share (None: no answers)."""
        from contracts.stats import CONFIDENCE, critical_figures  # stats reads the terms

        if not self.counts.responses:
            return None
        ci = critical_figures(self.counts.top_box, self.counts.responses, CONFIDENCE).ci
        assert ci is not None
        return ci.low, ci.high


def _ratio(numerator: int, denominator: int) -> tuple[Fraction, int, int] | None:
    return None if denominator == 0 else (Fraction(numerator, denominator), numerator, denominator)


def service_figures(counts: ServiceCounts, service: ServiceTerms | None) -> ServiceFigures:
    """Return a month's KPIs, the client's count reconciled where the terms ask (DESIGN 16)."""
    offered = counts.answered + counts.abandoned
    reconciliation = _reconcile_counts(counts, service)
    missing = reconciliation.missing
    return ServiceFigures(
        counts, reconciliation, offered + missing, counts.within, counts.abandoned + missing
    )


def _reconcile_counts(counts: ServiceCounts, service: ServiceTerms | None) -> Reconciliation:
    log, client = counts.logged, counts.client

    def reconciled(status: str, tolerance: Decimal | None = None, **applied: int) -> Reconciliation:
        return Reconciliation(
            status, log, client, tolerance=tolerance, client_days=counts.client_days,
            days=counts.days, **applied,
        )  # fmt: skip

    if service is None or service.tolerance is None:
        return reconciled("off")
    tolerance = service.tolerance
    if client is None:
        return reconciled("incomplete", tolerance)
    if log < client * (1 - tolerance):
        return reconciled("log_short", tolerance, missing=client - log)
    if log > client * (1 + tolerance):
        return reconciled("log_over", tolerance, units_cap=client)
    return reconciled("matched", tolerance)


def shown_share(value: Fraction) -> str:
    """Write a share as the API shows it: 4 places, "0.8123"."""
    return format(round_half_up(value, SHARE_PLACES), "f")


def shown_seconds(value: Fraction) -> str:
    """Write seconds as the API shows them: 1 place, "27.4"."""
    return format(round_half_up(value, SECONDS_PLACES), "f")


def shown(code: str, value: Fraction) -> str:
    return shown_seconds(value) if code == "answer_speed" else shown_share(value)


# The money -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """A service line before it joins the statement: code, amount, basis."""

    code: str
    amount: Decimal
    basis: dict[str, Any]


def service_lines(
    service: ServiceTerms,
    figures: ServiceFigures,
    fee: Decimal,
    currency: str,
    evidence: str = "point",
) -> list[ServiceLine]:
    """Return a line per KPI in the terms, then the `service_cap` line if the cap trims."""
    lines = [_kpi_line(rule, figures, fee, currency, evidence) for rule in service.kpis]
    if service.cap is not None:
        cap = _cap_line(service.cap, fee, lines, currency)
        if cap is not None:
            lines.append(cap)
    return lines


def gate_closed_by(service: ServiceTerms | None, lines: Sequence[Any]) -> list[str]:
    """Return the KPIs whose malus closes the gate on quality bonuses (`gate: true`)."""
    if service is None or not service.gate:
        return []
    return [line.code for line in lines if line.code != SERVICE_CAP and line.amount < 0]


def _kpi_line(
    rule: KpiRule, figures: ServiceFigures, fee: Decimal, currency: str, evidence: str
) -> ServiceLine:
    ratio = figures.ratio(rule.code)
    basis: dict[str, Any] = {"kpi": rule.code, "rule": rule.form, "volume_fee": _decimal(fee)}
    basis |= _rule_basis(rule)
    if rule.code in ("service_level", "abandoned"):
        basis["reconciliation"] = reconciliation_basis(figures.reconciliation)
    zero = round_money(Decimal(0), currency)
    if ratio is None:
        reason = "no_responses" if rule.code == "csat" else "no_calls"
        return ServiceLine(rule.code, zero, basis | {"applied": False, "reason": reason,
                                                     "figure": None})  # fmt: skip
    value, numerator, denominator = ratio
    basis |= {"figure": shown(rule.code, value), "numerator": numerator, "denominator": denominator}
    if rule.code == "csat":
        interval = figures.csat_interval()
        basis["interval"] = None if interval is None else [_decimal(each) for each in interval]
        basis["evidence"] = evidence
        if denominator < rule.min_responses:
            return ServiceLine(
                rule.code, zero, basis | {"applied": False, "reason": "min_responses"}
            )
    if rule.form == "bands":
        adjust, extra = _banded(rule, value, figures, evidence)
    else:
        adjust, extra = _linear_adjust(rule, value, figures, evidence)
    basis |= extra
    with localcontext() as context:
        context.prec = 60
        exact = Decimal(adjust.numerator) / Decimal(adjust.denominator) * fee
    basis |= {"adjust": _decimal(_as_decimal(adjust)), "applied": adjust != 0}
    return ServiceLine(rule.code, round_money(exact, currency), basis)


def _as_decimal(value: Fraction) -> Decimal:
    with localcontext() as context:
        context.prec = 60
        return (Decimal(value.numerator) / Decimal(value.denominator)).normalize()


def _banded(
    rule: KpiRule, value: Fraction, figures: ServiceFigures, evidence: str
) -> tuple[Fraction, dict[str, Any]]:
    if rule.code == "csat" and evidence == "confident":
        interval = figures.csat_interval()
        assert interval is not None
        low, high = _band_of(rule, Fraction(interval[0])), _band_of(rule, Fraction(interval[1]))
        extra = {"low_band": _band_basis(rule, low), "high_band": _band_basis(rule, high)}
        if low is not None and low.adjust > 0:
            return Fraction(low.adjust), extra | {"band": _band_basis(rule, low)}
        if high is not None and high.adjust < 0:
            return Fraction(high.adjust), extra | {"band": _band_basis(rule, high)}
        return Fraction(0), extra | {"band": None}
    band = _band_of(rule, value)
    return (Fraction(0) if band is None else Fraction(band.adjust)), {
        "band": _band_basis(rule, band)
    }


def _band_of(rule: KpiRule, value: Fraction) -> KpiBand | None:
    """Return the band that holds a figure (None: below every `from` band)."""
    if rule.higher_is_better:
        return next(
            (b for b in rule.bands if b.edge is not None and Fraction(b.edge) <= value), None
        )
    return next((b for b in rule.bands if b.edge is None or value <= Fraction(b.edge)), None)


def _linear_adjust(
    rule: KpiRule, value: Fraction, figures: ServiceFigures, evidence: str
) -> tuple[Fraction, dict[str, Any]]:
    assert rule.target is not None and rule.per_point is not None and rule.max is not None
    judged = value
    extra: dict[str, Any] = {}
    if rule.code == "csat" and evidence == "confident":
        interval = figures.csat_interval()
        assert interval is not None
        judged = Fraction(interval[1])  # a malus must be proven: the best the interval allows
        extra["judged"] = _decimal(interval[1])
    target = Fraction(rule.target)
    wrong = target - judged if rule.higher_is_better else judged - target
    points = max(wrong * 100, Fraction(0))
    adjust = max(points * Fraction(rule.per_point), Fraction(rule.max))
    capped = points * Fraction(rule.per_point) < Fraction(rule.max)
    return adjust, extra | {"points": _points(points), "capped": capped}


def _points(points: Fraction) -> str:
    return format(round_half_up(points, SHARE_PLACES), "f")


def _rule_basis(rule: KpiRule) -> dict[str, Any]:
    basis: dict[str, Any] = {}
    for name in ("answered_within_s", "within_days", "top_box_from"):
        if getattr(rule, name) is not None:
            basis[name] = getattr(rule, name)
    if rule.code == "csat":
        basis["min_responses"] = rule.min_responses
    if rule.form == "linear":
        assert rule.target is not None and rule.per_point is not None and rule.max is not None
        basis |= {"target": _decimal(rule.target), "per_point": _decimal(rule.per_point),
                  "max": _decimal(rule.max)}  # fmt: skip
    return basis


def _band_basis(rule: KpiRule, band: KpiBand | None) -> dict[str, Any] | None:
    if band is None:
        return None
    key = "from" if rule.higher_is_better else "up_to_s" if rule.code == "answer_speed" else "up_to"
    edge = None if band.edge is None else _decimal(band.edge)
    return {key: edge, "adjust": _decimal(band.adjust)}


def reconciliation_basis(reconciliation: Reconciliation) -> dict[str, Any]:
    """Return what a line's basis says of the client's count and the log."""
    return {
        "status": reconciliation.status,
        "log": reconciliation.log,
        "client": reconciliation.client,
        "missing": reconciliation.missing,
        "units_cap": reconciliation.units_cap,
        "tolerance": None
        if reconciliation.tolerance is None
        else _decimal(reconciliation.tolerance),
        "client_days": reconciliation.client_days,
        "days": reconciliation.days,
    }


def _cap_line(
    cap: ServiceCap, fee: Decimal, lines: Sequence[ServiceLine], currency: str
) -> ServiceLine | None:
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
    return ServiceLine(SERVICE_CAP, round_money(malus_trim - bonus_trim, currency), basis)


def _decimal(value: Decimal) -> str:
    return format(value, "f")
