"""Messages that remember how they were made, so a page can say them in another language.

A `Text` is the English message itself (a `str`: the API, logs and tests read it as always),
plus its template and values. The pages look the template up in their catalog and fill in
the same values; what is not in the catalog stays English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Text(str):
    """An English message with the `%(name)s` template and the values it was made from."""

    template: str
    values: Mapping[str, Any]

    def __new__(cls, template: str, values: Mapping[str, Any]) -> Text:
        made = super().__new__(cls, template % values if values else template)
        made.template = template
        made.values = dict(values)
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return Text, (self.template, self.values)


def said(template: str, **values: Any) -> Text:
    """Make a message from a `%(name)s` template and its values (the extractor finds it)."""
    return Text(template, values)
