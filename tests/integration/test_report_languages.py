"""Report files in the client's language, the PDF statement, and notices' text (DESIGN §15)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts.models import Organization
from service.edge.actors import OPERATOR
from service.language.formatting import money
from service.notices.models import WebhookDelivery
from service.notices.texts import summary
from service.statements import reports
from service.statements.models import Statement
from service.statements.service import finalize

HASH = re.compile(r"[0-9a-f]{64}")


@pytest.fixture
def final(demo_app: Flask) -> int:
    """The demo, and Callmaster Napoli's first month finalized as the close would."""
    app = demo_app
    factory = app.extensions["fiducia.sessionmaker"]
    with factory.begin() as session:
        client = session.scalars(select(Organization).where(Organization.kind == "client")).one()
        client.webhook_url, client.webhook_secret = "https://hooks.example.test/in", "s" * 32
        first = session.scalars(select(Statement).order_by(Statement.id)).first()
        assert first is not None
        final = finalize(session=session, actor=OPERATOR, statement_id=first.id).id
    reports.store_reports(factory, final)  # once the finalization has committed
    return final


def stored(session: Session, statement_id: int) -> dict[str, bytes]:
    statement = session.get_one(Statement, statement_id)
    return {report.format: report.content for report in reports.list_reports(session, statement)}


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_a_final_demo_statement_gets_an_italian_a4_pdf_with_its_total_and_hash(
    app: Flask, final: int
) -> None:
    with app.extensions["fiducia.sessionmaker"]() as session:
        statement = session.get_one(Statement, final)
        files = stored(session, final)
        total = money(statement.total, "EUR", "it")
        content_hash = statement.content_hash
        footer = f"{statement.contract.name} · agosto 2026"
    assert set(files) == {"csv", "xlsx", "html", "pdf"}
    assert files["pdf"].startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(files["pdf"]))
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    said = pdf_text(files["pdf"])
    assert total.replace("\xa0", " ") in said.replace("\xa0", " ")  # "55.015,60 €"
    assert content_hash in re.sub(r"\s", "", said)  # a long hash may wrap across lines
    assert "Rendiconto dei corrispettivi" in said and "Compenso a volume" in said
    assert f"Pagina 1 di {len(reader.pages)}" in said
    for page in reader.pages:  # the footer of every page names the contract and the month
        assert footer in page.extract_text()
    assert "A solo volume questo periodo avrebbe reso" in said


def test_the_csv_and_xlsx_are_in_italian_and_the_amounts_stay_numbers(
    app: Flask, final: int
) -> None:
    with app.extensions["fiducia.sessionmaker"]() as session:
        files = stored(session, final)
        total = session.get_one(Statement, final).total
    rows = list(csv.reader(io.StringIO(files["csv"].decode())))
    assert ["codice", "motivo", "importo", "base di calcolo"] in rows
    volume = next(row for row in rows if row and row[0] == "volume")
    assert volume[1].startswith("Compenso a volume: ")
    assert Decimal(volume[2])  # a number as finance imports it, not "54.470,90"
    workbook = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    sheet = workbook.active
    assert sheet is not None and sheet.title == "Rendiconto"
    amounts = [cell for row in sheet.iter_rows() for cell in row if cell.column_letter == "C"]
    money_cells = [
        cell for cell in amounts if cell.data_type == "n" and '"EUR"' in cell.number_format
    ]
    assert total in {Decimal(str(cell.value)) for cell in money_cells}


def test_the_printable_page_and_the_bundle_carry_the_pdf_in_the_clients_language(
    app: Flask, final: int
) -> None:
    with app.extensions["fiducia.sessionmaker"]() as session:
        files = stored(session, final)
        statement = session.get_one(Statement, final)
        bundle = reports.payouts_file(session, statement.period, [statement], "zip", "it")
    assert '<html lang="it">' in files["html"].decode()
    names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
    assert f"statement-{final}-{statement.period}.pdf" in names
    payouts = zipfile.ZipFile(io.BytesIO(bundle.content)).read(f"payouts-{statement.period}.csv")
    assert payouts.decode().startswith("id_contratto,contratto,fornitore,periodo,stato")


def test_a_statement_with_a_sample_commitment_shows_it_in_the_pdf(app: Flask, final: int) -> None:
    commitment = "ab" * 32
    with app.extensions["fiducia.sessionmaker"]() as session:
        draft = session.scalars(
            select(Statement).where(Statement.status == "draft").order_by(Statement.id)
        ).first()
        assert draft is not None
        sampling = draft.figures["sampling"]
        said = re.sub(r"\s", "", pdf_text(reports.pdf(draft, "en")))
        # A statement stored before commitments were dated claims no timing for its one.
        draft.figures = draft.figures | {"sampling": {"commitment": commitment}}
        older = re.sub(r"\s", "", pdf_text(reports.pdf(draft, "en")))
        session.rollback()
    assert sampling["late"] is False  # the demo commits each month in the month before
    assert (
        f"Samplecommitments(SHA-256ofeachseed):self-assessmentsample{sampling['commitment']},"
        f"auditsample{sampling['audit_commitment']}.Published"
    ) in said
    assert ",beforethemonthbegan." in said
    assert "Notfinalyet" in said
    assert f"Samplecommitment(SHA-256oftheseed):{commitment}." in older
    assert "month" not in older.split(commitment)[1].split("Content")[0]


def test_an_english_client_gets_its_files_in_english(app: Flask, final: int) -> None:
    with app.extensions["fiducia.sessionmaker"]() as session:
        statement = session.get_one(Statement, final)
        statement.contract.client.language = "en"
        csv_text = reports.render(statement, "csv").decode()
        session.rollback()
    assert "code,description,amount,basis" in csv_text
    assert "Volume fee: " in csv_text


def test_the_finalized_notice_says_in_italian_what_it_announces(app: Flask, final: int) -> None:
    with app.extensions["fiducia.sessionmaker"]() as session:
        (notice,) = session.scalars(select(WebhookDelivery)).all()
        statement = session.get_one(Statement, final)
    assert notice.payload["language"] == "it"
    assert notice.payload["summary"] == (
        f"Il rendiconto {final} di agosto 2026 è definitivo: importo "
        f"{money(statement.total, 'EUR', 'it')} ({money(statement.volume_only, 'EUR', 'it')}"
        " a solo volume)."
    )
    assert notice.payload["total"] == str(statement.total)  # the fields stay as the API's


@pytest.mark.parametrize(
    ("payload", "italian", "english"),
    [
        (
            {"event": "dispute.decided", "dispute_id": 7, "evaluation_id": 41,
             "period": "2026-10", "outcome": "partly_accepted"},
            "La contestazione 7 della valutazione 41 (ottobre 2026) è stata decisa: accolta in"
            " parte.",
            "Dispute 7 of evaluation 41 (October 2026) is decided: partly accepted.",
        ),
        (
            {"event": "evaluation.amended", "call_ref": "CALL-42", "revision": 2,
             "retracted": False, "score": "96.25"},
            "L'audit della chiamata CALL-42 è stato rettificato: la revisione 2 ha punteggio"
            " 96,25.",
            "The audit of call CALL-42 is amended: revision 2 scores 96.25.",
        ),
        (
            {"event": "evaluation.amended", "call_ref": "CALL-42", "revision": 3,
             "retracted": True, "score": None},
            "L'audit della chiamata CALL-42 è stato annullato (revisione 3).",
            "The audit of call CALL-42 is retracted (revision 3).",
        ),
        ({"event": "something.new"}, "something.new", "something.new"),
    ],
)  # fmt: skip
def test_every_notice_has_its_text_in_both_languages(
    payload: dict[str, object], italian: str, english: str
) -> None:
    assert summary(payload, "it") == italian
    assert summary(payload, "en") == english
