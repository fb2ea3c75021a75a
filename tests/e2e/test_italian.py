"""Finance in Italy: an Italian browser signs in, reads the payouts in Italian, files a PDF."""

import io
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, expect
from pypdf import PdfReader

from service.demo.data import demo_periods
from service.language.formatting import month
from tests.e2e.conftest import PASSWORD, SCREENSHOTS, LiveDemo, screenshot

# An Italian amount as the pages write it: "55.015,60 €".
ITALIAN_AMOUNT = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d{2}\s€$")


def first_page_as_png(pdf: Path, name: str) -> Path | None:
    """Render a PDF's first page to a PNG beside the screenshots (when poppler is installed)."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / name
    subprocess.run(
        [pdftoppm, "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(target)],
        check=True,
        timeout=60,
    )
    return target.with_suffix(".png")


def test_finance_with_an_italian_browser_reads_the_payouts_in_italian_and_files_a_pdf(
    browser: Browser, live: LiveDemo, tmp_path: Path
) -> None:
    context = browser.new_context(locale="it-IT", accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live.url}/payouts")
    expect(page.locator("h1")).to_have_text("Accedi a Fiducia")
    page.fill("#password-form input[name=email]", "finance@demo.fiducia")
    page.fill("#password-form input[name=password]", PASSWORD)
    page.click("#password-form button")

    period = str(demo_periods(datetime.now(UTC).date())[-1])
    page.goto(f"{live.url}/payouts?period={period}")
    expect(page.locator("h1")).to_have_text(f"Corrispettivi — {month(period, 'it')}")
    expect(page.locator("nav")).to_contain_text("Rendiconti")
    total = page.locator("#payouts-total-EUR").inner_text()
    assert ITALIAN_AMOUNT.match(total), total
    screenshot(page, "it-payouts")

    # Torino's: Napoli's month may wait for its samples, drawn 3 and 10 days into the next month.
    rows = page.locator("#payouts tbody tr")
    rows.filter(has_text="Voxline Torino").locator("a").first.click()
    expect(page.locator("#lines thead")).to_contain_text("Motivo")
    expect(page.locator("#lines tbody")).to_contain_text("Compenso a volume:")
    statement_total = page.locator("#statement-total").inner_text()
    assert ITALIAN_AMOUNT.match(statement_total), statement_total
    page.click("#finalize")
    expect(page.locator("h1")).to_contain_text("Rendere definitivo")
    page.click("#confirm-finalize")
    expect(page.locator(".flash")).to_contain_text("è definitivo")
    expect(page.locator(".lead .tag")).to_have_text("definitivo")
    screenshot(page, "it-statement")

    with page.expect_download() as download_info:
        page.click("#download-pdf")
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    pdf = tmp_path / download.suggested_filename
    download.save_as(pdf)
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    said = "\n".join(each.extract_text() for each in reader.pages)
    assert statement_total.replace("\xa0", " ") in said.replace("\xa0", " ")
    assert "Rendiconto dei corrispettivi" in said and "Impronta del contenuto" in said
    first_page_as_png(pdf, "it-statement-pdf")

    page.goto(f"{live.url}/disputes")
    expect(page.locator("h1")).to_have_text("Contestazioni")
    screenshot(page, "it-disputes")
    context.close()
