"""Revisions and disputes on the pages (DESIGN 12), per role, through the test client."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import PERFECT, evaluation
from tests.conftest import TODAY, World, json_of, row_counts
from tests.web.test_pages import csrf, sign_in

FORMS = ("amend-form", "retract-form", "dispute-form", "decide-form", "arbitrate-form",
         "escalate-form", "withdraw-form")  # fmt: skip

Browse = Callable[[str], FlaskClient]


def signed_in(app: Flask, token: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, token)
    return client


@pytest.fixture
def browse(app: Flask, world: World) -> Browse:
    """Return a signed-in test client for a user of the world, one per user."""
    clients: dict[str, FlaskClient] = {}

    def client_of(who: str) -> FlaskClient:
        if who not in clients:
            clients[who] = signed_in(app, world.tokens[who])
        return clients[who]

    return client_of


# A call of the month running on the test's day: its evaluations may still be amended.
OPEN_MONTH = "2026-11-14T10:30:00+01:00"


def stored(
    client: FlaskClient, world: World, source: str = "client", call_at: str | None = None
) -> int:
    """Store an evaluation of the world's contract (tone 3 of 5: 96.25) through the API, of an
    October call unless `call_at` says otherwise."""
    author = {"client": "client", "supplier": "supplier", "third_party": "admin"}[source]
    record = evaluation(world, source=source, answers={"tone": 3})
    record |= {"call_at": call_at} if call_at else {}
    response = client.post("/api/v1/evaluations", json=record, headers=world.headers(author))
    assert response.status_code == 201, response.get_json()
    return int(json_of(response)["id"])


def post(browse: Browse, who: str, path: str, form: dict[str, Any] | None = None) -> Any:
    """Send a page's form as a user would, with the form's token."""
    client = browse(who)
    return client.post(path, data={"csrf_token": csrf(client, "/disputes"), **(form or {})})


def dispute_tone(browse: Browse, evaluation_id: int, **fields: Any) -> Any:
    form = {"contest": "tone", "proposed-tone": "5", "reason-tone": "calm and warm",
            "comment": "listen to minute 3"}  # fmt: skip
    return post(browse, "supplier", f"/evaluations/{evaluation_id}/dispute", form | fields)


def opened(browse: Browse, evaluation_id: int) -> int:
    """Open a dispute of the audit's tone through the page; return its id."""
    response = dispute_tone(browse, evaluation_id)
    assert response.status_code == 302, response.text
    found = re.fullmatch(r"/disputes/(\d+)", response.location)
    assert found is not None, response.location
    return int(found.group(1))


def verdict(browse: Browse, who: str, dispute_id: int, step: str, choice: str) -> Any:
    form = {"verdict-tone": choice, "reason-tone": "heard it"}
    return post(browse, who, f"/disputes/{dispute_id}/{step}", form)


class Tables(HTMLParser):
    """The text of each cell of each table of a page that has an id, row by row."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs).get("id")
        if tag == "table" and named:
            self._table = named
            self.tables[named] = []
        elif self._table and tag == "tr":
            self.tables[self._table].append([])
        elif self._table and tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "td" and self._table and self._cell is not None:
            self.tables[self._table][-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows(html: str, table: str) -> list[list[str]]:
    """Return the body rows of a page's table (its header row has no cells)."""
    return [row for row in Tables(html).tables[table] if row]


def forms_on(html: str) -> set[str]:
    return {name for name in FORMS if f'id="{name}"' in html}


def score_on(html: str) -> str:
    found = re.search(r'id="score">([^<]+)<', html)
    assert found is not None
    return found.group(1)


def test_a_dispute_opened_and_accepted_on_the_pages_revises_the_audit(
    client: FlaskClient, world: World, browse: Browse
) -> None:
    audit = stored(client, world)
    assert score_on(browse("supplier").get(f"/evaluations/{audit}").text) == "96.25"
    dispute = opened(browse, audit)

    listed = browse("supplier").get("/disputes").text
    assert [row[0] for row in rows(listed, "disputes-open")] == [f"Dispute {dispute}"]
    inbox = browse("client").get("/disputes").text
    # The client reads teams only by default (DESIGN 18): the call, never its agent.
    assert rows(inbox, "disputes-open")[0][:2] == [f"Dispute {dispute}", "call-001"]
    assert f'href="/disputes/{dispute}#decide"' in inbox

    decided = verdict(browse, "client", dispute, "decide", "accept")
    assert decided.status_code == 302 and decided.location == f"/disputes/{dispute}"
    shown = browse("client").get(decided.location).text
    assert "the score went from 96.25 to 100.00 (revision 2)" in shown
    assert forms_on(shown) == set()

    page = browse("supplier").get(f"/evaluations/{audit}").text
    assert score_on(page) == "100.00"
    revisions = rows(page, "revisions")
    assert [(row[0], row[1], row[2], row[3], row[5]) for row in revisions] == [
        ("1", "submission", "96.25", "client", ""),
        ("2", "decision", "100.00", "client", f"dispute {dispute}"),
    ]
    assert f'href="/disputes/{dispute}"' in page
    thread = page[page.index(f'id="dispute-{dispute}"') :]
    assert "Opened</strong> by supplier" in thread and "“listen to minute 3”" in thread
    assert "Decided</strong> by client" in thread and "score 96.25 → 100.00, revision 2" in thread
    assert "heard it" in thread and "calm and warm" in thread


@pytest.mark.parametrize(
    ("source", "who", "offered"),
    [
        ("client", "client", {"amend-form", "retract-form"}),
        ("client", "supplier", {"dispute-form"}),
        ("client", "finance", set()),
        ("client", "admin", set()),
        ("third_party", "admin", {"amend-form", "retract-form"}),
        ("third_party", "supplier", {"dispute-form"}),
        ("third_party", "client", set()),
        ("supplier", "supplier", {"amend-form", "retract-form"}),
        ("supplier", "client", set()),
    ],
)
def test_each_role_is_offered_only_the_forms_it_may_use_on_an_evaluation(
    client: FlaskClient, world: World, browse: Browse, source: str, who: str, offered: set[str]
) -> None:
    page = browse(who).get(f"/evaluations/{stored(client, world, source, OPEN_MONTH)}")
    assert page.status_code == 200
    assert forms_on(page.text) == offered


def test_an_evaluation_whose_months_window_closed_offers_its_author_no_change_and_says_why(
    client: FlaskClient, world: World, browse: Browse
) -> None:
    october = browse("client").get(f"/evaluations/{stored(client, world)}").text
    record = evaluation(world, source="client", call_ref="call-nov", call_at=OPEN_MONTH)
    response = client.post("/api/v1/evaluations", json=record, headers=world.headers("client"))
    november = browse("client").get(f"/evaluations/{json_of(response)['id']}").text

    assert forms_on(october) == set()
    assert (
        "Its author could change it until 6 Nov 2026, 00:00 CET; only a dispute decision"
        " changes it now."
    ) in october
    assert forms_on(november) == {"amend-form", "retract-form"}
    assert "Its author may amend or retract it until 6 Dec 2026, 00:00 CET." in november


@pytest.mark.parametrize(
    ("source", "who", "offered"),
    [("client", "client", {"decide-form"}), ("client", "supplier", {"withdraw-form"}),
     ("client", "finance", set()), ("client", "admin", set()),
     ("third_party", "admin", {"decide-form"}), ("third_party", "client", set())],
)  # fmt: skip
def test_each_role_is_offered_only_the_step_it_may_take_on_an_open_dispute(
    client: FlaskClient, world: World, browse: Browse, source: str, who: str, offered: set[str]
) -> None:
    audit = stored(client, world, source)
    dispute = opened(browse, audit)
    assert forms_on(browse(who).get(f"/disputes/{dispute}").text) == offered
    # While the dispute waits, its audit offers neither an amendment nor a second dispute.
    evaluation_page = browse(who).get(f"/evaluations/{audit}").text
    assert forms_on(evaluation_page) == set()
    assert f'Dispute <a href="/disputes/{dispute}">{dispute}</a> waits' in evaluation_page


def test_a_rejection_is_escalated_from_the_list_and_arbitrated_for_good(
    client: FlaskClient, world: World, browse: Browse
) -> None:
    audit = stored(client, world)
    dispute = opened(browse, audit)
    assert verdict(browse, "client", dispute, "decide", "reject").status_code == 302
    decided = browse("supplier").get("/disputes").text
    assert rows(decided, "disputes-decided")[0][4] == "decided rejected"
    assert f'action="/disputes/{dispute}/escalate"' in decided
    assert forms_on(browse("supplier").get(f"/disputes/{dispute}").text) == {"escalate-form"}
    assert forms_on(browse("client").get(f"/disputes/{dispute}").text) == set()

    escalated = post(browse, "supplier", f"/disputes/{dispute}/escalate", {"reason": "hear it"})
    assert escalated.status_code == 302
    assert [
        row[0] for row in rows(browse("admin").get("/disputes").text, "disputes-escalated")
    ] == [f"Dispute {dispute}"]
    assert forms_on(browse("admin").get(f"/disputes/{dispute}").text) == {"arbitrate-form"}
    final = verdict(browse, "admin", dispute, "arbitrate", "accept")
    assert final.status_code == 302
    assert "is arbitrated (accepted)" in browse("admin").get(final.location).text

    page = browse("client").get(f"/evaluations/{audit}").text
    assert score_on(page) == "100.00"
    assert [row[1] for row in rows(page, "revisions")] == ["submission", "arbitration"]


def test_the_author_retracts_then_amends_and_every_revision_stays(
    client: FlaskClient, world: World, browse: Browse
) -> None:
    audit = stored(client, world, call_at=OPEN_MONTH)
    url = f"/evaluations/{audit}"
    assert post(browse, "client", f"{url}/retract", {"reason": "wrong call"}).status_code == 302
    retracted = browse("supplier").get(url).text
    # A retracted audit may still be disputed: the client must not drop audits unseen.
    assert 'id="retracted"' in retracted and forms_on(retracted) == {"dispute-form"}
    answers = {f"answer-{key}": str(value) for key, value in PERFECT.items()}
    amended = post(browse, "client", f"{url}/amend", answers | {"reason": "right call after all"})
    assert amended.status_code == 302
    page = browse("client").get(url).text
    assert "Revision 3 is stored: the score is now 100.00." in page
    assert 'id="retracted"' not in page
    assert [(row[0], row[1], row[5]) for row in rows(page, "revisions")] == [
        ("1", "submission", ""),
        ("2", "retraction retracted", "wrong call"),
        ("3", "amendment", "right call after all"),
    ]


def test_the_supplier_withdraws_an_open_dispute_and_may_dispute_again(
    client: FlaskClient, world: World, browse: Browse
) -> None:
    audit = stored(client, world)
    dispute = opened(browse, audit)
    withdrawn = post(browse, "supplier", f"/disputes/{dispute}/withdraw")
    assert withdrawn.status_code == 302
    assert "is withdrawn" in browse("supplier").get(withdrawn.location).text
    again = post(browse, "supplier", f"/disputes/{dispute}/withdraw")
    assert again.status_code == 409 and "a dispute that is withdrawn cannot be" in again.text
    assert "dispute-form" in forms_on(browse("supplier").get(f"/evaluations/{audit}").text)


@pytest.mark.parametrize(
    ("who", "step"),
    [
        ("finance", "amend"), ("supplier", "amend"), ("admin", "retract"),
        ("client", "dispute"), ("finance", "dispute"), ("admin", "dispute"),
        ("supplier", "decide"), ("finance", "decide"), ("admin", "decide"),
        ("client", "withdraw"), ("client", "escalate"), ("client", "arbitrate"),
    ],
)  # fmt: skip
def test_a_step_posted_by_a_role_that_may_not_take_it_is_403_and_writes_nothing(
    app: Flask, client: FlaskClient, world: World, browse: Browse, who: str, step: str
) -> None:
    audit = stored(client, world)
    dispute = opened(browse, audit)
    forms = {
        "amend": (f"/evaluations/{audit}/amend",
                  {"answer-" + k: str(v) for k, v in PERFECT.items()} | {"reason": "r"}),
        "retract": (f"/evaluations/{audit}/retract", {"reason": "r"}),
        "dispute": (f"/evaluations/{audit}/dispute",
                    {"contest": "tone", "proposed-tone": "4", "reason-tone": "r"}),
        "decide": (f"/disputes/{dispute}/decide", {"verdict-tone": "accept", "reason-tone": "r"}),
        "withdraw": (f"/disputes/{dispute}/withdraw", {}),
        "escalate": (f"/disputes/{dispute}/escalate", {"reason": "r"}),
        "arbitrate": (f"/disputes/{dispute}/arbitrate", {}),
    }  # fmt: skip
    path, form = forms[step]
    browse(who)  # signing in writes its session
    before = row_counts(app)
    response = post(browse, who, path, form)
    assert response.status_code == 403, response.text
    assert "Not allowed" in response.text
    assert row_counts(app) == before


@pytest.mark.parametrize("who", ["other_client", "other_finance", "other_supplier"])
def test_another_organizations_audit_and_dispute_are_404_and_nothing_is_written(
    app: Flask, client: FlaskClient, world: World, browse: Browse, who: str
) -> None:
    audit = stored(client, world)
    dispute = opened(browse, audit)
    for path in (f"/evaluations/{audit}", f"/disputes/{dispute}"):
        assert browse(who).get(path).status_code == 404, path
    assert f"Dispute {dispute}" not in browse(who).get("/disputes").text
    before = row_counts(app)
    for path, form in [
        (f"/evaluations/{audit}/amend", {"reason": "r"}),
        (f"/evaluations/{audit}/retract", {"reason": "r"}),
        (f"/evaluations/{audit}/dispute", {"contest": "tone", "proposed-tone": "5",
                                           "reason-tone": "r"}),
        (f"/disputes/{dispute}/decide", {"verdict-tone": "accept", "reason-tone": "r"}),
        (f"/disputes/{dispute}/withdraw", {}),
        (f"/disputes/{dispute}/escalate", {"reason": "r"}),
        (f"/disputes/{dispute}/arbitrate", {"verdict-tone": "accept", "reason-tone": "r"}),
    ]:  # fmt: skip
        response = post(browse, who, path, form)
        assert response.status_code == 404, path
        assert "Not found" in response.text
    assert row_counts(app) == before


def test_an_amendment_without_a_reason_is_shown_again_with_the_message_and_not_stored(
    app: Flask, client: FlaskClient, world: World, browse: Browse
) -> None:
    audit = stored(client, world, call_at=OPEN_MONTH)
    answers = {f"answer-{key}": str(value) for key, value in PERFECT.items()}
    browse("client")
    before = row_counts(app)
    response = post(browse, "client", f"/evaluations/{audit}/amend", answers | {"reason": "  "})
    assert response.status_code == 422
    assert row_counts(app) == before
    page = response.text
    assert "Not stored: some fields need another look." in page
    assert '<details class="card" id="amend" open>' in page
    amend = page[page.index('id="amend"') : page.index('id="retract"')]
    assert re.search(r'name="reason"[^>]*>\s*</textarea></label>\s*<span class="field-error">'
                     r"This is required.</span>", amend)  # fmt: skip
    # What was typed stays: the tone of 5, not the stored 3.
    assert re.search(r'name="answer-tone".*?<option value="5" selected>', amend, re.S)


def test_a_dispute_without_a_reason_or_with_the_current_answer_is_shown_again_and_not_stored(
    app: Flask, client: FlaskClient, world: World, browse: Browse
) -> None:
    audit = stored(client, world)
    browse("supplier")
    before = row_counts(app)
    blank = dispute_tone(browse, audit, **{"reason-tone": ""})
    assert blank.status_code == 422
    form = blank.text[blank.text.index('id="dispute-form"') :]
    assert 'value="tone" checked' in form and "listen to minute 3</textarea>" in form
    assert re.search(r'name="reason-tone"[^>]*><span class="field-error">This is required.',
                     form)  # fmt: skip
    same = dispute_tone(browse, audit, **{"proposed-tone": "3"})
    assert same.status_code == 422
    assert "Not stored: the dispute names questions it cannot." in same.text
    assert re.search(r'name="proposed-tone".*?</select><span class="field-error">'
                     r"is the current answer</span>", same.text, re.S)  # fmt: skip
    nothing = post(browse, "supplier", f"/evaluations/{audit}/dispute", {"comment": "?"})
    assert nothing.status_code == 422
    assert '<span class="field-error">This is required.</span>' in nothing.text
    assert row_counts(app) == before


def test_a_decision_missing_a_verdict_or_a_reason_is_shown_again_and_not_stored(
    app: Flask, client: FlaskClient, world: World, browse: Browse
) -> None:
    dispute = opened(browse, stored(client, world))
    browse("client")
    before = row_counts(app)
    response = post(browse, "client", f"/disputes/{dispute}/decide", {"reason-tone": "heard it"})
    assert response.status_code == 422
    assert row_counts(app) == before
    form = response.text[response.text.index('id="decide-form"') :]
    assert 'value="heard it"' in form
    assert '<span class="field-error">This is required.</span>' in form
    no_reason = post(browse, "client", f"/disputes/{dispute}/decide", {"verdict-tone": "reject"})
    assert no_reason.status_code == 422 and row_counts(app) == before
    assert 'value="reject" checked' in no_reason.text


def test_a_late_step_is_refused_on_the_page_with_its_reason(
    app: Flask, client: FlaskClient, world: World, browse: Browse
) -> None:
    audit = stored(client, world)
    dispute = opened(browse, audit)
    held = post(browse, "client", f"/evaluations/{audit}/retract", {"reason": "r"})
    assert held.status_code == 409
    assert f"Not stored: dispute {dispute} of this evaluation is waiting for a verdict" in held.text
    assert verdict(browse, "client", dispute, "decide", "reject").status_code == 302
    with time_machine.travel(TODAY + timedelta(days=5, minutes=5), tick=False):
        supplier = signed_in(app, world.tokens["supplier"])
        listed = supplier.get("/disputes").text
        assert f"Dispute {dispute}" in listed
        assert f'action="/disputes/{dispute}/escalate"' not in listed
        form = {"csrf_token": csrf(supplier, "/disputes"), "reason": "late"}
        late = supplier.post(f"/disputes/{dispute}/escalate", data=form)
    assert late.status_code == 422
    assert "Not stored: the dispute step breaks a rule." in late.text
    assert "escalate by: the escalation window closed at" in late.text


def test_an_audit_is_offered_for_dispute_only_inside_its_window(
    app: Flask, client: FlaskClient, world: World
) -> None:
    audit = stored(client, world)
    with time_machine.travel(TODAY + timedelta(days=4, hours=23), tick=False):
        page = signed_in(app, world.tokens["supplier"]).get(f"/evaluations/{audit}").text
        assert forms_on(page) == {"dispute-form"}
        assert "(until 28 Nov 2026, 10:00 CET)" in page  # the contract's zone
    with time_machine.travel(TODAY + timedelta(days=5, minutes=5), tick=False):
        page = signed_in(app, world.tokens["supplier"]).get(f"/evaluations/{audit}").text
        assert "Call call-001" in page and forms_on(page) == set()


def test_the_disputes_page_opens_for_every_role_and_sends_a_stranger_to_sign_in(
    client: FlaskClient, world: World, browse: Browse
) -> None:
    assert client.get("/disputes").location.startswith("/sign-in?next=")
    titles = {
        "supplier": ["Waiting for a decision", "Decided", "With the arbiter"],
        "client": ["To decide", "Decided"],
        "finance": ["Waiting for the client's decision", "Decided"],
        "admin": ["To arbitrate", "Open"],
    }
    for who, expected in titles.items():
        page = browse(who).get("/disputes")
        assert page.status_code == 200, who
        assert re.findall(r"<h2>([^<]+?) <span", html.unescape(page.text)) == expected, who
        assert '<a href="/disputes" class="here">Disputes</a>' in page.text
