"""Names people type reach every CSV and XLSX file as text, never as a formula (DESIGN §14)."""

import csv
import io
import zipfile
from decimal import Decimal, InvalidOperation

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.accounts.models import Organization
from service.agreements.models import Contract
from tests.api.test_statements import draft
from tests.conftest import World, json_of, seed_month
from tests.web.test_pages import sign_in

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PERIOD = "2026-08"


def names_of(prefix: str) -> dict[str, str]:
    return {
        "contract": f'{prefix}HYPERLINK("http://x","y")',
        "supplier": f"{prefix}SUM(1,1)*cmd|' /C calc'!A0",
        "client": f"{prefix}2+5",
    }


def is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def csv_fields(data: bytes, names: list[str]) -> list[str]:
    """Check a CSV file: every name is quoted text, and only numbers begin with a trigger."""
    fields = [field for row in csv.reader(io.StringIO(data.decode(), newline="")) for field in row]
    for name in names:
        assert "'" + name in fields, name
    for field in fields:
        assert not field.startswith(TRIGGERS) or is_number(field), repr(field)
    return fields


def xlsx_cells(data: bytes, names: list[str]) -> list[openpyxl.cell.Cell]:
    """Check a workbook: no formula anywhere, every name is quoted text."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    for cell in cells:
        assert cell.data_type != "f", (cell.coordinate, cell.value)
        assert not (isinstance(cell.value, str) and cell.value.startswith(TRIGGERS)), cell.value
    texts = {cell.value for cell in cells if cell.data_type == "s"}
    for name in names:
        # XML reads a bare carriage return in text back as a line feed.
        assert "'" + name.replace("\r", "\n") in texts, name
    return cells


def check_statement_csv(data: bytes, names: dict[str, str], total: str) -> None:
    fields = csv_fields(data, list(names.values()))
    assert total in fields
    assert any(field.startswith("-") and is_number(field) for field in fields)


def check_statement_xlsx(data: bytes, names: dict[str, str], total: str) -> None:
    cells = xlsx_cells(data, list(names.values()))
    amounts = [cell for cell in cells if cell.column_letter == "C" and cell.row > 13]
    assert amounts and all(cell.data_type == "n" for cell in amounts)
    assert all('"EUR"' in cell.number_format for cell in amounts)
    assert Decimal(total) in {Decimal(str(cell.value)) for cell in amounts}
    assert any(cell.value < 0 for cell in amounts)  # a malus stays a number


def check_payouts_csv(data: bytes, names: dict[str, str], total: str) -> None:
    csv_fields(data, [names["contract"], names["supplier"]])
    (row,) = csv.DictReader(io.StringIO(data.decode(), newline=""))
    assert row["total"] == total
    assert Decimal(row["quality"]) < 0


def check_payouts_xlsx(data: bytes, names: dict[str, str], total: str) -> None:
    xlsx_cells(data, [names["contract"], names["supplier"]])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [cell.value for cell in sheet[1]]
    row = {column: sheet.cell(row=2, column=index + 1) for index, column in enumerate(header)}
    for column in ("volume_only", "quality", "prior_adjustments", "total"):
        assert row[column].data_type == "n", column
    assert Decimal(str(row["total"].value)) == Decimal(total)
    assert row["quality"].value < 0


def check_bundle(data: bytes, names: dict[str, str], total: str) -> None:
    bundle = zipfile.ZipFile(io.BytesIO(data))
    checks = {
        f"payouts-{PERIOD}.csv": check_payouts_csv,
        f"payouts-{PERIOD}.xlsx": check_payouts_xlsx,
    }
    files = bundle.namelist()
    for name in files:
        if name.startswith("statement-") and name.endswith((".csv", ".xlsx")):
            checks[name] = check_statement_csv if name.endswith(".csv") else check_statement_xlsx
    assert len(checks) == 4, files
    for name, check in checks.items():
        check(bundle.read(name), names, total)


def rename(app: Flask, world: World, names: dict[str, str]) -> None:
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        session.get_one(Contract, world.ids["contract"]).name = names["contract"]
        session.get_one(Organization, world.ids["supplier"]).name = names["supplier"]
        session.get_one(Organization, world.ids["client"]).name = names["client"]


@pytest.mark.parametrize("prefix", TRIGGERS)
def test_every_export_writes_a_formula_like_name_as_text_and_amounts_as_numbers(
    app: Flask, client: FlaskClient, world: World, prefix: str
) -> None:
    names = names_of(prefix)
    rename(app, world, names)
    seed_month(app, world, PERIOD)
    statement = json_of(draft(client, world, PERIOD))
    total = statement["total"]
    url = f"/api/v1/statements/{statement['id']}"
    finance = world.headers("finance")

    def api(path: str) -> bytes:
        response = client.get(path, headers=finance)
        assert response.status_code == 200, (path, response.data[:200])
        return response.data

    check_statement_csv(api(f"{url}/export?format=csv"), names, total)
    check_statement_xlsx(api(f"{url}/export?format=xlsx"), names, total)
    check_payouts_csv(api(f"/api/v1/payouts?period={PERIOD}&format=csv"), names, total)
    check_payouts_xlsx(api(f"/api/v1/payouts?period={PERIOD}&format=xlsx"), names, total)
    sign_in(client, world.tokens["finance"])
    pages = {
        f"/statements/{statement['id']}/download/csv": check_statement_csv,
        f"/statements/{statement['id']}/download/xlsx": check_statement_xlsx,
        f"/payouts/download/csv?period={PERIOD}": check_payouts_csv,
        f"/payouts/download/xlsx?period={PERIOD}": check_payouts_xlsx,
    }
    for path, check in pages.items():  # the draft, made on the spot
        check(api(path), names, total)

    assert client.post(f"{url}/finalize", headers=finance).status_code == 200
    reports = {
        report["format"]: report["url"]
        for report in json_of(client.get(f"{url}/reports", headers=finance))
    }
    check_statement_csv(api(reports["csv"]), names, total)
    check_statement_xlsx(api(reports["xlsx"]), names, total)
    check_bundle(api(f"/api/v1/payouts/bundle?period={PERIOD}"), names, total)
    for path, check in pages.items():  # the final statement's stored files
        check(api(path), names, total)
    check_bundle(api(f"/payouts/download/zip?period={PERIOD}"), names, total)
