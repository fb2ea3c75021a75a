import copy
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import contracts
from contracts.errors import RuleError
from contracts.forms import (
    AUTO_FAILS,
    CRITICAL_CATEGORIES,
    Form,
    Question,
    Score,
    Section,
    form_document,
    parse_form,
    score_evaluation,
)
from contracts.money import round_half_up
from tests.unit.documents import DELETE, field_paths, json_values, replaced, rule_id, with_change

EXAMPLES = Path(contracts.__file__).parent / "examples"

# The form of DESIGN section 4.
DESIGN_FORM: dict[str, Any] = {
    "code": "standard",
    "version": 1,
    "title": "Standard call quality",
    "pass_mark": 80,
    "sections": [
        {
            "key": "communication",
            "title": "Communication",
            "weight": 25,
            "questions": [
                {"key": "greeting", "text": "Greets the caller", "kind": "yes_no", "weight": 1},
                {
                    "key": "clarity",
                    "text": "Speaks clearly",
                    "kind": "scale",
                    "scale": [1, 5],
                    "weight": 2,
                    "na": True,
                },
            ],
        },
        {
            "key": "method",
            "title": "Method and compliance",
            "weight": 30,
            "questions": [
                {
                    "key": "verification",
                    "text": "Verifies identity before disclosing account data",
                    "kind": "yes_no",
                    "weight": 2,
                    "critical": "compliance",
                    "auto_fail": "form",
                }
            ],
        },
    ],
}


def yes_no(key: str, weight: Any = 1, **options: Any) -> dict[str, Any]:
    return {"key": key, "text": f"Question {key}", "kind": "yes_no", "weight": weight, **options}


def scale(key: str, weight: Any = 1, **options: Any) -> dict[str, Any]:
    return {
        "key": key,
        "text": f"Question {key}",
        "kind": "scale",
        "scale": [1, 5],
        "weight": weight,
        **options,
    }


def section(key: str, weight: int | str, *questions: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "title": key.title(), "weight": weight, "questions": list(questions)}


def form(*sections: dict[str, Any], pass_mark: int | None = None) -> Form:
    document: dict[str, Any] = {"code": "test", "version": 1, "title": "Test form"}
    if pass_mark is not None:
        document["pass_mark"] = pass_mark
    document["sections"] = list(sections)
    return parse_form(document)


# --- scoring, worked by hand ---------------------------------------------------------


def test_the_design_form_scores_a_good_call_at_92_42() -> None:
    # communication (1·1 + 2·3/4) / 3 = 5/6; method 1; total (25·5/6 + 30) / 55 = 0.92424...
    result = score_evaluation(
        parse_form(DESIGN_FORM), {"greeting": "yes", "clarity": 4, "verification": "yes"}
    )
    assert result == Score(
        score=Decimal("92.42"),
        passed=True,
        critical_errors=(),
        section_scores={"communication": Decimal("83.33"), "method": Decimal("100.00")},
        form_auto_failed=False,
    )


def test_a_scale_answer_counts_as_its_distance_along_the_scale() -> None:
    scored = form(section("s", 1, scale("q")))
    assert [score_evaluation(scored, {"q": value}).score for value in (1, 2, 3, 4, 5)] == [
        Decimal("0.00"),
        Decimal("25.00"),
        Decimal("50.00"),
        Decimal("75.00"),
        Decimal("100.00"),
    ]


def test_an_na_answer_is_left_out_of_numerator_and_denominator() -> None:
    scored = form(section("s", 1, yes_no("a"), yes_no("b", 3), yes_no("c", 2, na=True)))
    # a yes (1), b no (0 of 3), c N/A: 1/4, not 1/6 and not 3/6
    assert score_evaluation(scored, {"a": "yes", "b": "no", "c": "na"}).score == Decimal("25.00")


def test_section_weights_are_relative_and_need_not_total_100() -> None:
    scored = form(section("low", 1, yes_no("a")), section("high", 3, yes_no("b")))
    result = score_evaluation(scored, {"a": "no", "b": "yes"})
    assert result.score == Decimal("75.00")
    assert result.section_scores == {"low": Decimal("0.00"), "high": Decimal("100.00")}


def test_a_section_auto_fail_question_answered_no_zeroes_its_section_only() -> None:
    scored = form(
        section("a", 1, yes_no("record", auto_fail="section"), yes_no("x", 3)),
        section("b", 1, yes_no("y")),
    )
    result = score_evaluation(scored, {"record": "no", "x": "yes", "y": "yes"})
    assert result.section_scores == {"a": Decimal("0.00"), "b": Decimal("100.00")}
    assert result.score == Decimal("50.00")
    assert result.form_auto_failed is False


def test_a_form_auto_fail_question_answered_no_zeroes_the_total_and_fails_the_call() -> None:
    result = score_evaluation(
        parse_form(DESIGN_FORM), {"greeting": "yes", "clarity": 5, "verification": "no"}
    )
    assert result.score == Decimal("0.00")
    assert result.passed is False
    assert result.form_auto_failed is True
    assert result.critical_errors == ("compliance",)
    # the section scores still show where the call stood
    assert result.section_scores == {"communication": Decimal("100.00"), "method": Decimal("0.00")}


def test_critical_errors_are_the_sorted_set_of_failed_categories() -> None:
    scored = form(
        section(
            "s",
            1,
            yes_no("a", critical="compliance"),
            yes_no("b", critical="customer"),
            yes_no("c", critical="customer"),
            yes_no("d", critical="business"),
        )
    )
    result = score_evaluation(scored, {"a": "no", "b": "no", "c": "no", "d": "yes"})
    assert result.critical_errors == ("compliance", "customer")
    assert result.score == Decimal("25.00")


def test_a_critical_question_answered_yes_or_na_is_no_critical_error() -> None:
    scored = form(section("s", 1, yes_no("a", critical="business", na=True), yes_no("b")))
    assert score_evaluation(scored, {"a": "yes", "b": "no"}).critical_errors == ()
    assert score_evaluation(scored, {"a": "na", "b": "no"}).critical_errors == ()


@pytest.mark.parametrize(
    ("answers", "score", "passed"),
    [
        ({"a": "yes", "b": 5}, "100.00", True),
        ({"a": "yes", "b": 1}, "80.00", True),  # exactly the pass mark passes
        ({"a": "no", "b": 5}, "20.00", False),
    ],
)
def test_a_call_passes_when_its_score_reaches_the_pass_mark(
    answers: dict[str, Any], score: str, passed: bool
) -> None:
    scored = form(section("s", 1, yes_no("a", 4), scale("b", 1)), pass_mark=80)
    result = score_evaluation(scored, answers)
    assert (result.score, result.passed) == (Decimal(score), passed)


def test_a_score_just_under_the_pass_mark_fails() -> None:
    # 7/9 of the way: 77.78 against a pass mark of 80
    scored = form(section("s", 1, yes_no("a", 7), yes_no("b", 2)), pass_mark=80)
    result = score_evaluation(scored, {"a": "yes", "b": "no"})
    assert (result.score, result.passed) == (Decimal("77.78"), False)


def test_a_form_without_a_pass_mark_neither_passes_nor_fails() -> None:
    result = score_evaluation(form(section("s", 1, yes_no("a"))), {"a": "yes"})
    assert (result.score, result.passed) == (Decimal("100.00"), None)


def test_a_total_of_two_thirds_is_stored_as_66_67() -> None:
    scored = form(section("s", 1, yes_no("a"), yes_no("b"), yes_no("c")))
    result = score_evaluation(scored, {"a": "yes", "b": "yes", "c": "no"})
    assert result.score == Decimal("66.67")
    assert str(result.score) == "66.67"


def test_an_exact_half_in_the_third_decimal_rounds_up() -> None:
    # 1/32 is exactly 3.125 points: half up gives 3.13 where banker's rounding would give 3.12
    scored = form(section("s", 1, yes_no("a", 1), yes_no("b", 31)))
    result = score_evaluation(scored, {"a": "yes", "b": "no"})
    assert result.score == Decimal("3.13")
    assert result.section_scores == {"s": Decimal("3.13")}


def test_the_total_comes_from_exact_section_fractions_not_from_rounded_section_scores() -> None:
    # sections 0 and 2/3: exactly 1/3 overall, 33.33; averaging 0.00 and 66.67 would give 33.34
    scored = form(
        section("a", 1, yes_no("a1")),
        section("b", 1, yes_no("b1"), yes_no("b2"), yes_no("b3")),
    )
    result = score_evaluation(scored, {"a1": "no", "b1": "yes", "b2": "yes", "b3": "no"})
    assert result.section_scores == {"a": Decimal("0.00"), "b": Decimal("66.67")}
    assert result.score == Decimal("33.33")


def test_a_section_whose_answers_are_all_na_is_left_out_of_the_total() -> None:
    scored = form(
        section("hostile", 5, yes_no("calm", na=True), scale("deescalate", na=True)),
        section("rest", 1, yes_no("a"), yes_no("b")),
    )
    result = score_evaluation(scored, {"calm": "na", "deescalate": "na", "a": "yes", "b": "no"})
    assert result.section_scores == {"hostile": None, "rest": Decimal("50.00")}
    assert result.score == Decimal("50.00")


def test_an_evaluation_with_every_answer_na_has_no_score() -> None:
    scored = form(section("s", 1, yes_no("a", na=True), scale("b", na=True)), pass_mark=80)
    result = score_evaluation(scored, {"a": "na", "b": "na"})
    assert result == Score(
        score=None,
        passed=None,
        critical_errors=(),
        section_scores={"s": None},
        form_auto_failed=False,
    )


def test_fractional_weights_score_exactly() -> None:
    scored = form(section("s", "1/3", yes_no("a", "1/3"), yes_no("b", "0.5")))
    # (1/3) / (1/3 + 1/2) = 2/5
    assert score_evaluation(scored, {"a": "yes", "b": "no"}).score == Decimal("40.00")


def test_a_fractional_weight_on_a_scale_question_scores_exactly() -> None:
    scored = form(section("s", 1, scale("a", "1/2"), yes_no("b", "1/2")))
    # a on [1, 5] answered 2: 1/2 · 1/4; b: 0 of 1/2; so (1/8) / 1 = 12.5
    assert score_evaluation(scored, {"a": 2, "b": "no"}).score == Decimal("12.50")
    assert score_evaluation(scored, {"a": 4, "b": "yes"}).score == Decimal("87.50")


def test_equal_forms_built_separately_score_the_same() -> None:
    answers = {"greeting": "no", "clarity": 3, "verification": "yes"}
    first = score_evaluation(parse_form(DESIGN_FORM), answers)
    second = score_evaluation(parse_form(copy.deepcopy(DESIGN_FORM)), answers)
    assert first == second
    assert first.score == Decimal("69.70")


# --- bad answers ---------------------------------------------------------------------


def answer_errors(answers: Any) -> dict[str, list[str]]:
    with pytest.raises(RuleError) as raised:
        score_evaluation(parse_form(DESIGN_FORM), answers)
    return raised.value.errors


GOOD_ANSWERS = {"greeting": "yes", "clarity": 4, "verification": "yes"}


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        ({"tone": "yes"}, "tone", "not a question of this form"),
        ({"verification": None}, "verification", 'must be "yes" or "no"'),
        ({"greeting": "na"}, "greeting", "N/A is not allowed for this question"),
        ({"greeting": "maybe"}, "greeting", 'must be "yes" or "no"'),
        ({"greeting": True}, "greeting", 'must be "yes" or "no"'),
        ({"greeting": 1}, "greeting", 'must be "yes" or "no"'),
        ({"clarity": 6}, "clarity", 'must be a whole number from 1 to 5 or "na"'),
        ({"clarity": 0}, "clarity", 'must be a whole number from 1 to 5 or "na"'),
        ({"clarity": "4"}, "clarity", 'must be a whole number from 1 to 5 or "na"'),
        ({"clarity": 4.0}, "clarity", 'must be a whole number from 1 to 5 or "na"'),
        ({"clarity": True}, "clarity", 'must be a whole number from 1 to 5 or "na"'),
        ({"clarity": "yes"}, "clarity", 'must be a whole number from 1 to 5 or "na"'),
    ],
    ids=[
        "an unknown key",
        "a null answer",
        "na where the question does not allow it",
        "a word other than yes or no",
        "a boolean for a yes_no question",
        "a number for a yes_no question",
        "a value above the scale",
        "a value below the scale",
        "a scale value written as a string",
        "a scale value written as a float",
        "a boolean for a scale question",
        "yes for a scale question",
    ],
)
def test_a_bad_answer_is_refused_by_its_question_key(
    change: dict[str, Any], key: str, message: str
) -> None:
    assert answer_errors({**GOOD_ANSWERS, **change}) == {key: [message]}


def test_a_missing_answer_is_refused_by_its_question_key() -> None:
    assert answer_errors({"greeting": "yes", "clarity": "na"}) == {
        "verification": ["an answer is required"]
    }


def test_na_on_a_scale_question_without_na_is_refused() -> None:
    scored = form(section("s", 1, scale("q")))
    with pytest.raises(RuleError) as raised:
        score_evaluation(scored, {"q": "na"})
    assert raised.value.errors == {"q": ["N/A is not allowed for this question"]}


def test_every_bad_answer_is_reported_at_once() -> None:
    errors = answer_errors({"greeting": "maybe", "clarity": 9, "tone": 3, "pace": 1})
    assert set(errors) == {"greeting", "clarity", "verification", "tone", "pace"}


def test_answers_that_are_not_a_mapping_are_refused() -> None:
    assert answer_errors(["yes", 4, "yes"]) == {
        "_schema": ["answers must map each question key to its answer"]
    }


# --- reading form documents ----------------------------------------------------------


def test_the_design_form_document_reads_as_typed_values() -> None:
    parsed = parse_form(DESIGN_FORM)
    assert parsed.ref == "standard@1"
    assert parsed.pass_mark == Decimal("80")
    assert parsed.question_keys() == ("greeting", "clarity", "verification")
    assert parsed.sections[0].weight == Fraction(25)
    assert parsed.sections[0].questions[1] == Question(
        key="clarity",
        text="Speaks clearly",
        kind="scale",
        weight=Fraction(2),
        scale=(1, 5),
        na=True,
        critical=None,
        auto_fail=None,
    )
    assert parsed.sections[1].questions[0].critical == "compliance"
    assert parsed.sections[1].questions[0].auto_fail == "form"


@pytest.mark.parametrize(
    ("weight", "expected"),
    [
        (2, Fraction(2)),
        ("2", Fraction(2)),
        ("1.5", Fraction(3, 2)),
        (1.5, Fraction(3, 2)),
        (0.1, Fraction(1, 10)),
        ("1/3", Fraction(1, 3)),
        (Decimal("0.25"), Fraction(1, 4)),
    ],
)
def test_a_weight_may_be_an_int_a_string_or_a_float(weight: Any, expected: Fraction) -> None:
    parsed = form(section("s", 1, yes_no("a", weight)))
    assert parsed.sections[0].questions[0].weight == expected


def test_optional_question_fields_default_to_off() -> None:
    question = form(section("s", 1, yes_no("a"))).sections[0].questions[0]
    assert (question.na, question.critical, question.auto_fail, question.scale) == (
        False,
        None,
        None,
        None,
    )


KEY_MESSAGE = "must be lower-case letters, digits, '_' or '-'"
Q0 = "sections.0.questions.0"  # greeting, a yes_no question
Q1 = "sections.0.questions.1"  # clarity, a scale question
Q2 = "sections.1.questions.0"  # verification, in another section

FORM_RULES = [
    ("code", DELETE, "code", "is required"),
    ("code", "Standard Form", "code", KEY_MESSAGE),
    ("code", "", "code", KEY_MESSAGE),
    ("code", 7, "code", "must be a string"),
    ("version", 0, "version", "must be at least 1"),
    ("version", True, "version", "must be a whole number"),
    ("version", "1", "version", "must be a whole number"),
    ("version", 1.0, "version", "must be a whole number"),
    ("title", 5, "title", "must be a string"),
    ("title", "  ", "title", "must not be blank"),
    ("pass_mark", 101, "pass_mark", "must be between 0 and 100"),
    ("pass_mark", -1, "pass_mark", "must be between 0 and 100"),
    ("pass_mark", True, "pass_mark", "must be a number"),
    ("pass_mark", "eighty", "pass_mark", "must be a number"),
    ("colour", "blue", "colour", "unknown field"),
    ("sections", [], "sections", "must not be empty"),
    ("sections", "communication", "sections", "must be a list"),
    ("sections.0", "communication", "sections.0", "must be a mapping"),
    ("sections.0.title", DELETE, "sections.0.title", "is required"),
    ("sections.0.key", "Communication", "sections.0.key", KEY_MESSAGE),
    ("sections.1.key", "communication", "sections.1.key", "duplicate section key"),
    ("sections.0.weight", 0, "sections.0.weight", "must be greater than 0"),
    ("sections.0.weight", -5, "sections.0.weight", "must be greater than 0"),
    ("sections.0.weight", True, "sections.0.weight", "must be a number"),
    ("sections.0.weight", "heavy", "sections.0.weight", "must be a number"),
    ("sections.0.weight", "1/0", "sections.0.weight", "must be a number"),
    ("sections.0.weight", "1e9", "sections.0.weight", "must be a number"),
    ("sections.0.weight", float("nan"), "sections.0.weight", "must be a number"),
    ("sections.0.questions", [], "sections.0.questions", "must not be empty"),
    ("sections.0.notes", "x", "sections.0.notes", "unknown field"),
    (f"{Q0}", "greeting", Q0, "must be a mapping"),
    (f"{Q0}.text", DELETE, f"{Q0}.text", "is required"),
    (f"{Q0}.key", "clarity", f"{Q1}.key", "duplicate question key"),
    (f"{Q2}.key", "greeting", f"{Q2}.key", "duplicate question key"),
    (f"{Q0}.kind", "multiple_choice", f"{Q0}.kind", "must be one of yes_no, scale"),
    (f"{Q0}.weight", 0, f"{Q0}.weight", "must be greater than 0"),
    (f"{Q0}.weight", False, f"{Q0}.weight", "must be a number"),
    (f"{Q1}.scale", DELETE, f"{Q1}.scale", "is required for a scale question"),
    (f"{Q0}.scale", [1, 5], f"{Q0}.scale", "only scale questions have a scale"),
    (f"{Q1}.scale", [5, 1], f"{Q1}.scale", "the lowest value must be below the highest"),
    (f"{Q1}.scale", [3, 3], f"{Q1}.scale", "the lowest value must be below the highest"),
    (f"{Q1}.scale", [1, 5.5], f"{Q1}.scale", "must be two whole numbers [lowest, highest]"),
    (f"{Q1}.scale", [True, 5], f"{Q1}.scale", "must be two whole numbers [lowest, highest]"),
    (f"{Q1}.scale", [1, 3, 5], f"{Q1}.scale", "must be two whole numbers [lowest, highest]"),
    (f"{Q1}.scale", "1-5", f"{Q1}.scale", "must be two whole numbers [lowest, highest]"),
    (f"{Q0}.na", "yes", f"{Q0}.na", "must be true or false"),
    (f"{Q0}.critical", "safety", f"{Q0}.critical", "must be one of customer, business, compliance"),
    (f"{Q1}.critical", "customer", f"{Q1}.critical", "only yes_no questions can be critical"),
    (f"{Q0}.auto_fail", "call", f"{Q0}.auto_fail", "must be one of section, form"),
    (f"{Q1}.auto_fail", "section", f"{Q1}.auto_fail", "only yes_no questions can auto-fail"),
    (f"{Q0}.hint", "smile", f"{Q0}.hint", "unknown field"),
]


@pytest.mark.parametrize(
    ("path", "value", "error_path", "message"),
    FORM_RULES,
    ids=[rule_id(rule) for rule in FORM_RULES],
)
def test_a_form_that_breaks_a_rule_is_refused_naming_the_field(
    path: str, value: Any, error_path: str, message: str
) -> None:
    with pytest.raises(RuleError) as raised:
        parse_form(with_change(DESIGN_FORM, path, value))
    assert raised.value.errors == {error_path: [message]}


def test_a_form_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(RuleError) as raised:
        parse_form(["standard"])  # type: ignore[arg-type]
    assert raised.value.errors == {"_schema": ["must be a mapping"]}


def test_every_problem_of_a_form_is_reported_at_once() -> None:
    document = with_change(DESIGN_FORM, "version", 0)
    document = with_change(document, "sections.0.weight", -1)
    document = with_change(document, f"{Q1}.scale", [5, 1])
    document = with_change(document, "sections.1.questions.0.critical", "safety")
    with pytest.raises(RuleError) as raised:
        parse_form(document)
    assert sorted(raised.value.errors) == [
        "sections.0.questions.1.scale",
        "sections.0.weight",
        "sections.1.questions.0.critical",
        "version",
    ]


def test_optional_fields_given_as_null_count_as_absent() -> None:
    document = with_change(DESIGN_FORM, "pass_mark", None)
    document = with_change(document, f"{Q0}.na", None)
    parsed = parse_form(document)
    assert parsed.pass_mark is None
    assert parsed.sections[0].questions[0].na is False


# --- canonical documents -------------------------------------------------------------


def test_the_canonical_document_of_the_design_form_reads_back_the_same() -> None:
    parsed = parse_form(DESIGN_FORM)
    document = form_document(parsed)
    assert parse_form(document) == parsed
    assert document["pass_mark"] == "80"
    assert document["sections"][0]["weight"] == 25
    assert document["sections"][1]["questions"][0] == {
        "key": "verification",
        "text": "Verifies identity before disclosing account data",
        "kind": "yes_no",
        "weight": 2,
        "critical": "compliance",
        "auto_fail": "form",
    }
    json.dumps(document)


def test_canonical_weights_are_ints_when_whole_else_exact_strings() -> None:
    parsed = form(section("s", "2.5", yes_no("a", "1/3"), yes_no("b", 0.125), yes_no("c", "4")))
    document = form_document(parsed)
    assert document["sections"][0]["weight"] == "2.5"
    assert [q["weight"] for q in document["sections"][0]["questions"]] == ["1/3", "0.125", 4]
    assert "pass_mark" not in document
    assert parse_form(document) == parsed


# --- the shipped example -------------------------------------------------------------


def load_example(name: str) -> Any:
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


def test_the_shipped_standard_form_reads_and_round_trips() -> None:
    standard = parse_form(load_example("standard-form.yaml"))
    assert standard.ref == "standard@1"
    assert standard.title == "Standard call quality"
    assert standard.pass_mark == Decimal("80")
    assert [s.key for s in standard.sections] == [
        "communication",
        "method",
        "composure",
        "voice",
        "trust",
    ]
    assert all(3 <= len(s.questions) <= 4 for s in standard.sections)
    assert len(standard.question_keys()) == 16
    questions = {q.key: q for s in standard.sections for q in s.questions}
    assert (questions["verification"].critical, questions["verification"].auto_fail) == (
        "compliance",
        "form",
    )
    correct_information = questions["correct_information"]
    assert (correct_information.critical, correct_information.auto_fail) == ("customer", None)
    assert (questions["disposition"].critical, questions["disposition"].auto_fail) == (
        "business",
        "section",
    )
    assert {q.kind for q in questions.values()} == {"yes_no", "scale"}
    assert any(q.na for q in questions.values())
    assert parse_form(form_document(standard)) == standard


def test_a_calm_call_on_the_standard_form_leaves_the_composure_section_out() -> None:
    standard = parse_form(load_example("standard-form.yaml"))
    answers: dict[str, Any] = {
        q.key: 5 if q.kind == "scale" else "yes" for s in standard.sections for q in s.questions
    }
    answers.update(stays_calm="na", no_arguing="na", de_escalation="na", procedure=4)
    result = score_evaluation(standard, answers)
    assert result.section_scores["composure"] is None
    assert result.section_scores["method"] == Decimal("93.75")
    assert result.score == Decimal("97.79")
    assert result.passed is True


# --- properties ----------------------------------------------------------------------


@st.composite
def questions(draw: st.DrawFn, key: str) -> Question:
    weight = Fraction(draw(st.integers(1, 12)), draw(st.sampled_from([1, 1, 2, 3, 4])))
    na = draw(st.booleans())
    if draw(st.booleans()):
        low = draw(st.integers(-2, 3))
        high = low + draw(st.integers(1, 6))
        return Question(key, f"Question {key}", "scale", weight, (low, high), na)
    critical = draw(st.none() | st.sampled_from(CRITICAL_CATEGORIES))
    auto_fail = draw(st.none() | st.sampled_from(AUTO_FAILS))
    return Question(key, f"Question {key}", "yes_no", weight, None, na, critical, auto_fail)


@st.composite
def forms(draw: st.DrawFn) -> Form:
    sections = []
    for s in range(draw(st.integers(1, 4))):
        count = draw(st.integers(1, 4))
        sections.append(
            Section(
                f"s{s}",
                f"Section {s}",
                Fraction(draw(st.integers(1, 40)), draw(st.sampled_from([1, 2, 5]))),
                tuple(draw(questions(f"s{s}q{q}")) for q in range(count)),
            )
        )
    pass_mark = draw(st.none() | st.decimals(0, 100, places=2))
    return Form("generated", 1, "Generated form", pass_mark, tuple(sections))


def answer_for(question: Question) -> st.SearchStrategy[Any]:
    na = [st.just("na")] if question.na else []
    if question.scale is not None:
        return st.one_of(st.integers(*question.scale), *na)
    return st.one_of(st.sampled_from(["yes", "no"]), *na)


@st.composite
def evaluations(draw: st.DrawFn) -> tuple[Form, dict[str, Any]]:
    drawn = draw(forms())
    answers = {q.key: draw(answer_for(q)) for s in drawn.sections for q in s.questions}
    return drawn, answers


PROPERTIES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTIES
@given(evaluations())
def test_every_score_lies_between_0_and_100(evaluation: tuple[Form, dict[str, Any]]) -> None:
    scored, answers = evaluation
    result = score_evaluation(scored, answers)
    shown = [result.score, *result.section_scores.values()]
    assert all(Decimal(0) <= value <= Decimal(100) for value in shown if value is not None)
    assert all(value is None or value.as_tuple().exponent == -2 for value in shown)


def reference_score(scored: Form, answers: dict[str, Any]) -> Fraction | None:
    """Score by DESIGN section 4 read literally, with Fractions all the way."""
    total, weights, form_failed = Fraction(0), Fraction(0), False
    for each in scored.sections:
        earned, possible, section_failed = Fraction(0), Fraction(0), False
        for q in each.questions:
            value = answers[q.key]
            if value == "na":
                continue
            if q.scale is not None:
                low, high = q.scale
                fraction = Fraction(value - low, high - low)
            else:
                fraction = Fraction(value == "yes")
                section_failed |= value == "no" and q.auto_fail == "section"
                form_failed |= value == "no" and q.auto_fail == "form"
            earned += q.weight * fraction
            possible += q.weight
        if possible:
            total += each.weight * (0 if section_failed else earned / possible)
            weights += each.weight
    if not weights:
        return None
    return Fraction(0) if form_failed else 100 * total / weights


@PROPERTIES
@given(evaluations())
def test_the_score_is_the_exact_design_score_rounded_once(
    evaluation: tuple[Form, dict[str, Any]],
) -> None:
    scored, answers = evaluation
    expected = reference_score(scored, answers)
    result = score_evaluation(scored, answers)
    assert result.score == (None if expected is None else round_half_up(expected, 2))


@PROPERTIES
@given(evaluations())
def test_the_score_is_none_exactly_when_every_answer_is_na(
    evaluation: tuple[Form, dict[str, Any]],
) -> None:
    scored, answers = evaluation
    result = score_evaluation(scored, answers)
    assert (result.score is None) == all(value == "na" for value in answers.values())


@PROPERTIES
@given(evaluations(), st.data())
def test_turning_a_no_into_a_yes_never_lowers_the_score(
    evaluation: tuple[Form, dict[str, Any]], data: st.DataObject
) -> None:
    scored, answers = evaluation
    noes = [key for key, value in answers.items() if value == "no"]
    assume(noes)
    key = data.draw(st.sampled_from(noes))
    before = score_evaluation(scored, answers)
    after = score_evaluation(scored, {**answers, key: "yes"})
    assert before.score is not None and after.score is not None
    assert after.score >= before.score


def without_question(scored: Form, key: str) -> Form | None:
    """Return the form without a question, dropping its section if it was the only one."""
    sections = []
    for each in scored.sections:
        kept = tuple(q for q in each.questions if q.key != key)
        if kept:
            sections.append(Section(each.key, each.title, each.weight, kept))
    if not sections:
        return None
    return Form(scored.code, scored.version, scored.title, scored.pass_mark, tuple(sections))


@PROPERTIES
@given(evaluations(), st.data())
def test_marking_a_question_na_is_the_same_as_removing_it_from_the_form(
    evaluation: tuple[Form, dict[str, Any]], data: st.DataObject
) -> None:
    scored, answers = evaluation
    allowed = [
        q.key for s in scored.sections for q in s.questions if q.na and answers[q.key] != "na"
    ]
    assume(allowed)
    key = data.draw(st.sampled_from(allowed))
    marked = score_evaluation(scored, {**answers, key: "na"})
    smaller = without_question(scored, key)
    if smaller is None:
        assert marked.score is None
        return
    rest = {k: v for k, v in answers.items() if k != key}
    removed = score_evaluation(smaller, rest)
    assert marked.score == removed.score
    assert marked.passed == removed.passed
    assert marked.critical_errors == removed.critical_errors
    assert marked.form_auto_failed == removed.form_auto_failed
    for section_key, value in removed.section_scores.items():
        assert marked.section_scores[section_key] == value


@PROPERTIES
@given(forms())
def test_every_form_reads_back_from_its_canonical_document(generated: Form) -> None:
    document = form_document(generated)
    assert parse_form(json.loads(json.dumps(document))) == generated


@PROPERTIES
@given(st.sampled_from(field_paths(DESIGN_FORM)), json_values)
def test_any_bad_value_anywhere_in_a_form_is_refused_with_a_rule_error(
    path: tuple[Any, ...], value: Any
) -> None:
    try:
        parse_form(replaced(DESIGN_FORM, path, value))
    except RuleError as error:
        assert error.errors


@PROPERTIES
@given(st.sampled_from(field_paths(GOOD_ANSWERS)), json_values)
def test_any_bad_answer_is_refused_with_a_rule_error(path: tuple[Any, ...], value: Any) -> None:
    try:
        score_evaluation(parse_form(DESIGN_FORM), replaced(GOOD_ANSWERS, path, value))
    except RuleError as error:
        assert error.errors
