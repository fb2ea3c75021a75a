"""The contract page's KPI cards and the suppliers page at 1280 px, in a real Chromium
(issue 23)."""

import re

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LiveDemo, screenshot
from tests.e2e.test_browser import last_demo_month, sign_in_with_token

WIDE = {"width": 1280, "height": 900}
KPIS = ["service_level", "abandoned", "answer_speed", "repeat_contacts", "csat", "resolved"]


def test_a_client_reads_napolis_service_levels_card_by_card_and_their_year(
    browser: Browser, live: LiveDemo
) -> None:
    # Every column of the suppliers page, a column per KPI among them, fits in 1280 px, in
    # either language.
    for locale in ("it-IT", "en-GB"):
        page = browser.new_page(viewport=WIDE, locale=locale)
        sign_in_with_token(page, live, "client@demo.fiducia")
        page.goto(f"{live.url}/scorecards?period={last_demo_month()}")
        expect(page.locator("#scorecards th.kpi")).to_have_count(5)
        fits = page.evaluate(
            "() => { const box = document.querySelector('.scroll');"
            " return [box.scrollWidth, box.clientWidth, document.documentElement.scrollWidth]; }"
        )
        assert fits[0] <= fits[1] and fits[2] <= WIDE["width"], (locale, fits)
    screenshot(page, "client-suppliers-service-levels")

    page.click("text=Callmaster Napoli")
    cards = page.locator("#service-levels .figure")
    expect(cards).to_have_count(6)
    assert [card.get_attribute("data-kpi") for card in cards.all()] == KPIS
    for card in cards.all():
        expect(card.locator(".value")).to_have_text(re.compile(r"^\d+\.\d( s|%)$"))
        expect(card.locator(".value")).to_be_visible()
    expect(cards.first.locator(".label")).to_have_text("service level · paid by the terms")
    expect(cards.first.locator(".sub")).to_contain_text("offered calls answered within 20 s")
    # Each KPI's year beside it: the demo's three months, against the terms' rules.
    for code in KPIS:
        expect(page.locator(f"#trend-{code} svg")).to_be_visible()
        expect(page.locator(f"#trend-{code} circle")).to_have_count(3)
    expect(page.locator("#trend-abandoned .rule-pass")).to_have_count(1)
    expect(page.locator("#trend-service_level .rule-band")).to_have_count(2)
    title = page.locator("#trend-service_level circle title").last.text_content() or ""
    assert title.endswith(cards.first.locator(".value").text_content() or "?"), title
    screenshot(page, "client-contract-service-levels")
    page.close()
