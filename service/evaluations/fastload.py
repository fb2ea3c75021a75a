"""Records loaded by a compiled JSON Schema check, and by marshmallow only when it fails.

A batch of a thousand records loaded one by one through marshmallow costs about a tenth of a
second; most of it is marshmallow's machinery, not the checks. `FastLoader` compiles the
JSON Schema that the API documents for a marshmallow schema (apispec makes it, as it does
for the OpenAPI document) with fastjsonschema, and loads a record that passes it directly:
plain fields as given, the others through their own marshmallow field (an `Instant` parses
its offset and year there). A record the compiled check refuses, or any field that refuses
on the direct path, is loaded by marshmallow after all, so every refusal carries the same
messages and paths as before, and nothing is accepted that marshmallow would refuse: the
compiled check is only ever stricter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import fastjsonschema
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, ValidationError, fields
from marshmallow.utils import missing


class FastLoader:
    """Load records as `schema.load` would, checking their shape with a compiled validator."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.check = fastjsonschema.compile(json_schema(schema))
        # Each field once: its name, its default when missing, and how its value loads.
        self.fields = [
            (name, field.load_default, _how(field), field) for name, field in schema.fields.items()
        ]

    def load(self, record: Any) -> dict[str, Any]:
        """Return the loaded record, or raise marshmallow's `ValidationError` for it."""
        try:
            self.check(record)
            return self._direct(record)
        except (fastjsonschema.JsonSchemaException, ValidationError):
            return self.schema.load(record)

    def load_each(self, records: Sequence[Any]) -> tuple[dict[int, dict[str, Any]], dict[int, Any]]:
        """Load every record on its own; return the good ones and the errors, both by index."""
        loaded: dict[int, dict[str, Any]] = {}
        errors: dict[int, Any] = {}
        for index, record in enumerate(records):
            try:
                loaded[index] = self.load(record)
            except ValidationError as error:
                errors[index] = error.messages
        return loaded, errors

    def _direct(self, record: dict[str, Any]) -> dict[str, Any]:
        loaded: dict[str, Any] = {}
        for name, default, how, field in self.fields:
            value = record.get(name, missing)
            if value is missing:
                if default is not missing:
                    loaded[name] = default() if callable(default) else default
            elif value is None or how is AS_GIVEN:
                loaded[name] = value
            elif how is dict:
                loaded[name] = dict(value)
            elif how is int and type(value) is int:
                loaded[name] = value  # JSON Schema's integer would also take 3.0
            else:
                loaded[name] = field.deserialize(value, name, record)
        return loaded


AS_GIVEN = object()


def _how(field: fields.Field) -> Any:
    """Return how a field's value loads once the compiled check passed it.

    A plain string is taken as given; a string field of its own (a call reference is read
    normalized) loads through itself.
    """
    if type(field) is fields.String:
        return AS_GIVEN
    if isinstance(field, fields.Dict):
        return dict
    if isinstance(field, fields.Integer):
        return int
    return None  # through the field itself


def json_schema(schema: Schema) -> dict[str, Any]:
    """Return the JSON Schema (draft 7) of a marshmallow schema's input, as the API documents it.

    OpenAPI 3.0 says `nullable`; JSON Schema says the type may be null. A field's metadata
    may describe values more loosely or tightly than its loading does; only the types and
    the validators' bounds are kept for each property.
    """
    spec = APISpec("fastload", "1", "3.0.3", plugins=[MarshmallowPlugin()])
    converter = spec.plugins[0].converter  # type: ignore[attr-defined]
    documented = converter.schema2jsonschema(schema)
    kept = ("type", "minimum", "maximum", "minLength", "maxLength", "enum", "pattern", "format")
    properties = {}
    for name, described in documented["properties"].items():
        checked = {key: value for key, value in described.items() if key in kept}
        if described.get("nullable"):
            checked["type"] = [checked["type"], "null"]
            if "enum" in checked:
                checked["enum"] = [*checked["enum"], None]
        properties[name] = checked
    return {
        "type": "object",
        "properties": properties,
        "required": documented.get("required", []),
        "additionalProperties": False,
    }
