"""Uploading evaluations on the pages: the template, a check that stores nothing, confirming."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from typing import Any

import openpyxl
from flask import Flask
from flask.testing import FlaskClient

from tests.api.test_uploads import COLUMNS, as_csv, row, stored
from tests.conftest import World, row_counts
from tests.web.test_pages import csrf, sign_in


def signed_in(app: Flask, world: World, who: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.tokens[who])
    return client


def page_of(world: World) -> str:
    return f"/contracts/{world.ids['contract']}/upload"


def check(client: FlaskClient, world: World, content: bytes, **form: Any) -> Any:
    return client.post(
        page_of(world),
        data={
            "csrf_token": csrf(client, page_of(world)),
            "file": (io.BytesIO(content), "october.csv"),
            **form,
        },
        content_type="multipart/form-data",
    )


def hidden(text: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', text)
    assert found is not None, f"no hidden {name}"
    return found.group(1)


def confirm(client: FlaskClient, world: World, checked: str, **changes: str) -> Any:
    form = {
        "csrf_token": hidden(checked, "csrf_token"),
        "content": hidden(checked, "content"),
        "seal": hidden(checked, "seal"),
    }
    return client.post(f"{page_of(world)}/confirm", data=form | changes)


def test_a_client_checks_a_file_then_confirms_it(app: Flask, world: World) -> None:
    client = signed_in(app, world, "client")
    page = client.get(page_of(world))
    assert page.status_code == 200
    assert "Download XLSX" in page.text
    before = row_counts(app)

    checked = check(client, world, as_csv([row(1), row(2)]))

    assert checked.status_code == 200
    assert re.search(r'id="created">2<', checked.text)
    assert 'id="confirm"' in checked.text
    assert row_counts(app) == before

    confirmed = confirm(client, world, checked.text)

    assert confirmed.status_code == 302
    assert confirmed.location.endswith(f"/evaluations?contract_id={world.ids['contract']}")
    assert [(e.call_ref, e.source) for e in stored(app)] == [
        ("call-00001", "client"),
        ("call-00002", "client"),
    ]
    assert "Stored 2 new evaluations" in client.get(confirmed.location).text


def test_a_check_lists_every_bad_row_by_number_and_column_and_offers_no_confirm(
    app: Flask, world: World
) -> None:
    client = signed_in(app, world, "supplier")
    before = row_counts(app)

    checked = check(client, world, as_csv([row(1), row(2, tone=9), row(3, call_at="2026-10-14")]))

    assert checked.status_code == 200
    table = checked.text[checked.text.index('id="bad-rows"') :]
    assert re.search(r'<td class="num">3</td><td>tone</td>', table)
    assert re.search(r'<td class="num">4</td><td>call_at</td><td>a time without an offset', table)
    assert 'id="confirm"' not in checked.text
    assert row_counts(app) == before


def test_naive_times_are_taken_in_the_contracts_zone_when_ticked(app: Flask, world: World) -> None:
    client = signed_in(app, world, "supplier")
    content = as_csv([row(1, call_at="2026-10-14T10:30:00")])

    checked = check(client, world, content, naive_times_in_contract_zone="on")
    confirmed = confirm(client, world, checked.text, naive_times_in_contract_zone="on")

    assert confirmed.status_code == 302
    assert [e.call_at.isoformat() for e in stored(app)] == ["2026-10-14T08:30:00+00:00"]


def test_a_file_changed_after_its_check_stores_nothing(app: Flask, world: World) -> None:
    client = signed_in(app, world, "supplier")
    checked = check(client, world, as_csv([row(1)]))
    before = row_counts(app)

    other = as_csv([row(1), row(2)])
    response = confirm(client, world, checked.text, content=base64.b64encode(other).decode())

    assert response.status_code == 422
    assert "changed after it was checked" in response.text
    assert row_counts(app) == before


def test_an_unreadable_file_is_refused_on_the_page(app: Flask, world: World) -> None:
    client = signed_in(app, world, "supplier")

    response = check(client, world, b"PK\x03\x04broken")

    assert response.status_code == 422
    assert "not a readable XLSX workbook" in response.text


def test_the_template_downloads_for_a_month(app: Flask, world: World) -> None:
    client = signed_in(app, world, "supplier")

    response = client.get(f"{page_of(world)}/template?period=2026-10&format=xlsx")

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["Evaluations"]
    assert [cell.value for cell in sheet[1]] == COLUMNS
    csv_file = client.get(f"{page_of(world)}/template?period=2026-10&format=csv")
    assert csv_file.mimetype == "text/csv"


def test_the_contract_page_links_to_the_upload(app: Flask, world: World) -> None:
    client = signed_in(app, world, "supplier")

    page = client.get(f"/contracts/{world.ids['contract']}")

    assert f'href="{page_of(world)}?period=' in page.text


def test_finance_is_not_allowed_and_another_organization_finds_nothing(
    app: Flask, world: World
) -> None:
    finance, other = signed_in(app, world, "finance"), signed_in(app, world, "other_supplier")
    before = row_counts(app)

    assert finance.get(page_of(world)).status_code == 403
    assert finance.get(f"{page_of(world)}/template?period=2026-10").status_code == 403
    assert other.get(page_of(world)).status_code == 404
    assert other.get(f"{page_of(world)}/template?period=2026-10").status_code == 404
    assert row_counts(app) == before


def test_a_check_without_a_file_asks_for_one(app: Flask, world: World) -> None:
    client = signed_in(app, world, "client")
    empty = check(client, world, b"")
    assert empty.status_code == 422 and "Choose a file to check." in empty.text


def test_a_confirmation_stores_only_the_file_the_server_checked(app: Flask, world: World) -> None:
    client = signed_in(app, world, "client")
    before = row_counts(app)
    token = csrf(client, page_of(world))
    garbled = client.post(
        f"{page_of(world)}/confirm",
        data={"csrf_token": token, "content": "not base64!", "sha256": "0" * 64, "seal": "0"},
    )
    assert garbled.status_code == 422 and "The file changed after it was checked" in garbled.text
    # A good file never checked, posted with the digest the form itself computed.
    content = as_csv([row(1), row(2)])
    digest = hashlib.sha256(content).hexdigest()
    unchecked = client.post(
        f"{page_of(world)}/confirm",
        data={
            "csrf_token": token,
            "content": base64.b64encode(content).decode(),
            "sha256": digest,
            "seal": digest,
        },
    )
    assert unchecked.status_code == 422
    assert "The file changed after it was checked" in unchecked.text
    assert row_counts(app) == before


def test_a_check_vouches_for_its_file_for_its_user_its_contract_and_its_options_only(
    app: Flask, world: World
) -> None:
    client, supplier = signed_in(app, world, "client"), signed_in(app, world, "supplier")
    checked = check(client, world, as_csv([row(1)]))
    before = row_counts(app)

    someone_else = supplier.post(
        f"{page_of(world)}/confirm",
        data={
            "csrf_token": csrf(supplier, page_of(world)),
            "content": hidden(checked.text, "content"),
            "seal": hidden(checked.text, "seal"),
        },
    )
    other_options = confirm(client, world, checked.text, naive_times_in_contract_zone="on")

    assert someone_else.status_code == 422 and "changed after it was checked" in someone_else.text
    assert other_options.status_code == 422 and "changed after it was checked" in other_options.text
    assert row_counts(app) == before
    assert confirm(client, world, checked.text).status_code == 302
    assert [e.call_ref for e in stored(app)] == ["call-00001"]


def test_a_confirmed_file_with_a_bad_row_lists_it_and_stores_nothing(
    app: Flask, world: World, monkeypatch: Any
) -> None:
    from service.evaluations import uploads

    client = signed_in(app, world, "client")
    checked = check(client, world, as_csv([row(1), row(2)]))
    before = row_counts(app)
    real = uploads.read_sheet

    def with_a_bad_row(*args: Any, **kwargs: Any) -> Any:
        sheet = real(*args, **kwargs)
        sheet.rows[3]["answers"]["tone"] = 9  # as if the form had changed since the check
        return sheet

    monkeypatch.setattr(uploads, "read_sheet", with_a_bad_row)
    bad = confirm(client, world, checked.text)

    assert bad.status_code == 422
    table = bad.text[bad.text.index('id="bad-rows"') :]
    assert re.search(r'<td class="num">3</td><td>tone</td>', table)
    assert row_counts(app) == before


def test_an_admin_names_the_source_it_uploads(app: Flask, world: World) -> None:
    client = signed_in(app, world, "admin")
    before = row_counts(app)
    unnamed = check(client, world, as_csv([row(1)]))
    assert unnamed.status_code == 422 and "source" in unnamed.text
    assert row_counts(app) == before
