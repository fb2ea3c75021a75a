"""People using the pages in a real headless Chromium, against a live server with demo data."""

import io
import json
import re
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from contracts.forms import score_evaluation
from contracts.periods import Period
from service.agreements.models import Contract
from service.agreements.service import terms_for_period
from service.demo.data import demo_periods
from service.evaluations.models import Evaluation
from service.forms.service import parsed_form
from service.language.formatting import month, number
from tests.e2e.conftest import PASSWORD, LiveDemo, screenshot
from tests.plain import plain_total


def amount(text: str) -> Decimal:
    """Read an amount as the pages show it: "€61,608.00" -> 61608.00."""
    return Decimal(re.sub(r"[^\d.\-]", "", text))


def last_demo_month() -> str:
    return str(demo_periods(datetime.now(UTC).date())[-1])


def sign_in_with_token(page: Page, live: LiveDemo, email: str) -> None:
    page.goto(f"{live.url}/sign-in")
    page.fill("#token-form input[name=token]", live.token(email))
    page.click("#token-form button")


def plain_demo_total(app: Flask, supplier: str, period: str) -> Decimal:
    """Return what the demo's contract with a supplier pays for a month, computed the plain
    way (tests/plain.py) from the rows the demo stored, under the terms in force then."""
    month = Period.parse(period)
    with app.extensions["fiducia.sessionmaker"]() as session:
        contract = session.scalars(select(Contract).where(Contract.name.contains(supplier))).one()
        document = terms_for_period(contract, month).version.document
        return plain_total(session, contract.id, month, document)


def test_finance_reviews_downloads_and_finalizes_a_statement(
    app: Flask, browser: Browser, live: LiveDemo
) -> None:
    page = browser.new_page(accept_downloads=True)
    page.goto(f"{live.url}/payouts")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    screenshot(page, "sign-in")
    page.fill("#password-form input[name=email]", "finance@demo.fiducia")
    page.fill("#password-form input[name=password]", PASSWORD)
    page.click("#password-form button")

    period = last_demo_month()
    page.goto(f"{live.url}/payouts?period={period}")
    expect(page.locator("h1")).to_contain_text(month(period))
    rows = page.locator("#payouts tbody tr")
    expect(rows).to_have_count(2)
    screenshot(page, "finance-payouts")

    # Torino's: Napoli's month may wait for its samples, drawn 3 and 10 days into the next month.
    rows.filter(has_text="Voxline Torino").locator("a").first.click()
    expect(page.locator("#lines")).to_be_visible()
    page_total = amount(page.locator("#statement-total").inner_text())
    assert page_total == plain_demo_total(app, "Voxline Torino", period)
    screenshot(page, "finance-statement")

    with page.expect_download() as download_info:
        page.click("#download-xlsx")
    path = download_info.value.path()
    sheet = openpyxl.load_workbook(io.BytesIO(path.read_bytes())).active
    # The file is in its client's language: the demo's client is Italian.
    totals = [row[2] for row in sheet.iter_rows(values_only=True) if row[0] == "Totale"]
    assert Decimal(str(totals[0])) == plain_demo_total(app, "Voxline Torino", period)

    page.click("#finalize")
    expect(page.locator("h1")).to_contain_text("Finalize")
    screenshot(page, "finance-finalize-confirm")
    page.click("#confirm-finalize")
    expect(page.locator(".flash")).to_contain_text("is final")
    expect(page.locator(".lead .tag")).to_have_text("final")
    assert amount(page.locator("#statement-total").inner_text()) == page_total
    expect(page.locator("#finalize")).to_have_count(0)
    page.close()


def test_a_client_compares_its_suppliers_and_follows_one_over_a_year(
    browser: Browser, live: LiveDemo
) -> None:
    page = browser.new_page()
    sign_in_with_token(page, live, "client@demo.fiducia")
    period = last_demo_month()
    page.goto(f"{live.url}/scorecards?period={period}")
    rows = page.locator("#scorecards tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#scorecards")).to_contain_text("Callmaster Napoli")
    expect(page.locator("#scorecards")).to_contain_text("Voxline Torino")
    screenshot(page, "client-suppliers")

    page.click("text=Voxline Torino")
    expect(page.locator("#trend svg")).to_be_visible()
    # A year on the axis, month by month up to the chosen one; the demo has data in three.
    months = [Period.parse(period)]
    while len(months) < 12:
        months.insert(0, months[0].previous())
    labels = [f"{month(m)[:3]} {str(m.year)[2:]}" for m in months]
    expect(page.locator("#trend text.axis[text-anchor=middle]")).to_have_text(labels)
    expect(page.locator("#trend circle")).to_have_count(3)
    titles = page.locator("#trend circle title").all_text_contents()
    assert [title.split(":")[0] for title in titles] == [month(m) for m in months[-3:]]
    expect(page.locator("#trend .rule-pass")).to_have_count(1)
    screenshot(page, "client-supplier-trend")

    page.click("text=Agents and teams this month")
    # Torino's terms show the client teams, not agents (DESIGN 18): no agent row at all.
    expect(page.locator("#teams tbody tr").first).to_be_visible()
    expect(page.locator("#agents")).to_have_count(0)
    screenshot(page, "client-agents")
    page.close()


def test_a_call_center_sees_its_own_figures_and_never_another_suppliers(
    browser: Browser, live: LiveDemo
) -> None:
    page = browser.new_page()
    sign_in_with_token(page, live, "napoli@demo.fiducia")
    period = last_demo_month()
    page.goto(f"{live.url}/scorecards?period={period}")
    expect(page.locator("#scorecards tbody tr")).to_have_count(1)
    expect(page.locator("#scorecards")).to_contain_text("Callmaster Napoli")
    expect(page.locator("body")).not_to_contain_text("Voxline")
    screenshot(page, "supplier-scorecards")

    page.goto(f"{live.url}/evaluations?period={period}&source=client")
    expect(page.locator("#evaluations tbody tr").first).to_be_visible()
    screenshot(page, "supplier-evaluations")
    page.locator("#evaluations tbody tr a").first.click()
    expect(page.locator("h2").first).to_be_visible()
    screenshot(page, "supplier-evaluation")

    page.goto(f"{live.url}/statements")
    expect(page.locator("#statements")).not_to_contain_text("Voxline")
    screenshot(page, "supplier-statements")

    # Voxline Torino's contract, as its client sees it; Callmaster's supplier cannot reach it.
    request = urllib.request.Request(
        f"{live.url}/api/v1/contracts",
        headers={"Authorization": f"Bearer {live.token('client@demo.fiducia')}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        contracts = json.loads(answer.read())
    voxline = next(c["id"] for c in contracts if "Voxline" in c["name"])
    response = page.goto(f"{live.url}/contracts/{voxline}?period={period}")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    page.close()


def undisputed_audit(app: Flask, links: list[str]) -> tuple[int, str, str | int, Decimal]:
    """Return a linked audit the supplier may dispute for a higher score, and how.

    That is a client audit at its first revision with no dispute waiting (the demo's own
    disputes may hold any other), with the question to raise, its better answer and the
    score that answer makes.
    """
    with app.extensions["fiducia.sessionmaker"]() as session:
        for link in links:
            audit = session.get_one(Evaluation, int(link.rsplit("/", 1)[1]))
            if audit.source != "client" or audit.revision != 1 or audit.held_by_dispute_id:
                continue
            form = parsed_form(audit.form)
            for question in (q for section in form.sections for q in section.questions):
                better = question.scale[1] if question.scale else "yes"
                answers = audit.answers | {question.key: better}
                score = score_evaluation(form, answers).score
                if score is not None and audit.score is not None and score > audit.score:
                    return audit.id, question.key, better, score
    raise AssertionError("no client audit without a dispute, with an answer that can rise")


def test_a_call_center_disputes_an_audit_and_the_client_accepts_it(
    app: Flask, browser: Browser, live: LiveDemo
) -> None:
    supplier = browser.new_page()
    sign_in_with_token(supplier, live, "napoli@demo.fiducia")
    supplier.goto(f"{live.url}/evaluations?source=client")
    links = supplier.locator("#evaluations tbody tr a")
    expect(links.first).to_be_visible()
    hrefs = [href for href in (link.get_attribute("href") for link in links.all()) if href]
    audit, question, better, rises_to = undisputed_audit(app, hrefs)

    supplier.locator(f'#evaluations a[href="/evaluations/{audit}"]').click()
    supplier.click("#dispute summary")
    form = supplier.locator("#dispute-form")
    form.locator(f'input[name=contest][value="{question}"]').check()
    form.locator(f'select[name="proposed-{question}"]').select_option(str(better))
    form.locator(f'input[name="reason-{question}"]').fill("Listen again from minute 2.")
    form.locator("textarea[name=comment]").fill("The agent did what the form asks.")
    screenshot(supplier, "supplier-dispute-form")
    form.locator("button[type=submit]").click()
    expect(supplier.locator(".flash")).to_contain_text("is open")
    dispute = supplier.url.rsplit("/", 1)[1]
    screenshot(supplier, "supplier-dispute")
    supplier.close()

    client = browser.new_page()
    sign_in_with_token(client, live, "client@demo.fiducia")
    client.goto(f"{live.url}/disputes")
    screenshot(client, "client-disputes")
    client.locator("#disputes-open a", has_text=f"Dispute {dispute}").click()
    decide = client.locator("#decide-form")
    decide.locator(f'input[name="verdict-{question}"][value=accept]').check()
    decide.locator(f'input[name="reason-{question}"]').fill("Heard it: the agent did.")
    screenshot(client, "client-dispute-decide")
    decide.locator("button[type=submit]").click()
    expect(client.locator(".flash")).to_contain_text("is decided (accepted)")

    client.click("#evaluation-link")
    expect(client.locator("#score")).to_have_text(number(rises_to, 2))
    revisions = client.locator("#revisions tbody tr")
    expect(revisions).to_have_count(2)
    expect(revisions.nth(0).locator("td").nth(0)).to_have_text("1")
    expect(revisions.nth(0).locator("td").nth(1)).to_have_text("submission")
    expect(revisions.nth(1).locator("td").nth(0)).to_have_text("2")
    expect(revisions.nth(1).locator("td").nth(1)).to_have_text("decision")
    expect(revisions.nth(1).locator("td").nth(2)).to_have_text(number(rises_to, 2))
    expect(revisions.nth(1)).to_contain_text(f"dispute {dispute}")
    screenshot(client, "client-evaluation-revised")
    client.close()


def test_an_evaluator_scores_a_call_with_the_keyboard_and_finds_it_in_the_list(
    browser: Browser, live: LiveDemo
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})  # a laptop screen
    sign_in_with_token(page, live, "napoli@demo.fiducia")
    period = last_demo_month()
    page.goto(f"{live.url}/evaluations")
    page.click("#new-evaluation")
    page.select_option("#choose select[name=contract_id]", index=1)
    page.fill("#choose input[name=period]", period)
    page.click("#choose button")
    form = page.locator("#score-form")
    expect(form).to_be_visible()

    call_ref = f"kbd-{datetime.now(UTC):%H%M%S%f}"
    page.focus("input[name=call_ref]")
    page.keyboard.type(call_ref)
    page.keyboard.press("Tab")
    page.keyboard.type("agent-03")
    page.keyboard.press("Tab")
    page.keyboard.type("inbound-a")
    page.fill("input[name=call_at]", f"{period}-14T10:30")
    page.focus("input[name=evaluator_ref]")
    page.keyboard.type("qa-lead")
    # Every question by the keyboard: Tab into it, a key answers it. All right but the
    # greeting, which misses 5 of its section's 20 points: 95.00.
    for question in form.locator("fieldset.question").all():
        page.keyboard.press("Tab")
        key = question.get_attribute("data-key")
        is_scale = question.locator('input[value="5"]').count() == 1
        page.keyboard.press("5" if is_scale else ("n" if key == "greeting" else "y"))
    expect(page.locator("#live-missing")).to_have_text("every question answered")
    expect(page.locator("#live-score")).to_have_text("95.00")
    expect(page.locator("#live-passed")).to_have_text("passed")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "evaluation-form")
    page.focus("#store")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text(f"Call {call_ref} is stored: it scores 95.00")

    page.goto(f"{live.url}/evaluations?period={period}&source=supplier&agent_ref=agent-03")
    row = page.locator("#evaluations tbody tr", has_text=call_ref)
    expect(row).to_contain_text("95.00")


def test_a_client_copies_its_form_into_the_editor_and_publishes_the_next_version(
    browser: Browser, live: LiveDemo
) -> None:
    page = browser.new_page()
    page.goto(f"{live.url}/sign-in")
    page.fill("#password-form input[name=email]", "client@demo.fiducia")
    page.fill("#password-form input[name=password]", PASSWORD)
    page.click("#password-form button")

    page.click("nav >> text=Forms")
    page.click('a[href="/forms/standard/1"]')
    expect(page.locator("h1")).to_contain_text("Standard call quality")
    page.click("#copy-into-editor")
    expect(page.locator("h1")).to_contain_text("version 2")
    weight = page.locator('input[name="sections.1.questions.0.weight"]')
    expect(page.locator('input[name="sections.1.questions.0.key"]')).to_have_value("verification")
    weight.fill("5")
    screenshot(page, "form-editor")
    page.click("#save")

    expect(page.locator(".flash")).to_contain_text("version 2 is published")
    verification = page.locator("#questions-method tbody tr").first
    expect(verification.locator("td").nth(2)).to_have_text("5")
    page.click("text=← All forms")
    versions = page.locator("table[id^=versions-] tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.first.locator("a")).to_have_text("standard@2")
    page.close()


def test_an_admin_deactivates_a_call_center_user_whose_open_session_then_ends(
    browser: Browser, live: LiveDemo
) -> None:
    supplier = browser.new_page()  # a browser context of its own
    sign_in_with_token(supplier, live, "napoli@demo.fiducia")
    supplier.goto(f"{live.url}/scorecards")
    expect(supplier).to_have_url(re.compile(r"/scorecards"))

    admin = browser.new_page()
    sign_in_with_token(admin, live, "admin@demo.fiducia")
    admin.click("nav >> text=People")
    row = admin.locator('tr[data-email="napoli@demo.fiducia"]')
    expect(row).to_contain_text("active")
    screenshot(admin, "people")
    row.locator("a").click()
    admin.click("#active-form button")
    expect(admin.locator(".flash")).to_contain_text("is deactivated")
    screenshot(admin, "people-deactivated")

    supplier.reload()
    expect(supplier).to_have_url(re.compile(r"/sign-in\?next="))
    sign_in_with_token(supplier, live, "napoli@demo.fiducia")
    expect(supplier.locator(".flash.error")).to_contain_text("not valid")

    admin.click("#active-form button")
    expect(admin.locator(".flash")).to_contain_text("active again")
    sign_in_with_token(supplier, live, "napoli@demo.fiducia")
    expect(supplier).not_to_have_url(re.compile(r"/sign-in"))
    supplier.close()
    admin.close()


def test_a_client_uploads_a_spreadsheet_of_audits_checks_it_and_confirms(
    app: Flask, browser: Browser, live: LiveDemo, tmp_path: Path
) -> None:
    with app.extensions["fiducia.sessionmaker"]() as session:
        contract = session.scalars(select(Contract).order_by(Contract.id)).first()
        assert contract is not None
        before = session.scalar(select(func.count()).select_from(Evaluation))
    page = browser.new_page(accept_downloads=True)
    page.goto(f"{live.url}/sign-in")
    page.fill("#password-form input[name=email]", "client@demo.fiducia")
    page.fill("#password-form input[name=password]", PASSWORD)
    page.click("#password-form button")
    period = last_demo_month()
    page.goto(f"{live.url}/contracts/{contract.id}?period={period}")
    page.click("#upload-evaluations")
    expect(page.locator("h1")).to_have_text("Upload evaluations")

    page.fill("input[name=period]", period)
    with page.expect_download() as download_info:
        page.click("#download-xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(download_info.value.path().read_bytes()))
    sheet = workbook["Evaluations"]
    columns = [cell.value for cell in sheet[1]]
    allowed = {r[0]: r[2] for r in workbook["Allowed values"].iter_rows(values_only=True)}
    for call in range(1, 51):
        fixed = {
            "call_ref": f"0{call:04d}",  # leading zeros survive as text
            "agent_ref": f"agent-{call % 5}",
            "team": "upload",
            "call_at": f"{period}-{call % 27 + 1:02d}T10:{call:02d}:00+00:00",
            "evaluator_ref": "qa-sheet",
            "comment": None,
        }
        # The highest allowed answer of each question: "yes", or the top of its scale.
        answers = {
            key: "yes" if text.startswith("yes") else int(text.split(" to ")[1].split(",")[0])
            for key, text in allowed.items()
            if key not in fixed and key in columns
        }
        sheet.append([(fixed | answers)[column] for column in columns])
    filled = tmp_path / "audits.xlsx"
    workbook.save(filled)

    page.set_input_files("input[name=file]", str(filled))
    page.click("#check")
    expect(page.locator("#created")).to_have_text("50")
    expect(page.locator("#rejected")).to_have_text("0")
    screenshot(page, "upload-dry-run")
    with app.extensions["fiducia.sessionmaker"]() as session:
        assert session.scalar(select(func.count()).select_from(Evaluation)) == before

    page.click("#confirm")
    expect(page.locator(".flash")).to_contain_text("Stored 50 new evaluations")
    with app.extensions["fiducia.sessionmaker"]() as session:
        uploaded = session.scalars(
            select(Evaluation).where(Evaluation.evaluator_ref == "qa-sheet")
        ).all()
    assert len(uploaded) == 50
    assert {e.source for e in uploaded} == {"client"}
    assert "00001" in {e.call_ref for e in uploaded}
    assert all(e.score == Decimal(100) for e in uploaded)
    page.close()
