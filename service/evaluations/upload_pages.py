"""Uploading a spreadsheet of evaluations on a page: the template, a check, then confirming.

Between the check and the confirmation the file travels back with the page: the check's
answer carries its content (base64) and the server's seal in the confirming form, an HMAC
under the app's secret key of the user, the contract, the options and the file's SHA-256.
Confirming recomputes the seal from what is posted and then checks every row again, so only
the file this user checked for this contract, with these options, is stored: a form cannot
vouch for a file of its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from contracts.periods import Period
from service.accounts.web_sessions import page
from service.edge.downloads import attachment
from service.edge.errors import Conflict, FiduciaError, Invalid
from service.edge.sessions import begin_writing, get_session, reads_input_first
from service.evaluations.models import SOURCES
from service.evaluations.spreadsheets import MAX_BYTES, MAX_ROWS
from service.evaluations.submission import ROLE_SOURCE
from service.evaluations.uploads import (
    UploadReport,
    evaluation_template,
    read_upload,
    store_upload,
    uploadable_contract,
)
from service.language.i18n import translated
from service.web.query import given_period

blp = Blueprint("upload_pages", __name__)

# The confirming form carries the file as base64: a third more than the file's own limit.
CONFIRM_FORM_BYTES = 4 * (MAX_BYTES // 3 + 1) + 64 * 1024


def _period() -> Period:
    """Return the month asked for, else the current month (evaluations are of recent calls)."""
    return given_period(_("this month")) or Period.of(datetime.now(UTC).date())


@blp.get("/contracts/<id:contract_id>/upload")
@page
def upload(contract_id: int) -> Any:
    """Show the upload page: the template of a month to download, a file to check."""
    return _upload_page(contract_id)


def _upload_page(
    contract_id: int,
    *,
    report: UploadReport | None = None,
    checked: dict[str, Any] | None = None,
    refused: str | None = None,
    status: int = 200,
) -> Any:
    """Render the upload page; after a check, with what it found and the confirming form."""
    contract = uploadable_contract(get_session(), g.actor, contract_id)
    shown = render_template(
        "evaluations/upload.html",
        contract=contract,
        period=_period(),
        sources=SOURCES if g.actor.is_admin else (),
        report=report,
        checked=checked,
        refused=refused,
        max_rows=MAX_ROWS,
        max_bytes=MAX_BYTES,
    )
    return shown, status


@blp.get("/contracts/<id:contract_id>/upload/template")
@page
def template(contract_id: int) -> Any:
    """Download the template of a month, as XLSX or CSV."""
    format_ = "csv" if request.args.get("format") == "csv" else "xlsx"
    found = evaluation_template(
        session=get_session(),
        actor=g.actor,
        contract_id=contract_id,
        period=_period(),
        format=format_,
    )
    return attachment(found.content, found.filename)


def _options() -> dict[str, Any]:
    """Return the upload's options as the form gives them."""
    source = request.form.get("source") or None
    return {
        "source": source if g.actor.is_admin else ROLE_SOURCE.get(g.actor.role),
        "naive_times_in_contract_zone": request.form.get("naive_times_in_contract_zone") == "on",
    }


@blp.post("/contracts/<id:contract_id>/upload")
@reads_input_first
@page
def check(contract_id: int) -> Any:
    """Check a file (a dry run): count what it would store and list every bad row."""
    uploadable_contract(get_session(), g.actor, contract_id)
    chosen = request.files.get("file")
    content = chosen.read(MAX_BYTES + 1) if chosen else b""
    if not content:
        return _upload_page(contract_id, refused=_("Choose a file to check."), status=422)
    options = _options()
    try:
        report = _read_and_store(contract_id, content, options, dry_run=True)
    except Invalid as error:
        return _upload_page(contract_id, refused=_said(error), status=error.status.value)
    checked = {
        "name": chosen.filename if chosen else "",
        "content": base64.b64encode(content).decode(),
        "seal": _seal(contract_id, content, options),
        **options,
    }
    return _upload_page(contract_id, report=report, checked=checked)


def _seal(contract_id: int, content: bytes, options: dict[str, Any]) -> str:
    """Return the server's word that this user checked this file for this contract, with
    these options: an HMAC of them under the app's secret key."""
    checked = [g.actor.user_id, contract_id, hashlib.sha256(content).hexdigest(), options]
    message = ("evaluations-upload:" + json.dumps(checked, sort_keys=True)).encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@blp.post("/contracts/<id:contract_id>/upload/confirm")
@reads_input_first
@page
def confirm(contract_id: int) -> Any:
    """Store the file checked, all or nothing; a changed file or a bad row stores nothing."""
    request.max_form_memory_size = CONFIRM_FORM_BYTES
    uploadable_contract(get_session(), g.actor, contract_id)
    try:
        content = base64.b64decode(request.form.get("content", ""), validate=True)
    except (binascii.Error, ValueError):
        content = b""
    options = _options()
    sealed = hmac.compare_digest(_seal(contract_id, content, options), request.form.get("seal", ""))
    if not content or not sealed:
        message = _("The file changed after it was checked; choose it and check it again.")
        return _upload_page(contract_id, refused=message, status=422)
    try:
        report = _read_and_store(contract_id, content, options, dry_run=False)
    except (Invalid, Conflict) as error:
        get_session().rollback()
        return _upload_page(
            contract_id,
            report=_refused_report(error),
            refused=_said(error),
            status=error.status.value,
        )
    flash(
        ngettext(
            "Stored %(num)s new evaluation (%(unchanged)s already stored unchanged).",
            "Stored %(num)s new evaluations (%(unchanged)s already stored unchanged).",
            report.created,
            unchanged=report.unchanged,
        )
    )
    return redirect(url_for("evaluation_pages.evaluations", contract_id=contract_id))


def _read_and_store(
    contract_id: int, content: bytes, options: dict[str, Any], *, dry_run: bool
) -> UploadReport:
    """Read the file, then (holding the write lock only now) try or store its evaluations."""
    session = get_session()
    upload = read_upload(
        session=session, actor=g.actor, contract_id=contract_id, content=content, **options
    )
    begin_writing(session)
    return store_upload(session=session, actor=g.actor, upload=upload, dry_run=dry_run)


def _said(error: FiduciaError) -> str:
    """Return a refusal in words, with the file's own messages."""
    messages = error.errors.get("file") if isinstance(error.errors, dict) else None
    if isinstance(messages, list) and messages and messages[0] != error.message:
        return f"{translated(error.message)}: {'; '.join(map(translated, messages))}"
    if isinstance(error.errors, dict) and "source" in error.errors:
        return f"{translated(error.message)}: {'; '.join(map(translated, error.errors['source']))}"
    return translated(error.message)


def _refused_report(error: FiduciaError) -> UploadReport | None:
    """Return the bad rows of a refused confirmation, as a check lists them."""
    rows = error.errors.get("file") if isinstance(error.errors, dict) else None
    if not isinstance(rows, dict):
        return None
    listed = [{"row": int(number), "errors": columns} for number, columns in rows.items()]
    return UploadReport(rejected=len(listed), rows=sorted(listed, key=lambda row: row["row"]))
