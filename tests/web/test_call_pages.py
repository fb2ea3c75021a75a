"""The call log on the pages: the contract's samples, the calls with their samples, the to-do."""

from __future__ import annotations

import hashlib
import html
from typing import Any

import pytest
import time_machine
from flask import Flask

from tests.conftest import World
from tests.integration.test_call_samples import (
    AUDIT_DRAWN,
    DRAWN,
    LOGGING,
    evaluate,
    log,
    november_calls,
    run_close_at,
    sampled_contract,
    sampled_refs,
    stored_sample,
)
from tests.web import test_dispute_pages
from tests.web.test_dispute_pages import Browse, signed_in

browse = test_dispute_pages.browse  # the fixture: a signed-in test client per user


def text_of(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def november(app: Flask, world: World) -> tuple[int, list[dict[str, Any]]]:
    """A sampled contract whose November is logged and committed, not drawn yet."""
    contract_id = sampled_contract(app, world)
    run_close_at(app, LOGGING)
    calls = november_calls(120)
    log(app, world, contract_id, calls)
    return contract_id, calls


def test_before_the_draws_the_contract_page_shows_both_commitments_and_when_they_were_made(
    app: Flask, world: World, browse: Browse, november: tuple[int, list[dict[str, Any]]]
) -> None:
    contract_id, _ = november
    november_sample = stored_sample(app, contract_id, "2026-11")
    december = stored_sample(app, contract_id, "2026-12")

    page = text_of(browse("supplier").get(f"/contracts/{contract_id}?period=2026-11"))
    ahead = text_of(browse("supplier").get(f"/contracts/{contract_id}?period=2026-12"))

    assert "120 calls logged" in page
    assert november_sample.commitment in page and november_sample.commitment_audit in page
    assert november_sample.seed not in page and 'id="seed-self"' not in page
    # November had begun when the contract's first close ran: its seeds are late, and say so.
    assert 'id="late"' in page
    assert "Committed 23 Nov 2026, 10:00 CET, after the month began." in page
    assert "when due: 4 Dec 2026, 00:00 CET" in page and "when due: 11 Dec 2026, 00:00 CET" in page
    assert december.commitment in ahead and 'id="late"' not in ahead
    assert "Published 23 Nov 2026, 10:00 CET, before the month began." in ahead
    assert "before the month began" not in page


def test_each_stage_shows_its_seed_and_coverage_once_drawn_on_both_pages(
    app: Flask, world: World, browse: Browse, november: tuple[int, list[dict[str, Any]]]
) -> None:
    contract_id, calls = november
    run_close_at(app, DRAWN)
    with time_machine.travel(DRAWN, tick=False):
        first = text_of(browse("client").get(f"/contracts/{contract_id}?period=2026-11"))
    run_close_at(app, AUDIT_DRAWN)
    by_ref = {call["call_ref"]: call for call in calls}
    audit = sampled_refs(app, contract_id, "audit")
    evaluate(app, world, contract_id, [by_ref[ref] for ref in audit[:12]], "client")

    with time_machine.travel(AUDIT_DRAWN, tick=False):
        client = signed_in(app, world.tokens["client"])  # a week on: a session of the day
        contract = text_of(client.get(f"/contracts/{contract_id}?period=2026-11"))
        calls_page = text_of(client.get(f"/contracts/{contract_id}/calls?period=2026-11"))

    seed = first.split('id="seed-self">')[1].split("<")[0]
    assert hashlib.sha256(bytes.fromhex(seed)).hexdigest() in first
    assert 'id="seed-audit"' not in first and "secret until drawn" in first
    for page in (contract, calls_page):
        audit_seed = page.split('id="seed-audit">')[1].split("<")[0]
        assert hashlib.sha256(bytes.fromhex(audit_seed)).hexdigest() in page
        assert f'<progress id="coverage-audit" max="{len(audit)}" value="12">' in page
        assert "sampled=audit" in page and "sampled=self" in page
        assert "21 Dec 2026, 00:00 CET" in page  # the audits' due date


def test_the_calls_page_marks_the_sampled_calls_and_links_each_to_the_form(
    app: Flask, world: World, browse: Browse, november: tuple[int, list[dict[str, Any]]]
) -> None:
    contract_id, _ = november
    run_close_at(app, DRAWN)
    run_close_at(app, AUDIT_DRAWN)
    audit = sampled_refs(app, contract_id, "audit")

    with time_machine.travel(AUDIT_DRAWN, tick=False):
        page = text_of(
            browse("client").get(f"/contracts/{contract_id}/calls?period=2026-11&sampled=audit")
        )

    linked = {part.split("&")[0] for part in page.split("call_ref=")[1:]}
    assert f"{len(audit)} calls" in page
    assert page.count("sampled for audit</span>") == len(linked) == min(len(audit), 50)
    assert linked <= set(audit)


def test_each_side_sees_its_own_sample_to_do_and_the_form_opens_filled_in(
    app: Flask, world: World, browse: Browse, november: tuple[int, list[dict[str, Any]]]
) -> None:
    contract_id, calls = november
    run_close_at(app, DRAWN)
    run_close_at(app, AUDIT_DRAWN)
    by_ref = {call["call_ref"]: call for call in calls}
    own = sampled_refs(app, contract_id, "self")
    evaluate(app, world, contract_id, [by_ref[ref] for ref in own[:5]], "supplier")

    with time_machine.travel(AUDIT_DRAWN, tick=False):
        supplier = text_of(browse("supplier").get(f"/contracts/{contract_id}/to-do?period=2026-11"))
        client = text_of(browse("client").get(f"/contracts/{contract_id}/to-do?period=2026-11"))
        first = own[5]
        call = by_ref[first]
        link = supplier.split(f"call_ref={first}")[0].rsplit('href="', 1)[1] + f"call_ref={first}"
        link += supplier.split(f"call_ref={first}")[1].split('"')[0]
        form = text_of(browse("supplier").get(link))

    assert "To do: sampled for self-assessment" in supplier
    assert f"{len(own) - 5} of {len(own)} sampled calls still to evaluate" in supplier
    assert own[0] not in supplier and first in supplier
    assert "To do: sampled for audit" in client
    assert "Due by 21 Dec 2026, 00:00 CET" in client and "Due by 11 Dec 2026" in supplier
    assert f'name="call_ref" maxlength="200" required value="{first}"' in form
    assert f'name="agent_ref" maxlength="200" required value="{call["agent_ref"]}"' in form
    assert 'name="call_at" step="1" required value="2026-11-' in form


def test_finance_has_no_to_do_and_a_stranger_no_call_log(
    app: Flask, world: World, browse: Browse, november: tuple[int, list[dict[str, Any]]]
) -> None:
    contract_id, _ = november

    assert browse("finance").get(f"/contracts/{contract_id}/to-do").status_code == 403
    assert browse("finance").get(f"/contracts/{contract_id}/calls").status_code == 200
    assert browse("other_supplier").get(f"/contracts/{contract_id}/calls").status_code == 404
    assert browse("other_client").get(f"/contracts/{contract_id}/to-do").status_code == 404


def test_before_each_draw_the_to_do_says_when_its_sample_is_drawn(
    app: Flask, world: World, browse: Browse, november: tuple[int, list[dict[str, Any]]]
) -> None:
    contract_id, _ = november

    own = text_of(browse("supplier").get(f"/contracts/{contract_id}/to-do?period=2026-11"))
    run_close_at(app, DRAWN)
    with time_machine.travel(DRAWN, tick=False):
        audit = text_of(browse("client").get(f"/contracts/{contract_id}/to-do?period=2026-11"))

    assert (
        "The self-assessment sample of November 2026 is drawn when its call log closes,"
        " 4 Dec 2026, 00:00 CET; nothing to do yet."
    ) in own
    assert (
        "The audit sample of November 2026 is drawn from the self-assessment sample when the"
        " self-assessments are due, 11 Dec 2026, 00:00 CET; nothing to do yet."
    ) in audit
