"""Evaluation forms, and the score of one evaluation against a form (DESIGN section 4)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from contracts import _fields as fields
from contracts.errors import RuleError
from contracts.money import round_ratio

Kind = Literal["yes_no", "scale"]
AutoFail = Literal["section", "form"]

KINDS: tuple[Kind, ...] = ("yes_no", "scale")
AUTO_FAILS: tuple[AutoFail, ...] = ("section", "form")
CRITICAL_CATEGORIES: tuple[str, ...] = ("customer", "business", "compliance")

_FORM_FIELDS = ("code", "version", "title", "sections")
_SECTION_FIELDS = ("key", "title", "weight", "questions")
_QUESTION_FIELDS = ("key", "text", "kind", "weight")
_QUESTION_OPTIONAL = ("scale", "na", "critical", "auto_fail")


@dataclass(frozen=True, slots=True)
class Question:
    """One weighted question of a form section."""

    key: str
    text: str
    kind: Kind
    weight: Fraction
    scale: tuple[int, int] | None = None
    na: bool = False
    critical: str | None = None
    auto_fail: AutoFail | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A weighted group of questions."""

    key: str
    title: str
    weight: Fraction
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class Form:
    """One published version of an evaluation form."""

    code: str
    version: int
    title: str
    pass_mark: Decimal | None
    sections: tuple[Section, ...]
    # How to score it in integers, worked out once: a form never changes once made.
    plan: _FormPlan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plan", _FormPlan(self))

    @property
    def ref(self) -> str:
        """Return the form's reference, "code@version"."""
        return f"{self.code}@{self.version}"

    def question_keys(self) -> tuple[str, ...]:
        """Return the keys of every question, in form order."""
        return tuple(question.key for section in self.sections for question in section.questions)


@dataclass(frozen=True, slots=True)
class Score:
    """The score of one evaluation: 0..100 to 2 decimals, or None when every answer is N/A."""

    score: Decimal | None
    passed: bool | None
    critical_errors: tuple[str, ...]
    section_scores: dict[str, Decimal | None]
    form_auto_failed: bool


def parse_form(document: Mapping[str, Any]) -> Form:
    """Read a form document, raising RuleError with every problem found."""
    problems = fields.Problems()
    form = _read_form(document, problems)
    problems.raise_any()
    if form is None:  # pragma: no cover - a failed read always records a problem
        raise RuleError({"_schema": ["not a valid form"]})
    return form


def _read_form(document: object, problems: fields.Problems) -> Form | None:
    doc = fields.mapping(document, "", problems, required=_FORM_FIELDS, optional=("pass_mark",))
    if doc is None:
        return None
    code = fields.key(doc["code"], "code", problems) if "code" in doc else None
    version = (
        fields.integer(doc["version"], "version", problems, minimum=1) if "version" in doc else None
    )
    title = fields.text(doc["title"], "title", problems) if "title" in doc else None
    pass_mark = None
    if doc.get("pass_mark") is not None:
        pass_mark = fields.decimal(doc["pass_mark"], "pass_mark", problems)
        if pass_mark is not None and not 0 <= pass_mark <= 100:
            problems.add("pass_mark", "must be between 0 and 100")
    sections: list[Section | None] = []
    if "sections" in doc and (listed := fields.items(doc["sections"], "sections", problems)):
        sections = [
            _read_section(item, f"sections.{index}", problems) for index, item in enumerate(listed)
        ]
        _check_unique_keys(listed, problems)
    if problems.errors or code is None or version is None or title is None:
        return None
    return Form(code, version, title, pass_mark, tuple(s for s in sections if s is not None))


def _read_section(item: object, path: str, problems: fields.Problems) -> Section | None:
    doc = fields.mapping(item, path, problems, required=_SECTION_FIELDS)
    if doc is None:
        return None
    key = fields.key(doc["key"], f"{path}.key", problems) if "key" in doc else None
    title = fields.text(doc["title"], f"{path}.title", problems) if "title" in doc else None
    weight = _weight(doc, path, problems)
    questions: list[Question | None] = []
    if "questions" in doc and (
        listed := fields.items(doc["questions"], f"{path}.questions", problems)
    ):
        questions = [
            _read_question(entry, f"{path}.questions.{index}", problems)
            for index, entry in enumerate(listed)
        ]
    if key is None or title is None or weight is None or not questions:
        return None
    if any(question is None for question in questions):
        return None
    return Section(key, title, weight, tuple(q for q in questions if q is not None))


def _read_question(item: object, path: str, problems: fields.Problems) -> Question | None:
    doc = fields.mapping(
        item, path, problems, required=_QUESTION_FIELDS, optional=_QUESTION_OPTIONAL
    )
    if doc is None:
        return None
    key = fields.key(doc["key"], f"{path}.key", problems) if "key" in doc else None
    text = None
    if "text" in doc:
        text = fields.text(doc["text"], f"{path}.text", problems, lines=True)
    kind = fields.choice(doc["kind"], f"{path}.kind", problems, KINDS) if "kind" in doc else None
    weight = _weight(doc, path, problems)
    na: bool | None = False
    if doc.get("na") is not None:
        na = fields.flag(doc["na"], f"{path}.na", problems)
    scale = _scale(doc, kind, path, problems)
    critical = None
    if doc.get("critical") is not None:
        critical = fields.choice(doc["critical"], f"{path}.critical", problems, CRITICAL_CATEGORIES)
        if kind == "scale":
            problems.add(f"{path}.critical", "only yes_no questions can be critical")
    auto_fail = None
    if doc.get("auto_fail") is not None:
        auto_fail = fields.choice(doc["auto_fail"], f"{path}.auto_fail", problems, AUTO_FAILS)
        if kind == "scale":
            problems.add(f"{path}.auto_fail", "only yes_no questions can auto-fail")
    if key is None or text is None or kind is None or weight is None or na is None:
        return None
    if kind == "scale" and scale is None:
        return None
    return Question(key, text, kind, weight, scale, na, critical, auto_fail)


def _weight(doc: Mapping[str, Any], path: str, problems: fields.Problems) -> Fraction | None:
    if "weight" not in doc:
        return None
    weight = fields.ratio(doc["weight"], f"{path}.weight", problems)
    if weight is not None and weight <= 0:
        problems.add(f"{path}.weight", "must be greater than 0")
        return None
    return weight


def _scale(
    doc: Mapping[str, Any], kind: Kind | None, path: str, problems: fields.Problems
) -> tuple[int, int] | None:
    value = doc.get("scale")
    if kind == "yes_no" and value is not None:
        problems.add(f"{path}.scale", "only scale questions have a scale")
        return None
    if kind != "scale":
        return None
    if value is None:
        problems.add(f"{path}.scale", "is required for a scale question")
        return None
    whole = isinstance(value, list | tuple) and all(
        isinstance(end, int) and not isinstance(end, bool) for end in value
    )
    if not whole or len(value) != 2:
        problems.add(f"{path}.scale", "must be two whole numbers [lowest, highest]")
        return None
    low, high = value
    if low >= high:
        problems.add(f"{path}.scale", "the lowest value must be below the highest")
        return None
    return (low, high)


def _check_unique_keys(sections: Sequence[Any], problems: fields.Problems) -> None:
    section_keys: set[object] = set()
    question_keys: set[object] = set()
    for index, section in enumerate(sections):
        if not isinstance(section, Mapping):
            continue
        key = section.get("key")
        if isinstance(key, str):
            if key in section_keys:
                problems.add(f"sections.{index}.key", "duplicate section key")
            section_keys.add(key)
        questions = section.get("questions")
        if not isinstance(questions, list | tuple):
            continue
        for number, question in enumerate(questions):
            key = question.get("key") if isinstance(question, Mapping) else None
            if isinstance(key, str):
                if key in question_keys:
                    problems.add(
                        f"sections.{index}.questions.{number}.key", "duplicate question key"
                    )
                question_keys.add(key)


def form_document(form: Form) -> dict[str, Any]:
    """Return the canonical JSON-able document of a form."""
    document: dict[str, Any] = {"code": form.code, "version": form.version, "title": form.title}
    if form.pass_mark is not None:
        document["pass_mark"] = format(form.pass_mark, "f")
    document["sections"] = [
        {
            "key": section.key,
            "title": section.title,
            "weight": fields.number_out(section.weight),
            "questions": [_question_document(question) for question in section.questions],
        }
        for section in form.sections
    ]
    return document


def _question_document(question: Question) -> dict[str, Any]:
    document: dict[str, Any] = {
        "key": question.key,
        "text": question.text,
        "kind": question.kind,
        "weight": fields.number_out(question.weight),
    }
    if question.scale is not None:
        document["scale"] = list(question.scale)
    if question.na:
        document["na"] = True
    if question.critical is not None:
        document["critical"] = question.critical
    if question.auto_fail is not None:
        document["auto_fail"] = question.auto_fail
    return document


# Scoring runs a thousand times per request, so each form is turned once into a plan of
# integers: within a section every question weight is scaled by a common factor, which
# makes each answer's contribution an integer and the section fraction a ratio of sums.

_MISSING = object()


class _QuestionPlan:
    __slots__ = (
        "key",
        "yes_no",
        "full_marks",
        "per_step",
        "low",
        "high",
        "na",
        "critical",
        "auto_fail",
    )

    def __init__(self, question: Question, factor: int) -> None:
        self.key = question.key
        self.yes_no = question.kind == "yes_no"
        self.na = question.na
        self.critical = question.critical
        self.auto_fail = question.auto_fail
        self.low, self.high = question.scale or (0, 1)
        self.full_marks = int(question.weight * factor)
        self.per_step = self.full_marks // (self.high - self.low)


class _SectionPlan:
    __slots__ = ("key", "weight", "questions")

    def __init__(self, section: Section, weight_factor: int) -> None:
        self.key = section.key
        self.weight = int(section.weight * weight_factor)
        spans = [q.scale[1] - q.scale[0] for q in section.questions if q.scale is not None]
        # whole weights, each also divisible by its scale's span: every step is an integer
        factor = math.lcm(*(q.weight.denominator for q in section.questions)) * math.lcm(*spans)
        self.questions = tuple(_QuestionPlan(question, factor) for question in section.questions)


class _FormPlan:
    __slots__ = ("sections", "keys", "pass_mark")

    def __init__(self, form: Form) -> None:
        factor = math.lcm(*(section.weight.denominator for section in form.sections))
        self.sections = tuple(_SectionPlan(section, factor) for section in form.sections)
        self.keys = frozenset(form.question_keys())
        self.pass_mark = form.pass_mark


# One loop over the plan's questions, kept whole on purpose: it runs for every answer of
# every evaluation ingested, and reads best as the numbered rules of DESIGN §4 in order.
def score_evaluation(form: Form, answers: Mapping[str, Any]) -> Score:  # noqa: C901
    """Score one evaluation's answers against a form (DESIGN section 4)."""
    if not isinstance(answers, Mapping):
        raise RuleError({"_schema": ["answers must map each question key to its answer"]})
    plan = form.plan
    errors: dict[str, list[str]] = {}
    answered = 0
    critical_errors: set[str] = set()
    form_auto_failed = False
    section_scores: dict[str, Decimal | None] = {}
    # an integer ratio, total_earned / total_possible: a Fraction would reduce at every step
    total_earned, total_possible, total_weight = 0, 1, 0

    for section in plan.sections:
        earned = possible = 0
        section_auto_failed = False
        for question in section.questions:
            value = answers.get(question.key, _MISSING)
            if value is _MISSING:
                errors[question.key] = ["an answer is required"]
                continue
            answered += 1
            if question.yes_no:
                if value == "yes":
                    earned += question.full_marks
                    possible += question.full_marks
                elif value == "no":
                    possible += question.full_marks
                    if question.critical is not None:
                        critical_errors.add(question.critical)
                    if question.auto_fail == "section":
                        section_auto_failed = True
                    elif question.auto_fail == "form":
                        form_auto_failed = True
                elif value != "na" or not question.na:
                    errors[question.key] = [_answer_problem(question, value)]
            elif isinstance(value, int) and not isinstance(value, bool):
                if question.low <= value <= question.high:
                    earned += question.per_step * (value - question.low)
                    possible += question.full_marks
                else:
                    errors[question.key] = [_answer_problem(question, value)]
            elif value != "na" or not question.na:
                errors[question.key] = [_answer_problem(question, value)]
        if possible == 0:
            section_scores[section.key] = None
            continue
        if section_auto_failed:
            earned = 0
        section_scores[section.key] = round_ratio(100 * earned, possible, 2)
        total_earned = total_earned * possible + section.weight * earned * total_possible
        total_possible *= possible
        total_weight += section.weight

    if answered != len(answers):
        for key in answers:
            if key not in plan.keys:
                errors[str(key)] = ["not a question of this form"]
    if errors:
        raise RuleError(errors)

    score: Decimal | None = None
    if total_weight:
        score = (
            Decimal("0.00")
            if form_auto_failed
            else round_ratio(100 * total_earned, total_possible * total_weight, 2)
        )
    passed: bool | None = None
    if plan.pass_mark is not None and score is not None:
        passed = score >= plan.pass_mark and not form_auto_failed
    return Score(score, passed, tuple(sorted(critical_errors)), section_scores, form_auto_failed)


def _answer_problem(question: _QuestionPlan, value: object) -> str:
    if value == "na":
        return "N/A is not allowed for this question"
    if question.yes_no:
        return 'must be "yes", "no" or "na"' if question.na else 'must be "yes" or "no"'
    na = ' or "na"' if question.na else ""
    return f"must be a whole number from {question.low} to {question.high}{na}"
