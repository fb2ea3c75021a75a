"""The forms pages: every form and version, one as an evaluator sees it, and publishing a new
version from YAML or JSON or from an editor that starts from the latest version.

A published version never changes: every way of saving publishes the next version.
"""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any

import yaml
from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from contracts.forms import CRITICAL_CATEGORIES
from service.db import get_session
from service.errors import Invalid
from service.forms.models import Form
from service.forms.service import get_form, latest_form, list_forms, parsed_form, publish_form
from service.schemas import MAX_ID
from service.web.forms import Refusal, refusal
from service.web.query import given_number
from service.web.session import page

blp = Blueprint("form_pages", __name__)

MAX_DOCUMENT = 200_000  # characters of YAML or JSON: far above any real form


@blp.get("/forms")
@page
def forms() -> Any:
    """List the forms the caller may read, grouped by owner and code, newest version first."""
    found = list_forms(session=get_session(), actor=g.actor)
    groups = [
        (key, sorted(versions, key=lambda form: -form.version))
        for key, versions in groupby(found, key=lambda form: (form.owner.name, form.code))
    ]
    return render_template(
        "forms/forms.html", groups=groups, publishes=g.actor.role in ("client", "admin")
    )


@blp.get("/forms/<string:code>/<version:version>")
@page
def form(code: str, version: int) -> Any:
    """Show one form version as an evaluator sees it."""
    found = get_form(
        session=get_session(),
        actor=g.actor,
        code=code,
        version=version,
        organization_id=given_number("organization_id", MAX_ID, "an organization"),
    )
    return render_template("forms/form.html", form=found, rules=parsed_form(found))


@blp.get("/forms/new")
@page
def new_form() -> Any:
    """Publish a form from a YAML or JSON document (clients; admins name the client)."""
    g.actor.require("client")
    return render_template("forms/new.html", refused=None, owner=None), 200


@blp.post("/forms/new")
@page
def publish_document() -> Any:
    """Publish the YAML or JSON document typed or chosen; its problems are named by path."""
    owner = given_owner()
    uploaded = request.files.get("file")
    text = uploaded.read().decode("utf-8", "replace") if uploaded and uploaded.filename else ""
    text = text or request.form.get("document", "")
    try:
        document = _read_document(text)
        published, created = publish_form(
            session=get_session(), actor=g.actor, document=document, organization_id=owner
        )
    except Invalid as error:
        refused = refusal("publish", error, fields=("document",))
        return render_template("forms/new.html", refused=refused, owner=owner), refused.status
    return _published(published, created)


def _read_document(text: str) -> dict[str, Any]:
    """Read a form document written in YAML (JSON is YAML too)."""
    if len(text) > MAX_DOCUMENT:
        raise Invalid(
            "the document is too long", {"document": [f"at most {MAX_DOCUMENT} characters"]}
        )
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise Invalid("the document is not YAML or JSON", {"document": [str(error)]}) from None
    if not isinstance(document, dict):
        raise Invalid("the document is not a form", {"document": ["must be a mapping of fields"]})
    return json.loads(json.dumps(document, default=str))  # dates and the like as text


def given_owner() -> int | None:
    """Return the client an admin publishes for (a client always publishes its own)."""
    return given_number("organization_id", MAX_ID, "an organization") or _form_number(
        "organization_id"
    )


def _form_number(name: str) -> int | None:
    text = request.form.get(name, "")
    return int(text) if text.isdecimal() and len(text) <= 18 else None


def _published(published: Form, created: bool) -> Any:
    if created:
        flash(f"Form {published.code} version {published.version} is published.")
    else:
        flash(f"Form {published.code} version {published.version} was already published as is.")
    return redirect(
        url_for(
            ".form",
            code=published.code,
            version=published.version,
            organization_id=published.organization_id,
        )
    )


@blp.get("/forms/<string:code>/edit")
@page
def edit(code: str) -> Any:
    """Open the editor on a copy of the latest version; saving publishes the next one."""
    g.actor.require("client")
    latest = latest_form(
        session=get_session(),
        actor=g.actor,
        code=code,
        organization_id=given_number("organization_id", MAX_ID, "an organization"),
    )
    document = dict(latest.document) | {"version": latest.version + 1}
    return _editor(latest, document, None)


@blp.post("/forms/<string:code>/edit")
@page
def save(code: str) -> Any:
    """Add or remove a row, or save the editor as the next version."""
    g.actor.require("client")
    latest = latest_form(
        session=get_session(), actor=g.actor, code=code, organization_id=_form_number("owner")
    )
    document = edited_document(code, latest.version + 1)
    action = request.form.get("action", "save")
    if action != "save":
        return _editor(latest, changed(document, action), None)
    try:
        published, created = publish_form(
            session=get_session(),
            actor=g.actor,
            document=document,
            organization_id=latest.organization_id,
        )
    except Invalid as error:
        return _editor(latest, document, refusal("edit", error, fields=("sections", "title")))
    return _published(published, created)


def _editor(latest: Form, document: dict[str, Any], refused: Refusal | None) -> Any:
    shown = render_template(
        "forms/edit.html",
        latest=latest,
        document=document,
        categories=CRITICAL_CATEGORIES,
        refused=refused,
    )
    return shown, refused.status if refused else 200


def _field(name: str) -> str:
    return request.form.get(name, "").strip()


def _number(text: str) -> int | str:
    """Return a whole number as a number (as the rules read weights), else the text."""
    return int(text) if text.isdecimal() else text


def edited_document(code: str, version: int) -> dict[str, Any]:
    """Read the editor's fields back into a form document (the rules then check it)."""
    sections = []
    for s in range(int(_field("sections") or 0)):
        questions = []
        for q in range(int(_field(f"s{s}-questions") or 0)):
            at = f"s{s}-q{q}-"
            question: dict[str, Any] = {
                "key": _field(at + "key"),
                "text": _field(at + "text"),
                "kind": _field(at + "kind"),
                "weight": _number(_field(at + "weight")),
            }
            if question["kind"] == "scale":
                question["scale"] = [_number(_field(at + "low")), _number(_field(at + "high"))]
            if request.form.get(at + "na"):
                question["na"] = True
            for name in ("critical", "auto_fail"):
                if _field(at + name):
                    question[name] = _field(at + name)
            questions.append(question)
        sections.append(
            {
                "key": _field(f"s{s}-key"),
                "title": _field(f"s{s}-title"),
                "weight": _number(_field(f"s{s}-weight")),
                "questions": questions,
            }
        )
    document: dict[str, Any] = {"code": code, "version": version, "title": _field("title")}
    if _field("pass_mark"):
        document["pass_mark"] = _number(_field("pass_mark"))
    return document | {"sections": sections}


NEW_QUESTION = {"key": "", "text": "", "kind": "yes_no", "weight": 1}


def changed(document: dict[str, Any], action: str) -> dict[str, Any]:
    """Apply an editor button: add a section or a question, or remove one."""
    sections = document["sections"]
    what, _, where = action.partition(":")
    place = [int(part) for part in where.split(".") if part.isdecimal()]
    if what == "add-section":
        sections.append({"key": "", "title": "", "weight": 1, "questions": [dict(NEW_QUESTION)]})
    elif what == "add-question" and place and place[0] < len(sections):
        sections[place[0]]["questions"].append(dict(NEW_QUESTION))
    elif what == "remove-section" and place and place[0] < len(sections):
        del sections[place[0]]
    elif what == "remove-question" and len(place) == 2 and place[0] < len(sections):
        questions = sections[place[0]]["questions"]
        if place[1] < len(questions):
            del questions[place[1]]
    return document
