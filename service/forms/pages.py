"""The forms pages: each client's forms and their versions, one version as evaluators see it,
and publishing a new version, from a YAML or JSON document or from the editor.

A published version never changes: the editor starts from the latest version and saves the
next one, through the same service and rules as the API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from service.accounts.service import list_organizations
from service.accounts.web_sessions import page
from service.edge.errors import Conflict, Invalid
from service.edge.schemas import MAX_ID, MAX_VERSION
from service.edge.sessions import begin_writing, get_session, reads_input_first
from service.forms import editor, service
from service.forms.models import Form
from service.web.forms import Refusal, refusal
from service.web.query import given_number

blp = Blueprint("form_pages", __name__)

# The editor's fields a refusal names, with all their parts.
EDITOR_FIELDS = ("title", "pass_mark", "sections")


@blp.get("/forms")
@page
def forms() -> Any:
    """List the forms the caller may read, by code, newest version first."""
    codes = service.list_form_codes(session=get_session(), actor=g.actor)
    return render_template("forms/forms.html", codes=codes, may_publish=_may_publish())


@blp.get("/forms/<string:code>/<version:version>")
@page
def form(code: str, version: int) -> Any:
    """Show one form version as an evaluator sees it: sections, weights and questions."""
    db = get_session()
    found = service.get_form(
        session=db, actor=g.actor, code=code, version=version, **_owner_asked()
    )
    latest = service.latest_form(
        session=db, actor=g.actor, code=code, organization_id=found.organization_id
    )
    return render_template(
        "forms/form.html",
        form=found,
        document=found.document,
        is_latest=latest.id == found.id,
        may_publish=_may_publish(),
    )


@blp.get("/forms/new")
@page
def new() -> Any:
    """Offer to publish a form version from a YAML or JSON document."""
    g.actor.require("client")
    return _new_page()


@blp.post("/forms/new")
@reads_input_first
@page
def publish() -> Any:
    """Publish a form version from a YAML or JSON document, typed or uploaded.

    The document is read (within its bounds) before the request takes any lock.
    """
    g.actor.require("client")
    text = request.form.get("document", "")
    limit = current_app.config["MAX_DOCUMENT_LENGTH"]
    try:
        text = _uploaded(request.files.get("file"), limit) or text
        document = editor.read_document(text, limit=limit)
        begin_writing(get_session())
        published, created = service.publish_form(
            session=get_session(),
            actor=g.actor,
            document=document,
            organization_id=given_number_in_form("organization_id"),
        )
    except (Invalid, Conflict) as error:
        shown = text if len(text) <= limit else ""  # a text past the limit is not shown again
        return _new_page(refusal("publish", error, fields=("document",)), shown)
    return _published(published, created)


def _new_page(refused: Refusal | None = None, text: str = "") -> Any:
    shown = render_template("forms/new.html", clients=_clients(), refused=refused, text=text)
    return shown, refused.status if refused else 200


def _uploaded(file: FileStorage | None, limit: int) -> str | None:
    """Return the text of an uploaded document, or None when no file was chosen; read no
    more of it than a byte past the limit, which `read_document` refuses."""
    if file is None or not file.filename:
        return None
    content = file.read(limit + 1)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        if len(content) > limit:  # cut in a character: refused for its size
            return content.decode("utf-8-sig", errors="replace")
        raise Invalid(
            "the file is not text", {"file": ["not UTF-8 text"]}, location="form"
        ) from None


@blp.get("/forms/<string:code>/edit")
@page
def edit(code: str) -> Any:
    """Copy the latest version of a form into the editor, to save as the next version."""
    g.actor.require("client")
    latest = service.latest_form(session=get_session(), actor=g.actor, code=code, **_owner_asked())
    return _editor_page(latest, editor.draft_of(latest.document))


@blp.post("/forms/<string:code>/edit")
@page
def save(code: str) -> Any:
    """Add or remove a row of the editor, or save its form as the next version."""
    g.actor.require("client")
    db = get_session()
    base_version = given_number_in_form("base", MAX_VERSION)
    if base_version is None:
        raise Invalid("the editor did not say which version it copied", {"base": ["required"]},
                      location="form")  # fmt: skip
    base = service.get_form(
        session=db,
        actor=g.actor,
        code=code,
        version=base_version,
        organization_id=given_number_in_form("organization_id"),
    )
    draft = editor.draft_from_fields(request.form)
    if editor.apply_change(draft, request.form.get("change", "")):
        return _editor_page(base, draft)
    document = editor.document_of(draft, code=base.code, version=base.version + 1)
    try:
        published, created = service.publish_form(
            session=db, actor=g.actor, document=document, organization_id=base.organization_id
        )
    except (Invalid, Conflict) as error:
        return _editor_page(base, draft, refusal("editor", error, fields=EDITOR_FIELDS))
    return _published(published, created)


def _editor_page(base: Form, draft: editor.Draft, refused: Refusal | None = None) -> Any:
    shown = render_template(
        "forms/edit.html",
        base=base,
        draft=draft,
        kinds=("yes_no", "scale"),
        criticals=("customer", "business", "compliance"),
        auto_fails=("section", "form"),
        refused=refused,
    )
    return shown, refused.status if refused else 200


def _published(published: Form, created: bool) -> Any:
    if created:
        flash(
            _(
                "%(title)s version %(version)s is published.",
                title=published.title,
                version=published.version,
            )
        )
    else:
        flash(
            _(
                "%(ref)s was already published with this content; nothing changed.",
                ref=published.ref,
            )
        )
    owner: dict[str, Any] = (
        {"organization_id": published.organization_id} if g.actor.is_admin else {}
    )
    return redirect(url_for(".form", code=published.code, version=published.version, **owner))


def _may_publish() -> bool:
    return bool(g.actor.is_admin or g.actor.role == "client")


def _owner_asked() -> dict[str, int]:
    """Return the owner an admin's link names (`?organization_id=`), when it names one."""
    owner = given_number("organization_id", MAX_ID, _("an organization"))
    return {"organization_id": owner} if owner is not None else {}


def given_number_in_form(name: str, maximum: int = MAX_ID) -> int | None:
    """Return a form field as a number from 1 to `maximum`, or None when it is not one."""
    text = request.form.get(name, "")
    if text.isascii() and text.isdecimal() and len(text) <= len(str(maximum)):
        number = int(text)
        return number if 1 <= number <= maximum else None
    return None


def _clients() -> list[Any]:
    """Return the client organizations an admin publishes for (none for a client)."""
    if not g.actor.is_admin:
        return []
    every = list_organizations(session=get_session(), actor=g.actor)
    return [organization for organization in every if organization.kind == "client"]
