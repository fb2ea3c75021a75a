"""The statement pages: the list, one statement, finalizing, the month's payouts, downloads."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from service.accounts.web_sessions import page
from service.edge.downloads import attachment
from service.edge.sessions import after_commit, get_session
from service.language.i18n import current_language
from service.statements import exports, reports
from service.statements import service as statements
from service.statements.reasons import reasons_of
from service.web.query import PAGE_SIZE, chosen_period, given_period, page_number

blp = Blueprint("statement_pages", __name__)


@blp.get("/statements")
@page
def statements_page() -> Any:
    """List statements, newest month first, optionally of one month."""
    period = given_period()
    shown = statements.statements_page(
        session=get_session(), actor=g.actor, number=page_number(), size=PAGE_SIZE, period=period
    )
    return render_template(
        "statements/statements.html",
        statements=shown.rows,
        period=period,
        page=shown.number,
        pages=shown.pages,
        total=shown.total,
    )


@blp.get("/statements/<id:statement_id>")
@page
def statement(statement_id: int) -> Any:
    """Show a statement: its figures, and each line with the rule and figures behind it."""
    db = get_session()
    found = statements.get_statement(session=db, actor=g.actor, statement_id=statement_id)
    files = reports.report_names(db, found)
    return render_template(
        "statements/statement.html",
        statement=found,
        files=files,
        reasons=reasons_of(found, current_language()),
        commitments=reports.commitments_of(found.figures),
    )


@blp.route("/statements/<id:statement_id>/finalize", methods=["GET", "POST"])
@page
def finalize(statement_id: int) -> Any:
    """Ask finance to confirm, then freeze the statement for good."""
    db = get_session()
    found = statements.finalizable(db, g.actor, statement_id)
    if found.is_final:
        flash(_("This statement is already final."))
    elif request.method == "POST":
        statements.finalize(session=db, actor=g.actor, statement_id=found.id)
        after_commit(partial(reports.store_reports, statement_id=found.id))
        flash(_("Statement %(id)s is final. Its files are ready to download.", id=found.id))
    else:
        return render_template("statements/finalize.html", statement=found)
    return redirect(url_for(".statement", statement_id=found.id))


@blp.get("/statements/<id:statement_id>/download/<any(csv, xlsx, html, pdf):format_>")
@page
def download_statement(statement_id: int, format_: str) -> Any:
    """Download a statement: its stored report file once final, else the current draft."""
    db = get_session()
    found = statements.get_statement(session=db, actor=g.actor, statement_id=statement_id)
    file = reports.statement_file(db, found, format_)
    return attachment(file.content, file.name)


@blp.get("/payouts")
@page
def payouts() -> Any:
    """Show a month's payouts in one table, with totals per currency."""
    period = chosen_period()
    found = statements.list_statements(session=get_session(), actor=g.actor, period=period)
    return render_template("statements/payouts.html", period=period, payouts=exports.payouts(found))


@blp.get("/payouts/download/<any(csv, xlsx, zip):format_>")
@page
def download_payouts(format_: str) -> Any:
    """Download a month's payouts as CSV or XLSX, or the bundle with every statement's files."""
    db, period = get_session(), chosen_period()
    found = statements.list_statements(session=db, actor=g.actor, period=period)
    language = reports.organization_language(db, g.actor.organization_id)
    file = reports.payouts_file(db, period, found, format_, language)
    return attachment(file.content, file.name)
