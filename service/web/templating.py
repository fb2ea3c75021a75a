"""What the pages' templates share beyond text: formats, the words for codes, said messages."""

from __future__ import annotations

from typing import Any

from flask import Flask

from service.formatting import FILTERS
from service.i18n import translated
from service.web.labels import label


def register(app: Flask, **domain_filters: Any) -> None:
    """Give the pages' templates the formatting filters, `label`, `said` (a service's English
    message in the reader's language), the domains' own filters (the app passes `zone`,
    which the agreements know) and the zone of other times."""
    filters: dict[str, Any] = {**FILTERS, "label": label, "said": translated, **domain_filters}
    app.jinja_env.filters.update(filters)
    app.jinja_env.globals["display_zone"] = app.config["DISPLAY_TIMEZONE"]
