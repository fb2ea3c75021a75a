"""Every page in Italian and in English, for every role, with no English left on Italian pages.

A page is rendered in both languages. Its Italian text, less what the data says (names,
references, question texts: they are written once, in whatever language their author wrote),
must hold no word that is not Italian: every word must come from the Italian catalog or from
Babel's Italian calendar. And no text of the English page that is a message of the catalog
may be left as it is on the Italian one. A new English string that nobody wrapped for
translation fails here, as does one wrapped but not translated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service.accounts.models import Organization, User
from service.agreements.models import Contract, TermsVersion
from service.calibration.models import CalibrationSession
from service.calls.models import Call
from service.disputes.models import Dispute
from service.evaluations.models import Evaluation
from service.forms.models import Form
from service.language.i18n import LANGUAGE_NAMES
from service.privacy.policy import pseudonym
from service.statements.models import Statement
from tests.web.test_pages import csrf

CATALOG = (
    Path(__file__).resolve().parents[2] / "service/language/translations/it/LC_MESSAGES/messages.po"
)
ITALIAN = {"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
# Elements whose text is code or data as typed, not prose: JSON, hashes, tokens, documents.
CODE = {"script", "style", "pre", "code", "kbd", "textarea"}
ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
# Words no language translates: the product's name, zones, currencies, tokens' prefix.
NAMES = {"fiducia", "cet", "cest", "utc", "eur", "jpy", "sha", "fid"}
WORD = re.compile(r"[^\W\d_]+")
PLACEHOLDER = re.compile(r"%\(\w+\)s")


class Visible(HTMLParser):
    """Collect the text a reader sees (and hears: labels and titles), one piece per node."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in CODE:
            self._code += 1
        self.pieces += [value for name, value in attrs if name in ATTRIBUTES and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in CODE:
            self._code -= 1

    def handle_data(self, data: str) -> None:
        if not self._code and data.strip():
            self.pieces.append(" ".join(data.split()))


def visible(page: str) -> list[str]:
    parser = Visible()
    parser.feed(page)
    return parser.pieces


def catalog() -> dict[str, str]:
    """Return each message of the Italian catalog with its translation (plurals: the many)."""
    with CATALOG.open("rb") as file:
        found = read_po(file)
    pairs = {}
    for message in found:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for one, said in zip(ids, strings, strict=False):
            pairs[one.replace("%%", "%")] = said.replace("%%", "%")
    return pairs


MESSAGES = catalog()
# Every Italian word the pages may say: the catalog's, Babel's calendar, language names.
calendar = Locale.parse("it")
VOCABULARY = {
    word.lower()
    for said in (
        *MESSAGES.values(),
        *calendar.months["format"]["wide"].values(),
        *calendar.months["format"]["abbreviated"].values(),
        *calendar.months["stand-alone"]["wide"].values(),
        *calendar.months["stand-alone"]["abbreviated"].values(),
        *LANGUAGE_NAMES.values(),
    )
    for word in WORD.findall(PLACEHOLDER.sub(" ", said))
} | NAMES
# Catalog messages with no placeholder that Italian says otherwise: on an Italian page, none of
# these may be seen whole.
ENGLISH_ONLY = {
    message
    for message, said in MESSAGES.items()
    if "%(" not in message and said != message and message.lower() not in VOCABULARY
}


def data_strings(session: Session) -> list[str]:
    """Return what the stored data says that pages show as it is, longest first."""
    found: set[str] = set()
    for query in (
        select(Organization.name),
        select(User.name),
        select(User.email),
        select(Contract.name),
        select(Evaluation.call_ref),
        select(Evaluation.agent_ref),
        select(Evaluation.team),
        select(Evaluation.evaluator_ref),
        select(Evaluation.comment),
        select(Form.code),
        select(Call.queue).distinct(),  # the call log shows its calls' queues as logged
    ):
        found |= {value for value in session.scalars(query) if value}
    # The agents as the client reads them, pseudonyms where its terms say (DESIGN 18).
    for contract in session.scalars(select(Contract)):
        refs = session.scalars(
            select(Evaluation.agent_ref).where(Evaluation.contract_id == contract.id).distinct()
        )
        found |= {pseudonym(contract.privacy_key, ref) for ref in refs}
    # What people typed into disputes, and every text of the forms and of the terms documents.
    for table, column in (
        ("dispute_items", "reason"),
        ("dispute_items", "decision_reason"),
        ("dispute_items", "arbitration_reason"),
        ("dispute_steps", "reason"),
        ("disputes", "comment"),
    ):
        found |= {
            value for value in session.scalars(text(f"SELECT {column} FROM {table}")) if value
        }
    for document in [
        *session.scalars(select(Form.document)),
        *session.scalars(select(TermsVersion.document)),
    ]:
        found |= set(strings_in(document))
    return sorted(found, key=len, reverse=True)


def strings_in(document: object) -> Iterator[str]:
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for value in document.values():
            yield from strings_in(value)
    elif isinstance(document, list):
        for value in document:
            yield from strings_in(value)


def not_italian(pieces: list[str], data: list[str]) -> set[str]:
    """Return the words of a page's text that neither the data nor the Italian vocabulary say."""
    alternatives = "|".join(re.escape(said) for said in data) or "(?!)"
    shown_as_typed = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
    words = set()
    for piece in pieces:
        prose = shown_as_typed.sub(" ", piece)
        words |= {word for word in WORD.findall(prose) if word.lower() not in VOCABULARY}
    return words


@pytest.fixture
def demo(demo_app: Flask) -> dict[str, int]:
    """The demo (every state a page shows), and the ids the pages need."""
    app = demo_app
    with app.extensions["fiducia.sessionmaker"].begin() as session:
        napoli = session.scalars(select(Contract).order_by(Contract.id)).first()
        assert napoli is not None
        disputed = session.scalars(select(Dispute).order_by(Dispute.id)).first()
        assert disputed is not None
        final = session.scalars(select(Statement).order_by(Statement.id)).first()
        assert final is not None
        own = session.scalars(
            select(Evaluation.id).where(
                Evaluation.contract_id == napoli.id, Evaluation.source == "supplier"
            )
        ).first()
        form = session.scalars(select(Form)).one()
        calibrated = session.scalars(
            select(CalibrationSession.id).where(CalibrationSession.contract_id == napoli.id)
        ).first()
        return {
            "contract": napoli.id,
            "client": napoli.client_id,
            "audit": disputed.evaluation_id,
            "own": own or 0,
            "dispute": disputed.id,
            "statement": final.id,
            "form_owner": form.organization_id,
            "user": session.scalars(select(User.id).where(User.role == "supplier")).first() or 0,
            "calibration": calibrated or 0,
        }


def pages(role: str, ids: dict[str, int]) -> list[str]:
    """Return every page a role opens on the demo."""
    contract, period = ids["contract"], "period=2026-10"
    owner = f"?organization_id={ids['form_owner']}" if role == "admin" else ""
    shown = [
        "/scorecards",
        f"/contracts/{contract}?{period}",
        f"/contracts/{contract}/agents?{period}",
        f"/evaluations?contract_id={contract}&{period}",
        f"/evaluations/{ids['audit']}",
        "/disputes",
        f"/disputes/{ids['dispute']}",
        "/statements",
        f"/statements/{ids['statement']}",
        f"/contracts/{contract}/calls?{period}&sampled=audit",
        "/forms",
        f"/forms/standard/1{owner}",
        "/account",
        f"/contracts/{contract}/calibrations",
        f"/calibrations/{ids['calibration']}",
    ]
    if role != "supplier":
        shown += [f"/payouts?{period}"]
    if role in ("finance", "admin"):
        shown += [f"/statements/{ids['statement']}/finalize"]
    if role != "finance":
        shown += [f"/contracts/{contract}/to-do?{period}"]
        shown += [f"/evaluations/new?contract_id={contract}&period=2026-11"]
        shown += [f"/contracts/{contract}/upload"]
    if role in ("supplier", "admin"):
        shown += [f"/contracts/{contract}/calls/upload"]
        shown += [f"/contracts/{contract}/calls/upload?format=asterisk"]
    if role == "supplier":
        shown += [f"/evaluations/{ids['own']}", f"/evaluations/{ids['own']}/rescore"]
    if role in ("client", "admin"):
        shown += ["/forms/new", f"/forms/standard/edit{owner}"]
        shown += [f"/contracts/{contract}/calibrations/new"]
    if role == "client":
        shown += [f"/evaluations/{ids['audit']}/rescore"]
    if role == "admin":
        shown += ["/people", f"/people/{ids['user']}", "/job-runs"]
    return shown


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    response = client.post(
        "/sign-in",
        data={"csrf_token": csrf(client), "email": email, "password": "fiducia-demo-2026"},
    )
    assert response.status_code == 302, response.text
    return client


def check_page(client: FlaskClient, path: str, data: list[str]) -> None:
    """Render a page in both languages and find any English left on the Italian one."""
    italian = client.get(path, headers=ITALIAN)
    english = client.get(path, headers=ENGLISH)
    assert italian.status_code == english.status_code == 200, path
    assert '<html lang="it">' in italian.text and '<html lang="en">' in english.text, path
    said_it, said_en = visible(italian.text), visible(english.text)
    assert said_it != said_en, path
    left = not_italian(said_it, data)
    assert not left, f"{path}: words that are not Italian: {sorted(left)}"
    untranslated = {piece for piece in said_en if piece in ENGLISH_ONLY} & set(said_it)
    assert not untranslated, f"{path}: English messages left as they are: {untranslated}"


@pytest.mark.parametrize(
    "email",
    ["admin@demo.fiducia", "client@demo.fiducia", "finance@demo.fiducia", "napoli@demo.fiducia"],
)
def test_every_page_of_every_role_is_italian_for_an_italian_browser(
    app: Flask, demo: dict[str, int], email: str
) -> None:
    client = signed_in(app, email)
    with app.extensions["fiducia.sessionmaker"]() as session:
        data = data_strings(session)
        role = session.scalars(select(User.role).where(User.email == email)).one()
    for path in pages(role, demo):
        check_page(client, path, data)


def test_the_sign_in_page_and_an_error_page_follow_the_browser(
    app: Flask, demo: dict[str, int]
) -> None:
    client = app.test_client()
    check_page(client, "/sign-in", [])
    assert "Accedi a Fiducia" in client.get("/sign-in", headers=ITALIAN).text
    assert "Sign in to Fiducia" in client.get("/sign-in", headers={"Accept-Language": "fr"}).text
    assert "Sign in to Fiducia" in client.get("/sign-in").text  # no language asked: English
    finance = signed_in(app, "finance@demo.fiducia")
    missing = finance.get("/statements/999999", headers=ITALIAN)
    assert missing.status_code == 404
    assert "Non trovato" in missing.text and "Torna alla tua pagina iniziale" in missing.text


def test_the_check_finds_an_english_word_left_on_an_italian_page() -> None:
    pieces = visible(
        '<h1>Rendiconti</h1><p>Download the bundle</p><pre>{"volume_fee": 1}</pre>'
        '<input aria-label="Scarica XLSX"><p>Customer care 2026</p>'
    )
    assert not_italian(pieces, ["Customer care 2026"]) == {"Download", "the", "bundle"}
