"""Form documents as people write them on the pages: YAML or JSON text, or the editor's rows.

The editor's fields are named by the path the rules of forms give their errors
(`sections.1.questions.0.weight`), so every refusal lands next to the field it is about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from contracts.text import said
from service.edge.errors import Invalid
from service.edge.schemas import MAX_INTEGER_DIGITS
from service.language.formatting import number
from service.language.i18n import N_, current_language

# Rows the editor holds: a form of a hundred sections is already past any real use.
MAX_SECTIONS = 100
MAX_QUESTIONS = 200
NEW_QUESTION_KIND = "yes_no"

_SECTION_FIELD = re.compile(r"sections\.(\d{1,3})\.(key|title|weight)")
_QUESTION_FIELD = re.compile(
    r"sections\.(\d{1,3})\.questions\.(\d{1,3})\."
    r"(key|text|kind|scale_low|scale_high|weight|na|critical|auto_fail)"
)
_CHANGE = re.compile(r"(add|remove)-(section|question)(?::(\d{1,3}))?(?::(\d{1,3}))?")


# Values (scalars, lists, mappings) a document may hold: the standard form (16 questions)
# holds about 300, a form of a thousand questions 17,000. Each costs memory while it is built.
MAX_VALUES = 20_000
MAX_DEPTH = 64  # as for JSON bodies: a form nests a handful of levels
NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)
NOT_A_DOCUMENT = N_("the document is not YAML or JSON")
TOO_LARGE = N_("the document is larger than %(limit)s bytes")
TOO_MANY = N_("the document holds more than %(count)s values")
NESTED = N_("the document is nested too deeply")
LONG_NUMBER = N_("a number of more than %(digits)s digits, on line %(line)s")
LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"  # libyaml's word, past 1,000 levels


class _Refusal(Exception):
    """A document refused for what it holds, in words a page says in its reader's language."""

    def __init__(self, said: str) -> None:
        self.said = said


class _DocumentLoader(yaml.CSafeLoader):
    """libyaml's safe loader (C), refusing an integer longer than Python reads from text."""


def _integer(loader: _DocumentLoader, node: yaml.ScalarNode) -> Any:
    if len(node.value) > MAX_INTEGER_DIGITS:
        line = _figure(node.start_mark.line + 1)
        raise _Refusal(said(LONG_NUMBER, digits=_figure(MAX_INTEGER_DIGITS), line=line))
    return loader.construct_yaml_int(node)


_DocumentLoader.add_constructor("tag:yaml.org,2002:int", _integer)


def read_document(text: str, *, limit: int, field_name: str = "document") -> Any:
    """Read a form document written as YAML or JSON; refuse text that is neither, or that is
    larger, holds more values or nests deeper than any form, before it is built."""
    size = len(text.encode())
    if size > limit:
        raise _refused(field_name, said(TOO_LARGE, limit=_figure(limit)))
    try:
        _check_events(text)
        document = yaml.load(text, Loader=_DocumentLoader)  # noqa: S506 - a safe loader
    except _Refusal as refusal:
        raise _refused(field_name, refusal.said) from None
    except yaml.YAMLError as error:
        if getattr(error, "problem", None) == LIBYAML_TOO_DEEP:  # past libyaml's own bound
            raise _refused(field_name, said(NESTED)) from None
        raise Invalid(
            NOT_A_DOCUMENT,
            {field_name: [f"not YAML or JSON: {error}"]},
            location="form",
        ) from None
    if document is None:
        raise Invalid("the document is empty", {field_name: ["This is required."]}, location="form")
    return document


def _check_events(text: str) -> None:
    """Read the document's events (libyaml, one at a time, nothing built): refuse anchors and
    aliases (a form never needs them, and they multiply work), more than MAX_VALUES values
    and nesting deeper than MAX_DEPTH."""
    values = depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases (*name) are not accepted",
                problem_mark=event.start_mark,  # type: ignore[arg-type]  # libyaml's Mark
            )
        if isinstance(event, NODE_EVENTS):
            values += 1
            if values > MAX_VALUES:
                raise _Refusal(said(TOO_MANY, count=_figure(MAX_VALUES)))
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refusal(said(NESTED))
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            depth -= 1


def _figure(value: int) -> str:
    """Write a figure of a refusal as its reader writes numbers (262,144 or 262.144)."""
    return number(value, language=current_language())


def _refused(field_name: str, message: str) -> Invalid:
    return Invalid(message, {field_name: [message]}, location="form")


@dataclass
class QuestionRow:
    """One question as the editor shows it: every field as text."""

    key: str = ""
    text: str = ""
    kind: str = NEW_QUESTION_KIND
    scale_low: str = ""
    scale_high: str = ""
    weight: str = "1"
    na: bool = False
    critical: str = ""
    auto_fail: str = ""


@dataclass
class SectionRow:
    """One section as the editor shows it, with its questions."""

    key: str = ""
    title: str = ""
    weight: str = "1"
    questions: list[QuestionRow] = field(default_factory=lambda: [QuestionRow()])


@dataclass
class Draft:
    """A form being edited: the next version of a code, as typed so far."""

    title: str = ""
    pass_mark: str = ""
    sections: list[SectionRow] = field(default_factory=list)


def draft_of(document: Mapping[str, Any]) -> Draft:
    """Return the editor's rows for a published form document."""
    return Draft(
        title=document["title"],
        pass_mark=_text(document.get("pass_mark")),
        sections=[
            SectionRow(
                key=section["key"],
                title=section["title"],
                weight=_text(section["weight"]),
                questions=[_question_row(question) for question in section["questions"]],
            )
            for section in document["sections"]
        ],
    )


def _question_row(question: Mapping[str, Any]) -> QuestionRow:
    low, high = question.get("scale") or ("", "")
    return QuestionRow(
        key=question["key"],
        text=question["text"],
        kind=question["kind"],
        scale_low=_text(low),
        scale_high=_text(high),
        weight=_text(question["weight"]),
        na=bool(question.get("na")),
        critical=_text(question.get("critical")),
        auto_fail=_text(question.get("auto_fail")),
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


def draft_from_fields(fields: Mapping[str, str]) -> Draft:
    """Return the editor's rows from its submitted fields, in the order of their numbers."""
    sections: dict[int, dict[str, str]] = {}
    questions: dict[int, dict[int, dict[str, str]]] = {}
    for name, value in fields.items():
        if found := _SECTION_FIELD.fullmatch(name):
            section, part = int(found[1]), found[2]
            if section < MAX_SECTIONS:
                sections.setdefault(section, {})[part] = value.strip()
        elif found := _QUESTION_FIELD.fullmatch(name):
            section, question, part = int(found[1]), int(found[2]), found[3]
            if section < MAX_SECTIONS and question < MAX_QUESTIONS:
                sections.setdefault(section, {})
                row = questions.setdefault(section, {}).setdefault(question, {})
                row[part] = value.strip()
    return Draft(
        title=fields.get("title", "").strip(),
        pass_mark=fields.get("pass_mark", "").strip(),
        sections=[
            SectionRow(
                key=typed.get("key", ""),
                title=typed.get("title", ""),
                weight=typed.get("weight", ""),
                questions=[
                    QuestionRow(
                        **{name: text for name, text in typed_question.items() if name != "na"},
                        na="na" in typed_question,
                    )
                    for _, typed_question in sorted(questions.get(number, {}).items())
                ],
            )
            for number, typed in sorted(sections.items())
        ],
    )


def apply_change(draft: Draft, change: str) -> bool:
    """Add or remove a row as a button asks (`add-question:1`); say whether it was one."""
    found = _CHANGE.fullmatch(change)
    if found is None:
        return False
    action, row, first, second = found.groups()
    section = int(first) if first is not None else None
    question = int(second) if second is not None else None
    if row == "section" and action == "add" and len(draft.sections) < MAX_SECTIONS:
        draft.sections.append(SectionRow())
    elif row == "section" and action == "remove" and section is not None:
        if section < len(draft.sections):
            del draft.sections[section]
    elif section is not None and section < len(draft.sections):
        listed = draft.sections[section].questions
        if action == "add" and len(listed) < MAX_QUESTIONS:
            listed.append(QuestionRow())
        elif action == "remove" and question is not None and question < len(listed):
            del listed[question]
    return True


def document_of(draft: Draft, *, code: str, version: int) -> dict[str, Any]:
    """Return the form document a draft describes; the rules of forms then judge it.

    A field left empty is left out, so the rules say it is required; a scale question's
    ends are numbers when they are whole numbers, and only a scale question has them.
    """
    document: dict[str, Any] = {"code": code, "version": version}
    _put(document, "title", draft.title)
    _put(document, "pass_mark", draft.pass_mark)
    document["sections"] = [
        _put_all(
            {"questions": [_question_document(q) for q in section.questions]},
            key=section.key,
            title=section.title,
            weight=section.weight,
        )
        for section in draft.sections
    ]
    return document


def _question_document(question: QuestionRow) -> dict[str, Any]:
    document = _put_all(
        {}, key=question.key, text=question.text, kind=question.kind, weight=question.weight
    )
    if question.kind == "scale" and (question.scale_low or question.scale_high):
        document["scale"] = [_whole(question.scale_low), _whole(question.scale_high)]
    if question.na:
        document["na"] = True
    return _put_all(document, critical=question.critical, auto_fail=question.auto_fail)


def _whole(text: str) -> int | str:
    return int(text) if re.fullmatch(r"-?[0-9]{1,9}", text) else text


def _put(document: dict[str, Any], name: str, text: str) -> None:
    if text:
        document[name] = text


def _put_all(document: dict[str, Any], **texts: str) -> dict[str, Any]:
    for name, text in texts.items():
        _put(document, name, text)
    return document
