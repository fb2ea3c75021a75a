"""Files handed to people: one table of media types, one way to answer with a file."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response

MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
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
