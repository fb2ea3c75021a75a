"""Form documents on /forms/new are bounded before they are read, and read before any lock
(issue 20, points 8 and 11)."""

from __future__ import annotations

import io
import re
from html import unescape
from typing import Any

import pytest
from flask import Flask

from tests.api.test_bounded_uploads import MB, measured, write_beside
from tests.conftest import World, row_counts
from tests.web.test_dispute_pages import Browse
from tests.web.test_form_pages import SPECIAL, browse, post, publish, stored

__all__ = ["browse"]  # the fixture

LONG = "9" * 4301


def refusal_of(response: Any) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.text))


def upload_document(client: Any, content: bytes) -> Any:
    """Post a document as a file, the body encoded here: werkzeug's test client spools a
    large one to a temporary file it never closes."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/forms").text)
    assert token is not None
    body = (
        (
            f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token.group(1)}\r\n'
            '--b\r\nContent-Disposition: form-data; name="file"; filename="form.yaml"\r\n'
            "Content-Type: application/yaml\r\n\r\n"
        ).encode()
        + content
        + b"\r\n--b--\r\n"
    )
    return client.post(
        "/forms/new", data=io.BytesIO(body), content_type="multipart/form-data; boundary=b"
    )


def test_a_four_megabyte_document_is_refused_before_it_is_read(app: Flask, browse: Browse) -> None:
    client = browse("client")
    before = row_counts(app)
    big = SPECIAL + "".join(f"# {'x' * 70}\n" for _ in range(4 * MB // 73))

    uploaded, peak = measured(lambda: upload_document(client, big.encode()))
    typed = publish(client, SPECIAL + "#" * 300_000)

    for response in (uploaded, typed):
        assert response.status_code == 422
        assert "the document is larger than 262,144 bytes" in refusal_of(response)
    assert peak < 50 * MB
    assert row_counts(app) == before


def test_a_document_of_too_many_values_is_refused_before_they_are_built(
    app: Flask, browse: Browse
) -> None:
    client = browse("client")
    dense = SPECIAL + "extra: [" + "a, " * 80_000 + "a]\n"
    assert len(dense) < 256 * 1024

    response, peak = measured(lambda: publish(client, dense))

    assert response.status_code == 422
    assert "the document holds more than 20,000 values" in refusal_of(response)
    assert peak < 50 * MB


@pytest.mark.parametrize("depth", [65, 999, 100_000])
def test_a_document_nested_deeper_than_64_is_refused_without_recursing(
    browse: Browse, depth: int
) -> None:
    response = publish(browse("client"), "a: " + "[" * depth + "]" * depth)
    assert response.status_code == 422
    assert "the document is nested too deeply" in refusal_of(response)


def test_a_file_cut_at_the_limit_in_a_character_is_refused_for_its_size(browse: Browse) -> None:
    prefix = SPECIAL + "#"
    if (256 * 1024 + 1 - len(prefix)) % 2 == 0:
        prefix += "#"  # so that the limit's byte is the first of a two-byte character
    response = upload_document(browse("client"), (prefix + "é" * 200_000).encode())
    assert response.status_code == 422
    assert "the document is larger than 262,144 bytes" in refusal_of(response)


@pytest.mark.parametrize(
    "text",
    [
        SPECIAL + f"pass_mark: {LONG}\n",
        '{"code": "special", "version": 1, "pass_mark": ' + LONG + "}",
    ],
    ids=["yaml", "json"],
)
def test_an_integer_past_4300_digits_in_a_form_text_is_a_422_naming_its_line(
    app: Flask, browse: Browse, text: str
) -> None:
    client = browse("client")
    before = row_counts(app)
    response = publish(client, text)
    assert response.status_code == 422
    said = refusal_of(response)
    line = SPECIAL.count("\n") + 1 if text.startswith("code") else 1
    assert f"a number of more than 4,300 digits, on line {line}" in said
    assert row_counts(app) == before


def test_an_italian_reader_is_told_of_the_cap_in_italian(app: Flask, browse: Browse) -> None:
    client = browse("client")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/forms").text)
    assert token is not None
    response = client.post(
        "/forms/new",
        data={"csrf_token": token.group(1), "document": SPECIAL + "#" * 300_000},
        headers={"Accept-Language": "it"},
    )
    assert "il documento supera i 262.144 byte" in refusal_of(response)


def test_the_form_page_reads_its_document_before_it_takes_any_lock(
    app: Flask, browse: Browse, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.forms import editor

    real, met = editor.read_document, []

    def read_document(*args: Any, **kwargs: Any) -> Any:
        met.append(write_beside(app, world.ids["contract"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(editor, "read_document", read_document)
    response = publish(browse("client"), SPECIAL)

    assert met == ["wrote"]
    assert response.status_code == 302
    assert list(stored(app, world, "special")) == [1]
    assert post  # the helper the other tests of the page use
