"""Report files made once per finalized statement: CSV and XLSX for finance, a printable page
and the same statement as an A4 PDF to file, all in the client organization's language."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from contracts.periods import Period
from service.accounts.models import Organization
from service.agreements.service import contract_timezone
from service.database.engine import writing
from service.edge.downloads import MEDIA_TYPES, File
from service.language.formatting import moment, money, month, number
from service.language.i18n import DEFAULT_LANGUAGE, Speech, catalog
from service.language.labels import LABELS
from service.statements import exports
from service.statements.models import ReportFile, Statement
from service.statements.reasons import reasons_of

FORMATS = ("csv", "xlsx", "html", "pdf")


@cache
def _templates(language: str = DEFAULT_LANGUAGE) -> Environment:
    """Return the report templates speaking a language (one environment per language)."""
    environment = Environment(
        loader=PackageLoader("service.statements", "templates"),
        autoescape=select_autoescape(),
        extensions=["jinja2.ext.i18n"],
    )
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_translations(catalog(language), newstyle=True)  # type: ignore[attr-defined]
    return environment


@cache
def printable_style_source() -> str:
    """Return the CSP source that lets the printable statement's own stylesheet apply."""
    templates = _templates()
    assert templates.loader is not None
    source, _, _ = templates.loader.get_source(templates, "statement.html")
    style = re.search(r"<style>(.*?)</style>", source, re.DOTALL)
    assert style is not None, "the printable statement keeps its stylesheet inline"
    digest = hashlib.sha256(style.group(1).encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def commitments_of(figures: dict[str, Any]) -> dict[str, Any] | None:
    """Return what a statement says of its month's sample commitments, if it has any.

    `late` is None for statements made before it was kept: they claim no timing.
    """
    sampling = figures.get("sampling") or {}
    if not sampling.get("commitment"):
        return None
    committed_at = sampling.get("committed_at")
    return {
        "self": sampling["commitment"],
        "audit": sampling.get("audit_commitment"),
        "late": sampling.get("late"),
        "committed_at": None if committed_at is None else datetime.fromisoformat(committed_at),
    }


def language_of(statement: Statement) -> str:
    """Return the language a statement's report files are made in: its client's."""
    return statement.contract.client.language


def printable(statement: Statement, language: str = DEFAULT_LANGUAGE) -> str:
    """Render a statement as a self-contained HTML page that prints well, in a language."""
    currency, figures, say = statement.currency, statement.figures, Speech(language)
    reasons = reasons_of(statement, language)
    lines = [
        {
            "name": say.gettext(LABELS.get(line["code"], line["code"])).capitalize(),
            "amount": money(Decimal(line["amount"]), currency, language),
            "reason": reason,
        }
        for line, reason in zip(statement.lines, reasons, strict=True)
    ]
    zone = contract_timezone(statement.contract)
    commitments = commitments_of(figures)
    return (
        _templates(language)
        .get_template("statement.html")
        .render(
            language=language,
            statement=statement,
            period_name=month(statement.period, language),
            figures=figures,
            units=number(figures.get("units") or 0, language=language),
            evaluations=number(figures.get("n") or 0, language=language),
            mean=number(figures["mean"], 2, language) if figures.get("mean") else None,
            interval=[number(end, 2, language) for end in figures.get("ci") or []],
            inflation=number(figures["self_assessment"]["inflation"], 2, language)
            if (figures.get("self_assessment") or {}).get("inflation")
            else None,
            lines=lines,
            total=money(statement.total, currency, language),
            volume_only=money(statement.volume_only, currency, language),
            difference=money(statement.total - statement.volume_only, currency, language),
            finalized=moment(statement.finalized_at, zone, language),
            computed=moment(statement.computed_at, zone, language),
            commitments=commitments,
            committed=moment((commitments or {}).get("committed_at"), zone, language),
        )
    )


# The page's margins hold no body text: they need their own font.
MARGIN_TEXT = "font: 8pt 'DejaVu Sans', sans-serif; color: #5c6475;"
# Placeholders of the page numbers in the translated words around them.
PAGE, PAGES = "\x01", "\x02"


def page_style(language: str) -> str:
    """Return the PDF's page rules: A4, and on every page who and when, and its number.

    No user text enters them: the contract's name and the month are copied from the page's
    own elements (`string-set`), and the words around the page numbers are the catalog's.
    """
    of = Speech(language).gettext("Page %(page)s of %(pages)s", page=PAGE, pages=PAGES)
    numbers = " ".join(
        {PAGE: "counter(page)", PAGES: "counter(pages)"}.get(part) or _css_string(part)
        for part in re.split(f"({PAGE}|{PAGES})", of)
        if part
    )
    return (
        "@page { size: A4; margin: 18mm 16mm 20mm 16mm;"
        f' @bottom-left {{ content: string(contract) " · " string(period); {MARGIN_TEXT} }}'
        f" @bottom-right {{ content: {numbers}; {MARGIN_TEXT} }} }}"
        " h1 { string-set: contract content(text); }"
        " #period { string-set: period content(text); }"
        " body { margin: 0; max-width: none; padding: 0; font-family: 'DejaVu Sans', sans-serif; }"
        " tr { break-inside: avoid; }"
    )


def _css_string(text: str) -> str:
    """Quote text as a CSS string, every character but ASCII letters, digits and spaces
    written as a six-digit escape, so that nothing in it can end the string."""
    escaped = "".join(
        char if (char.isascii() and char.isalnum()) or char == " " else f"\\{ord(char):06x}"
        for char in text
    )
    return f'"{escaped}"'


def pdf(statement: Statement, language: str = DEFAULT_LANGUAGE) -> bytes:
    """Render the printable statement as an A4 PDF with page numbers (WeasyPrint)."""
    return document_pdf(printable(statement, language), page_style(language))


def document_pdf(html: str, stylesheet: str) -> bytes:
    """Render an HTML document with a stylesheet as a PDF that fetched nothing: every URL
    but a `data:` one is refused (see `fetcher`)."""
    from weasyprint import CSS, HTML  # a heavy import, needed only here

    from service.statements.fetcher import DataOnlyFetcher

    fetcher = DataOnlyFetcher()
    document = HTML(string=html, url_fetcher=fetcher)
    style = CSS(string=stylesheet, url_fetcher=fetcher)
    return bytes(document.write_pdf(stylesheets=[style]))


RENDERERS: dict[str, Callable[[Statement, str], str | bytes]] = {
    "csv": exports.statement_csv,
    "xlsx": exports.statement_xlsx,
    "html": printable,
    "pdf": pdf,
}


def render(statement: Statement, format_: str) -> bytes:
    """Return a statement's report file of a format, in its client's language."""
    made = RENDERERS[format_](statement, language_of(statement))
    return made.encode() if isinstance(made, str) else made


def store_reports(factory: sessionmaker[Session], statement_id: int) -> list[str]:
    """Make the report files a final statement lacks and store them; return their formats.

    Called once the finalization has committed (DESIGN §14): the files are rendered with no
    lock held and no write transaction open, then stored in a short transaction of their own.
    Files already stored are kept; another process that stores them first wins.
    """
    with factory() as session:
        statement = session.get_one(Statement, statement_id)
        assert statement.is_final, "reports are made for final statements only"
        stored = {report.format for report in list_reports(session, statement)}
        made = [
            ReportFile(
                statement_id=statement.id,
                name=_name(statement, format_),
                format=format_,
                media_type=MEDIA_TYPES[format_],
                content=render(statement, format_),
            )
            for format_ in FORMATS
            if format_ not in stored
        ]
    if not made:
        return []
    try:
        with writing(factory) as session:
            stored = set(
                session.scalars(
                    select(ReportFile.format).where(ReportFile.statement_id == statement_id)
                )
            )
            new = [report for report in made if report.format not in stored]
            session.add_all(new)
    except IntegrityError:
        return []  # another process stored them between the look and the insert
    return [report.format for report in new]


def unreported(
    session: Session, *, period: Period | None = None, contract_id: int | None = None
) -> list[tuple[int, int, Period]]:
    """List the (id, contract, period) of final statements without any report file: their
    finalization committed, and the process stopped before it stored the files."""
    query = (
        select(Statement.id, Statement.contract_id, Statement.period)
        .where(Statement.status == "final")
        .where(~exists().where(ReportFile.statement_id == Statement.id))
        .order_by(Statement.id)
    )
    if period is not None:
        query = query.where(Statement.period == period)
    if contract_id is not None:
        query = query.where(Statement.contract_id == contract_id)
    return [(id_, contract, month) for id_, contract, month in session.execute(query)]


def list_reports(session: Session, statement: Statement) -> list[ReportFile]:
    """Return a statement's report files."""
    return list(
        session.scalars(
            select(ReportFile)
            .where(ReportFile.statement_id == statement.id)
            .order_by(ReportFile.id)
        )
    )


def payout_bundle(
    session: Session, period: Period, statements: list[Statement], language: str
) -> bytes:
    """Zip a month's payouts (CSV and XLSX) with every report file of its statements."""
    rows = exports.payout_rows(statements)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(f"payouts-{period}.csv", exports.payouts_csv(rows, language))
        bundle.writestr(f"payouts-{period}.xlsx", exports.payouts_xlsx(rows, language))
        for statement in statements:
            for report in report_files(session, statement):
                bundle.writestr(report.name, report.content)
    return buffer.getvalue()


def _unmade(stored: list[ReportFile], statement: Statement) -> list[str]:
    """Return the formats a final statement has no stored file of (added after it was final)."""
    made = {report.format for report in stored}
    return [format_ for format_ in FORMATS if statement.is_final and format_ not in made]


def _name(statement: Statement, format_: str) -> str:
    return f"statement-{statement.id}-{statement.period}.{format_}"


def report_files(session: Session, statement: Statement) -> list[ReportFile]:
    """Return a final statement's report files; a format added after it was finalized (the
    PDF) is made on the spot, not stored: what was stored at finalization stays as it was."""
    stored = list_reports(session, statement)
    return stored + [
        ReportFile(
            statement_id=statement.id,
            name=_name(statement, format_),
            format=format_,
            media_type=MEDIA_TYPES[format_],
            content=render(statement, format_),
        )
        for format_ in _unmade(stored, statement)
    ]


def report_names(session: Session, statement: Statement) -> list[tuple[str, str]]:
    """Return the (format, name) of every report file of a final statement, making none."""
    stored = list_reports(session, statement)
    return [(report.format, report.name) for report in stored] + [
        (format_, _name(statement, format_)) for format_ in _unmade(stored, statement)
    ]


def statement_file(session: Session, statement: Statement, format_: str) -> File:
    """Return a statement as CSV, XLSX, a printable page or a PDF: its stored file once final
    (made once, never again), else the draft as it stands."""
    for report in report_files(session, statement):
        if report.format == format_:
            return File(report.content, report.name)
    name = f"statement-{statement.id}-{statement.period}-{statement.status}.{format_}"
    return File(render(statement, format_), name)


def organization_language(session: Session, organization_id: int | None) -> str:
    """Return an organization's language (English for the operator, who has none)."""
    organization = session.get(Organization, organization_id) if organization_id else None
    return organization.language if organization is not None else DEFAULT_LANGUAGE


def payouts_file(
    session: Session, period: Period, statements: list[Statement], format_: str, language: str
) -> File:
    """Return a month's payouts as CSV or XLSX, or the zip bundle with every statement's files."""
    name = f"payouts-{period}.{format_}"
    if format_ == "zip":
        return File(payout_bundle(session, period, statements, language), name)
    rows = exports.payout_rows(statements)
    render: dict[str, Callable[[list[dict[str, Any]], str], str | bytes]] = {
        "csv": exports.payouts_csv, "xlsx": exports.payouts_xlsx
    }  # fmt: skip
    return File(render[format_](rows, language), name)
