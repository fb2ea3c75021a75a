"""What the pages' templates share beyond text: formats, the words for codes, said messages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask
from jinja2 import pass_context
from jinja2.runtime import Context

from service.language.formatting import FILTERS
from service.language.i18n import translated
from service.language.labels import label


def register(app: Flask, **domain_filters: Any) -> None:
    """Give the pages' templates the formatting filters, `label`, `said` (a service's English
    message in the reader's language), the domains' own filters (the app passes `zone`,
    which the agreements know) and the zone of other times."""
    filters: dict[str, Any] = {**FILTERS, "label": label, "said": translated, **domain_filters}
    app.jinja_env.filters.update({name: per_reader(f) for name, f in filters.items()})
    app.jinja_env.globals["display_zone"] = app.config["DISPLAY_TIMEZONE"]


def per_reader(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return a filter Jinja calls on every render. Jinja computes a filter over a constant
    (`{{ "yes_no"|label }}`) once, when it compiles the template, and keeps the result for
    every later page: the first reader's language for everyone. A filter that takes the
    render's context is never computed ahead."""

    @pass_context
    @wraps(function)
    def on_render(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        return function(value, *args, **kwargs)

    return on_render
