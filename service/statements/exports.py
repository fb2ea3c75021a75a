"""Statements and a month's payouts as CSV and XLSX files for finance."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from contracts.money import minor_unit
from contracts.payout import PRIOR_ADJUSTMENT
from service.edge.downloads import as_cell
from service.language.i18n import N_, Speech
from service.statements.models import Statement
from service.statements.reasons import reasons_of

PRIOR = PRIOR_ADJUSTMENT
PAYOUT_COLUMNS = [
    "contract_id",
    "contract",
    "supplier",
    "period",
    "status",
    "currency",
    "units",
    "volume_only",
    "quality",
    "prior_adjustments",
    "total",
]
MONEY_COLUMNS = {"volume_only", "quality", "prior_adjustments", "total"}
# Each column's header, in the file's language.
PAYOUT_HEADERS = {
    "contract_id": N_("contract_id"),
    "contract": N_("contract"),
    "supplier": N_("supplier"),
    "period": N_("period"),
    "status": N_("status"),
    "currency": N_("currency"),
    "units": N_("units"),
    "volume_only": N_("volume_only"),
    "quality": N_("quality"),
    "prior_adjustments": N_("prior_adjustments"),
    "total": N_("total"),
}


# A spreadsheet runs text that begins with one of these as a formula (DESIGN §14).
def _csv(rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([as_cell(value) for value in row])
    return out.getvalue()


def _append(sheet: Worksheet, row: Sequence[Any]) -> None:
    sheet.append([as_cell(value) for value in row])


def money_format(currency: str) -> str:
    """Return the spreadsheet number format of an amount in `currency`."""
    exponent = minor_unit(currency)
    digits = "0." + "0" * exponent if exponent else "0"
    return f'#,##{digits} "{currency}";-#,##{digits} "{currency}"'


def _heading(statement: Statement, say: Speech) -> list[tuple[str, Any]]:
    return [
        (say.gettext("Statement"), statement.id),
        (say.gettext("Contract"), statement.contract.name),
        (say.gettext("Supplier"), statement.contract.supplier.name),
        (say.gettext("Client"), statement.contract.client.name),
        (say.gettext("Period"), str(statement.period)),
        (say.gettext("Status"), statement.status),
        (say.gettext("Currency"), statement.currency),
        (say.gettext("Terms version"), statement.terms_version_id),
        (say.gettext("Units"), statement.figures.get("units")),
        (say.gettext("Evaluations counted"), statement.figures.get("n")),
        (say.gettext("Mean score"), statement.figures.get("mean")),
    ]


def _lines(statement: Statement, say: Speech) -> list[list[Any]]:
    """Return each line as a row: its code, its reason in the file's language, amount, basis."""
    reasons = reasons_of(statement, say.language)
    return [
        [line["code"], reason, Decimal(line["amount"]), json.dumps(line["basis"], sort_keys=True)]
        for line, reason in zip(statement.lines, reasons, strict=True)
    ]


def statement_csv(statement: Statement, language: str = "en") -> str:
    """Return a statement as CSV: its heading, its lines with their basis, its total.

    Labels and reasons are in `language`; codes, amounts and the basis stay as the API has them.
    """
    say = Speech(language)
    rows: list[Sequence[Any]] = [[label, value] for label, value in _heading(statement, say)]
    header = [say.gettext("code"), say.gettext("description"), say.gettext("amount")]
    rows += [[], [*header, say.gettext("basis")]]
    rows += _lines(statement, say)
    rows += [
        [],
        ["total", "", statement.total, ""],
        ["volume_only", "", statement.volume_only, ""],
    ]
    if statement.content_hash:
        rows.append(["content_hash", statement.content_hash, "", ""])
    return _csv(rows)


def statement_xlsx(statement: Statement, language: str = "en") -> bytes:
    """Return a statement as a workbook whose amounts are number cells in the currency."""
    say = Speech(language)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = say.gettext("Statement")
    money = money_format(statement.currency)
    for label, value in _heading(statement, say):
        _append(sheet, [label, value])
    _append(sheet, [])
    header = [say.gettext("Code"), say.gettext("Description"), say.gettext("Amount")]
    _append(sheet, [*header, say.gettext("Basis")])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in _lines(statement, say):
        _append(sheet, row)
        sheet.cell(row=sheet.max_row, column=3).number_format = money
    _append(sheet, [])
    totals = ((say.gettext("Total"), statement.total),
              (say.gettext("Volume only"), statement.volume_only))  # fmt: skip
    for label, amount in totals:
        _append(sheet, [label, "", amount])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        sheet.cell(row=sheet.max_row, column=3).number_format = money
    if statement.content_hash:
        _append(sheet, [say.gettext("Content hash"), statement.content_hash])
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 70
    sheet.column_dimensions["C"].width = 18
    return _save(workbook)


def payout_rows(statements: Sequence[Statement]) -> list[dict[str, Any]]:
    """Return one row per statement: who, how much for volume, for quality, and in all."""
    rows = []
    for statement in statements:
        amounts = {"volume": Decimal(0), "quality": Decimal(0), PRIOR: Decimal(0)}
        for line in statement.lines:
            kind = line["code"] if line["code"] in ("volume", PRIOR) else "quality"
            amounts[kind] += Decimal(line["amount"])
        rows.append(
            {
                "contract_id": statement.contract_id,
                "contract": statement.contract.name,
                "supplier": statement.contract.supplier.name,
                "period": str(statement.period),
                "status": statement.status,
                "currency": statement.currency,
                "units": statement.figures.get("units"),
                "volume_only": statement.volume_only,
                "quality": amounts["quality"],
                "prior_adjustments": amounts[PRIOR],
                "total": statement.total,
            }
        )
    return rows


@dataclass(frozen=True, slots=True)
class Payouts:
    """A month's payouts: one row per statement, the totals per currency, each statement."""

    rows: list[dict[str, Any]]
    totals: dict[str, dict[str, Decimal]]
    statements: dict[int, Statement]  # by contract id


def payouts(statements: Sequence[Statement]) -> Payouts:
    """Return a month's payouts as a page shows them."""
    rows = payout_rows(statements)
    by_contract = {statement.contract_id: statement for statement in statements}
    return Payouts(rows, payout_totals(rows), by_contract)


def payout_totals(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Decimal]]:
    """Return the money columns of a month's payouts summed per currency."""
    totals: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        total = totals.setdefault(row["currency"], dict.fromkeys(MONEY_COLUMNS, Decimal(0)))
        for key in total:
            total[key] += row[key]
    return totals


def payout_headers(language: str) -> list[str]:
    """Return the payout columns' headers in a language (English: the API's field names)."""
    say = Speech(language)
    return [say.gettext(PAYOUT_HEADERS[column]) for column in PAYOUT_COLUMNS]


def payouts_csv(rows: Sequence[dict[str, Any]], language: str = "en") -> str:
    """Return a month's payouts as CSV, one row per contract."""
    values = ([row[column] for column in PAYOUT_COLUMNS] for row in rows)
    return _csv([payout_headers(language), *values])


def payouts_xlsx(rows: Sequence[dict[str, Any]], language: str = "en") -> bytes:
    """Return a month's payouts as a workbook, amounts as number cells in their currency."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = Speech(language).gettext("Payouts")
    _append(sheet, payout_headers(language))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        _append(sheet, [row[column] for column in PAYOUT_COLUMNS])
        money = money_format(row["currency"])
        for index, column in enumerate(PAYOUT_COLUMNS, start=1):
            if column in MONEY_COLUMNS:
                sheet.cell(row=sheet.max_row, column=index).number_format = money
    for letter, width in zip(
        "ABCDEFGHIJK", (12, 40, 28, 10, 8, 9, 12, 18, 18, 18, 18), strict=True
    ):
        sheet.column_dimensions[letter].width = width
    return _save(workbook)


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
