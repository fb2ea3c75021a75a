import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import contracts
from contracts.errors import RuleError
from contracts.forms import CRITICAL_CATEGORIES
from contracts.sampling import SampleSizes, Stage, TwoStage
from contracts.terms import (
    DIRECTIONS,
    SAMPLE_COUNTS,
    SOURCES,
    VOLUME_SOURCES,
    Band,
    Cap,
    CriticalRule,
    Disputes,
    Quality,
    Sampling,
    SelfAssessment,
    Terms,
    Tier,
    Volume,
    parse_terms,
    terms_document,
)
from tests.unit.documents import DELETE, field_paths, json_values, replaced, rule_id, with_change

EXAMPLES = Path(contracts.__file__).parent / "examples"

# The terms of DESIGN section 6.
DESIGN_TERMS: dict[str, Any] = {
    "currency": "EUR",
    "timezone": "Europe/Rome",
    "form": "standard@1",
    "dispute_window_days": 5,
    "disputes": {"decide_within_days": 10, "escalate_within_days": 5, "max_per_month": None},
    "volume": {
        "unit": "handled contact",
        "tiers": [{"up_to": 50000, "price": "1.10"}, {"up_to": None, "price": "0.95"}],
    },
    "quality": {
        "sources": ["client", "third_party", "supplier"],
        "min_sample": 60,
        "evidence": "confident",
        "bands": [
            {"from": 92, "adjust": "+12%"},
            {"from": 85, "adjust": "+6%"},
            {"from": 75, "adjust": "0%"},
            {"from": 0, "adjust": "-8%"},
        ],
        "critical": {
            "compliance": {"max_rate": "0.5%", "adjust": "-5%"},
            "customer": {"max_rate": "2%", "adjust": "-3%"},
        },
        "self_assessment": {"tolerance": 3, "min_pairs": 20},
        "cap": {"bonus": "15%", "malus": "15%"},
    },
}

EXPECTED_DESIGN_TERMS = Terms(
    currency="EUR",
    timezone="Europe/Rome",
    form_code="standard",
    form_version=1,
    dispute_window_days=5,
    volume=Volume(
        unit="handled contact",
        tiers=(Tier(50000, Decimal("1.10")), Tier(None, Decimal("0.95"))),
    ),
    quality=Quality(
        sources=("client", "third_party", "supplier"),
        min_sample=60,
        evidence="confident",
        bands=(
            Band(Decimal(92), Decimal("0.12")),
            Band(Decimal(85), Decimal("0.06")),
            Band(Decimal(75), Decimal(0)),
            Band(Decimal(0), Decimal("-0.08")),
        ),
        critical=(
            CriticalRule("customer", Decimal("0.02"), Decimal("-0.03")),
            CriticalRule("compliance", Decimal("0.005"), Decimal("-0.05")),
        ),
        self_assessment=SelfAssessment(Decimal(3), 20),
        cap=Cap(Decimal("0.15"), Decimal("0.15")),
    ),
    disputes=Disputes(decide_within_days=10, escalate_within_days=5, max_per_month=None),
)


def load_example(name: str) -> Any:
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


def test_the_design_terms_read_as_typed_values() -> None:
    terms = parse_terms(DESIGN_TERMS)
    assert terms == EXPECTED_DESIGN_TERMS
    assert terms.form_ref == "standard@1"


def test_the_shipped_quality_terms_are_exactly_the_design_example() -> None:
    document = load_example("terms-quality.yaml")
    assert document == DESIGN_TERMS
    assert parse_terms(document) == EXPECTED_DESIGN_TERMS


def test_the_canonical_document_of_the_design_terms_is_the_design_document() -> None:
    document = terms_document(parse_terms(DESIGN_TERMS))
    assert document == DESIGN_TERMS
    json.dumps(document)


def test_the_shipped_volume_only_terms_have_no_quality_component() -> None:
    terms = parse_terms(load_example("terms-volume-only.yaml"))
    assert (terms.currency, terms.timezone, terms.form_ref) == ("EUR", "Europe/Rome", "standard@1")
    assert terms.quality is None
    assert terms.volume.tiers[-1].up_to is None
    assert parse_terms(terms_document(terms)) == terms
    assert "quality" not in terms_document(terms)


def test_the_shipped_yen_terms_price_in_whole_yen() -> None:
    terms = parse_terms(load_example("terms-jpy.yaml"))
    assert (terms.currency, terms.timezone) == ("JPY", "Asia/Tokyo")
    assert terms.quality is not None
    assert all(tier.price == tier.price.to_integral_value() for tier in terms.volume.tiers)
    assert parse_terms(terms_document(terms)) == terms


def test_absent_optional_fields_take_their_defaults() -> None:
    document = copy.deepcopy(DESIGN_TERMS)
    del document["dispute_window_days"]
    del document["disputes"]
    for name in ("sources", "min_sample", "evidence", "critical", "self_assessment", "cap"):
        del document["quality"][name]
    terms = parse_terms(document)
    assert terms.dispute_window_days == 5
    assert terms.quality == Quality(
        sources=("client", "third_party", "supplier"),
        min_sample=0,
        evidence="point",
        bands=EXPECTED_DESIGN_TERMS.quality.bands,  # type: ignore[union-attr]
        critical=(),
        self_assessment=None,
        cap=None,
    )


def test_the_shipped_sampled_terms_pay_logged_calls_and_count_sampled_calls() -> None:
    terms = parse_terms(load_example("terms-sampled.yaml"))

    assert terms.volume.source == "calls" and terms.volume.direction == "inbound"
    stages = TwoStage(Stage(200, 7), Stage(60, 10))
    assert terms.sampling == Sampling(stages, "sampled", Decimal("0.9"), 3)
    assert terms.sampling.scheme == 2
    assert terms.require_logged_calls and terms.uses_call_log
    assert terms_document(terms)["quality"]["sampling"] == {
        "self": {"size": 200, "due_days": 7},
        "audit": {"size": 60, "due_days": 10},
        "counts": "sampled",
        "min_coverage": "90%",
        "log_closes_days": 3,
    }


TWO_STAGES = {"self": {"size": 200, "due_days": 7}, "audit": {"size": 60, "due_days": 10}}


def test_sampling_left_out_takes_its_defaults() -> None:
    terms = parse_terms(with_change(DESIGN_TERMS, "quality.sampling", TWO_STAGES))

    stages = TwoStage(Stage(200, 7), Stage(60, 10))
    assert terms.sampling == Sampling(stages, "sampled", Decimal(0), 3)
    assert parse_terms(DESIGN_TERMS).log_closes_days == 3
    assert not parse_terms(DESIGN_TERMS).uses_call_log


# A version stored before per-agent samples were retired (its canonical document).
PER_AGENT = {
    "audit": {"per_agent": 3, "min": 60},
    "self": {"per_agent": 10},
    "counts": "sampled",
    "min_coverage": "90%",
    "log_closes_days": 3,
}


def test_new_terms_that_sample_per_agent_are_refused_naming_each_key_and_why() -> None:
    with pytest.raises(RuleError) as raised:
        parse_terms(with_change(DESIGN_TERMS, "quality.sampling", PER_AGENT))

    errors = raised.value.errors
    assert sorted(errors) == [
        "quality.sampling.audit.min",
        "quality.sampling.audit.per_agent",
        "quality.sampling.self.per_agent",
    ]
    assert (
        "a per-agent quota lets whoever declares the agents choose each call's chance"
        in (errors["quality.sampling.audit.per_agent"][0])
    )


def test_a_stored_per_agent_version_still_reads_as_it_was_written() -> None:
    document = with_change(DESIGN_TERMS, "quality.sampling", PER_AGENT)

    terms = parse_terms(document, stored=True)

    assert terms.sampling == Sampling(SampleSizes(3, 60, 10), "sampled", Decimal("0.9"), 3)
    assert terms.sampling.scheme == 1 and terms.sampling.stages is None
    assert terms_document(terms)["quality"]["sampling"] == PER_AGENT
    assert parse_terms(terms_document(terms), stored=True) == terms


def test_null_quality_means_a_volume_only_contract() -> None:
    assert parse_terms({**DESIGN_TERMS, "quality": None}).quality is None


def test_sources_are_kept_in_order_of_precedence() -> None:
    document = copy.deepcopy(DESIGN_TERMS)
    document["quality"]["sources"] = ["supplier", "client"]
    assert parse_terms(document).quality.sources == ("client", "supplier")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("price", "expected"),
    [("1.10", Decimal("1.10")), (1, Decimal(1)), (1.1, Decimal("1.1")), ("0", Decimal(0))],
)
def test_a_price_may_be_a_string_an_int_or_a_float(price: Any, expected: Decimal) -> None:
    document = copy.deepcopy(DESIGN_TERMS)
    document["volume"]["tiers"][0]["price"] = price
    assert parse_terms(document).volume.tiers[0].price == expected


def test_canonical_percentages_and_prices_are_strings() -> None:
    document = terms_document(parse_terms(load_example("terms-jpy.yaml")))
    assert document["volume"]["tiers"][0]["price"] == "180"
    assert [band["adjust"] for band in document["quality"]["bands"]] == ["+8%", "+3%", "0%", "-5%"]
    assert document["quality"]["critical"]["compliance"] == {"max_rate": "1%", "adjust": "-4%"}
    assert document["quality"]["cap"] == {"bonus": "10%", "malus": "10%"}


BANDS_MESSAGE = "bands must be ordered from the highest score down"
ADJUST_MESSAGE = "adjustments must not decrease as the score rises"
PERCENT_MESSAGE = 'must be a percentage such as "+12%", "-8%" or "0.5%"'
CURRENCY_MESSAGE = "must be an active ISO 4217 currency code, such as EUR"
ZONE_MESSAGE = "must be an IANA time zone, such as Europe/Rome"
FORM_MESSAGE = 'must be "code@version", such as "standard@1"'
OPEN_ENDED = "the last tier must be open-ended (up_to null)"

LOWEST_MALUS = "the lowest band carries a malus, so it must start at 0"

TERMS_RULES = [
    ("payment_terms", "30 days", "payment_terms", "unknown field"),
    ("currency", DELETE, "currency", "is required"),
    ("currency", "EURO", "currency", CURRENCY_MESSAGE),
    ("currency", "eur", "currency", CURRENCY_MESSAGE),
    ("currency", "XAU", "currency", CURRENCY_MESSAGE),
    ("currency", 978, "currency", CURRENCY_MESSAGE),
    ("timezone", "Mars/Olympus_Mons", "timezone", ZONE_MESSAGE),
    ("timezone", "", "timezone", ZONE_MESSAGE),
    ("timezone", "../etc/passwd", "timezone", ZONE_MESSAGE),
    ("timezone", "/etc/localtime", "timezone", ZONE_MESSAGE),
    ("timezone", "localtime", "timezone", ZONE_MESSAGE),
    ("timezone", "Europe", "timezone", ZONE_MESSAGE),
    ("timezone", 1, "timezone", ZONE_MESSAGE),
    ("form", "standard", "form", FORM_MESSAGE),
    ("form", "standard@0", "form", FORM_MESSAGE),
    ("form", "standard@v1", "form", FORM_MESSAGE),
    ("form", "Standard@1", "form", FORM_MESSAGE),
    ("dispute_window_days", -1, "dispute_window_days", "must not be negative"),
    ("dispute_window_days", "5", "dispute_window_days", "must be a whole number"),
    ("dispute_window_days", True, "dispute_window_days", "must be a whole number"),
    ("disputes", "soon", "disputes", "must be a mapping"),
    ("disputes.decide_within_days", 0, "disputes.decide_within_days", "must be at least 1"),
    (
        "disputes.escalate_within_days",
        "5",
        "disputes.escalate_within_days",
        "must be a whole number",
    ),
    ("disputes.max_per_month", -1, "disputes.max_per_month", "must not be negative"),
    ("disputes.arbiter", "admin", "disputes.arbiter", "unknown field"),
    ("volume", "per contact", "volume", "must be a mapping"),
    ("volume.unit", "", "volume.unit", "must not be blank"),
    ("volume.unit", DELETE, "volume.unit", "is required"),
    ("volume.rebate", "1%", "volume.rebate", "unknown field"),
    ("volume.tiers", [], "volume.tiers", "must not be empty"),
    ("volume.tiers.0.up_to", DELETE, "volume.tiers.0.up_to", "is required"),
    ("volume.tiers.0.up_to", 0, "volume.tiers.0.up_to", "must be at least 1"),
    ("volume.tiers.0.up_to", "50000", "volume.tiers.0.up_to", "must be a whole number"),
    (
        "volume.tiers.0.up_to",
        None,
        "volume.tiers.0.up_to",
        "only the last tier may be open-ended (up_to null)",
    ),
    ("volume.tiers.1.up_to", 90000, "volume.tiers.1.up_to", OPEN_ENDED),
    (
        "volume.tiers",
        [{"up_to": 10, "price": "1"}, {"up_to": 10, "price": "1"}, {"up_to": None, "price": "1"}],
        "volume.tiers.1.up_to",
        "must be greater than the previous tier's up_to",
    ),
    ("volume.tiers.0.price", "-1.10", "volume.tiers.0.price", "must not be negative"),
    ("volume.tiers.0.price", -1, "volume.tiers.0.price", "must not be negative"),
    ("volume.tiers.0.price", "one euro", "volume.tiers.0.price", "must be a number"),
    ("volume.tiers.0.price", True, "volume.tiers.0.price", "must be a number"),
    ("volume.tiers.0.price", "NaN", "volume.tiers.0.price", "must be a number"),
    ("volume.tiers.0.currency", "EUR", "volume.tiers.0.currency", "unknown field"),
    ("quality", ["bands"], "quality", "must be a mapping"),
    ("quality.bonus", "+1%", "quality.bonus", "unknown field"),
    ("quality.bands", DELETE, "quality.bands", "is required"),
    ("quality.sources", [], "quality.sources", "must not be empty"),
    (
        "quality.sources",
        ["client", "auditor"],
        "quality.sources.1",
        "must be one of client, third_party, supplier",
    ),
    ("quality.sources", ["client", "client"], "quality.sources.1", "duplicate source"),
    ("quality.min_sample", -1, "quality.min_sample", "must not be negative"),
    ("quality.min_sample", 60.5, "quality.min_sample", "must be a whole number"),
    ("quality.evidence", "likely", "quality.evidence", "must be one of point, confident"),
    ("quality.bands", [], "quality.bands", "must not be empty"),
    ("quality.bands.1.from", 95, "quality.bands.1.from", BANDS_MESSAGE),
    ("quality.bands.1.from", 92, "quality.bands.1.from", BANDS_MESSAGE),
    ("quality.bands.0.from", 101, "quality.bands.0.from", "must be between 0 and 100"),
    ("quality.bands.3.from", -5, "quality.bands.3.from", "must be between 0 and 100"),
    ("quality.bands.3.from", "low", "quality.bands.3.from", "must be a number"),
    ("quality.bands.3.from", 40, "quality.bands.3.from", LOWEST_MALUS),
    ("quality.bands.1.adjust", "+15%", "quality.bands.1.adjust", ADJUST_MESSAGE),
    ("quality.bands.3.adjust", "+1%", "quality.bands.3.adjust", ADJUST_MESSAGE),
    ("quality.bands.0.adjust", "12", "quality.bands.0.adjust", PERCENT_MESSAGE),
    ("quality.bands.0.adjust", 0.12, "quality.bands.0.adjust", PERCENT_MESSAGE),
    ("quality.bands.0.to", 100, "quality.bands.0.to", "unknown field"),
    (
        "quality.critical",
        ["compliance"],
        "quality.critical",
        "must be a mapping of category to rule",
    ),
    (
        "quality.critical.safety",
        {"max_rate": "1%", "adjust": "-1%"},
        "quality.critical.safety",
        "must be one of customer, business, compliance",
    ),
    (
        "quality.critical.compliance.max_rate",
        "101%",
        "quality.critical.compliance.max_rate",
        "must be between 0% and 100%",
    ),
    (
        "quality.critical.compliance.max_rate",
        "-1%",
        "quality.critical.compliance.max_rate",
        "must be between 0% and 100%",
    ),
    (
        "quality.critical.compliance.max_rate",
        0.005,
        "quality.critical.compliance.max_rate",
        PERCENT_MESSAGE,
    ),
    (
        "quality.critical.compliance.adjust",
        "+5%",
        "quality.critical.compliance.adjust",
        "must be zero or negative",
    ),
    (
        "quality.critical.compliance.adjust",
        DELETE,
        "quality.critical.compliance.adjust",
        "is required",
    ),
    ("quality.critical.compliance.grace", 2, "quality.critical.compliance.grace", "unknown field"),
    (
        "quality.self_assessment.tolerance",
        -1,
        "quality.self_assessment.tolerance",
        "must not be negative",
    ),
    (
        "quality.self_assessment.tolerance",
        "three",
        "quality.self_assessment.tolerance",
        "must be a number",
    ),
    (
        "quality.self_assessment.min_pairs",
        0,
        "quality.self_assessment.min_pairs",
        "must be at least 1",
    ),
    (
        "quality.self_assessment.min_pairs",
        DELETE,
        "quality.self_assessment.min_pairs",
        "is required",
    ),
    ("quality.cap.bonus", "-5%", "quality.cap.bonus", "must not be negative"),
    ("quality.cap.malus", "15", "quality.cap.malus", PERCENT_MESSAGE),
    ("quality.cap.malus", DELETE, "quality.cap.malus", "is required"),
    ("quality.cap.total", "20%", "quality.cap.total", "unknown field"),
    ("volume.source", "invoices", "volume.source", "must be one of declared, calls"),
    ("volume.direction", "inbound", "volume.direction", "applies only with source: calls"),
    (
        "quality.require_logged_calls",
        "yes",
        "quality.require_logged_calls",
        "must be true or false",
    ),
    ("quality.sampling", "random", "quality.sampling", "must be a mapping"),
    ("quality.sampling.audit", DELETE, "quality.sampling.audit", "is required"),
    ("quality.sampling.self", DELETE, "quality.sampling.self", "is required"),
    ("quality.sampling.self.size", 0, "quality.sampling.self.size", "must be at least 1"),
    ("quality.sampling.self.due_days", DELETE, "quality.sampling.self.due_days", "is required"),
    ("quality.sampling.audit.due_days", 0, "quality.sampling.audit.due_days", "must be at least 1"),
    (
        "quality.sampling.audit.due_days",
        32,
        "quality.sampling.audit.due_days",
        "must be at most 31",
    ),
    (
        "quality.sampling.audit.size",
        201,
        "quality.sampling.audit.size",
        "must be at most the self sample's size (200): the audit sample is drawn from it",
    ),
    ("quality.sampling.audit.max", 9, "quality.sampling.audit.max", "unknown field"),
    (
        "quality.sampling.audit.per_agent",
        3,
        "quality.sampling.audit.per_agent",
        "is retired: a per-agent quota lets whoever declares the agents choose each call's chance;"
        " give the sample's size and due_days instead",
    ),
    ("quality.sampling.counts", "some", "quality.sampling.counts", "must be one of sampled, all"),
    (
        "quality.sampling.min_coverage",
        "120%",
        "quality.sampling.min_coverage",
        "must be between 0% and 100%",
    ),
    (
        "quality.sampling.log_closes_days",
        32,
        "quality.sampling.log_closes_days",
        "must be at most 31",
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "error_path", "message"),
    TERMS_RULES,
    ids=[rule_id(rule) for rule in TERMS_RULES],
)
def test_terms_that_break_a_rule_are_refused_naming_the_field(
    path: str, value: Any, error_path: str, message: str
) -> None:
    document = DESIGN_TERMS
    if path.startswith("quality.sampling."):
        document = with_change(DESIGN_TERMS, "quality.sampling", TWO_STAGES)
    with pytest.raises(RuleError) as raised:
        parse_terms(with_change(document, path, value))
    assert raised.value.errors == {error_path: [message]}


def test_terms_that_are_not_a_mapping_are_refused() -> None:
    with pytest.raises(RuleError) as raised:
        parse_terms("EUR")  # type: ignore[arg-type]
    assert raised.value.errors == {"_schema": ["must be a mapping"]}


def test_every_problem_of_the_terms_is_reported_at_once() -> None:
    document = with_change(DESIGN_TERMS, "currency", "ECU")
    document = with_change(document, "timezone", "Europe/Atlantis")
    document = with_change(document, "volume.tiers.0.price", "-1")
    document = with_change(document, "quality.bands.1.adjust", "+20%")
    document = with_change(document, "quality.cap.bonus", "lots")
    with pytest.raises(RuleError) as raised:
        parse_terms(document)
    assert sorted(raised.value.errors) == [
        "currency",
        "quality.bands.1.adjust",
        "quality.cap.bonus",
        "timezone",
        "volume.tiers.0.price",
    ]
    assert "must not be negative" in str(raised.value)


def test_a_single_open_ended_tier_is_a_flat_price() -> None:
    terms = parse_terms(with_change(DESIGN_TERMS, "volume.tiers", [{"up_to": None, "price": "1"}]))
    assert terms.volume.tiers == (Tier(None, Decimal(1)),)


def test_equal_adjustments_on_neighbouring_bands_are_allowed() -> None:
    terms = parse_terms(with_change(DESIGN_TERMS, "quality.bands.1.adjust", "+12%"))
    assert [band.adjust for band in terms.quality.bands][:2] == [Decimal("0.12")] * 2  # type: ignore[union-attr]


# --- round trips of generated terms --------------------------------------------------

percents = st.decimals(min_value=-50, max_value=50, places=1).map(lambda p: p.scaleb(-2))


@st.composite
def two_stages(draw: st.DrawFn) -> TwoStage:
    own = draw(st.integers(1, 1000))
    audit = draw(st.integers(1, own))
    return TwoStage(Stage(own, draw(st.integers(1, 31))), Stage(audit, draw(st.integers(1, 31))))


samplings = st.builds(
    Sampling,
    sizes=two_stages(),
    counts=st.sampled_from(SAMPLE_COUNTS),
    min_coverage=st.integers(0, 100).map(lambda p: Decimal(p).scaleb(-2)),
    log_closes_days=st.integers(0, 31),
)


@st.composite
def generated_terms(draw: st.DrawFn) -> Terms:
    limits = sorted(draw(st.sets(st.integers(1, 10**6), max_size=4)))
    prices = [
        draw(st.decimals(min_value=0, max_value=100, places=3)) for _ in range(len(limits) + 1)
    ]
    tiers = tuple(Tier(limit, price) for limit, price in zip([*limits, None], prices, strict=True))
    quality = None
    if draw(st.booleans()):
        starts = sorted(draw(st.sets(st.decimals(0, 100, places=1), min_size=1, max_size=5)))
        adjusts = sorted(draw(st.lists(percents, min_size=len(starts), max_size=len(starts))))
        if adjusts[0] < 0:  # a malus at the bottom needs a band from 0 beneath it
            starts[0] = Decimal(0)
        bands = tuple(Band(start, adjust) for start, adjust in zip(starts, adjusts, strict=True))
        categories = draw(st.lists(st.sampled_from(CRITICAL_CATEGORIES), unique=True))
        critical = tuple(
            CriticalRule(category, abs(draw(percents)), -abs(draw(percents)))
            for category in CRITICAL_CATEGORIES
            if category in categories
        )
        sources = draw(st.lists(st.sampled_from(SOURCES), min_size=1, unique=True))
        rule = draw(
            st.none() | st.builds(SelfAssessment, st.decimals(0, 20, places=1), st.integers(1, 100))
        )
        sampling = draw(st.none() | samplings)
        quality = Quality(
            sources=tuple(source for source in SOURCES if source in sources),
            min_sample=draw(st.integers(0, 500)),
            evidence=draw(st.sampled_from(["point", "confident"])),
            bands=tuple(reversed(bands)),
            critical=critical,
            self_assessment=rule,
            cap=draw(st.none() | st.builds(Cap, percents.map(abs), percents.map(abs))),
            sampling=sampling,
            require_logged_calls=draw(st.booleans()),
        )
    source = draw(st.sampled_from(VOLUME_SOURCES))
    direction = draw(st.none() | st.sampled_from(DIRECTIONS)) if source == "calls" else None
    return Terms(
        currency=draw(st.sampled_from(["EUR", "USD", "JPY", "BHD", "CLF"])),
        timezone=draw(st.sampled_from(["Europe/Rome", "Asia/Tokyo", "UTC", "America/Sao_Paulo"])),
        form_code=draw(st.from_regex(r"[a-z0-9_-]{1,12}", fullmatch=True)),
        form_version=draw(st.integers(1, 1000)),
        dispute_window_days=draw(st.integers(0, 60)),
        volume=Volume(
            draw(st.sampled_from(["handled contact", "completed call"])), tiers, source, direction
        ),
        quality=quality,
        disputes=Disputes(
            draw(st.integers(1, 60)), draw(st.integers(1, 60)), draw(st.none() | st.integers(0, 99))
        ),
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_terms())
def test_every_terms_version_reads_back_from_its_canonical_document(terms: Terms) -> None:
    document = terms_document(terms)
    assert parse_terms(json.loads(json.dumps(document))) == terms


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(field_paths(DESIGN_TERMS)), json_values)
def test_any_bad_value_anywhere_in_the_terms_is_refused_with_a_rule_error(
    path: tuple[Any, ...], value: Any
) -> None:
    try:
        parse_terms(replaced(DESIGN_TERMS, path, value))
    except RuleError as error:
        assert error.errors
