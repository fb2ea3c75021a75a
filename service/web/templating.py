"""What the pages' templates share beyond text: the words for codes, and each contract's zone."""

from __future__ import annotations

from typing import Any

from flask import Flask

from service.agreements.models import Contract
from service.agreements.service import contract_timezone
from service.db import get_session
from service.formatting import FILTERS
from service.i18n import translated
from service.web.labels import label


def zone(contract: Contract | int) -> str:
    """Return the time zone a contract (or a contract's id) shows its times in."""
    found = contract if isinstance(contract, Contract) else get_session().get(Contract, contract)
    return contract_timezone(found) if found is not None else "UTC"


def register(app: Flask) -> None:
    """Give the pages' templates the formatting filters, `label`, `zone` and `said` (a
    service's English message in the reader's language), and the zone of other times."""
    filters: dict[str, Any] = {**FILTERS, "label": label, "zone": zone, "said": translated}
    app.jinja_env.filters.update(filters)
    app.jinja_env.globals["display_zone"] = app.config["DISPLAY_TIMEZONE"]
