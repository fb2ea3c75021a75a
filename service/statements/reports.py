"""Report files made once per finalized statement: CSV and XLSX for finance, a printable page."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.periods import Period
from service.downloads import MEDIA_TYPES, File
from service.formatting import money, month, number
from service.statements import exports
from service.statements.models import ReportFile, Statement

FORMATS = ("csv", "xlsx", "html")


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("service.statements", "templates"),
        autoescape=select_autoescape(),
    )


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


def printable(statement: Statement) -> str:
    """Render a statement as a self-contained HTML page that prints well."""
    lines = [
        {**line, "amount": money(Decimal(line["amount"]), statement.currency)}
        for line in statement.lines
    ]
    return (
        _templates()
        .get_template("statement.html")
        .render(
            statement=statement,
            period_name=month(statement.period),
            figures=statement.figures,
            units=number(statement.figures.get("units") or 0),
            lines=lines,
            total=money(statement.total, statement.currency),
            volume_only=money(statement.volume_only, statement.currency),
        )
    )


def make_reports(session: Session, statement: Statement) -> list[ReportFile]:
    """Store the report files of a final statement, once: files already made are kept."""
    assert statement.is_final, "reports are made for final statements only"
    made = {
        report.format: report
        for report in session.scalars(
            select(ReportFile).where(ReportFile.statement_id == statement.id)
        )
    }
    base = f"statement-{statement.id}-{statement.period}"
    contents = {
        "csv": (lambda: exports.statement_csv(statement).encode(), MEDIA_TYPES["csv"]),
        "xlsx": (lambda: exports.statement_xlsx(statement), MEDIA_TYPES["xlsx"]),
        "html": (lambda: printable(statement).encode(), MEDIA_TYPES["html"]),
    }
    for format_, (render, media_type) in contents.items():
        if format_ not in made:
            made[format_] = ReportFile(
                statement_id=statement.id,
                name=f"{base}.{format_}",
                format=format_,
                media_type=media_type,
                content=render(),
            )
            session.add(made[format_])
    session.flush()
    return [made[format_] for format_ in FORMATS]


def list_reports(session: Session, statement: Statement) -> list[ReportFile]:
    """Return a statement's report files."""
    return list(
        session.scalars(
            select(ReportFile)
            .where(ReportFile.statement_id == statement.id)
            .order_by(ReportFile.id)
        )
    )


def payout_bundle(session: Session, period: Period, statements: list[Statement]) -> bytes:
    """Zip a month's payouts (CSV and XLSX) with every report file of its statements."""
    rows = exports.payout_rows(statements)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(f"payouts-{period}.csv", exports.payouts_csv(rows))
        bundle.writestr(f"payouts-{period}.xlsx", exports.payouts_xlsx(rows))
        for statement in statements:
            for report in list_reports(session, statement):
                bundle.writestr(report.name, report.content)
    return buffer.getvalue()


def statement_file(session: Session, statement: Statement, format_: str) -> File:
    """Return a statement as CSV, XLSX or a printable page: its stored file once final (made
    once, never again), else the draft as it stands."""
    for report in list_reports(session, statement):
        if report.format == format_:
            return File(report.content, report.name)
    render: dict[str, Callable[[Statement], str | bytes]] = {
        "csv": exports.statement_csv, "xlsx": exports.statement_xlsx, "html": printable
    }  # fmt: skip
    name = f"statement-{statement.id}-{statement.period}-{statement.status}.{format_}"
    return File(render[format_](statement), name)


def payouts_file(
    session: Session, period: Period, statements: list[Statement], format_: str
) -> File:
    """Return a month's payouts as CSV or XLSX, or the zip bundle with every statement's files."""
    name = f"payouts-{period}.{format_}"
    if format_ == "zip":
        return File(payout_bundle(session, period, statements), name)
    rows = exports.payout_rows(statements)
    render: dict[str, Callable[[list[dict[str, Any]]], str | bytes]] = {
        "csv": exports.payouts_csv, "xlsx": exports.payouts_xlsx
    }  # fmt: skip
    return File(render[format_](rows), name)
