"""Forms on pages: reading what was typed, and showing a refusal next to the fields typed."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from contracts.forms import Form, Question
from service.edge.errors import FiduciaError, Invalid
from service.edge.sessions import get_session
from service.language.i18n import N_, translated

# Marshmallow's words for a field left empty, said for someone filling in a form.
REQUIRED = {"Missing data for required field.": N_("This is required.")}
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


def typed(name: str) -> str | None:
    """Return a text field as typed, trimmed; None when it was left empty."""
    text = request.form.get(name, "").strip()
    return text or None


def given(**fields: Any) -> dict[str, Any]:
    """Return the fields that were filled in (a schema then names each missing one)."""
    return {name: value for name, value in fields.items() if value is not None}


def questions(form: Form) -> dict[str, Question]:
    """Return every question of a form by its key, in form order."""
    return {question.key: question for section in form.sections for question in section.questions}


def answer_of(question: Question, text: str | None) -> str | int | None:
    """Return an answer as the forms hold it: a scale's number as a number, else the text."""
    if question.kind == "scale" and text is not None and WHOLE_NUMBER.fullmatch(text):
        return int(text)
    return text


def loaded(schema: Schema, data: Any, *, field: str | None = None) -> Any:
    """Load a form's fields through the API's own schema; refuse them as the API would.

    `field` names where the data sits in the API's body, for the messages to name it too.
    """
    try:
        return schema.load(data)
    except ValidationError as error:
        messages = error.messages if field is None else {field: error.messages}
        raise Invalid("some fields need another look", messages, location="form") from None


@dataclass(frozen=True)
class Refusal:
    """A form the service refused: which one, why, each field's messages, what was typed.

    `errors` maps a field's dotted path (`answers.tone`, `items.tone.reason`) to its messages;
    `fields` are those the form shows them next to (with their parts).
    """

    form: str
    message: str
    errors: dict[str, list[str]]
    fields: tuple[str, ...]
    typed: MultiDict[str, str]
    status: int

    def at(self, path: str) -> list[str]:
        """Return the messages of one field."""
        return self.errors.get(path, [])

    def elsewhere(self) -> list[str]:
        """Return the messages the form shows by no field, each naming what it is about."""
        return [
            message if path == "_schema" else f"{path.replace('_', ' ')}: {message}"
            for path, messages in self.errors.items()
            if not any(path == field or path.startswith(f"{field}.") for field in self.fields)
            for message in messages
        ]


def refusal(
    form: str, error: FiduciaError, *, fields: Sequence[str] = (), items: Sequence[str] = ()
) -> Refusal:
    """Forget the refused attempt and describe it for its page.

    `fields` are the fields the form shows messages next to. `items` are the questions the
    form sent as a list, in order: a message about `items.2.reason` is shown as
    `items.<third question>.reason`, next to its field.
    """
    get_session().rollback()  # the page shows what is stored, not what was refused
    errors = error.errors if isinstance(error.errors, dict) else {"_schema": error.errors or []}
    return Refusal(
        form=form,
        message=translated(error.message),
        errors=_flat(errors, items),
        fields=tuple(fields),
        typed=request.form.copy(),
        status=error.status.value,
    )


def _flat(errors: Mapping[Any, Any], items: Sequence[str], path: str = "") -> dict[str, list[str]]:
    """Turn nested errors into dotted paths, naming each item by its question."""
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        part = str(key)
        if path == "items" and part.isdecimal() and int(part) < len(items):
            part = items[int(part)]
        if part == "_schema" and path:
            where = path  # a field's messages about itself, beside those of its parts
        else:
            where = f"{path}.{part}" if path else part
        if isinstance(value, Mapping):
            flat.update(_flat(value, items, where))
        else:
            messages = value if isinstance(value, list) else [value]
            texts = [text if isinstance(text, str) else str(text) for text in messages]
            said = [translated(REQUIRED.get(text, text)) for text in texts]
            flat.setdefault(where, []).extend(said)
    return flat
