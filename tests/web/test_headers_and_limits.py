"""Every answer's security headers, the API docs served from here, and the body size limit."""

import base64
import hashlib
import io
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from tests.api.conftest import PERFECT
from tests.conftest import World, json_of, row_counts, seed_month
from tests.web.test_pages import csrf, sign_in


def policy(response: object) -> dict[str, list[str]]:
    """Return a Content-Security-Policy header as {directive: sources}."""
    header = response.headers["Content-Security-Policy"]  # type: ignore[attr-defined]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


class Links(HTMLParser):
    """Collect every src and href of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def _august_draft(app: Flask, client: FlaskClient, world: World) -> dict[str, Any]:
    seed_month(app, world, "2026-08", calls=10)
    response = client.post(
        f"/api/v1/contracts/{world.ids['contract']}/statements",
        json={"period": "2026-08"},
        headers=world.headers("finance"),
    )
    draft: dict[str, Any] = json_of(response)
    return draft


def test_every_answer_says_nosniff_and_may_not_be_framed(
    app: Flask, client: FlaskClient, world: World
) -> None:
    statement = _august_draft(app, client, world)
    answers = {
        "api": client.get("/api/v1/me", headers=world.headers("finance")),
        "api error": client.get("/api/v1/statements/999999", headers=world.headers("finance")),
        "health": client.get("/health"),
        "static": client.get("/static/web/fiducia.css"),
        "docs": client.get("/api/v1/docs"),
        "docs asset": client.get("/api/v1/docs/assets/swagger-ui.css"),
        "page": client.get("/sign-in"),
    }
    sign_in(client, world.tokens["finance"])
    answers["finalize page"] = client.get(f"/statements/{statement['id']}/finalize")
    answers["page error"] = client.get("/statements/999999")
    expected = {"api error": 404, "page error": 404}
    for name, response in answers.items():
        assert response.status_code == expected.get(name, 200), name
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["X-Frame-Options"] == "DENY", name
        rules = policy(response)
        assert rules["frame-ancestors"] == ["'none'"], name
        assert rules["base-uri"] == ["'none'"], name
        for directive, sources in rules.items():
            assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(sources), name
            schemes = [source for source in sources if ":" in source.strip("'")[:8]]
            # Only Swagger UI's icons, which its stylesheet draws as data: images.
            assert schemes == (["data:"] if (name, directive) == ("docs", "img-src") else [])
        response.close()
    assert "Yes, finalize it" in answers["finalize page"].text
    page_rules = policy(answers["page"])
    assert page_rules["default-src"] == ["'self'"]
    assert page_rules["form-action"] == ["'self'"]


def test_the_printable_statement_may_apply_its_own_stylesheet_and_nothing_else(
    app: Flask, client: FlaskClient, world: World
) -> None:
    statement = _august_draft(app, client, world)
    sign_in(client, world.tokens["finance"])
    printable = client.get(f"/statements/{statement['id']}/download/html")
    assert printable.status_code == 200
    styles = re.findall(r"<style>(.*?)</style>", printable.text, re.DOTALL)
    assert len(styles) == 1 and "<script" not in printable.text
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert policy(printable)["style-src"] == ["'self'", f"'sha256-{digest}'"]
    assert ' style="' not in printable.text


def test_the_api_docs_load_swagger_ui_from_this_server_only(client: FlaskClient) -> None:
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    links = Links()
    links.feed(docs.text)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in links.urls
    assert "/api/v1/docs/assets/swagger-ui.css" in links.urls
    media = {".js": "text/javascript", ".css": "text/css"}
    for url in links.urls:
        assert url.startswith("/") and not url.startswith("//"), url
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            assert asset.mimetype == media[url[url.rindex(".") :]], url
            assert len(asset.data) > 100, url
    assert "http" not in docs.text
    assert not re.search(r"<script>|<script(?![^>]*\b(src|type=\"application/json\"))", docs.text)
    assert policy(docs)["script-src"] == ["'self'"]
    assert policy(docs)["connect-src"] == ["'self'"]
    config = re.search(r'id="swagger-ui-config">(.*?)</script>', docs.text)
    assert config is not None and json.loads(config.group(1)) == {"validatorUrl": None}


def test_a_body_over_the_limit_is_413_in_the_json_error_shape_and_writes_nothing(
    app: Flask, client: FlaskClient, world: World
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 4096
    before = row_counts(app)
    record = {
        "contract_id": world.ids["contract"], "call_ref": "call-1", "source": "supplier",
        "agent_ref": "agent-1", "call_at": "2026-10-14T10:30:00+02:00", "form": "standard@1",
        "answers": PERFECT, "comment": "x" * 5000,
    }  # fmt: skip
    response = client.post(
        "/api/v1/evaluations/batch",
        json={"evaluations": [record]},
        headers=world.headers("supplier"),
    )
    assert response.status_code == 413
    assert json_of(response) == {
        "code": 413,
        "status": "Request Entity Too Large",
        "message": "the request body is larger than the limit of 4,096 bytes",
    }
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert row_counts(app) == before
    record["comment"] = "x" * 1000
    fits = client.post(
        "/api/v1/evaluations/batch",
        json={"evaluations": [record]},
        headers=world.headers("supplier"),
    )
    assert fits.status_code == 201, fits.data[:300]


def test_a_form_over_the_limit_answers_an_error_page(client: FlaskClient, world: World) -> None:
    client.application.config["MAX_CONTENT_LENGTH"] = 4096
    response = client.post("/sign-in", data={"csrf_token": csrf(client), "token": "t" * 5000})
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "larger than the limit of 4,096 bytes" in response.text


def test_the_default_limit_takes_the_largest_batch_of_evaluations_and_no_more(
    database_url: str, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FIDUCIA_MAX_CONTENT_LENGTH", raising=False)
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    client = app.test_client()
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 32 * 1024 * 1024
    # Every field at its longest; Italian comments, escaped as most JSON encoders send them.
    comment = ("Perché è così? " * 700)[:10_000]
    longest = {
        "contract_id": world.ids["contract"], "call_ref": "c" * 200, "source": "third_party",
        "agent_ref": "a" * 200, "team": "t" * 200, "form": "standard@1",
        "call_at": "2026-10-14T10:30:00.123456+02:00", "answers": PERFECT | {"greeting": "maybe"},
        "evaluator_ref": "e" * 200, "comment": comment,
    }  # fmt: skip
    batch = json.dumps({"evaluations": [longest] * 1000}).encode()
    assert 20 * 1024 * 1024 < len(batch) < limit
    headers = world.headers("admin") | {"Content-Type": "application/json"}
    taken = client.post("/api/v1/evaluations/batch", data=batch, headers=headers)
    assert taken.status_code == 422  # read and checked: "maybe" is no answer
    assert len(json_of(taken)["errors"]["json"]["evaluations"]) == 1000
    too_big = client.post("/api/v1/evaluations/batch", data=b" " * (limit + 1), headers=headers)
    assert too_big.status_code == 413
    assert json_of(too_big)["code"] == 413
    app.extensions["fiducia.engine"].dispose()


def test_a_chunked_body_over_the_limit_is_413_not_read_cut_short(
    app: Flask, client: FlaskClient, world: World
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    body = b'{"evaluations": [' + b"1," * 2000 + b"1]}"
    before = row_counts(app)
    response = client.post(
        "/api/v1/evaluations/batch",
        input_stream=io.BytesIO(body),
        headers={**world.headers("supplier"), "Content-Type": "application/json",
                 "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn serves chunked bodies
    )  # fmt: skip
    assert response.status_code == 413
    assert json_of(response)["code"] == 413
    assert row_counts(app) == before
