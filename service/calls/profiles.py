"""Import profiles, and reading a contract's file in a telephony format (DESIGN §19)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.agreements.models import Contract
from service.agreements.service import contract_timezone, get_contract
from service.calls.formats import FORMATS, ConvertedRows, Format, profile_of
from service.calls.models import ImportProfile
from service.calls.rows import CsvRows
from service.database.engine import utcnow
from service.edge.actors import Actor
from service.edge.errors import Invalid, NotFound

KEYS = ("timezone", "agent", "directions", "queue")


def format_named(name: str) -> Format:
    """Return a telephony format by its name, or 404."""
    found = FORMATS.get(name)
    if found is None:
        raise NotFound(f"no format {name!r}: the formats are {', '.join(FORMATS)}")
    return found


def stored_profile(session: Session, contract_id: int, name: str) -> ImportProfile | None:
    return session.scalar(
        select(ImportProfile).where(
            ImportProfile.contract_id == contract_id, ImportProfile.format == name
        )
    )


def rows_of(session: Session, contract: Contract, name: str | None) -> Callable[..., CsvRows]:
    """Return what reads a file of the contract's calls: the native CSV's rows, or a format's
    rows read with the contract's profile (its time zone when none is stored)."""
    if name is None:
        return CsvRows
    format = format_named(name)
    stored = stored_profile(session, contract.id, name)
    profile = profile_of(format, stored.document if stored else None, contract_timezone(contract))
    return functools.partial(ConvertedRows, format=format, profile=profile, preview=[])


def read_profile(*, session: Session, actor: Actor, contract_id: int, name: str) -> dict[str, Any]:
    """Return a contract's profile of a format (the contract's parties): empty when none."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    format_named(name)
    stored = stored_profile(session, contract.id, name)
    document = stored.document if stored else {}
    return {"format": name, "updated_at": stored.updated_at if stored else None} | {
        key: document.get(key) for key in KEYS
    }


def put_profile(
    *, session: Session, actor: Actor, contract_id: int, name: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Store a contract's profile of a format (the supplier or an admin); every column it
    names must be one of the format's."""
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    actor.require("supplier")
    format = format_named(name)
    errors: dict[str, Any] = {}
    for key in ("agent", "queue"):
        pick = body.get(key)
        if pick is not None and not format.known_column(pick["field"]):
            errors[key] = {"field": [f"{pick['field']!r} is not a column of the {name} format"]}
    if body.get("directions") is not None and not format.maps_directions:
        errors["directions"] = [f"the {name} format says each call's direction itself"]
    if errors:
        raise Invalid("the profile names what the format does not have", errors)
    document = {key: body.get(key) for key in KEYS}
    stored = stored_profile(session, contract.id, name)
    if stored is None:
        stored = ImportProfile(contract_id=contract.id, format=name)
        session.add(stored)
    stored.document, stored.updated_at = document, utcnow()
    stored.updated_by = actor.recorded_user_id
    session.flush()
    return {"format": name, "updated_at": stored.updated_at} | document
