"""The pages people look at: scorecards, trends, evaluations, statements and payouts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import Select
from sqlalchemy.orm import Session

from contracts.periods import PERIODS, Period
from service.accounts import throttle
from service.accounts.service import check_password, user_of_token
from service.agreements.service import get_contract, list_contracts, terms_for_period
from service.db import get_session
from service.downloads import attachment
from service.evaluations.models import SOURCES, Evaluation
from service.evaluations.service import count, evaluations_query, get_evaluation
from service.forms.service import find_form, parsed_form
from service.schemas import MAX_ID, MAX_PAGE
from service.scorecards import service as scorecards
from service.statements import exports, reports
from service.statements import service as statements
from service.statements.models import Statement
from service.web.charts import trend_chart
from service.web.session import page
from service.web.session import sign_in as start_session
from service.web.session import sign_out as end_session

blp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/static/web")  # fmt: skip

PAGE_SIZE = 50
TREND_MONTHS = 12


def given_period(instead: str = "every month") -> Period | None:
    """Return the month in `?period=`, or None (with a note when it is not a month we keep)."""
    text = request.args.get("period", "")
    try:
        return Period.parse(text)
    except ValueError:
        if text:
            flash(f"“{text}” is not {PERIODS}; showing {instead} instead.")
        return None


def chosen_period() -> Period:
    """Return the month the page shows: `?period=YYYY-MM`, else the last month that ended."""
    last = Period.of(datetime.now(UTC).date()).previous()
    return given_period("the last month that ended") or last


def given_number(name: str, maximum: int, what: str) -> int | None:
    """Return `?name=` as a number from 1 to `maximum`, or None (with a note when it is not)."""
    text = request.args.get(name, "")
    digits = text.isascii() and text.isdecimal() and len(text) <= len(str(maximum))
    if digits and 1 <= int(text) <= maximum:
        return int(text)
    if text:
        flash(f"“{text}” is not {what}; it is ignored.")
    return None


def paged(db: Session, query: Select[Any], *order: Any) -> tuple[list[Any], int, int, int]:
    """Return the `?page=` of a query in SQL: its rows, the total, the page and the pages."""
    total = count(db, query)
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(given_number("page", MAX_PAGE, "a page number") or 1, pages)
    rows = db.scalars(
        query.order_by(*order).offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return list(rows), total, number, pages


def _safe_next(target: str | None) -> str:
    """Return a local path to go to after signing in (never another site)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("web.home")


@blp.get("/")
@page
def home() -> Any:
    """Send each role to the page it needs first."""
    if g.actor.role == "finance":
        return redirect(url_for("web.payouts"))
    return redirect(url_for("web.scorecards_page"))


@blp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    """Sign in with an email and password, or with an API token; failures are throttled."""
    error = None
    if request.method == "POST":
        token = request.form.get("token", "").strip()
        email = None if token else request.form.get("email", "")
        attempt = throttle.admit(
            current_app.extensions["fiducia.sessionmaker"],
            throttle.Limits.of(current_app),
            email=email,
            address=request.remote_addr or "unknown",
        )
        db = get_session()
        if token:
            found = user_of_token(db, token)
            user, token_id = found if found is not None else (None, None)
            error = "That token is not valid: it may have been revoked."
        else:
            user = check_password(
                session=db, email=email or "", password=request.form.get("password", "")
            )
            token_id = None
            error = "The email or the password is wrong."
        if user is not None:
            throttle.forget(db, attempt)
            start_session(db, user, token_id)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("sign_in.html", error=error), 401 if error else 200


@blp.post("/sign-out")
def sign_out() -> Any:
    """Sign out: the session ends on the server too."""
    end_session(get_session())
    flash("You are signed out.")
    return redirect(url_for("web.sign_in"))


@blp.get("/scorecards")
@page
def scorecards_page() -> Any:
    """Compare every visible contract's month side by side."""
    db = get_session()
    period = chosen_period()
    cards = scorecards.compare(session=db, actor=g.actor, period=period)
    by_contract = {
        statement.contract_id: statement
        for statement in statements.list_statements(session=db, actor=g.actor, period=period)
    }
    return render_template("scorecards.html", period=period, cards=cards, statements=by_contract)


@blp.get("/contracts/<id:contract_id>")
@page
def contract(contract_id: int) -> Any:
    """Show a contract's month and its quality over the last twelve months."""
    db = get_session()
    period = chosen_period()
    agreement = get_contract(session=db, actor=g.actor, contract_id=contract_id)
    first = period
    for _ in range(TREND_MONTHS - 1):
        first = first.previous()
    cards = scorecards.trend(
        session=db, actor=g.actor, contract_id=contract_id, first=first, last=period
    )
    terms = terms_for_period(agreement, period).terms
    form = find_form(db, agreement.client_id, terms.form_ref)
    pass_mark = parsed_form(form).pass_mark if form else None
    history = statements.list_statements(session=db, actor=g.actor, contract_id=contract_id)
    return render_template(
        "contract.html",
        contract=agreement,
        period=period,
        card=cards[-1],
        chart=trend_chart(cards, pass_mark, terms.band_edges),
        terms=terms,
        pass_mark=pass_mark,
        statements=list(reversed(history)),
    )


@blp.get("/contracts/<id:contract_id>/agents")
@page
def agents(contract_id: int) -> Any:
    """Show a month's figures per agent and per team, for coaching."""
    db = get_session()
    period = chosen_period()
    agreement = get_contract(session=db, actor=g.actor, contract_id=contract_id)
    breakdown = scorecards.agent_scorecards(
        session=db, actor=g.actor, contract_id=contract_id, period=period
    )
    return render_template("agents.html", contract=agreement, period=period, breakdown=breakdown)


@blp.get("/evaluations")
@page
def evaluations() -> Any:
    """List evaluations, filtered by contract, month, agent and source, a page at a time."""
    db = get_session()
    contracts = list_contracts(session=db, actor=g.actor)
    filters: dict[str, Any] = {}
    contract_id = given_number("contract_id", MAX_ID, "a contract")
    if contract_id is not None:
        filters["contract_id"] = contract_id
    if request.args.get("period"):
        filters["period"] = chosen_period()
    if request.args.get("agent_ref"):
        filters["agent_ref"] = request.args["agent_ref"].strip()
    if request.args.get("source") in SOURCES:
        filters["source"] = request.args["source"]
    query = evaluations_query(session=db, actor=g.actor, **filters)
    rows, total, number, pages = paged(db, query, Evaluation.call_at.desc(), Evaluation.id.desc())
    return render_template(
        "evaluations.html",
        contracts=contracts,
        rows=rows,
        total=total,
        page=number,
        pages=pages,
        filters=filters,
        sources=SOURCES,
    )


@blp.get("/evaluations/<id:evaluation_id>")
@page
def evaluation(evaluation_id: int) -> Any:
    """Show one evaluation: each answer with its question, and each section's score."""
    db = get_session()
    found = get_evaluation(session=db, actor=g.actor, evaluation_id=evaluation_id)
    form = parsed_form(found.form)
    return render_template("evaluation.html", evaluation=found, form=form)


@blp.get("/statements")
@page
def statements_page() -> Any:
    """List statements, newest month first, optionally of one month."""
    db = get_session()
    period = given_period()
    query = statements.statements_query(actor=g.actor, period=period)
    shown, total, number, pages = paged(
        db, query, Statement.period.desc(), Statement.contract_id.desc()
    )
    return render_template(
        "statements.html",
        statements=shown,
        period=period,
        page=number,
        pages=pages,
        total=total,
    )


@blp.get("/statements/<id:statement_id>")
@page
def statement(statement_id: int) -> Any:
    """Show a statement: its figures, and each line with the rule and figures behind it."""
    db = get_session()
    found = statements.get_statement(session=db, actor=g.actor, statement_id=statement_id)
    files = reports.list_reports(db, found)
    return render_template("statement.html", statement=found, files=files)


@blp.route("/statements/<id:statement_id>/finalize", methods=["GET", "POST"])
@page
def finalize(statement_id: int) -> Any:
    """Ask finance to confirm, then freeze the statement for good."""
    db = get_session()
    found = statements.get_statement(session=db, actor=g.actor, statement_id=statement_id)
    if g.actor.role not in ("finance", "admin"):
        abort(403)
    if found.is_final:
        flash("This statement is already final.")
        return redirect(url_for("web.statement", statement_id=found.id))
    if request.method == "POST":
        statements.finalize(session=db, actor=g.actor, statement_id=found.id)
        flash(f"Statement {found.id} is final. Its files are ready to download.")
        return redirect(url_for("web.statement", statement_id=found.id))
    return render_template("finalize.html", statement=found)


@blp.get("/statements/<id:statement_id>/download/<any(csv, xlsx, html):format_>")
@page
def download_statement(statement_id: int, format_: str) -> Any:
    """Download a statement: its stored report file once final, else the current draft."""
    db = get_session()
    found = statements.get_statement(session=db, actor=g.actor, statement_id=statement_id)
    for report in reports.list_reports(db, found):
        if report.format == format_:
            return attachment(report.content, report.name)
    name = f"statement-{found.id}-{found.period}-{found.status}.{format_}"
    content: str | bytes
    if format_ == "csv":
        content = exports.statement_csv(found)
    elif format_ == "xlsx":
        content = exports.statement_xlsx(found)
    else:
        content = reports.printable(found)
    return attachment(content, name)


@blp.get("/payouts")
@page
def payouts() -> Any:
    """Show a month's payouts in one table, with totals per currency."""
    db = get_session()
    period = chosen_period()
    found = statements.list_statements(session=db, actor=g.actor, period=period)
    rows = exports.payout_rows(found)
    totals = exports.payout_totals(rows)
    ids = {row["contract_id"]: statement.id for row, statement in zip(rows, found, strict=True)}
    return render_template(
        "payouts.html", period=period, rows=rows, totals=totals, ids=ids, statements=found
    )


@blp.get("/payouts/download/<any(csv, xlsx, zip):format_>")
@page
def download_payouts(format_: str) -> Any:
    """Download a month's payouts as CSV or XLSX, or the bundle with every statement's files."""
    db = get_session()
    period = chosen_period()
    found = statements.list_statements(session=db, actor=g.actor, period=period)
    rows = exports.payout_rows(found)
    name = f"payouts-{period}"
    if format_ == "csv":
        return attachment(exports.payouts_csv(rows), f"{name}.csv")
    if format_ == "xlsx":
        return attachment(exports.payouts_xlsx(rows), f"{name}.xlsx")
    return attachment(reports.payout_bundle(db, period, found), f"{name}.zip")
