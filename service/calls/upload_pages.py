"""Uploading a call log on a page: a format, a check (the dry run), then confirming; and the
import profile of each telephony format (DESIGN §19).

As on the evaluation upload page, the checked file travels back with the page, sealed: an
HMAC under the app's secret key of the user, the contract, the format, the profile the file
was read with and the file's SHA-256. Confirming recomputes the seal, so a changed file or a
profile changed in between stores nothing, and then reads every row again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from marshmallow import ValidationError

from service.accounts.web_sessions import page
from service.calls import ingest, profiles
from service.calls.formats import FORMATS
from service.calls.profile_schemas import ProfileIn
from service.database.engine import allow_long_statements
from service.edge.errors import Conflict, FiduciaError, Invalid
from service.edge.sessions import begin_writing, end_reading, get_session, reads_input_first
from service.language.i18n import translated, translated_tree

blp = Blueprint("call_upload_pages", __name__)

# A page carries the checked file back as base64 in a form: files up to this size; a larger
# log is uploaded through the API, which streams it.
MAX_BYTES = 16 * 1024 * 1024
CONFIRM_FORM_BYTES = 4 * (MAX_BYTES // 3 + 1) + 64 * 1024
NATIVE = "native"
FORMAT_NAMES = {
    NATIVE: _l("Fiducia's CSV (with a header row)"),
    "asterisk": _l("Asterisk (Master.csv)"),
    "vicidial": _l("VICIdial"),
    "connect": _l("Amazon Connect"),
    "twilio": _l("Twilio"),
}
MAPPED = ("call_ref", "call_at", "agent_ref", "team", "queue", "direction", "outcome",
          "duration_s", "wait_s", "handle_s")  # fmt: skip


def _chosen_format(given: str | None) -> str:
    return given if given in FORMAT_NAMES else NATIVE


def _format_of(chosen: str) -> str | None:
    """Return the format the upload is read in: None for the native CSV."""
    return None if chosen == NATIVE else chosen


@blp.get("/contracts/<id:contract_id>/calls/upload")
@page
def upload(contract_id: int) -> Any:
    """Show the call log's upload page: a format, a file to check, the format's profile."""
    return _upload_page(contract_id, _chosen_format(request.args.get("format")))


def _upload_page(
    contract_id: int,
    chosen: str,
    *,
    preview: dict[str, Any] | None = None,
    checked: dict[str, Any] | None = None,
    refused: str | None = None,
    rejected: list[dict[str, Any]] | None = None,
    profile_form: dict[str, str] | None = None,
    profile_errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Any:
    """Render the upload page; after a check, with what it found and the confirming form."""
    session = get_session()
    calendar = ingest.log_calendar(session=session, actor=g.actor, contract_id=contract_id)
    format = _format_of(chosen)
    if format is not None and profile_form is None:
        stored = profiles.read_profile(
            session=session, actor=g.actor, contract_id=contract_id, name=format
        )
        profile_form = _profile_form(stored)
    shown = render_template(
        "calls/upload.html",
        contract=calendar.contract,
        chosen=chosen,
        format=format,
        format_names=FORMAT_NAMES,
        maps_directions=format is not None and FORMATS[format].maps_directions,
        preview=preview,
        checked=checked,
        refused=refused,
        rejected=rejected if rejected is not None else (preview or {}).get("rejected", []),
        mapped_columns=MAPPED,
        profile_form=profile_form,
        profile_errors=profile_errors or {},
        max_bytes=MAX_BYTES,
    )
    return shown, status


@blp.post("/contracts/<id:contract_id>/calls/upload")
@reads_input_first
@page
def check(contract_id: int) -> Any:
    """Check a file (the dry run): how its first 20 rows map and every refusal; stores nothing."""
    chosen = _chosen_format(request.form.get("format"))
    session = get_session()
    ingest.log_calendar(session=session, actor=g.actor, contract_id=contract_id)
    given = request.files.get("file")
    content = given.read(MAX_BYTES + 1) if given else b""
    if not content:
        return _upload_page(contract_id, chosen, refused=_("Choose a file to check."), status=422)
    if len(content) > MAX_BYTES:
        said = _(
            "the file is larger than %(megabytes)s MB: upload it through the API.",
            megabytes=MAX_BYTES // 1048576,
        )
        return _upload_page(contract_id, chosen, refused=said, status=413)
    try:
        preview = _preview(contract_id, chosen, content)
    except Invalid as error:
        return _upload_page(contract_id, chosen, refused=_said(error), status=error.status.value)
    checked = {
        "name": given.filename if given else "",
        "content": base64.b64encode(content).decode(),
        "seal": _seal(contract_id, chosen, content),
    }
    return _upload_page(contract_id, chosen, preview=preview, checked=checked)


def _preview(contract_id: int, chosen: str, content: bytes) -> dict[str, Any]:
    """Read a file as the API's dry run does: nothing is locked or written."""
    session = get_session()
    calendar = ingest.log_calendar(session=session, actor=g.actor, contract_id=contract_id)
    rows_of = profiles.rows_of(session, calendar.contract, _format_of(chosen))
    end_reading(session)
    rows = rows_of(io.BytesIO(content), calendar, keep=ingest.KEEP_PROBLEMS, max_bytes=MAX_BYTES)
    return ingest.preview_calls_file(rows)


def _seal(contract_id: int, chosen: str, content: bytes) -> str:
    """Return the server's word that this user checked this file for this contract, in this
    format read with the profile stored now: an HMAC of them under the app's secret key."""
    format = _format_of(chosen)
    stored = None
    if format is not None:
        found = profiles.stored_profile(get_session(), contract_id, format)
        stored = found.document if found else None
    checked = [g.actor.user_id, contract_id, chosen, stored, hashlib.sha256(content).hexdigest()]
    message = ("calls-upload:" + json.dumps(checked, sort_keys=True)).encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@blp.post("/contracts/<id:contract_id>/calls/upload/confirm")
@reads_input_first
@page
def confirm(contract_id: int) -> Any:
    """Log the file checked, all or nothing; a changed file or profile stores nothing."""
    request.max_form_memory_size = CONFIRM_FORM_BYTES
    chosen = _chosen_format(request.form.get("format"))
    session = get_session()
    calendar = ingest.log_calendar(session=session, actor=g.actor, contract_id=contract_id)
    try:
        content = base64.b64decode(request.form.get("content", ""), validate=True)
    except (binascii.Error, ValueError):
        content = b""
    sealed = hmac.compare_digest(_seal(contract_id, chosen, content), request.form.get("seal", ""))
    if not content or not sealed:
        said = _("The file or its profile changed after it was checked; check it again.")
        return _upload_page(contract_id, chosen, refused=said, status=422)
    rows_of = profiles.rows_of(session, calendar.contract, _format_of(chosen))
    end_reading(session)
    try:
        read = ingest.read_calls_file(calendar, io.BytesIO(content), MAX_BYTES, rows_of)
        with read.spool:
            begin_writing(session)
            allow_long_statements(session, current_app.config["DB_LONG_STATEMENT_TIMEOUT"])
            logged = ingest.log_calls_file(session=session, actor=g.actor, read=read)
    except (Invalid, Conflict) as error:
        session.rollback()
        return _upload_page(
            contract_id,
            chosen,
            refused=_said(error),
            rejected=error.extra.get("rejected", []),
            status=error.status.value,
        )
    flash(
        ngettext(
            "Logged %(num)s new call (%(unchanged)s already logged unchanged).",
            "Logged %(num)s new calls (%(unchanged)s already logged unchanged).",
            logged.created,
            unchanged=logged.unchanged,
        )
    )
    return redirect(url_for("call_pages.calls", contract_id=contract_id))


def _said(error: FiduciaError) -> str:
    """Return a refusal in words, with the file's own message when it is one."""
    messages = error.errors.get("file") if isinstance(error.errors, dict) else None
    if isinstance(messages, list) and messages and messages[0] not in error.message:
        return f"{translated(error.message)}: {'; '.join(map(translated, messages))}"
    return translated(error.message)


# The import profile ---------------------------------------------------------------------


def _profile_form(stored: dict[str, Any]) -> dict[str, str]:
    """Return a stored profile as the form's fields."""
    agent, queue = stored.get("agent") or {}, stored.get("queue") or {}
    directions = stored.get("directions") or {}
    return {
        "timezone": stored.get("timezone") or "",
        "agent_field": agent.get("field", ""),
        "agent_pattern": agent.get("pattern", ""),
        "queue_field": queue.get("field", ""),
        "queue_pattern": queue.get("pattern", ""),
        "directions": "\n".join(f"{context} = {way}" for context, way in directions.items()),
    }


def _profile_body(form: dict[str, str]) -> dict[str, Any]:
    """Return the profile the form says, as the API's body: an empty part is not set."""
    body: dict[str, Any] = {"timezone": form["timezone"] or None}
    for key in ("agent", "queue"):
        field, pattern = form[f"{key}_field"], form[f"{key}_pattern"]
        body[key] = {"field": field, "pattern": pattern} if field or pattern else None
    directions: dict[str, str] = {}
    for line in form["directions"].splitlines():
        context, _sep, way = line.partition("=")
        if context.strip():
            directions[context.strip()] = way.strip()
    body["directions"] = directions or None
    return body


def _field_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten a tree of field errors to the form's field names (`agent.pattern`)."""
    if isinstance(errors, list):
        return {prefix or "profile": [str(said) for said in errors]}
    flat: dict[str, list[str]] = {}
    for key, below in errors.items():
        flat |= _field_errors(below, f"{prefix}.{key}" if prefix else str(key))
    return flat


@blp.post("/contracts/<id:contract_id>/calls/upload/profile/<format>")
@page
def save_profile(contract_id: int, format: str) -> Any:
    """Store how the contract's files of a format are read, as the API's PUT does."""
    session = get_session()
    ingest.log_calendar(session=session, actor=g.actor, contract_id=contract_id)
    profiles.format_named(format)
    fields = ("timezone", "agent_field", "agent_pattern", "queue_field", "queue_pattern")
    form = {name: request.form.get(name, "").strip() for name in fields}
    form["directions"] = request.form.get("directions", "")
    try:
        body = ProfileIn().load(_profile_body(form))
        profiles.put_profile(
            session=session, actor=g.actor, contract_id=contract_id, name=format, body=body
        )
    except (ValidationError, Invalid) as error:
        errors = error.messages if isinstance(error, ValidationError) else error.errors
        return _upload_page(
            contract_id,
            format,
            profile_form=form,
            profile_errors=_field_errors(translated_tree(errors)),
            status=422,
        )
    flash(_("The %(format)s profile is saved.", format=FORMAT_NAMES[format]))
    return redirect(url_for("call_upload_pages.upload", contract_id=contract_id, format=format))
