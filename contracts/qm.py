"""Forms and evaluations from a QM product, read as Fiducia's (DESIGN section 19).

An Amazon Connect evaluation form (`CreateEvaluationForm`) or a Genesys Cloud evaluation form
becomes the equivalent Fiducia form document, and a key that reads the product's evaluation
exports as answers to it. What has no equivalent is refused, naming its path in the source
document: nothing is approximated, so Fiducia's score of an imported evaluation is the
product's own score of the same answers.

Equivalences:
- a section (Connect) or question group (Genesys) is a section, with its weight;
- a single-select question is a scale from 0 to its best option's score, each option
  answering its own score: the fraction is score / best, as both products count it;
- a Connect numeric question is the same scale, a value answering the score of its range;
- an option that fails the evaluation (`AutomaticFail`, `isKill`) or a critical question
  (`isCritical`) is a yes/no question: it needs exactly two options, the failing one scoring
  0 and the other more (the product's "no" and "yes");
- a Genesys group scores the sum of its answers' values over the sum of their best values:
  each question weighs its best value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Literal

from contracts import _fields as fields
from contracts.errors import RuleError
from contracts.forms import CRITICAL_CATEGORIES

Format = Literal["connect", "genesys"]
FORMATS: tuple[Format, ...] = ("connect", "genesys")

# How long a form's title may be (as a form's title is stored).
TITLE_LENGTH = 300
# How long a key may be (a form code is at most 100 characters where it is stored).
KEY_LENGTH = 60


@dataclass(frozen=True, slots=True)
class ImportedForm:
    """A product's form as a Fiducia form document, and the key to read its evaluations.

    `reading` is JSON-able: {"questions": {ref: {"key", "na", "options": {ref: answer},
    "ranges": [[low, high, answer]]}}, "groups": {ref: [question refs]}}.
    """

    document: dict[str, Any]
    reading: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ImportedEvaluation:
    """One evaluation of a product's export, read: its call, its answers, the product's score."""

    call_ref: str
    call_at: datetime | None
    agent_ref: str | None
    evaluator_ref: str | None
    answers: dict[str, Any]
    product_score: Decimal | None


def slug(text: str) -> str:
    """Return a Fiducia key made of a product's identifier or title."""
    made = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-")[:KEY_LENGTH].strip("-")
    return made or "form"


class _Keys:
    """Unique keys for a document's identifiers, in the order met."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def of(self, ref: str) -> str:
        key = base = slug(ref)
        number = 2
        while key in self.taken:
            key = f"{base}-{number}"
            number += 1
        self.taken.add(key)
        return key


@dataclass
class _Option:
    ref: str
    score: int
    fails: bool
    path: str
    low: Decimal | None = None
    high: Decimal | None = None
    section_only: bool = False  # fails its own section, not the form


# Forms ------------------------------------------------------------------------------------


def connect_form(document: object, *, code: str | None = None, version: int = 1) -> ImportedForm:
    """Read an Amazon Connect `CreateEvaluationForm` document, refusing what has no equivalent."""
    problems = fields.Problems()
    doc = _object(document, "", problems)
    if doc is None:
        problems.raise_any()
        raise AssertionError  # pragma: no cover - a failed read always records a problem
    title = _title(doc, "Title", problems)
    strategy = doc.get("ScoringStrategy")
    mode = "SECTION_ONLY"
    if strategy is not None:
        strategy_doc = _object(strategy, "ScoringStrategy", problems)
        if strategy_doc is not None:
            if strategy_doc.get("Status") == "DISABLED":
                problems.add(
                    "ScoringStrategy.Status",
                    "an unscored form has no equivalent: Fiducia scores every evaluation",
                )
            mode = strategy_doc.get("Mode", mode)
            if mode not in ("SECTION_ONLY", "QUESTION_ONLY"):
                problems.add("ScoringStrategy.Mode", "must be SECTION_ONLY or QUESTION_ONLY")
    sections: list[dict[str, Any]] = []
    reading: dict[str, Any] = {"questions": {}, "groups": {}}
    section_keys, question_keys = _Keys(), _Keys()
    for index, item in enumerate(_list(doc, "Items", "", problems)):
        path = f"Items.{index}"
        item_doc = _object(item, path, problems)
        if item_doc is None:
            continue
        if "Section" not in item_doc:
            problems.add(
                path, "only a section has an equivalent here: Fiducia's questions sit in sections"
            )
            continue
        section = _connect_section(
            item_doc["Section"], f"{path}.Section", mode, problems, question_keys, reading
        )
        if section is not None:
            section["key"] = section_keys.of(section.pop("ref"))
            sections.append(section)
    problems.raise_any()
    assert title is not None
    return ImportedForm(_document(code, version, title, sections), reading)


def _connect_section(
    value: object,
    path: str,
    mode: str,
    problems: fields.Problems,
    keys: _Keys,
    reading: dict[str, Any],
) -> dict[str, Any] | None:
    section = _object(value, path, problems)
    if section is None:
        return None
    ref = _string(section, "RefId", path, problems)
    title = _string(section, "Title", path, problems)
    questions: list[dict[str, Any]] = []
    for index, item in enumerate(_list(section, "Items", path, problems)):
        item_path = f"{path}.Items.{index}"
        item_doc = _object(item, item_path, problems)
        if item_doc is None:
            continue
        if "Question" not in item_doc:
            problems.add(
                item_path, "a subsection has no equivalent: Fiducia's sections hold questions"
            )
            continue
        question = _connect_question(
            item_doc["Question"], f"{item_path}.Question", ref, mode, problems, keys, reading
        )
        if question is not None:
            questions.append(question)
    if mode == "QUESTION_ONLY":
        # Question weights share the whole form: a section weighs the sum of its questions'.
        weight: Fraction | None = sum((Fraction(q["weight"]) for q in questions), Fraction(0))
    else:
        weight = _weight(section, "Weight", path, problems)
    if ref is None or title is None or weight is None or not questions:
        return None
    return {"ref": ref, "title": title, "weight": _number(weight), "questions": questions}


def _connect_question(
    value: object,
    path: str,
    section_ref: str | None,
    mode: str,
    problems: fields.Problems,
    keys: _Keys,
    reading: dict[str, Any],
) -> dict[str, Any] | None:
    question = _object(value, path, problems)
    if question is None:
        return None
    ref = _string(question, "RefId", path, problems)
    title = _string(question, "Title", path, problems)
    weight = _weight(question, "Weight", path, problems)
    na = question.get("NotApplicableEnabled", False) is True
    if na and mode == "QUESTION_ONLY":
        problems.add(
            f"{path}.NotApplicableEnabled",
            "N/A under QUESTION_ONLY scoring has no equivalent: Fiducia leaves an N/A"
            " question out of its section, not of the whole form",
        )
    kind = question.get("QuestionType")
    properties = question.get("QuestionTypeProperties")
    options: list[_Option] = []
    if kind == "SINGLESELECT":
        single = _dig(properties, ("SingleSelect",))
        options_path = f"{path}.QuestionTypeProperties.SingleSelect.Options"
        for index, option in enumerate(_items(_dig(single, ("Options",)), options_path, problems)):
            read = _connect_option(option, f"{options_path}.{index}", section_ref, problems)
            if read is not None:
                options.append(read)
    elif kind == "NUMERIC":
        numeric = _dig(properties, ("Numeric",))
        options_path = f"{path}.QuestionTypeProperties.Numeric.Options"
        for index, option in enumerate(_items(_dig(numeric, ("Options",)), options_path, problems)):
            read = _connect_option(option, f"{options_path}.{index}", section_ref, problems)
            if read is not None:
                options.append(read)
    else:
        problems.add(
            f"{path}.QuestionType",
            f"a {kind} question has no equivalent: Fiducia's questions are SINGLESELECT or"
            " NUMERIC ones, scored",
        )
        return None
    if ref is None or title is None or weight is None or not options:
        return None
    failing = [option for option in options if option.fails]
    section_only = any(option.section_only for option in failing)
    return _question(
        ref,
        title,
        weight,
        na,
        options,
        path,
        problems,
        keys,
        reading,
        yes_no=(bool(failing), failing[0].path + ".AutomaticFail" if failing else path),
        auto_fail="section" if section_only else "form",
    )


def _connect_option(
    value: object, path: str, section_ref: str | None, problems: fields.Problems
) -> _Option | None:
    option = _object(value, path, problems)
    if option is None:
        return None
    numeric = "MinValue" in option or "MaxValue" in option
    ref = "" if numeric else _string(option, "RefId", path, problems)
    score = _whole(option.get("Score", 0), f"{path}.Score", problems)
    fails = option.get("AutomaticFail", False) is True
    configuration = option.get("AutomaticFailConfiguration")
    if configuration is not None:
        target = _dig(configuration, ("TargetSection",))
        if target is not None and target != section_ref:
            problems.add(
                f"{path}.AutomaticFailConfiguration.TargetSection",
                "failing another section has no equivalent: an answer fails its own section"
                " or the form",
            )
            return None
    read = _Option(ref or "", score or 0, fails, path)
    if isinstance(configuration, Mapping) and configuration.get("TargetSection") is not None:
        read.section_only = True
    if numeric:
        read.low = _decimal(option.get("MinValue"), f"{path}.MinValue", problems)
        read.high = _decimal(option.get("MaxValue"), f"{path}.MaxValue", problems)
        if read.low is None or read.high is None:
            return None
    if ref is None or score is None:
        return None
    return read


def genesys_form(
    document: object, *, code: str | None = None, version: int = 1, critical: str | None = None
) -> ImportedForm:
    """Read a Genesys Cloud evaluation form, refusing what has no equivalent.

    `critical` is the COPC category of its critical questions, which Genesys does not say.
    """
    problems = fields.Problems()
    doc = _object(document, "", problems)
    if doc is None:
        problems.raise_any()
        raise AssertionError  # pragma: no cover - a failed read always records a problem
    title = _title(doc, "name", problems)
    sections: list[dict[str, Any]] = []
    reading: dict[str, Any] = {"questions": {}, "groups": {}}
    section_keys, question_keys = _Keys(), _Keys()
    for index, group in enumerate(_list(doc, "questionGroups", "", problems)):
        path = f"questionGroups.{index}"
        group_doc = _object(group, path, problems)
        if group_doc is None:
            continue
        ref = _string(group_doc, "id", path, problems)
        name = _string(group_doc, "name", path, problems)
        weight: Fraction | None = Fraction(1)
        if group_doc.get("manualWeight", True) is not False and "weight" in group_doc:
            weight = _weight(group_doc, "weight", path, problems)
        group_na = group_doc.get("naEnabled", False) is True
        questions: list[dict[str, Any]] = []
        refs: list[str] = []
        for number, question in enumerate(_list(group_doc, "questions", path, problems)):
            read = _genesys_question(
                question,
                f"{path}.questions.{number}",
                group_na,
                critical,
                problems,
                question_keys,
                reading,
            )
            if read is not None:
                questions.append(read[0])
                refs.append(read[1])
        if ref is None or name is None or weight is None or not questions:
            continue
        reading["groups"][ref] = refs
        sections.append(
            {
                "key": section_keys.of(ref),
                "title": name,
                "weight": _number(weight),
                "questions": questions,
            }
        )
    problems.raise_any()
    assert title is not None
    return ImportedForm(_document(code, version, title, sections), reading)


def _genesys_question(
    value: object,
    path: str,
    group_na: bool,
    critical: str | None,
    problems: fields.Problems,
    keys: _Keys,
    reading: dict[str, Any],
) -> tuple[dict[str, Any], str] | None:
    question = _object(value, path, problems)
    if question is None:
        return None
    kind = question.get("type", "multipleChoiceQuestion")
    if kind != "multipleChoiceQuestion":
        problems.add(
            f"{path}.type",
            f"a {kind} has no equivalent: Fiducia's questions are multiple-choice ones, scored",
        )
        return None
    ref = _string(question, "id", path, problems)
    text = _string(question, "text", path, problems)
    # A group marked N/A leaves each of its questions out: in Fiducia, each answers N/A.
    na = group_na or question.get("naEnabled", False) is True
    options = _genesys_options(question, path, problems)
    kill = question.get("isKill", False) is True
    is_critical = question.get("isCritical", False) is True
    if is_critical and critical not in CRITICAL_CATEGORIES:
        problems.add(
            f"{path}.isCritical",
            "name the category of its critical errors: critical=customer, business or compliance",
        )
        return None
    if ref is None or text is None or not options:
        return None
    if kill or is_critical:
        # The product's "no" is the option of value 0, the only way to fail such a question.
        for option in options:
            option.fails = option.score == 0
    best = max(option.score for option in options)
    flag = f"{path}.isKill" if kill else f"{path}.isCritical"
    built = _question(
        ref,
        text,
        Fraction(max(best, 1)),
        na,
        options,
        path,
        problems,
        keys,
        reading,
        yes_no=(kill or is_critical, flag),
        auto_fail="form" if kill else None,
    )
    if built is None:
        return None
    if is_critical:
        built["critical"] = critical
    return built, ref


def _genesys_options(
    question: Mapping[str, Any], path: str, problems: fields.Problems
) -> list[_Option]:
    options: list[_Option] = []
    for index, option in enumerate(_list(question, "answerOptions", path, problems)):
        option_path = f"{path}.answerOptions.{index}"
        option_doc = _object(option, option_path, problems)
        if option_doc is None:
            continue
        option_ref = _string(option_doc, "id", option_path, problems)
        score = _whole(option_doc.get("value"), f"{option_path}.value", problems)
        if option_ref is not None and score is not None:
            options.append(_Option(option_ref, score, False, option_path))
    return options


def _question(
    ref: str,
    text: str,
    weight: Fraction,
    na: bool,
    options: Sequence[_Option],
    path: str,
    problems: fields.Problems,
    keys: _Keys,
    reading: dict[str, Any],
    *,
    yes_no: tuple[bool, str],
    auto_fail: str | None,
) -> dict[str, Any] | None:
    """Make the Fiducia question of a product's scored options, and its reading.

    `yes_no` says whether it must be a yes/no question, and the path to blame if it cannot.
    """
    key = keys.of(ref)
    failing = [option for option in options if option.fails]
    best = max(option.score for option in options)
    question: dict[str, Any] = {"key": key, "text": text, "weight": _number(weight)}
    answers: dict[str, Any] = {}
    if yes_no[0]:
        passing = [option for option in options if not option.fails]
        if len(options) != 2 or len(failing) != 1 or failing[0].score != 0 or best <= 0:
            problems.add(
                yes_no[1],
                "has an equivalent only on a question of two options, the failing one"
                " scoring 0 and the other more (a yes/no question)",
            )
            return None
        question["kind"] = "yes_no"
        if auto_fail is not None:
            question["auto_fail"] = auto_fail
        answers = {failing[0].ref: "no", passing[0].ref: "yes"}
        ranges: list[tuple[Decimal | None, Decimal | None, Any]] = [
            (o.low, o.high, "no" if o.fails else "yes") for o in options
        ]
    else:
        if best <= 0:
            problems.add(path, "no option scores above 0: the question scores nothing")
            return None
        question |= {"kind": "scale", "scale": [0, best]}
        answers = {option.ref: option.score for option in options}
        ranges = [(o.low, o.high, o.score) for o in options]
    if na:
        question["na"] = True
    entry: dict[str, Any] = {"key": key, "na": na, "options": answers}
    if options[0].low is not None:
        entry = {"key": key, "na": na, "ranges": [[str(lo), str(hi), a] for lo, hi, a in ranges]}
    reading["questions"][ref] = entry
    return question


def _document(
    code: str | None, version: int, title: str, sections: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"code": code or slug(title), "version": version, "title": title, "sections": sections}


# Evaluations ------------------------------------------------------------------------------


def connect_evaluation(document: object, reading: Mapping[str, Any]) -> ImportedEvaluation:
    """Read one evaluation of Amazon Connect's S3 export as answers to the imported form.

    The export names no call time: the call is found by `metadata.contactId` in the log.
    """
    problems = fields.Problems()
    doc = _object(document, "", problems)
    if doc is None:
        problems.raise_any()
        raise AssertionError  # pragma: no cover
    _string(doc, "schemaVersion", "", problems)
    metadata = _object(doc.get("metadata"), "metadata", problems) or {}
    call_ref = _string(metadata, "contactId", "metadata", problems) if metadata else None
    evaluator = metadata.get("evaluator")
    score = _dig(metadata, ("score", "percentage"))
    product = _percentage(score, "metadata.score.percentage", problems)
    questions = reading["questions"]
    answers: dict[str, Any] = {}
    seen: set[str] = set()
    for index, item in enumerate(_list(doc, "questions", "", problems)):
        path = f"questions.{index}"
        question = _object(item, path, problems)
        if question is None:
            continue
        ref = _string(question, "questionRefId", path, problems)
        if ref is None:
            continue
        entry = questions.get(ref)
        if entry is None:
            problems.add(f"{path}.questionRefId", "not a question of the imported form")
            continue
        seen.add(ref)
        answer = _object(question.get("answer"), f"{path}.answer", problems)
        if answer is None:
            continue
        if _dig(answer, ("metadata", "notApplicable")) is True:
            answers[entry["key"]] = _na(entry, f"{path}.answer.metadata.notApplicable", problems)
        elif "ranges" in entry:
            value = _decimal(answer.get("value"), f"{path}.answer.value", problems)
            if value is not None:
                answers[entry["key"]] = _in_range(entry, value, f"{path}.answer.value", problems)
        else:
            answers[entry["key"]] = _selected(entry, answer, f"{path}.answer.values", problems)
    _all_answered(questions, seen, "questions", problems)
    problems.raise_any()
    assert call_ref is not None
    return ImportedEvaluation(
        call_ref=call_ref,
        call_at=None,
        agent_ref=None,
        evaluator_ref=evaluator if isinstance(evaluator, str) and evaluator else None,
        answers=answers,
        product_score=product,
    )


def genesys_evaluation(document: object, reading: Mapping[str, Any]) -> ImportedEvaluation:
    """Read one Genesys Cloud evaluation as answers to the imported form."""
    problems = fields.Problems()
    doc = _object(document, "", problems)
    if doc is None:
        problems.raise_any()
        raise AssertionError  # pragma: no cover
    call_ref = _string(
        _object(doc.get("conversation"), "conversation", problems) or {},
        "id",
        "conversation",
        problems,
    )
    agent_ref = _string(_object(doc.get("agent"), "agent", problems) or {}, "id", "agent", problems)
    call_at = _moment(doc.get("conversationDate"), "conversationDate", problems)
    evaluator = _dig(doc, ("evaluator", "id"))
    scores = _object(doc.get("answers"), "answers", problems) or {}
    total = scores.get("totalScore")
    product = _percentage(total, "answers.totalScore", problems)
    questions = reading["questions"]
    answers: dict[str, Any] = {}
    seen: set[str] = set()
    groups_path = "answers.questionGroupScores"
    for index, group in enumerate(_list(scores, "questionGroupScores", "answers", problems)):
        path = f"{groups_path}.{index}"
        group_doc = _object(group, path, problems)
        if group_doc is None:
            continue
        group_na = group_doc.get("markedNA", False) is True
        for number, item in enumerate(_list(group_doc, "questionScores", path, problems)):
            item_path = f"{path}.questionScores.{number}"
            score = _object(item, item_path, problems)
            if score is None:
                continue
            ref = _string(score, "questionId", item_path, problems)
            if ref is None:
                continue
            entry = questions.get(ref)
            if entry is None:
                problems.add(f"{item_path}.questionId", "not a question of the imported form")
                continue
            seen.add(ref)
            if group_na or score.get("markedNA", False) is True:
                where = f"{path}.markedNA" if group_na else f"{item_path}.markedNA"
                answers[entry["key"]] = _na(entry, where, problems)
                continue
            chosen = score.get("answerId")
            if chosen not in entry["options"]:
                problems.add(f"{item_path}.answerId", "not an answer option of this question")
                continue
            answers[entry["key"]] = entry["options"][chosen]
    _all_answered(questions, seen, groups_path, problems)
    problems.raise_any()
    assert call_ref is not None
    return ImportedEvaluation(
        call_ref=call_ref,
        call_at=call_at,
        agent_ref=agent_ref,
        evaluator_ref=evaluator if isinstance(evaluator, str) and evaluator else None,
        answers=answers,
        product_score=product,
    )


def _na(entry: Mapping[str, Any], path: str, problems: fields.Problems) -> str:
    if not entry["na"]:
        problems.add(path, "N/A is not allowed for this question")
    return "na"


def _selected(
    entry: Mapping[str, Any], answer: Mapping[str, Any], path: str, problems: fields.Problems
) -> Any:
    values = [v for v in answer.get("values") or [] if isinstance(v, Mapping)]
    chosen = (
        [v for v in values if v.get("selected") is True]
        if any("selected" in v for v in values)
        else values
    )
    if len(chosen) != 1:
        problems.add(path, "exactly one option must be selected")
        return None
    ref = chosen[0].get("valueRefId")
    if ref not in entry["options"]:
        problems.add(f"{path}.valueRefId", "not an option of this question")
        return None
    return entry["options"][ref]


def _in_range(
    entry: Mapping[str, Any], value: Decimal, path: str, problems: fields.Problems
) -> Any:
    for low, high, answer in entry["ranges"]:
        if Decimal(low) <= value <= Decimal(high):
            return answer
    problems.add(path, "in no range of this question's options")
    return None


def _all_answered(
    questions: Mapping[str, Any], seen: set[str], path: str, problems: fields.Problems
) -> None:
    for ref in questions:
        if ref not in seen:
            problems.add(path, f"question {ref} of the imported form is not answered")


# Readers that name the source's own paths -------------------------------------------------


def _object(value: object, path: str, problems: fields.Problems) -> Mapping[str, Any] | None:
    if not isinstance(value, Mapping):
        problems.add(path, "must be an object")
        return None
    return value


def _list(doc: Mapping[str, Any], name: str, path: str, problems: fields.Problems) -> list[Any]:
    return list(_items(doc.get(name), fields.at(path, name), problems))


def _items(value: object, path: str, problems: fields.Problems) -> Sequence[Any]:
    if not isinstance(value, list) or not value:
        problems.add(path, "must be a list of at least one item")
        return []
    return value


def _string(doc: Mapping[str, Any], name: str, path: str, problems: fields.Problems) -> str | None:
    value = doc.get(name)
    where = fields.at(path, name)
    if not isinstance(value, str) or not value.strip():
        problems.add(where, "is required (text)")
        return None
    if fields.CONTROL.search(value):
        problems.add(where, fields.CONTROL_MESSAGE)
        return None
    return value


# The largest score or weight read: far above any product's (Connect's scores go to 10,
# its weights to 100), and small enough that exact arithmetic stays cheap.
LARGEST = 1_000_000


def _title(doc: Mapping[str, Any], name: str, problems: fields.Problems) -> str | None:
    title = _string(doc, name, "", problems)
    if title is not None and len(title) > TITLE_LENGTH:
        problems.add(name, f"must be at most {TITLE_LENGTH} characters")
        return None
    return title


def _percentage(value: object, path: str, problems: fields.Problems) -> Decimal | None:
    """Read a product's own score, a percentage (left out, it is None)."""
    if value is None:
        return None
    number = _decimal(value, path, problems)
    if number is not None and not 0 <= number <= 100:
        problems.add(path, "must be a percentage from 0 to 100")
        return None
    return number


def _whole(value: object, path: str, problems: fields.Problems) -> int | None:
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole:
        problems.add(path, "must be a whole number")
        return None
    assert isinstance(value, int | float)
    if not 0 <= value <= LARGEST:
        problems.add(path, f"must be from 0 to {LARGEST:,}")
        return None
    return int(value)


def _decimal(value: object, path: str, problems: fields.Problems) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        problems.add(path, "must be a number")
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        problems.add(path, "must be a number")
        return None
    return number


def _weight(
    doc: Mapping[str, Any], name: str, path: str, problems: fields.Problems
) -> Fraction | None:
    where = fields.at(path, name)
    value = _decimal(doc.get(name), where, problems)
    if value is None:
        return None
    if value <= 0:
        problems.add(where, "must be above 0: Fiducia weighs every question and section")
        return None
    if value > LARGEST or value != round(value, 6):
        problems.add(where, f"must be at most {LARGEST:,}, to 6 decimals")
        return None
    return Fraction(value)


def _number(value: Fraction) -> Any:
    if value.denominator == 1:
        return int(value)
    return f"{value.numerator}/{value.denominator}"


def _moment(value: object, path: str, problems: fields.Problems) -> datetime | None:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    problems.add(path, "is required: a date and time with its offset (ISO 8601)")
    return None


def _dig(value: object, names: Sequence[str]) -> Any:
    for name in names:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def read_form(
    format: Format, document: object, *, code: str | None, version: int, critical: str | None
) -> ImportedForm:
    """Read a product's form in its format."""
    if format == "connect":
        return connect_form(document, code=code, version=version)
    return genesys_form(document, code=code, version=version, critical=critical)


def read_evaluation(
    format: Format, document: object, reading: Mapping[str, Any]
) -> ImportedEvaluation:
    """Read one evaluation of a product's export in its format."""
    if format == "connect":
        return connect_evaluation(document, reading)
    return genesys_evaluation(document, reading)


__all__ = [
    "FORMATS",
    "ImportedEvaluation",
    "ImportedForm",
    "RuleError",
    "read_evaluation",
    "read_form",
]
