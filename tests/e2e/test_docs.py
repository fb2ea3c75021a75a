"""The interactive API docs and the pages run in a real browser under their security policy."""

from urllib.parse import urlsplit

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LiveDemo

METHODS = {"get", "put", "post", "delete", "patch"}


def test_the_api_docs_run_from_this_server_alone_under_their_policy(
    browser: Browser, live: LiveDemo
) -> None:
    page = browser.new_page()
    hosts: set[str] = set()
    complaints: list[str] = []
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on("console", lambda message: complaints.append(message.text))
    page.goto(f"{live.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Fiducia")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    spec = page.request.get(f"{live.url}/api/v1/openapi.json").json()
    operations = sum(len(set(item) & METHODS) for item in spec["paths"].values())
    expect(page.locator(".opblock")).to_have_count(operations)
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert hosts == {urlsplit(live.url).netloc}
    assert [text for text in complaints if "Content Security Policy" in text] == []
    page.close()


def test_the_sign_in_page_breaks_no_rule_of_its_policy(browser: Browser, live: LiveDemo) -> None:
    page = browser.new_page()
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(message.text))
    response = page.goto(f"{live.url}/sign-in")
    assert response is not None
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    expect(page.locator("#token-form")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
    assert [text for text in complaints if "Content Security Policy" in text] == []
    page.close()
