"""Files handed to people: one table of media types, one way to answer with a file, and
cells a spreadsheet will not run as formulas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response

MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


@dataclass(frozen=True, slots=True)
class File:
    """A file to hand over: its content and its name (the extension gives its media type)."""

    content: str | bytes
    name: str


def attachment(content: str | bytes, filename: str) -> Response:
    """Answer with a file to save, its media type read from its extension."""
    extension = filename.rsplit(".", 1)[-1]
    return Response(
        content,
        mimetype=MEDIA_TYPES[extension],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# Text starting with these is run by spreadsheets as a formula (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def as_cell(value: Any) -> Any:
    """Return `value` fit for a cell or CSV field: text a spreadsheet would run gets a `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
