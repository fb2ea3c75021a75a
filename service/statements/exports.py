"""Statements and a month's payouts as CSV and XLSX files for finance."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from contracts.money import minor_unit
from service.statements.models import Statement

PRIOR = "prior_period_adjustment"
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


def money_format(currency: str) -> str:
    """Return the spreadsheet number format of an amount in `currency`."""
    exponent = minor_unit(currency)
    digits = "0." + "0" * exponent if exponent else "0"
    return f'#,##{digits} "{currency}";-#,##{digits} "{currency}"'


def _heading(statement: Statement) -> list[tuple[str, Any]]:
    return [
        ("Statement", statement.id),
        ("Contract", statement.contract.name),
        ("Supplier", statement.contract.supplier.name),
        ("Client", statement.contract.client.name),
        ("Period", statement.period),
        ("Status", statement.status),
        ("Currency", statement.currency),
        ("Terms version", statement.terms_version_id),
        ("Units", statement.figures.get("units")),
        ("Evaluations counted", statement.figures.get("n")),
        ("Mean score", statement.figures.get("mean")),
    ]


def statement_csv(statement: Statement) -> str:
    """Return a statement as CSV: its heading, its lines with their basis, its total."""
    out = io.StringIO()
    writer = csv.writer(out)
    for label, value in _heading(statement):
        writer.writerow([label, value])
    writer.writerow([])
    writer.writerow(["code", "description", "amount", "basis"])
    for line in statement.lines:
        basis = json.dumps(line["basis"], sort_keys=True)
        writer.writerow([line["code"], line["description"], line["amount"], basis])
    writer.writerow([])
    writer.writerow(["total", "", str(statement.total), ""])
    writer.writerow(["volume_only", "", str(statement.volume_only), ""])
    if statement.content_hash:
        writer.writerow(["content_hash", statement.content_hash, "", ""])
    return out.getvalue()


def statement_xlsx(statement: Statement) -> bytes:
    """Return a statement as a workbook whose amounts are number cells in the currency."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Statement"
    money = money_format(statement.currency)
    for label, value in _heading(statement):
        sheet.append([label, value])
    sheet.append([])
    sheet.append(["Code", "Description", "Amount", "Basis"])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for line in statement.lines:
        basis = json.dumps(line["basis"], sort_keys=True)
        sheet.append([line["code"], line["description"], Decimal(line["amount"]), basis])
        sheet.cell(row=sheet.max_row, column=3).number_format = money
    sheet.append([])
    for label, amount in (("Total", statement.total), ("Volume only", statement.volume_only)):
        sheet.append([label, "", amount])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        sheet.cell(row=sheet.max_row, column=3).number_format = money
    if statement.content_hash:
        sheet.append(["Content hash", statement.content_hash])
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
                "period": statement.period,
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


def payouts_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Return a month's payouts as CSV, one row per contract."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=PAYOUT_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: str(value) for key, value in row.items()})
    return out.getvalue()


def payouts_xlsx(rows: Sequence[dict[str, Any]]) -> bytes:
    """Return a month's payouts as a workbook, amounts as number cells in their currency."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Payouts"
    sheet.append(PAYOUT_COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row[column] for column in PAYOUT_COLUMNS])
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
