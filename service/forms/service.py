"""Publishing and finding evaluation forms."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts import forms as form_rules
from contracts.errors import RuleError
from service.accounts.models import Organization
from service.database.engine import upsert_statement
from service.edge.actors import Actor
from service.edge.errors import Conflict, Invalid, NotFound, nest_errors
from service.edge.schemas import MAX_VERSION
from service.forms.models import Form, FormShare


def publish_form(
    *, session: Session, actor: Actor, document: dict[str, Any], organization_id: int | None
) -> tuple[Form, bool]:
    """Publish a form version; return it and whether it is new (the same document is a no-op)."""
    actor.require("client")
    owner_id = form_owner(session, actor, organization_id)
    try:
        form = form_rules.parse_form(document)
    except RuleError as error:
        raise Invalid("the form breaks the rules of forms", nest_errors(error.errors)) from None
    canonical = form_rules.form_document(form)
    existing = session.scalar(
        select(Form).where(
            Form.organization_id == owner_id, Form.code == form.code, Form.version == form.version
        )
    )
    if existing is not None:
        if existing.document == canonical:
            return existing, False
        raise Conflict(
            f"form {form.ref} is published and cannot change; publish version "
            f"{_next_version(session, owner_id, form.code)} instead",
            {"version": [f"{form.ref} exists as form {existing.id}"]},
        )
    row = Form(
        organization_id=owner_id,
        code=form.code,
        version=form.version,
        title=form.title,
        document=canonical,
        created_by=actor.user_id,
    )
    try:
        with session.begin_nested():  # a savepoint: a lost race leaves the request usable
            session.add(row)
    except IntegrityError:
        # Another request published this version between the look above and the insert.
        raise Conflict(
            f"form {form.ref} was published meanwhile by someone else; publish version "
            f"{_next_version(session, owner_id, form.code)} instead",
            {"version": [f"{form.ref} was published meanwhile"]},
        ) from None
    return row, True


def form_owner(session: Session, actor: Actor, organization_id: int | None) -> int:
    """Return the client a form published by the caller belongs to (an admin names it)."""
    if not actor.is_admin:
        assert actor.organization_id is not None
        if organization_id not in (None, actor.organization_id):
            raise NotFound("no such organization")
        return actor.organization_id
    if organization_id is None:
        raise Invalid("name the owner", {"organization_id": ["required for an admin"]})
    organization = session.get(Organization, organization_id)
    if organization is None or organization.kind != "client":
        raise Invalid("forms belong to clients", {"organization_id": ["no such client"]})
    return organization_id


def _next_version(session: Session, organization_id: int, code: str) -> int:
    versions = session.scalars(
        select(Form.version).where(Form.organization_id == organization_id, Form.code == code)
    )
    return max(versions, default=0) + 1


def share_forms(session: Session, owner_id: int, reader_id: int) -> None:
    """Let a supplier read every form of a client, for good (once is enough; twice is no-op)."""
    share = upsert_statement(session, FormShare).values(owner_id=owner_id, reader_id=reader_id)
    session.execute(share.on_conflict_do_nothing())


def visible_forms(actor: Actor) -> Select[Form]:
    """Select the forms the caller may read: its own, or those of its clients for a supplier."""
    query = select(Form)
    if actor.is_admin:
        return query
    if actor.role == "supplier":
        owners = select(FormShare.owner_id).where(FormShare.reader_id == actor.organization_id)
        return query.where(Form.organization_id.in_(owners))
    return query.where(Form.organization_id == actor.organization_id)


def list_forms(*, session: Session, actor: Actor) -> list[Form]:
    """List the forms the caller may read."""
    query = visible_forms(actor).order_by(Form.organization_id, Form.code, Form.version)
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class FormCode:
    """Every version of one form code of one client, newest first."""

    owner: Organization
    code: str
    versions: list[Form]

    @property
    def latest(self) -> Form:
        return self.versions[0]


def list_form_codes(*, session: Session, actor: Actor) -> list[FormCode]:
    """List the forms the caller may read, grouped by owner and code."""
    query = (
        visible_forms(actor)
        .add_columns(Organization)
        .join(Organization, Organization.id == Form.organization_id)
        .order_by(Organization.name, Form.code, Form.version.desc())
    )
    rows = session.execute(query).all()
    return [
        FormCode(owner=owner, code=code, versions=[form for form, _ in versions])
        for (owner, code), versions in groupby(rows, key=lambda row: (row[1], row[0].code))
    ]


def latest_form(
    *, session: Session, actor: Actor, code: str, organization_id: int | None = None
) -> Form:
    """Return the newest version of a form code the caller may read."""
    query = visible_forms(actor).where(Form.code == code)
    if organization_id is not None:
        query = query.where(Form.organization_id == organization_id)
    owners = set(session.scalars(query.with_only_columns(Form.organization_id).distinct().limit(2)))
    if not owners:
        raise NotFound(f"no form {code}")
    if len(owners) > 1:
        raise Invalid(
            f"several organizations publish a form {code}",
            {"organization_id": ["name the owner"]},
            location="query",
        )
    newest = query.order_by(Form.version.desc()).limit(1)
    return session.scalars(newest).one()


def get_form(
    *, session: Session, actor: Actor, code: str, version: int, organization_id: int | None = None
) -> Form:
    """Return one form version the caller may read."""
    query = visible_forms(actor).where(Form.code == code, Form.version == version)
    if organization_id is not None:
        query = query.where(Form.organization_id == organization_id)
    found = list(session.scalars(query.limit(2)))
    if not found:
        raise NotFound(f"no form {code}@{version}")
    if len(found) > 1:
        raise Invalid(
            f"several organizations publish {code}@{version}",
            {"organization_id": ["name the owner"]},
            location="query",
        )
    return found[0]


def find_form(session: Session, organization_id: int, ref: str) -> Form | None:
    """Return the form `code@version` owned by an organization, or None."""
    code, _, version = ref.partition("@")
    if not version.isdigit() or int(version) > MAX_VERSION:
        return None  # no form has such a version; the database is not asked
    return session.scalar(
        select(Form).where(
            Form.organization_id == organization_id,
            Form.code == code,
            Form.version == int(version),
        )
    )


def parsed_form(form: Form) -> form_rules.Form:
    """Return the rules' view of a stored form, with its scoring plan (parsed once).

    The one cache of parsed forms: an LRU keyed by the document itself, not by the row's
    id, which another database (or a test's fresh one) gives to another form. Making the key
    costs about a fifth of a parse and its plan (23 of ~150 µs for the standard form).
    """
    return _parse_document(json.dumps(form.document, sort_keys=True))


@lru_cache(maxsize=256)
def _parse_document(document_json: str) -> form_rules.Form:
    return form_rules.parse_form(json.loads(document_json))


@dataclass(frozen=True, slots=True)
class ScoringForm:
    """A published form version as evaluations meet it: the stored row they refer to, and its
    parsed document (questions, weights, scoring plan) that scores them."""

    stored: Form
    parsed: form_rules.Form


def scoring_form_of(form: Form) -> ScoringForm:
    """Return a stored form with its parsed document."""
    return ScoringForm(form, parsed_form(form))
