"""Contracts and their versioned terms."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from contracts.deadlines import Timeline, month_timeline
from contracts.errors import RuleError
from contracts.periods import Period
from contracts.terms import Terms, parse_terms, terms_document
from service.accounts.models import Organization
from service.agreements.models import Contract, TermsVersion
from service.database.engine import utcnow
from service.edge.actors import Actor
from service.edge.errors import Conflict, Invalid, NotFound, nest_errors
from service.edge.sessions import get_session
from service.forms.models import Form
from service.forms.service import find_form, share_forms


def visible_contracts(actor: Actor) -> Select[Contract]:
    """Select the contracts the caller may see: its organization's side of them."""
    query = select(Contract)
    if actor.is_admin:
        return query
    if actor.role == "supplier":
        return query.where(Contract.supplier_id == actor.organization_id)
    return query.where(Contract.client_id == actor.organization_id)


def get_contract(*, session: Session, actor: Actor, contract_id: int) -> Contract:
    """Return a contract the caller may see, or 404."""
    contract = session.scalar(visible_contracts(actor).where(Contract.id == contract_id))
    if contract is None:
        raise NotFound("no such contract")
    return contract


# Row locks on a contract order everything that moves its money (PostgreSQL; on SQLite the
# writing request already holds the database's write lock). Computing a statement takes the
# contract FOR UPDATE: it waits for evaluations and volumes being written and holds new ones
# back until it commits, so what it reads and the time it stamps agree. Evaluations take
# FOR KEY SHARE (batches do not wait for each other), volume and call log writers FOR NO KEY
# UPDATE (one writer of a contract's days, or of its log, at a time). Always in id order, so
# two lockers never deadlock.
LOCK_MODES = {  # purpose -> (read, key_share) of SQLAlchemy's with_for_update
    "statement": (False, False),  # FOR UPDATE
    "volumes": (False, True),  # FOR NO KEY UPDATE
    "evaluations": (True, True),  # FOR KEY SHARE
    "disputes": (False, True),  # FOR NO KEY UPDATE: one dispute step of a contract at a time
    "calls": (False, True),  # FOR NO KEY UPDATE: one writer of a contract's call log at a time
    "surveys": (False, True),  # FOR NO KEY UPDATE: one writer of surveys and counts at a time
}


def lock_contracts(session: Session, contract_ids: Iterable[int], purpose: str) -> None:
    """Lock contract rows for `purpose` (a key of LOCK_MODES) until commit."""
    read, key_share = LOCK_MODES[purpose]
    session.execute(
        select(Contract.id)
        .where(Contract.id.in_(sorted(set(contract_ids))))
        .order_by(Contract.id)
        .with_for_update(read=read, key_share=key_share)
    ).all()


def list_contracts(*, session: Session, actor: Actor) -> list[Contract]:
    """List the contracts the caller may see."""
    return list(session.scalars(visible_contracts(actor).order_by(Contract.id)))


def create_contract(
    *,
    session: Session,
    actor: Actor,
    client_id: int,
    supplier_id: int,
    name: str,
    effective_from: date,
    terms: dict[str, Any],
) -> Contract:
    """Create a contract with its first terms version (a client for itself, or an admin)."""
    actor.require("client")
    if not actor.is_admin and client_id != actor.organization_id:
        raise NotFound("no such client organization")
    errors: dict[str, Any] = {}
    client = session.get(Organization, client_id)
    if client is None or client.kind != "client":
        errors["client_id"] = ["no such client organization"]
    supplier = session.get(Organization, supplier_id)
    if supplier is None or supplier.kind != "supplier":
        errors["supplier_id"] = ["no such supplier organization"]
    if errors:
        raise Invalid("the parties of a contract are a client and a supplier", errors)
    version = _new_terms_version(session, client_id, effective_from, terms)
    if session.scalar(
        select(Contract.id).where(
            Contract.client_id == client_id,
            Contract.supplier_id == supplier_id,
            Contract.name == name,
        )
    ):
        raise Conflict("this contract exists", {"name": ["already used for this supplier"]})
    contract = Contract(
        client_id=client_id, supplier_id=supplier_id, name=name, created_by=actor.user_id
    )
    version.created_by = actor.user_id
    contract.terms_versions.append(version)
    session.add(contract)
    session.flush()
    share_forms(session, owner_id=client_id, reader_id=supplier_id)
    return contract


def add_terms(
    *,
    session: Session,
    actor: Actor,
    contract_id: int,
    effective_from: date,
    terms: dict[str, Any],
) -> Contract:
    """Add a terms version that starts after every existing one, in a month not yet begun.

    Terms change what a month pays: a version starting in a month that has begun (or ended,
    its draft still open) would let one party reprice work already done.
    """
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    actor.require("client")
    latest = max(version.effective_from for version in contract.terms_versions)
    if effective_from <= latest:
        raise Invalid(
            "terms versions never overlap",
            {"effective_from": [f"must be after {latest.isoformat()}, when the latest starts"]},
        )
    current = period_of(contract, utcnow())
    if effective_from < current.end_day:
        raise Invalid(
            "terms change months that have not begun",
            {"effective_from": [f"must be {current.end_day.isoformat()} or later: {current} "
                                f"has begun in the contract's time zone"]},
        )  # fmt: skip
    version = _new_terms_version(session, contract.client_id, effective_from, terms)
    version.created_by = actor.user_id
    contract.terms_versions.append(version)
    session.flush()
    return contract


def checked_terms(
    session: Session, client_id: int, document: dict[str, Any], errors: dict[str, Any]
) -> tuple[Terms, Form]:
    """Parse a terms document whose form the client publishes, or raise 422 naming the field."""
    try:
        parsed = parse_terms(document)
    except RuleError as error:
        errors["terms"] = nest_errors(error.errors)
        raise Invalid("the terms break the rules of terms", errors) from None
    form = find_form(session, client_id, parsed.form_ref)
    if form is None:
        errors["terms"] = {"form": [f"the client publishes no form {parsed.form_ref}"]}
    if errors:
        raise Invalid("the terms break the rules of terms", errors)
    assert form is not None
    return parsed, form


def _new_terms_version(
    session: Session, client_id: int, effective_from: date, document: dict[str, Any]
) -> TermsVersion:
    """Return a new terms version from checked terms, starting on the first of a month."""
    errors: dict[str, Any] = {}
    if effective_from.day != 1:
        errors["effective_from"] = ["must be the first day of a month"]
    parsed, form = checked_terms(session, client_id, document, errors)
    return TermsVersion(
        effective_from=effective_from, form_id=form.id, document=terms_document(parsed)
    )


@dataclass(frozen=True, slots=True)
class PeriodTerms:
    """The terms version in force for a contract's period: the row, its time zone, its rules."""

    version: TermsVersion

    @property
    def timezone(self) -> str:
        """Return the time zone in which the period is counted."""
        timezone: str = self.version.document["timezone"]
        return timezone

    @property
    def form_ref(self) -> str:
        """Return the form (`code@version`) whose evaluations count in the period."""
        ref: str = self.version.document["form"]
        return ref

    @property
    def terms(self) -> Terms:
        """Return the parsed terms (parsed once per stored version)."""
        return _parsed_terms(self.version)


# Parsed terms by terms version id, each beside the document it was parsed from. A stored
# version never changes, but SQLite gives the id of a row rolled back (or of an emptied
# table's) to the next row: the document is compared before the parse is taken, at once
# when the session holds the same document, else as plain values, never serialized.
_PARSED: dict[int, tuple[dict[str, Any], Terms]] = {}
MAX_PARSED = 4096


def _parsed_terms(version: TermsVersion) -> Terms:
    document = version.document
    kept = _PARSED.get(version.id) if version.id is not None else None
    if kept is not None and (kept[0] is document or kept[0] == document):
        return kept[1]
    # A stored version reads as it was written, per-agent samples included (DESIGN 13).
    parsed = parse_terms(document, stored=True)
    if version.id is not None:
        if len(_PARSED) >= MAX_PARSED:
            _PARSED.clear()
        _PARSED[version.id] = (document, parsed)
    return parsed


def terms_for_period(contract: Contract, period: Period) -> PeriodTerms:
    """Return the terms in force on the period's first day (before the first: the first)."""
    versions = contract.terms_versions
    in_force = [v for v in versions if v.effective_from <= period.first_day]
    return PeriodTerms(in_force[-1] if in_force else versions[0])


def timeline_of(contract: Contract, period: Period) -> Timeline:
    """Return a contract's month's deadlines under the terms in force for it."""
    return month_timeline(terms_for_period(contract, period).terms, period)


def contract_timezone(contract: Contract, instant: datetime | None = None) -> str:
    """Return the time zone a contract counts in at an instant (by default, its latest terms').

    Every time a page or a report shows about a contract is shown in this zone.
    """
    if instant is None:
        return PeriodTerms(contract.terms_versions[-1]).timezone
    return terms_for_period(contract, Period.of(instant.astimezone(UTC).date())).timezone


def shown_zone(contract: Contract | int) -> str:
    """Return the zone a page shows a contract's times in (a contract or its id; the
    pages' `zone` filter)."""
    found = contract if isinstance(contract, Contract) else get_session().get(Contract, contract)
    return contract_timezone(found) if found is not None else "UTC"


def period_of(contract: Contract, instant: datetime) -> Period:
    """Return the contract's period an instant falls in, counted in the contract's time zone."""
    month = Period.of(instant.astimezone(UTC).date())
    timezone = terms_for_period(contract, month).timezone
    return Period.of(instant.astimezone(ZoneInfo(timezone)).date())
