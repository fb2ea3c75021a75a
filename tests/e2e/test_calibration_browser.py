"""A calibration session in a real browser: two participants score, the client closes it."""

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LiveDemo, screenshot
from tests.e2e.test_browser import sign_in_with_token


def answer_every_question(page: Page, scale: str) -> None:
    """Answer yes to every yes/no question and `scale` on every scale, as a grader clicks."""
    for question in page.locator("fieldset.question").all():
        choice = question.locator(f'input[value="{scale}"]')
        if choice.count() == 0:
            choice = question.locator('input[value="yes"]')
        choice.first.check()
    expect(page.locator("#live-missing")).not_to_contain_text("1")


def score_both_calls(page: Page, session_url: str) -> None:
    page.goto(session_url)
    page.locator("#calls a").first.click()
    expect(page.locator("#progress")).to_be_visible()
    answer_every_question(page, "5")
    page.click("#store")
    expect(page).to_have_url(re.compile(r"/score\?call="))  # on to the next call
    answer_every_question(page, "2")
    page.click("#store")
    expect(page).to_have_url(session_url)
    expect(page.locator("#calls")).not_to_contain_text("–")  # both calls carry its score


def test_two_participants_score_blind_and_the_client_closes_and_reads_alpha(
    browser: Browser, live: LiveDemo
) -> None:
    client = browser.new_context().new_page()
    sign_in_with_token(client, live, "client@demo.fiducia")
    client.goto(f"{live.url}/scorecards")
    client.click("text=Callmaster Napoli")
    client.click("#calibration-tab")
    expect(client.locator("#sessions")).to_contain_text("2026")  # the demo's closed session
    client.click("#new-session")
    client.fill("input[name=title]", "Two calls, two graders")
    boxes = client.locator("#calls input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    client.locator("#participants tr", has_text="Chiara Conti").locator(
        "input[type=checkbox]"
    ).check()
    client.locator("#participants tr", has_text="Callmaster Napoli QA").locator(
        "input[type=checkbox]"
    ).check()
    screenshot(client, "calibration-new")
    client.click("#open")
    expect(client.locator("#status")).to_be_visible()
    session_url = client.url

    score_both_calls(client, session_url)
    supplier = browser.new_context().new_page()
    sign_in_with_token(supplier, live, "napoli@demo.fiducia")
    score_both_calls(supplier, session_url)
    screenshot(supplier, "calibration-open")
    expect(supplier.locator("#close")).to_have_count(0)  # the client's side closes

    client.goto(session_url)
    expect(client.locator("#participants")).not_to_contain_text("not yet")
    client.click("#close")
    expect(client.locator("#alpha")).to_have_text(re.compile(r"^1[.,]000$"))
    expect(client.locator("#questions tbody tr").first).to_be_visible()
    expect(client.locator("#deviations")).to_contain_text("Callmaster Napoli QA")
    screenshot(client, "calibration-results")
    supplier.goto(session_url)
    expect(supplier.locator("#alpha")).to_have_text(re.compile(r"^1[.,]000$"))
    client.close()
    supplier.close()
