"""Uploading a call log on a page (issue 26): a format, a check that logs nothing, confirming;
the import profile of each format; who may do it."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.api.test_telephony_imports import PROFILE, cdr, exported, put_profile, url
from tests.conftest import World, json_of, row_counts
from tests.web.test_languages import ENGLISH, ITALIAN
from tests.web.test_pages import csrf
from tests.web.test_upload_pages import hidden, signed_in

LINES = [
    cdr("2026-11-03 10:00:00", "ANSWERED", 60, 50, answer="2026-11-03 10:00:10",
        uniqueid="1793700000.1"),
    cdr("2026-11-03 10:05:00", "NO ANSWER", 30, 0, dstchannel="", uniqueid="1793700300.2"),
    cdr("2026-11-03 10:10:00", "BUSY", 7, 0, context="from-internal", dstchannel="",
        uniqueid="1793700600.3"),
]  # fmt: skip
MASTER_CSV = "\n".join(LINES).encode()


def page_of(world: World, key: str = "contract") -> str:
    return f"/contracts/{world.ids[key]}/calls/upload"


def check(client: FlaskClient, world: World, content: bytes, format: str, **headers: str) -> Any:
    return client.post(
        page_of(world),
        data={
            "csrf_token": csrf(client, page_of(world)),
            "format": format,
            "file": (io.BytesIO(content), "Master.csv"),
        },
        content_type="multipart/form-data",
        headers=headers,
    )


def confirm(client: FlaskClient, world: World, checked: str) -> Any:
    form = {name: hidden(checked, name) for name in ("csrf_token", "format", "content", "seal")}
    return client.post(f"{page_of(world)}/confirm", data=form)


def save_profile(client: FlaskClient, world: World, format: str, **form: str) -> Any:
    fields = ("timezone", "agent_field", "agent_pattern", "queue_field", "queue_pattern")
    given = dict.fromkeys(fields, "") | {"directions": ""} | form
    return client.post(
        f"{page_of(world)}/profile/{format}",
        data={"csrf_token": csrf(client, page_of(world)), **given},
    )


def test_an_asterisk_file_is_checked_row_by_row_then_confirmed_and_logged(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert put_profile(client, world, "asterisk", PROFILE).status_code == 200
    page = signed_in(app, world, "supplier")
    shown = page.get(page_of(world))
    assert shown.status_code == 200
    assert 'value="asterisk"' in shown.text and 'value="twilio"' in shown.text
    before = row_counts(app)

    checked = check(page, world, MASTER_CSV, "asterisk")

    assert checked.status_code == 200, checked.text
    assert re.search(r'id="good">3<', checked.text)
    assert re.search(r'id="bad">0<', checked.text)
    mapped = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]*)</td>", checked.text)
    assert mapped == [("1", "1793700000.1"), ("2", "1793700300.2"), ("3", "1793700600.3")]
    assert "<td>1001</td>" in checked.text  # the agent, read from dstchannel by the profile
    assert 'id="confirm"' in checked.text and "Confirm: log 3 calls" in checked.text
    assert row_counts(app) == before

    confirmed = confirm(page, world, checked.text)

    assert confirmed.status_code == 302, confirmed.text
    assert confirmed.location.endswith(f"/contracts/{world.ids['contract']}/calls")
    calls = exported(client, world)
    assert {ref: (row["direction"], row["outcome"]) for ref, row in calls.items()} == {
        "1793700000.1": ("inbound", "answered"),
        "1793700300.2": ("inbound", "abandoned"),
        "1793700600.3": ("outbound", "busy"),
    }
    assert calls["1793700000.1"]["agent_ref"] == "1001"
    assert "Logged 3 new calls (0 already logged unchanged)" in page.get(confirmed.location).text


def test_a_check_lists_every_refusal_by_row_and_column_and_offers_no_confirmation(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert put_profile(client, world, "asterisk", PROFILE).status_code == 200
    page = signed_in(app, world, "supplier")
    bad = [*LINES, cdr("2026-11-03 10:15:00", "MAYBE", 60, 50, uniqueid="1793700900.4")]

    checked = check(page, world, "\n".join(bad).encode(), "asterisk")

    assert checked.status_code == 200
    assert re.search(r'id="good">3<', checked.text) and re.search(r'id="bad">1<', checked.text)
    refused = re.findall(r'<tr><td class="num">(\d+)</td><td>(\w+)</td><td>', checked.text)
    assert ("4", "disposition") in refused
    assert 'id="confirm"' not in checked.text


def test_a_file_without_uniqueid_is_refused_whole_saying_so(
    app: Flask, client: FlaskClient, world: World
) -> None:
    page = signed_in(app, world, "supplier")
    without = "\n".join(line.rsplit(',"', 2)[0] for line in LINES).encode()

    checked = check(page, world, without, "asterisk")

    assert checked.status_code == 422
    assert 'id="refusal"' in checked.text and "loguniqueid" in checked.text


def test_a_profile_changed_after_the_check_stores_nothing(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert put_profile(client, world, "asterisk", PROFILE).status_code == 200
    page = signed_in(app, world, "supplier")
    checked = check(page, world, MASTER_CSV, "asterisk")
    assert checked.status_code == 200
    assert put_profile(client, world, "asterisk", PROFILE | {"timezone": "UTC"}).status_code == 200
    before = row_counts(app)

    confirmed = confirm(page, world, checked.text)

    assert confirmed.status_code == 422
    assert "changed after it was checked" in confirmed.text
    assert row_counts(app) == before


def test_the_profile_form_saves_what_the_api_reads(
    app: Flask, client: FlaskClient, world: World
) -> None:
    page = signed_in(app, world, "supplier")
    form = page.get(f"{page_of(world)}?format=asterisk")
    assert 'id="profile-form"' in form.text and 'name="directions"' in form.text
    assert 'name="directions"' not in page.get(f"{page_of(world)}?format=twilio").text

    saved = save_profile(
        page,
        world,
        "asterisk",
        timezone="America/New_York",
        agent_field="dstchannel",
        agent_pattern="^[^/]+/([^-]+)-",
        queue_field="lastdata",
        queue_pattern="^([^,]+)",
        directions="from-pstn = inbound\nfrom-internal = outbound\n",
    )

    assert saved.status_code == 302, saved.text
    read = json_of(
        client.get(url(world, "/import-profiles/asterisk"), headers=world.headers("client"))
    )
    assert {key: read[key] for key in PROFILE} == PROFILE
    again = page.get(saved.location)
    assert 'value="America/New_York"' in again.text and "from-internal = outbound" in again.text


def test_a_bad_pattern_or_column_is_shown_by_field_and_nothing_is_saved(
    app: Flask, client: FlaskClient, world: World
) -> None:
    page = signed_in(app, world, "supplier")

    no_group = save_profile(page, world, "asterisk", agent_field="dstchannel",
                            agent_pattern=r"SIP/\w+-")  # fmt: skip

    assert no_group.status_code == 422
    assert re.search(r"<strong>agent\.pattern</strong>: must have exactly one group", no_group.text)
    assert 'value="SIP/\\w+-"' in no_group.text  # the form keeps what was typed
    unknown = save_profile(page, world, "asterisk", queue_field="nowhere", queue_pattern="(.+)")
    assert unknown.status_code == 422
    assert re.search(
        r"<strong>queue\.field</strong>: &#39;nowhere&#39; is not a column", unknown.text
    )
    zone = save_profile(page, world, "asterisk", timezone="Mars/Olympus")
    assert zone.status_code == 422 and "<strong>timezone</strong>" in zone.text
    read = json_of(
        client.get(url(world, "/import-profiles/asterisk"), headers=world.headers("supplier"))
    )
    assert read["updated_at"] is None


def test_the_page_speaks_italian_to_an_italian_browser(
    app: Flask, client: FlaskClient, world: World
) -> None:
    assert put_profile(client, world, "asterisk", PROFILE).status_code == 200
    page = signed_in(app, world, "supplier")
    english = page.get(f"{page_of(world)}?format=asterisk", headers=ENGLISH)
    italian = page.get(f"{page_of(world)}?format=asterisk", headers=ITALIAN)
    assert "Upload calls" in english.text and "Save the profile" in english.text
    assert "Upload calls" not in italian.text and "Save the profile" not in italian.text
    checked = check(page, world, MASTER_CSV, "asterisk", **ITALIAN)
    assert checked.status_code == 200
    assert "Confirm: log" not in checked.text and 'id="confirm"' in checked.text


def test_a_client_cannot_upload_calls_and_another_supplier_finds_no_contract(
    app: Flask, world: World
) -> None:
    client = signed_in(app, world, "client")
    assert client.get(page_of(world)).status_code == 403
    token = csrf(client, "/account")
    form = {"csrf_token": token, "format": "native", "file": (io.BytesIO(b"x"), "calls.csv")}
    refused = client.post(page_of(world), data=form, content_type="multipart/form-data")
    assert refused.status_code == 403
    assert (
        client.post(f"{page_of(world)}/profile/asterisk", data={"csrf_token": token}).status_code
        == 403
    )
    calls = client.get(f"/contracts/{world.ids['contract']}/calls")
    assert calls.status_code == 200 and 'id="upload-calls"' not in calls.text

    other = signed_in(app, world, "other_supplier")
    assert other.get(page_of(world)).status_code == 404
    assert signed_in(app, world, "supplier").get(page_of(world)).status_code == 200
    admin = signed_in(app, world, "admin")
    assert admin.get(page_of(world)).status_code == 200
    assert 'id="upload-calls"' in admin.get(f"/contracts/{world.ids['contract']}/calls").text
