"""The one error the rules raise: a document that breaks them, field by field."""

from __future__ import annotations


class RuleError(ValueError):
    """Raised when a document breaks a rule; `errors` maps a dotted field path to messages."""

    errors: dict[str, list[str]]

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        summary = "; ".join(f"{path}: {', '.join(messages)}" for path, messages in errors.items())
        super().__init__(summary or "the document breaks a rule")
