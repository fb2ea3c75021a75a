"""Contract terms documents: volume prices and quality rules (DESIGN section 6)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contracts import _fields as fields
from contracts.errors import RuleError
from contracts.forms import CRITICAL_CATEGORIES
from contracts.money import is_currency
from contracts.sampling import PER_AGENT, TWO_STAGE, SampleSizes, Stage, TwoStage
from contracts.service_levels import ServiceTerms, parse_service, service_document

Evidence = Literal["point", "confident"]

EVIDENCE_RULES: tuple[Evidence, ...] = ("point", "confident")
# In order of precedence when a call was evaluated by more than one source (DESIGN 5.1).
SOURCES: tuple[str, ...] = ("client", "third_party", "supplier")  # by precedence
AUDIT_SOURCES: tuple[str, ...] = ("client", "third_party")
DEFAULT_DISPUTE_WINDOW_DAYS = 5
DISPUTE_FIELDS = ("decide_within_days", "escalate_within_days", "max_per_month")
# Where the units a contract pays come from: the supplier's declared daily volumes, or the
# calls it logged (DESIGN 13), optionally of one direction only.
VOLUME_SOURCES = ("declared", "calls")
DIRECTIONS = ("inbound", "outbound")
# Which evaluations count under sampled terms: those of sampled calls, or all of them.
SAMPLE_COUNTS = ("sampled", "all")
DEFAULT_LOG_CLOSES_DAYS = 3
MAX_LOG_CLOSES_DAYS = 31
MAX_DUE_DAYS = 31  # a side's days to evaluate its sample: the month closes after both
# Why new terms may not sample per agent (DESIGN 13): stored older versions still read so.
PER_AGENT_RETIRED = (
    "is retired: a per-agent quota lets whoever declares the agents choose each call's chance;"
    " give the sample's size and due_days instead"
)
MIN_RETIRED = "is retired with the per-agent quotas: give the audit sample's size and due_days"
# What the client side reads of the supplier's agents (DESIGN 18), least to most.
CLIENT_SEES = ("teams", "pseudonyms", "agents")
PRIVACY_FIELDS = ("client_sees", "min_group", "basis")
DEFAULT_MIN_GROUP = 5
MAX_BASIS = 1000

_FORM_REF = re.compile(r"([a-z0-9_-]+)@([1-9][0-9]*)")
_TIME_ZONE = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")


@dataclass(frozen=True, slots=True)
class Tier:
    """A volume price band: units up to `up_to` (None: all the rest) at `price` each."""

    up_to: int | None
    price: Decimal


@dataclass(frozen=True, slots=True)
class Volume:
    """What the contract pays per unit, graduated by tiers, and where the units come from."""

    unit: str
    tiers: tuple[Tier, ...]
    source: str = "declared"  # or "calls": the period's logged calls
    direction: str | None = None  # with source "calls": only inbound or outbound calls


@dataclass(frozen=True, slots=True)
class Band:
    """A quality band: from this score up, the volume fee moves by `adjust` (0.12 is +12%)."""

    from_score: Decimal
    adjust: Decimal


@dataclass(frozen=True, slots=True)
class CriticalRule:
    """A malus applied when critical errors of a category exceed `max_rate`."""

    category: str
    max_rate: Decimal
    adjust: Decimal


@dataclass(frozen=True, slots=True)
class SelfAssessment:
    """When supplier self-scores count as inflated: `tolerance` points over `min_pairs` pairs."""

    tolerance: Decimal
    min_pairs: int


@dataclass(frozen=True, slots=True)
class Calibration:
    """The calibration a month's quality lines need to move money (DESIGN 17): a closed
    session of at least `min_calls` calls and `min_participants` participants (both sides
    among them), closed within `valid_days` before the month's last day or during the month,
    whose alpha reaches `min_alpha`."""

    min_alpha: Decimal = Decimal("0.667")
    valid_days: int = 90
    min_calls: int = 10
    min_participants: int = 3


@dataclass(frozen=True, slots=True)
class Cap:
    """The largest total bonus and malus, as non-negative fractions of the volume fee."""

    bonus: Decimal
    malus: Decimal


@dataclass(frozen=True, slots=True)
class Sampling:
    """Samples of the call log that each side evaluates (DESIGN 13), and their floor.

    `sizes` are two stages (`TwoStage`: the self sample, and the audit sample drawn from it),
    or, in terms stored before those, per-agent quotas (`SampleSizes`, scheme 1).
    `counts` "sampled": only evaluations of sampled calls count; "all": every evaluation does
    (under two stages, every audit and the self sample's self-assessments), and coverage
    still holds both sides to their sample.
    """

    sizes: SampleSizes | TwoStage
    counts: str = "sampled"
    min_coverage: Decimal = Decimal(0)
    log_closes_days: int = DEFAULT_LOG_CLOSES_DAYS

    @property
    def scheme(self) -> int:
        """Return how the samples are drawn: 2 (two stages) or 1 (per agent, retired)."""
        return TWO_STAGE if isinstance(self.sizes, TwoStage) else PER_AGENT

    @property
    def stages(self) -> TwoStage | None:
        """Return the two stages' sizes and due days (None under the retired scheme)."""
        return self.sizes if isinstance(self.sizes, TwoStage) else None


@dataclass(frozen=True, slots=True)
class Quality:
    """How quality moves the payout."""

    sources: tuple[str, ...]
    min_sample: int
    evidence: Evidence
    bands: tuple[Band, ...]
    critical: tuple[CriticalRule, ...] = ()
    self_assessment: SelfAssessment | None = None
    cap: Cap | None = None
    sampling: Sampling | None = None
    # Evaluations of calls that are not in the call log do not count.
    require_logged_calls: bool = False
    calibration: Calibration | None = None


@dataclass(frozen=True, slots=True)
class Disputes:
    """How long each side of a dispute has (DESIGN 12), and how many a month may open."""

    decide_within_days: int = 10
    escalate_within_days: int = 5
    max_per_month: int | None = None


@dataclass(frozen=True, slots=True)
class Privacy:
    """What the client side reads of the supplier's agents (DESIGN 18).

    `teams`: figures per team, a team of fewer than `min_group` agents merged into "other";
    `pseudonyms`: each agent as its stable per-contract pseudonym; `agents`: as logged, only
    with the legal `basis` recorded (the union agreement, its date and reference).
    """

    client_sees: str = "teams"
    min_group: int = DEFAULT_MIN_GROUP
    basis: str | None = None


@dataclass(frozen=True, slots=True)
class Terms:
    """One version of a contract's terms."""

    currency: str
    timezone: str
    form_code: str
    form_version: int
    dispute_window_days: int
    volume: Volume
    quality: Quality | None = None
    disputes: Disputes = Disputes()
    service: ServiceTerms | None = None  # service levels and the customer's voice (DESIGN 16)
    privacy: Privacy = Privacy()

    @property
    def form_ref(self) -> str:
        """Return the reference of the form the terms score with, "code@version"."""
        return f"{self.form_code}@{self.form_version}"

    @property
    def sampling(self) -> Sampling | None:
        """Return the sampling rule, if the terms sample the call log."""
        return None if self.quality is None else self.quality.sampling

    @property
    def log_closes_days(self) -> int:
        """Return how many days after a period ends its call log closes."""
        sampling = self.sampling
        return DEFAULT_LOG_CLOSES_DAYS if sampling is None else sampling.log_closes_days

    @property
    def uses_call_log(self) -> bool:
        """Say whether the call log moves the money: units from it, samples, logged calls."""
        return (
            self.volume.source == "calls"
            or self.sampling is not None
            or (self.require_logged_calls)
            or self.service is not None
        )

    @property
    def require_logged_calls(self) -> bool:
        """Say whether only evaluations of logged calls count."""
        return self.quality is not None and self.quality.require_logged_calls

    @property
    def band_edges(self) -> tuple[Decimal, ...]:
        """Return the scores where a quality band starts, above 0 (where the money steps)."""
        if self.quality is None:
            return ()
        return tuple(band.from_score for band in self.quality.bands if band.from_score > 0)


def parse_terms(document: Mapping[str, Any], *, stored: bool = False) -> Terms:
    """Read a terms document, raising RuleError with every problem found.

    `stored`: a version kept before per-agent samples were retired, which still reads as it
    was written; new terms are refused naming the per-agent key.
    """
    problems = fields.Problems()
    terms = _read_terms(document, problems, stored)
    problems.raise_any()
    if terms is None:  # pragma: no cover - a failed read always records a problem
        raise RuleError({"_schema": ["not valid terms"]})
    return terms


def _read_terms(document: object, problems: fields.Problems, stored: bool) -> Terms | None:
    doc = fields.mapping(
        document,
        "",
        problems,
        required=("currency", "timezone", "form", "volume"),
        optional=("dispute_window_days", "disputes", "quality", "service", "privacy"),
    )
    if doc is None:
        return None
    currency = _currency(doc["currency"], problems) if "currency" in doc else None
    timezone = _timezone(doc["timezone"], problems) if "timezone" in doc else None
    form = _form_ref(doc["form"], problems) if "form" in doc else None
    window: int | None = DEFAULT_DISPUTE_WINDOW_DAYS
    if doc.get("dispute_window_days") is not None:
        window = fields.integer(
            doc["dispute_window_days"], "dispute_window_days", problems, minimum=0
        )
    disputes = _disputes(doc.get("disputes"), problems)
    privacy = _privacy(doc.get("privacy"), problems)
    volume = _volume(doc["volume"], problems) if "volume" in doc else None
    quality = None
    if doc.get("quality") is not None:
        quality = _quality(doc["quality"], problems, stored)
    service = None
    if doc.get("service") is not None:
        service = parse_service(doc["service"], problems)
    if problems.errors:
        return None
    if currency is None or timezone is None or form is None or window is None or volume is None:
        return None
    return Terms(
        currency, timezone, form[0], form[1], window, volume, quality, disputes, service, privacy
    )


def _privacy(value: object, problems: fields.Problems) -> Privacy:
    """Read `privacy`; `agents` needs the legal basis recorded beside it."""
    default = Privacy()
    if value is None:
        return default
    doc = fields.mapping(value, "privacy", problems, required=(), optional=PRIVACY_FIELDS)
    if doc is None:
        return default
    client_sees: str | None = default.client_sees
    if doc.get("client_sees") is not None:
        path = "privacy.client_sees"
        client_sees = fields.choice(doc["client_sees"], path, problems, CLIENT_SEES)
    min_group: int | None = default.min_group
    if doc.get("min_group") is not None:
        min_group = fields.integer(doc["min_group"], "privacy.min_group", problems, minimum=1)
    basis = None
    if doc.get("basis") is not None:
        basis = fields.text(doc["basis"], "privacy.basis", problems, lines=True)
        if basis is not None and len(basis) > MAX_BASIS:
            problems.add("privacy.basis", f"must be at most {MAX_BASIS} characters")
            basis = None
    if client_sees == "agents" and basis is None and "privacy.basis" not in problems.errors:
        problems.add(
            "privacy.basis",
            "is required to show the client the agents as logged: record the legal basis "
            "(the union agreement or the labour inspectorate's authorization, its date and "
            "reference), or choose teams or pseudonyms",
        )
    if client_sees is None or min_group is None:
        return default
    return Privacy(client_sees, min_group, basis)


def _disputes(value: object, problems: fields.Problems) -> Disputes:
    """Read the dispute deadlines and cap; each field left out keeps its default."""
    default = Disputes()
    if value is None:
        return default
    doc = fields.mapping(value, "disputes", problems, required=(), optional=DISPUTE_FIELDS)
    if doc is None:
        return default

    def number(name: str, fallback: int | None, minimum: int) -> int | None:
        if doc.get(name) is None:
            return fallback
        return fields.integer(doc[name], f"disputes.{name}", problems, minimum=minimum)

    decide = number("decide_within_days", default.decide_within_days, 1)
    escalate = number("escalate_within_days", default.escalate_within_days, 1)
    cap = number("max_per_month", None, 0)
    if decide is None or escalate is None:
        return default
    return Disputes(decide, escalate, cap)


def _currency(value: object, problems: fields.Problems) -> str | None:
    if isinstance(value, str) and is_currency(value):
        return value
    problems.add("currency", "must be an active ISO 4217 currency code, such as EUR")
    return None


def _timezone(value: object, problems: fields.Problems) -> str | None:
    # "localtime" would load whatever zone the host machine happens to be set to
    if isinstance(value, str) and _TIME_ZONE.fullmatch(value) and value != "localtime":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            return value
    problems.add("timezone", "must be an IANA time zone, such as Europe/Rome")
    return None


def _form_ref(value: object, problems: fields.Problems) -> tuple[str, int] | None:
    match = _FORM_REF.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        problems.add("form", 'must be "code@version", such as "standard@1"')
        return None
    return match.group(1), int(match.group(2))


def _volume(value: object, problems: fields.Problems) -> Volume | None:
    doc = fields.mapping(
        value, "volume", problems, required=("unit", "tiers"), optional=("source", "direction")
    )
    if doc is None:
        return None
    source, direction = _volume_source(doc, problems)
    unit = fields.text(doc["unit"], "volume.unit", problems) if "unit" in doc else None
    listed = fields.items(doc["tiers"], "volume.tiers", problems) if "tiers" in doc else None
    if listed is None:
        return None
    tiers: list[Tier] = []
    previous_up_to = 0
    last = len(listed) - 1
    for index, item in enumerate(listed):
        path = f"volume.tiers.{index}"
        tier = fields.mapping(item, path, problems, required=("up_to", "price"))
        if tier is None:
            continue
        up_to = _up_to(tier, path, problems, previous_up_to, last=index == last)
        if up_to is not None:
            previous_up_to = up_to
        price = (
            fields.decimal(tier["price"], f"{path}.price", problems) if "price" in tier else None
        )
        if price is not None and price < 0:
            problems.add(f"{path}.price", "must not be negative")
        if price is not None:
            tiers.append(Tier(up_to, price))
    if unit is None or source is None:
        return None
    return Volume(unit, tuple(tiers), source, direction)


def _volume_source(
    doc: Mapping[str, Any], problems: fields.Problems
) -> tuple[str | None, str | None]:
    """Read where the units come from; a direction is for logged calls only."""
    source: str | None = "declared"
    if doc.get("source") is not None:
        source = fields.choice(doc["source"], "volume.source", problems, VOLUME_SOURCES)
    direction = None
    if doc.get("direction") is not None:
        direction = fields.choice(doc["direction"], "volume.direction", problems, DIRECTIONS)
        if source == "declared":
            problems.add("volume.direction", "applies only with source: calls")
    return source, direction


def _up_to(
    tier: Mapping[str, Any], path: str, problems: fields.Problems, previous: int, *, last: bool
) -> int | None:
    if "up_to" not in tier:
        return None
    value = tier["up_to"]
    if value is None:
        if not last:
            problems.add(f"{path}.up_to", "only the last tier may be open-ended (up_to null)")
        return None
    up_to = fields.integer(value, f"{path}.up_to", problems, minimum=1)
    if up_to is None:
        return None
    if last:
        problems.add(f"{path}.up_to", "the last tier must be open-ended (up_to null)")
    elif up_to <= previous:
        problems.add(f"{path}.up_to", "must be greater than the previous tier's up_to")
    return up_to


def _quality(value: object, problems: fields.Problems, stored: bool) -> Quality | None:
    doc = fields.mapping(
        value,
        "quality",
        problems,
        required=("bands",),
        optional=(
            "sources",
            "min_sample",
            "evidence",
            "critical",
            "self_assessment",
            "cap",
            "sampling",
            "require_logged_calls",
            "calibration",
        ),
    )
    if doc is None:
        return None
    sources = _sources(doc.get("sources"), problems)
    min_sample: int | None = 0
    if doc.get("min_sample") is not None:
        min_sample = fields.integer(doc["min_sample"], "quality.min_sample", problems, minimum=0)
    evidence: Evidence | None = "point"
    if doc.get("evidence") is not None:
        evidence = fields.choice(doc["evidence"], "quality.evidence", problems, EVIDENCE_RULES)
    bands = _bands(doc["bands"], problems) if "bands" in doc else None
    critical = _critical(doc.get("critical"), problems)
    self_assessment = _self_assessment(doc.get("self_assessment"), problems)
    cap = _cap(doc.get("cap"), problems)
    sampling = _sampling(doc.get("sampling"), problems, stored)
    logged: bool | None = False
    if doc.get("require_logged_calls") is not None:
        logged = fields.flag(doc["require_logged_calls"], "quality.require_logged_calls", problems)
    calibration = _calibration(doc.get("calibration"), problems)
    if sources is None or min_sample is None or evidence is None or bands is None:
        return None
    return Quality(
        sources,
        min_sample,
        evidence,
        bands,
        critical,
        self_assessment,
        cap,
        sampling,
        bool(logged),
        calibration,
    )


def _sources(value: object, problems: fields.Problems) -> tuple[str, ...] | None:
    if value is None:
        return SOURCES
    listed = fields.items(value, "quality.sources", problems)
    if listed is None:
        return None
    chosen: set[str] = set()
    for index, item in enumerate(listed):
        source = fields.choice(item, f"quality.sources.{index}", problems, SOURCES)
        if source in chosen:
            problems.add(f"quality.sources.{index}", "duplicate source")
        elif source is not None:
            chosen.add(source)
    return tuple(source for source in SOURCES if source in chosen)


def _bands(value: object, problems: fields.Problems) -> tuple[Band, ...] | None:
    listed = fields.items(value, "quality.bands", problems)
    if listed is None:
        return None
    bands: list[Band] = []
    above: Band | None = None
    for index, item in enumerate(listed):
        path = f"quality.bands.{index}"
        doc = fields.mapping(item, path, problems, required=("from", "adjust"))
        if doc is None:
            continue
        from_score = (
            fields.decimal(doc["from"], f"{path}.from", problems) if "from" in doc else None
        )
        adjust = (
            fields.percent(doc["adjust"], f"{path}.adjust", problems) if "adjust" in doc else None
        )
        if from_score is not None and not 0 <= from_score <= 100:
            problems.add(f"{path}.from", "must be between 0 and 100")
        if from_score is None or adjust is None:
            continue
        band = Band(from_score, adjust)
        if above is not None and band.from_score >= above.from_score:
            problems.add(f"{path}.from", "bands must be ordered from the highest score down")
        elif above is not None and band.adjust > above.adjust:
            problems.add(f"{path}.adjust", "adjustments must not decrease as the score rises")
        above = band
        bands.append(band)
    lowest = bands[-1] if bands else None
    if lowest is not None and lowest.adjust < 0 and lowest.from_score > 0:
        # Scores below every band move nothing, so a worse score would escape the malus.
        problems.add(
            f"quality.bands.{len(listed) - 1}.from",
            "the lowest band carries a malus, so it must start at 0",
        )
    return tuple(bands)


def _critical(value: object, problems: fields.Problems) -> tuple[CriticalRule, ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        problems.add("quality.critical", "must be a mapping of category to rule")
        return ()
    rules: dict[str, CriticalRule] = {}
    for category, item in value.items():
        path = f"quality.critical.{category}"
        if category not in CRITICAL_CATEGORIES:
            problems.add(path, f"must be one of {', '.join(CRITICAL_CATEGORIES)}")
            continue
        rule = _critical_rule(category, item, path, problems)
        if rule is not None:
            rules[category] = rule
    return tuple(rules[category] for category in CRITICAL_CATEGORIES if category in rules)


def _critical_rule(
    category: str, item: object, path: str, problems: fields.Problems
) -> CriticalRule | None:
    doc = fields.mapping(item, path, problems, required=("max_rate", "adjust"))
    if doc is None:
        return None
    max_rate = None
    if "max_rate" in doc:
        max_rate = fields.percent(doc["max_rate"], f"{path}.max_rate", problems)
        if max_rate is not None and not 0 <= max_rate <= 1:
            problems.add(f"{path}.max_rate", "must be between 0% and 100%")
    adjust = None
    if "adjust" in doc:
        adjust = fields.percent(doc["adjust"], f"{path}.adjust", problems)
        if adjust is not None and adjust > 0:
            problems.add(f"{path}.adjust", "must be zero or negative")
    if max_rate is None or adjust is None:
        return None
    return CriticalRule(category, max_rate, adjust)


def _self_assessment(value: object, problems: fields.Problems) -> SelfAssessment | None:
    if value is None:
        return None
    path = "quality.self_assessment"
    doc = fields.mapping(value, path, problems, required=("tolerance", "min_pairs"))
    if doc is None:
        return None
    tolerance = None
    if "tolerance" in doc:
        tolerance = fields.decimal(doc["tolerance"], f"{path}.tolerance", problems)
        if tolerance is not None and tolerance < 0:
            problems.add(f"{path}.tolerance", "must not be negative")
    min_pairs = None
    if "min_pairs" in doc:
        min_pairs = fields.integer(doc["min_pairs"], f"{path}.min_pairs", problems, minimum=1)
    if tolerance is None or min_pairs is None:
        return None
    return SelfAssessment(tolerance, min_pairs)


# A session holds at most this many calls and participants (service/calibration).
MAX_CALIBRATION_CALLS = 100
MAX_CALIBRATION_PARTICIPANTS = 50
CALIBRATION_FIELDS = ("min_alpha", "valid_days", "min_calls", "min_participants")


def _calibration(value: object, problems: fields.Problems) -> Calibration | None:
    """Read `quality.calibration`; a field left out takes the default of `Calibration`."""
    if value is None:
        return None
    path = "quality.calibration"
    doc = fields.mapping(value, path, problems, required=(), optional=CALIBRATION_FIELDS)
    if doc is None:
        return None
    default = Calibration()
    min_alpha: Decimal | None = default.min_alpha
    if doc.get("min_alpha") is not None:
        min_alpha = fields.decimal(doc["min_alpha"], f"{path}.min_alpha", problems)
        if min_alpha is not None and not 0 < min_alpha <= 1:
            problems.add(f"{path}.min_alpha", "must be above 0 and at most 1")
            min_alpha = None
    limits = {
        "valid_days": (1, 3660),
        "min_calls": (2, MAX_CALIBRATION_CALLS),
        "min_participants": (2, MAX_CALIBRATION_PARTICIPANTS),
    }
    read: dict[str, int] = {}
    for name, (low, high) in limits.items():
        number: int | None = getattr(default, name)
        if doc.get(name) is not None:
            number = fields.integer(doc[name], f"{path}.{name}", problems, minimum=low)
        if number is not None and number > high:
            problems.add(f"{path}.{name}", f"must be at most {high}")
        elif number is not None:
            read[name] = number
    if min_alpha is None or len(read) < len(limits):
        return None
    return Calibration(min_alpha, read["valid_days"], read["min_calls"], read["min_participants"])


def _sampling(value: object, problems: fields.Problems, stored: bool) -> Sampling | None:
    """Read `quality.sampling`: the samples' sizes, what counts, the floor, the log's close."""
    if value is None:
        return None
    path = "quality.sampling"
    doc = fields.mapping(
        value,
        path,
        problems,
        required=(),  # the two samples are required by their scheme (see _stages)
        optional=("self", "audit", "counts", "min_coverage", "log_closes_days"),
    )
    if doc is None:
        return None
    sizes: SampleSizes | TwoStage | None
    if _per_agent_keys(doc):
        sizes = _per_agent(doc, path, problems, stored)
    else:
        sizes = _stages(doc, path, problems)
    counts: str | None = "sampled"
    if doc.get("counts") is not None:
        counts = fields.choice(doc["counts"], f"{path}.counts", problems, SAMPLE_COUNTS)
    floor: Decimal | None = Decimal(0)
    if doc.get("min_coverage") is not None:
        floor = fields.percent(doc["min_coverage"], f"{path}.min_coverage", problems)
        if floor is not None and not 0 <= floor <= 1:
            problems.add(f"{path}.min_coverage", "must be between 0% and 100%")
    closes: int | None = DEFAULT_LOG_CLOSES_DAYS
    if doc.get("log_closes_days") is not None:
        closes = _days(
            doc["log_closes_days"], f"{path}.log_closes_days", problems, 0, MAX_LOG_CLOSES_DAYS
        )
    if sizes is None or counts is None or floor is None or closes is None:
        return None
    return Sampling(sizes, counts, floor, closes)


def _days(
    value: object, path: str, problems: fields.Problems, minimum: int, maximum: int
) -> int | None:
    """Read a number of days, from `minimum` to `maximum`."""
    days = fields.integer(value, path, problems, minimum=minimum)
    if days is not None and days > maximum:
        problems.add(path, f"must be at most {maximum}")
        return None
    return days


def _stages(doc: Mapping[str, Any], path: str, problems: fields.Problems) -> TwoStage | None:
    """Read `self: {size, due_days}` and `audit: {size, due_days}`; the audit sample is drawn
    from the self sample, so it is no larger."""
    stages: dict[str, Stage | None] = {}
    for part in ("self", "audit"):
        where = f"{path}.{part}"
        if doc.get(part) is None:
            problems.add(where, "is required")
            stages[part] = None
            continue
        read = fields.mapping(doc[part], where, problems, required=("size", "due_days"))
        if read is None or "size" not in read or "due_days" not in read:
            stages[part] = None
            continue
        size = fields.integer(read["size"], f"{where}.size", problems, minimum=1)
        due = _days(read["due_days"], f"{where}.due_days", problems, 1, MAX_DUE_DAYS)
        stages[part] = None if size is None or due is None else Stage(size, due)
    own, audit = stages["self"], stages["audit"]
    if own is None or audit is None:
        return None
    if audit.size > own.size:
        problems.add(
            f"{path}.audit.size",
            f"must be at most the self sample's size ({own.size:,}): the audit sample is drawn"
            " from it",
        )
        return None
    return TwoStage(own, audit)


# The keys of the retired per-agent sizes, by sample.
PER_AGENT_KEYS = {"audit": ("per_agent", "min"), "self": ("per_agent",)}


def _per_agent_keys(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return the (sample, key) of each retired per-agent size a sampling document gives."""
    return [
        (part, name)
        for part, names in PER_AGENT_KEYS.items()
        if isinstance(doc.get(part), Mapping)
        for name in names
        if name in doc[part]
    ]


def _per_agent(
    doc: Mapping[str, Any], path: str, problems: fields.Problems, stored: bool
) -> SampleSizes | None:
    """Read the retired per-agent sizes of a version stored with them (scheme 1); a new
    document that gives them is refused, naming each key and why."""
    if not stored:
        for part, name in _per_agent_keys(doc):
            said = PER_AGENT_RETIRED if name == "per_agent" else MIN_RETIRED
            problems.add(f"{path}.{part}.{name}", said)
        return None
    counts: dict[str, int | None] = {}
    for part, names in PER_AGENT_KEYS.items():
        read = doc.get(part)
        for name in names:
            given = read.get(name) if isinstance(read, Mapping) else None
            where = f"{path}.{part}.{name}"
            counts[f"{part}.{name}"] = (
                0 if given is None else fields.integer(given, where, problems, minimum=0)
            )
    audit, floor, own = (counts[name] for name in ("audit.per_agent", "audit.min",
                                                     "self.per_agent"))  # fmt: skip
    if audit is None or floor is None or own is None:
        return None
    return SampleSizes(audit, floor, own)


def _cap(value: object, problems: fields.Problems) -> Cap | None:
    if value is None:
        return None
    doc = fields.mapping(value, "quality.cap", problems, required=("bonus", "malus"))
    if doc is None:
        return None
    limits: dict[str, Decimal] = {}
    for name in ("bonus", "malus"):
        if name not in doc:
            continue
        limit = fields.percent(doc[name], f"quality.cap.{name}", problems)
        if limit is not None and limit < 0:
            problems.add(f"quality.cap.{name}", "must not be negative")
        elif limit is not None:
            limits[name] = limit
    if len(limits) < 2:
        return None
    return Cap(limits["bonus"], limits["malus"])


def terms_document(terms: Terms) -> dict[str, Any]:
    """Return the canonical JSON-able document of the terms."""
    document: dict[str, Any] = {
        "currency": terms.currency,
        "timezone": terms.timezone,
        "form": terms.form_ref,
        "dispute_window_days": terms.dispute_window_days,
        "disputes": {
            "decide_within_days": terms.disputes.decide_within_days,
            "escalate_within_days": terms.disputes.escalate_within_days,
            "max_per_month": terms.disputes.max_per_month,
        },
        "volume": _volume_document(terms.volume),
    }
    if terms.quality is not None:
        document["quality"] = _quality_document(terms.quality)
    if terms.service is not None:
        document["service"] = service_document(terms.service)
    if terms.privacy != Privacy():  # the default is left out, as versions before it read
        privacy: dict[str, Any] = {
            "client_sees": terms.privacy.client_sees,
            "min_group": terms.privacy.min_group,
        }
        if terms.privacy.basis is not None:
            privacy["basis"] = terms.privacy.basis
        document["privacy"] = privacy
    return document


def _volume_document(volume: Volume) -> dict[str, Any]:
    document: dict[str, Any] = {
        "unit": volume.unit,
        "tiers": [{"up_to": tier.up_to, "price": format(tier.price, "f")} for tier in volume.tiers],
    }
    if volume.source != "declared":
        document["source"] = volume.source
    if volume.direction is not None:
        document["direction"] = volume.direction
    return document


def _sampling_document(sampling: Sampling) -> dict[str, Any]:
    sizes = sampling.sizes
    document: dict[str, Any] = {}
    if isinstance(sizes, TwoStage):
        document["self"] = {"size": sizes.self_stage.size, "due_days": sizes.self_stage.due_days}
        document["audit"] = {
            "size": sizes.audit_stage.size,
            "due_days": sizes.audit_stage.due_days,
        }
    else:  # a stored version of the retired scheme, written back as it was
        document["audit"] = {"per_agent": sizes.audit_per_agent, "min": sizes.audit_min}
        if sizes.self_per_agent:
            document["self"] = {"per_agent": sizes.self_per_agent}
    return document | {
        "counts": sampling.counts,
        "min_coverage": fields.percent_out(sampling.min_coverage, signed=False),
        "log_closes_days": sampling.log_closes_days,
    }


def _quality_document(quality: Quality) -> dict[str, Any]:
    document: dict[str, Any] = {
        "sources": list(quality.sources),
        "min_sample": quality.min_sample,
        "evidence": quality.evidence,
        "bands": [
            {
                "from": fields.number_out(band.from_score),
                "adjust": fields.percent_out(band.adjust, signed=True),
            }
            for band in quality.bands
        ],
    }
    if quality.critical:
        document["critical"] = {
            rule.category: {
                "max_rate": fields.percent_out(rule.max_rate, signed=False),
                "adjust": fields.percent_out(rule.adjust, signed=True),
            }
            for rule in quality.critical
        }
    if quality.self_assessment is not None:
        document["self_assessment"] = {
            "tolerance": fields.number_out(quality.self_assessment.tolerance),
            "min_pairs": quality.self_assessment.min_pairs,
        }
    if quality.cap is not None:
        document["cap"] = {
            "bonus": fields.percent_out(quality.cap.bonus, signed=False),
            "malus": fields.percent_out(quality.cap.malus, signed=False),
        }
    if quality.sampling is not None:
        document["sampling"] = _sampling_document(quality.sampling)
    if quality.require_logged_calls:
        document["require_logged_calls"] = True
    if quality.calibration is not None:
        rule = quality.calibration
        document["calibration"] = {
            "min_alpha": format(rule.min_alpha, "f"),
            "valid_days": rule.valid_days,
            "min_calls": rule.min_calls,
            "min_participants": rule.min_participants,
        }
    return document
